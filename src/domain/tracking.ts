// Tracking tags (`oc tag --alias`): who follows whom inside one image stream.
// The rules: docs/rules.md#tracking-tags.
import { fail, ok, type Result } from '../errors.ts';
import { type DomainError, domainError, validateTagName } from './names.ts';
import type { TagSourceKind } from './references.ts';

/** A spec tag's `from`. */
export interface TagSource {
  kind: TagSourceKind;
  /** `<tag>` or `<stream>:<tag>` for ImageStreamTag. */
  name: string;
  namespace?: string | null;
}

/**
 * The tags of one stream. A tag with status but no spec (created by a push) is present with a
 * null source, so that tracking it is not mistaken for tracking a deleted tag.
 */
export interface StreamTags {
  namespace: string;
  stream: string;
  tags: ReadonlyMap<string, TagSource | null> | Readonly<Record<string, TagSource | null>>;
}

// A Map, because tag names such as `constructor` are valid and must not hit Object.prototype.
function tagMap(spec: StreamTags): ReadonlyMap<string, TagSource | null> {
  return spec.tags instanceof Map ? spec.tags : new Map(Object.entries(spec.tags));
}

/**
 * The tag of this same stream that `from` names, or null when `from` is not an ImageStreamTag
 * of this stream and namespace (then it is a one-off source, not something to follow).
 */
export function sameStreamSource(
  spec: Pick<StreamTags, 'namespace' | 'stream'>,
  from: TagSource | null | undefined,
): string | null {
  if (from?.kind !== 'ImageStreamTag') return null;
  if (from.namespace && from.namespace !== spec.namespace) return null;
  const colon = from.name.indexOf(':');
  if (colon === -1) return from.name;
  return from.name.slice(0, colon) === spec.stream ? from.name.slice(colon + 1) : null;
}

/** The tag `tag` tracks, or null. */
export function follows(spec: StreamTags, tag: string): string | null {
  return sameStreamSource(spec, tagMap(spec).get(tag));
}

/** A tag whose source tag no longer exists (reported, never fatal). */
export function isDangling(spec: StreamTags, tag: string): boolean {
  const source = follows(spec, tag);
  return source !== null && !tagMap(spec).has(source);
}

function followerIndex(spec: StreamTags): Map<string, string[]> {
  const index = new Map<string, string[]>();
  for (const [name, from] of tagMap(spec)) {
    const source = sameStreamSource(spec, from);
    if (source === null) continue;
    index.set(source, [...(index.get(source) ?? []), name]);
  }
  for (const list of index.values()) list.sort();
  return index;
}

/**
 * The tags that follow `tag`: direct ones, or with `transitive` every tag reached through
 * chains (A←B←C), breadth first, names sorted within a level, each once, never `tag` itself —
 * so a cycle already in stored data cannot loop.
 */
export function followers(
  spec: StreamTags,
  tag: string,
  options: { transitive: boolean } = { transitive: false },
): string[] {
  const index = followerIndex(spec);
  if (!options.transitive) return (index.get(tag) ?? []).filter((t) => t !== tag);
  const seen = new Set([tag]);
  const order: string[] = [];
  let frontier = [tag];
  while (frontier.length > 0) {
    const next: string[] = [];
    for (const current of frontier) {
      for (const follower of index.get(current) ?? []) {
        if (seen.has(follower)) continue;
        seen.add(follower);
        order.push(follower);
        next.push(follower);
      }
    }
    frontier = next;
  }
  return order;
}

/**
 * Tracking is transitive: when `changedTag`'s item 0 changes, these tags get the same event,
 * in this order. OpenShift moves one hop per write and lets later writes ripple; users expect
 * `latest → stable → prod` to move together, so all hops happen in the same write.
 */
export function propagationOrder(spec: StreamTags, changedTag: string): string[] {
  return followers(spec, changedTag, { transitive: true });
}

/** `tag`, then what it follows, and so on, stopping before a repeat. */
function followChain(spec: StreamTags, tag: string): string[] {
  const chain = [tag];
  for (let t = follows(spec, tag); t !== null && !chain.includes(t); t = follows(spec, t)) {
    chain.push(t);
  }
  return chain;
}

