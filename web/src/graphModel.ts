// The tag graph of one stream as nodes and edges, from the tags the API returns (no DOM, unit tested).

/** What the UI reads of a tag (the TagFields fragment of queries.ts). */
export interface TagData {
  name: string;
  importPending: boolean;
  spec: {
    from: {
      kind: 'DockerImage' | 'ImageStreamTag' | 'ImageStreamImage';
      name: string;
      namespace: string | null;
    } | null;
    reference: boolean;
    importPolicy: { scheduled: boolean };
  } | null;
  policy: { kind: string } | null;
  conditions: { type: string; status: string; reason: string; message: string }[];
  image: { digest: string } | null;
  promotedFrom: { namespace: string; stream: string; tag: string } | null;
}

export type TagKind = 'permanent' | 'tracking' | 'reference' | 'external' | 'scheduled' | 'status';

export interface TagNode {
  /** `tag:<name>` for a tag of the stream, `ext:<…>` for a source outside it. */
  id: string;
  label: string;
  kind: TagKind | 'source';
  /** For a tag of the stream: its name; null for a source outside the stream. */
  tag: string | null;
  policy: boolean;
  failing: boolean;
  dangling: boolean;
  pending: boolean;
  digest: string | null;
}

export type EdgeKind = 'tracks' | 'promoted' | 'imports';

/** From the source to the tag that takes its image: the direction a change flows in. */
export interface TagEdge {
  from: string;
  to: string;
  kind: EdgeKind;
}

export interface TagGraph {
  nodes: TagNode[];
  edges: TagEdge[];
}

export const tagNodeId = (tag: string): string => `tag:${tag}`;

/**
 * The tag of this same stream a spec's `from` tracks, or null: an ImageStreamTag source in the
 * stream's own namespace, named `<tag>` or `<this stream>:<tag>` (the server's rule for tracking).
 */
export function trackedTag(
  namespace: string,
  stream: string,
  from: { kind: string; name: string; namespace: string | null } | null | undefined,
): string | null {
  if (from?.kind !== 'ImageStreamTag') return null;
  if (from.namespace && from.namespace !== namespace) return null;
  const colon = from.name.indexOf(':');
  if (colon === -1) return from.name;
  return from.name.slice(0, colon) === stream ? from.name.slice(colon + 1) : null;
}

/** How a tag was made, as the server's tag kinds tell them apart. */
export function tagKind(namespace: string, stream: string, tag: TagData): TagKind {
  if (!tag.spec) return 'status';
  if (tag.spec.reference) return 'reference';
  if (trackedTag(namespace, stream, tag.spec.from) !== null) return 'tracking';
  if (tag.spec.from?.kind === 'DockerImage') {
    return tag.spec.importPolicy.scheduled ? 'scheduled' : 'external';
  }
  return 'permanent';
}

/** The last import failed: the ImportSuccess condition is False. */
export function importFailing(tag: TagData): boolean {
  return tag.conditions.some((c) => c.type === 'ImportSuccess' && c.status === 'False');
}

/** `registry/repo` of a pull spec: the tag and digest dropped, so a repository is one node. */
export function repositoryOf(pullSpec: string): string {
  const at = pullSpec.indexOf('@');
  const withoutDigest = at === -1 ? pullSpec : pullSpec.slice(0, at);
  const slash = withoutDigest.lastIndexOf('/');
  const colon = withoutDigest.lastIndexOf(':');
  return colon > slash ? withoutDigest.slice(0, colon) : withoutDigest;
}

/**
 * Nodes for the stream's tags (sorted by name) and for the sources outside it (other streams'
 * tags a copy came from, registries' repositories imported from), with edges: `tracks` from the
 * tracked tag to its follower, `promoted` from the tag an image was copied from, `imports` from
 * an external repository. A tag tracking a tag that no longer exists is `dangling`.
 */
export function buildTagGraph(namespace: string, stream: string, tags: TagData[]): TagGraph {
  const names = new Set(tags.map((tag) => tag.name));
  const nodes: TagNode[] = [];
  const edges: TagEdge[] = [];
  const sources = new Map<string, TagNode>();
  const source = (id: string, label: string): string => {
    if (!sources.has(id)) {
      sources.set(id, {
        id,
        label,
        kind: 'source',
        tag: null,
        policy: false,
        failing: false,
        dangling: false,
        pending: false,
        digest: null,
      });
    }
    return id;
  };
  for (const tag of [...tags].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const id = tagNodeId(tag.name);
    const tracked = trackedTag(namespace, stream, tag.spec?.from);
    const dangling = tracked !== null && !names.has(tracked);
    nodes.push({
      id,
      label: tag.name,
      kind: tagKind(namespace, stream, tag),
      tag: tag.name,
      policy: tag.policy !== null,
      failing: importFailing(tag),
      dangling,
      pending: tag.importPending,
      digest: tag.image?.digest ?? null,
    });
    if (tracked !== null && !dangling && tracked !== tag.name) {
      edges.push({ from: tagNodeId(tracked), to: id, kind: 'tracks' });
    }
    const copied = tag.promotedFrom;
    if (copied && tracked === null) {
      const inStream = copied.namespace === namespace && copied.stream === stream;
      const from =
        inStream && names.has(copied.tag)
          ? tagNodeId(copied.tag)
          : source(
              `ext:tag:${copied.namespace}/${copied.stream}:${copied.tag}`,
              `${copied.namespace === namespace ? '' : `${copied.namespace}/`}${copied.stream}:${copied.tag}`,
            );
      if (from !== id) edges.push({ from, to: id, kind: 'promoted' });
    } else if (tag.spec?.from?.kind === 'DockerImage' && !tag.spec.reference) {
      const repository = repositoryOf(tag.spec.from.name);
      edges.push({ from: source(`ext:repo:${repository}`, repository), to: id, kind: 'imports' });
    }
  }
  return { nodes: [...nodes, ...sources.values()], edges };
}

/** Replaces (or adds) one tag in a list by name, or removes it when `next` is null. */
export function upsertTag<T extends TagData>(tags: T[], name: string, next: T | null): T[] {
  const rest = tags.filter((tag) => tag.name !== name);
  return next ? [...rest, next] : rest;
}