/** Whether making `dest` follow `source` closes a loop (including `dest` following itself). */
export function wouldCreateCycle(spec: StreamTags, dest: string, source: string): boolean {
  return source === dest || followChain(spec, source).includes(dest);
}

/**
 * Checks a tracking (`--alias`) source for `dest` and returns the tag it will follow. Refuses
 * what OpenShift refuses ("cannot set alias across different Image Streams") and what this
 * design adds: tracking itself and cycles.
 */
export function validateTrackingSource(
  spec: StreamTags,
  dest: string,
  from: TagSource,
  field = 'from',
): Result<string, DomainError> {
  const here = `${spec.namespace}/${spec.stream}`;
  if (from.kind !== 'ImageStreamTag') {
    return fail(
      domainError(
        'VALIDATION',
        `a tracking tag must follow an ImageStreamTag of ${here}, not a ${from.kind}`,
        field,
      ),
    );
  }
  const source = sameStreamSource(spec, from);
  if (source === null) {
    const there = from.namespace ? `${from.namespace}/${from.name}` : from.name;
    return fail(
      domainError(
        'VALIDATION',
        `cannot track "${there}": a tracking tag (alias) can only follow a tag of its own image stream (${here}); tag it without tracking to copy the image instead`,
        field,
      ),
    );
  }
  const problems = validateTagName(source, field);
  if (problems) return fail(domainError('VALIDATION', problems[0]!.message, field));
  if (source === dest)
    return fail(domainError('VALIDATION', `tag "${dest}" cannot track itself`, field));
  if (wouldCreateCycle(spec, dest, source)) {
    const chain = followChain(spec, source);
    const loop = chain.slice(0, chain.indexOf(dest) + 1);
    return fail(
      domainError(
        'VALIDATION',
        `tag "${dest}" cannot track "${source}": that would make a cycle (${[dest, ...loop].join(' → ')})`,
        field,
      ),
    );
  }
  return ok(source);
}

/** Why a tag's chain of same-stream references could not be followed to a tag with a source. */
export type FollowRefusal =
  | 'notFound' // the chain ends at a tag without a spec
  | 'crossStream' // some link is an ImageStreamTag of another stream or namespace
  | 'circular' // the chain comes back to a tag it has passed
  | 'invalid'; // some link's name is not `<tag>` or `<stream>:<tag>`

export interface FollowedTag {
  /** The tag at the end of the chain: `tag` itself when it names no tag of its own stream. */
  tag: string;
  /** That tag's source (null for a spec tag without one). */
  source: TagSource | null;
  /** Whether at least one link was followed. */
  followed: boolean;
}

/**
 * Follows `tag` through ImageStreamTag sources of its own stream to the first tag whose source is
 * something else, as OpenShift resolves a tag before importing or grouping it. `spec.tags` must
 * hold the spec tags only: a tag without a spec ends the chain as `notFound`.
 */
export function followTagReference(
  spec: StreamTags,
  tag: string,
): Result<FollowedTag, { reason: FollowRefusal; tag: string }> {
  const tags = tagMap(spec);
  const seen = new Set<string>();
  let current = tag;
  for (;;) {
    if (seen.has(current)) return fail({ reason: 'circular', tag: current });
    seen.add(current);
    if (!tags.has(current)) return fail({ reason: 'notFound', tag: current });
    const source = tags.get(current) ?? null;
    if (source?.kind !== 'ImageStreamTag') {
      return ok({ tag: current, source, followed: current !== tag });
    }
    if (source.namespace && source.namespace !== spec.namespace) {
      return fail({ reason: 'crossStream', tag: current });
    }
    const colon = source.name.indexOf(':');
    if (colon === -1) {
      current = source.name;
      continue;
    }
    const [streamName, next] = [source.name.slice(0, colon), source.name.slice(colon + 1)];
    if (!streamName || !next || next.includes(':'))
      return fail({ reason: 'invalid', tag: current });
    if (streamName !== spec.stream) return fail({ reason: 'crossStream', tag: current });
    current = next;
  }
}
