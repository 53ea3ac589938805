// `oc tag` as a service: permanent, tracking, reference and external tags (docs/model.md, "Tags").
import { and, eq, sql } from 'drizzle-orm';
import { type Authorized, authorize, authorizeAll } from '../auth/authorize.ts';
import type { AccessChecker } from '../auth/roles.ts';
import { type Db, rowsOf, type Tx } from '../db/client.ts';
import { imageStreams, tagHistory, tags } from '../db/schema.ts';
import type { TagLineage } from '../domain/history.ts';
import type { DomainError, Problem } from '../domain/names.ts';
import { type ImportMode, parseImportMode } from '../domain/platforms.ts';
import {
  describePolicy,
  parseTagSelectionPolicy,
  type TagSelectionPolicy,
  type TagSelectionPolicyInput,
} from '../domain/policyTags.ts';
import {
  inferTagSourceKind,
  namesTagOrDigest,
  parseDockerReference,
  parseImageStreamImageRef,
  parseImageStreamTagRef,
  pinnedReference,
  type StreamImageRef,
  type StreamTagRef,
  type TagSourceKind,
} from '../domain/references.ts';
import {
  OPEN_REGISTRY_POLICY,
  type RegistryPolicy,
  sourceRefusal,
} from '../domain/registryRules.ts';
import { resolveImageId } from '../domain/shortIds.ts';
import type { ReferencePolicy } from '../domain/tagPolicy.ts';
import { type TagSource, validateTrackingSource } from '../domain/tracking.ts';
import {
  denied,
  type ExpectedError,
  fail,
  fromDomain,
  invalid,
  notFound,
  ok,
  type Result,
} from '../errors.ts';
import { appendEvents, writeTransaction } from '../events/append.ts';
import { type ImageStreamRow, lockOrCreateStream } from './imageStreams.ts';
import { enqueueImport } from './importJobs.ts';
import { writeSpecTag } from './specTags.ts';
import {
  headOf,
  loadTags,
  type NewTagEvent,
  recordTagEvent,
  streamImageDigests,
  streamTagsOf,
} from './tagHistory.ts';

export interface TagInput {
  /** The namespace that `stream:tag` without `ns/` means. */
  namespace: string;
  source: string;
  /** Overrides the kind `oc tag` would infer from the source's shape. */
  sourceKind?: TagSourceKind | null;
  destinations: string[];
  alias?: boolean | null;
  reference?: boolean | null;
  scheduled?: boolean | null;
  insecure?: boolean | null;
  importMode?: string | null;
  referencePolicy?: ReferencePolicy | null;
  /** Checked against every destination stream that exists already. */
  expectedResourceVersion?: string | null;
  /**
   * Whether a copy from a stream tag records where it came from (docs/rules.md#lineage); true
   * unless false. `tagraph apply` states what a tag should be, which is no promotion: false.
   */
  recordLineage?: boolean | null;
  /**
   * Makes each destination a policy tag (docs/policy-tags.md): the source is then a repository
   * (a pull spec without tag or digest), and the tag follows the repository tag the policy picks.
   */
  policy?: TagSelectionPolicyInput | null;
}

export interface TagOutcome {
  namespace: string;
  stream: string;
  tag: string;
  tagId: number;
  /** What `oc tag` prints for this destination. */
  message: string;
  /** Set when the destination waits for an import (an external DockerImage tag). */
  importJobId: number | null;
}

/** The source resolved into what a destination's spec and history get. */
interface ResolvedSource {
  from: TagSource;
  /** The history event to record now; null when an import must fetch it first. */
  event: Omit<NewTagEvent, 'generation'> | null;
  display: string;
  reference: boolean;
}

/**
 * `oc tag SOURCE DEST...`. Every namespace the operation touches is authorized before anything is
 * read or written: editor in each destination's namespace, image-puller in the source's (for a
 * stream source; a pull spec names no namespace).
 */
export async function tag(
  db: Db,
  access: AccessChecker,
  input: TagInput,
  /** Registries a pull spec source may name: a refused one fails as ForbiddenError. */
  registries: RegistryPolicy = OPEN_REGISTRY_POLICY,
): Promise<Result<TagOutcome[]>> {
  const authorized = await authorizeTag(access, input, registries);
  if (!authorized.ok) return authorized;
  const { importMode, policy, destinations, source } = authorized.value;

  return writeRollingBack(db, async (tx) => {
    const outcomes: TagOutcome[] = [];
    // Lock destination streams in one order so two concurrent tags cannot deadlock.
    const ordered = [...destinations].sort((a, b) =>
      `${a.namespace}/${a.stream}:${a.tag}`.localeCompare(`${b.namespace}/${b.stream}:${b.tag}`),
    );
    for (const dest of ordered) {
      // Only a tracking tag's source depends on the destination's row, so any other source is
      // read in the same round trip as the lock. Postgres runs statements in the order they
      // arrive on this connection, so the read still happens once the lock is held.
      const [locked, early] = await Promise.all([
        lockOrCreateStream(tx, dest.namespace, dest.stream, {
          expectedResourceVersion: input.expectedResourceVersion,
        }),
        input.alias ? null : resolveSource(tx, input, source, dest, null),
      ]);
      if (!locked.ok) throw new Rollback(locked.error);
      const resolved = early ?? (await resolveSource(tx, input, source, dest, locked.value));
      if (!resolved.ok) throw new Rollback(resolved.error);
      outcomes.push(
        await applyToDestination(tx, locked.value, dest, resolved.value, input, {
          importMode,
          policy,
        }),
      );
    }
    return ok(
      destinations.map(
        (d) =>
          outcomes.find(
            (o) => o.namespace === d.namespace && o.stream === d.stream && o.tag === d.tag,
          )!,
      ),
    );
  });
}

/**
 * Checks a tag operation's input and authorizes every namespace it names (editor in each
 * destination's, image-puller in a stream source's) and a pull spec source's registry against
 * `registries`, reading and writing nothing.
 */
export async function authorizeTag(
  access: AccessChecker,
  input: TagInput,
  registries: RegistryPolicy = OPEN_REGISTRY_POLICY,
) {
  const checked = checkTagInput(input);
  if (!checked.ok) return checked;
  const { importMode, policy, source: parsedSource } = checked.value;
  const authorizedDestinations = await authorizeAll(
    access,
    checked.value.destinations.map((target, index) => ({
      role: 'editor' as const,
      target,
      field: `destinations.${index}`,
    })),
  );
  if (!authorizedDestinations.ok) return authorizedDestinations;
  const authorizedSource = await authorizeSource(access, parsedSource);
  if (!authorizedSource.ok) return authorizedSource;
  const refusal =
    parsedSource.kind === 'DockerImage'
      ? sourceRefusal(registries, input.source, Boolean(input.insecure))
      : null;
  if (refusal) return denied(refusal, 'source');
  return ok({
    importMode,
    policy,
    destinations: authorizedDestinations.value,
    source: authorizedSource.value,
  });
}

/** Thrown inside a transaction to roll it back with an expected error. */
export class Rollback extends Error {
  constructor(readonly error: ExpectedError) {
    super(error.message);
  }
}

/** writeTransaction(), answering a Rollback thrown inside with the expected error it carries. */
export function writeRollingBack<T>(db: Db, write: (tx: Tx) => Promise<Result<T>>) {
  return writeTransaction(db, write).catch((error: unknown) => {
    if (error instanceof Rollback) return fail<T>(error.error);
    throw error;
  });
}

/** The source as parsed: a stream reference names a namespace to authorize, a pull spec none. */
type ParsedSource =
  | { kind: 'DockerImage' }
  | { kind: 'ImageStreamTag'; ref: StreamTagRef }
  | { kind: 'ImageStreamImage'; ref: StreamImageRef };

/** The source once the caller may pull from its namespace. */
type AuthorizedSource =
  | { kind: 'DockerImage' }
  | { kind: 'ImageStreamTag'; ref: Authorized<StreamTagRef> }
  | { kind: 'ImageStreamImage'; ref: Authorized<StreamImageRef> };

/** A stream source needs image-puller in its namespace; a pull spec names none. */
async function authorizeSource(
  access: AccessChecker,
  source: ParsedSource,
): Promise<Result<AuthorizedSource>> {
  switch (source.kind) {
    case 'DockerImage':
      return ok(source);
    case 'ImageStreamTag': {
      const ref = await authorize(access, 'image-puller', source.ref, 'source');
      return ref.ok ? ok({ kind: source.kind, ref: ref.value }) : ref;
    }
    case 'ImageStreamImage': {
      const ref = await authorize(access, 'image-puller', source.ref, 'source');
      return ref.ok ? ok({ kind: source.kind, ref: ref.value }) : ref;
    }
  }
}

function checkTagInput(input: TagInput): Result<{
  kind: TagSourceKind;
  destinations: StreamTagRef[];
  importMode: ImportMode;
  policy: TagSelectionPolicy | null;
  source: ParsedSource;
}> {
  const problems: Problem[] = [];
  const kind = input.sourceKind ?? inferTagSourceKind(input.source.trim());
  if (input.destinations.length === 0) {
    problems.push({ field: 'destinations', message: 'at least one destination is required' });
  }
  const destinations: StreamTagRef[] = [];
  input.destinations.forEach((raw, index) => {
    const parsed = parseImageStreamTagRef(raw, input.namespace, undefined, `destinations.${index}`);
    if (parsed.ok) destinations.push(parsed.value);
    else problems.push(problemOf(parsed, `destinations.${index}`));
  });
  const importMode = parseImportMode(input.importMode ?? 'Legacy');
  if (!importMode.ok) problems.push(problemOf(importMode, 'importMode'));
  if (input.alias && input.reference) {
    problems.push({ field: 'reference', message: 'alias and reference cannot be used together' });
  }
  if (input.alias && kind !== 'ImageStreamTag') {
    problems.push({
      field: 'alias',
      message: `a tracking tag (alias) needs an ImageStreamTag source like stream:tag, not a ${kind}`,
    });
  }
  if (input.scheduled && kind !== 'DockerImage') {
    problems.push({ field: 'scheduled', message: 'only DockerImage sources can be scheduled' });
  }
  if (input.scheduled && input.reference) {
    problems.push({ field: 'scheduled', message: 'a reference tag is never imported' });
  }
  if (input.insecure && kind !== 'DockerImage') {
    problems.push({ field: 'insecure', message: 'only DockerImage sources can be insecure' });
  }
  const source = parseSource(input, kind);
  if (!source.ok) problems.push(problemOf(source, 'source'));
  const policy = input.policy ? checkPolicy(input, kind) : ok(null);
  if (!policy.ok) problems.push(...policy.error);
  const seen = new Set<string>();
  for (const d of destinations) {
    const key = `${d.namespace}/${d.stream}:${d.tag}`;
    if (seen.has(key)) problems.push({ field: 'destinations', message: `${key} given twice` });
    seen.add(key);
  }
  // A source that did not parse added a problem above.
  if (problems.length > 0 || !source.ok) return invalid(problems);
  return ok({
    kind,
    destinations,
    importMode: importMode.ok ? importMode.value : 'Legacy',
    policy: policy.ok ? policy.value : null,
    source: source.value,
  });
}

/**
 * A policy tag's policy, and its source: a repository to list (a pull spec without tag or
 * digest), imported rather than referenced or tracked.
 */
function checkPolicy(input: TagInput, kind: TagSourceKind): Result<TagSelectionPolicy, Problem[]> {
  const problems: Problem[] = [];
  if (kind !== 'DockerImage' || input.alias || input.reference) {
    problems.push({
      field: 'policy',
      message:
        'a policy needs a DockerImage repository source to import, not a tracking or reference tag',
    });
  } else {
    const source = input.source.trim();
    const parsed = parseDockerReference(source, 'source');
    if (parsed.ok && namesTagOrDigest(source, parsed.value)) {
      problems.push({
        field: 'source',
        message:
          "a policy tag's source is a repository, without a tag or digest: the policy picks the tag",
      });
    }
  }
  const parsed = parseTagSelectionPolicy(input.policy!, 'policy');
  if (!parsed.ok) problems.push(problemOf(parsed, 'policy'));
  if (problems.length > 0 || !parsed.ok) return fail(problems);
  return ok(parsed.value);
}

/**
 * The source parsed once, by its kind. A stream source without `ns/` is in `input.namespace`,
 * as `oc tag` reads it with `-n`.
 */
function parseSource(input: TagInput, kind: TagSourceKind): Result<ParsedSource, DomainError> {
  const source = input.source.trim();
  if (kind === 'ImageStreamTag') {
    const parsed = parseImageStreamTagRef(source, input.namespace, undefined, 'source');
    return parsed.ok ? { ok: true, value: { kind, ref: parsed.value } } : parsed;
  }
  if (kind === 'ImageStreamImage') {
    const parsed = parseImageStreamImageRef(source, input.namespace, undefined, 'source');
    return parsed.ok ? { ok: true, value: { kind, ref: parsed.value } } : parsed;
  }
  const parsed = parseDockerReference(source, 'source');
  return parsed.ok ? { ok: true, value: { kind } } : parsed;
}

function problemOf(result: Result<unknown, DomainError>, field: string): Problem {
  if (result.ok) throw new Error('not a failure');
  return { field: result.error.field ?? field, message: result.error.message };
}

async function resolveSource(
  tx: Tx,
  input: TagInput,
  source: AuthorizedSource,
  dest: Authorized<StreamTagRef>,
  /** The locked destination stream: needed (and given) only for a tracking tag. */
  destStream: ImageStreamRow | null,
): Promise<Result<ResolvedSource>> {
  if (source.kind === 'DockerImage') {
    const pullSpec = input.source.trim();
    return ok({
      from: { kind: 'DockerImage', name: pullSpec },
      event: input.reference ? { dockerImageReference: pullSpec, image: null } : null,
      display: pullSpec,
      reference: Boolean(input.reference),
    });
  }
  if (source.kind === 'ImageStreamImage') {
    return resolveStreamImage(tx, source.ref, dest);
  }
  return resolveStreamTag(tx, input, source.ref, dest, destStream);
}

async function findStream(tx: Tx, namespace: string, name: string) {
  const [row] = await tx
    .select()
    .from(imageStreams)
    .where(and(eq(imageStreams.namespace, namespace), eq(imageStreams.name, name)));
  return row;
}

/**
 * `oc tag ns/stream:tag dest`: a permanent tag or, with alias, a tracking tag
 * (docs/rules.md#tag-kinds).
 */
async function resolveStreamTag(
  tx: Tx,
  input: TagInput,
  ref: Authorized<StreamTagRef>,
  dest: Authorized<StreamTagRef>,
  destStream: ImageStreamRow | null,
): Promise<Result<ResolvedSource>> {
  const { namespace, stream, tag: sourceTag } = ref;
  const display = `${namespace === dest.namespace ? '' : `${namespace}/`}${stream}:${sourceTag}`;

  if (input.alias) {
    if (!destStream) throw new Error('a tracking tag is resolved against its locked stream');
    const tagRows = await loadTags(tx, destStream.id);
    const checked = validateTrackingSource(
      streamTagsOf(destStream, tagRows),
      dest.tag,
      { kind: 'ImageStreamTag', name: `${stream}:${sourceTag}`, namespace },
      'source',
    );
    if (!checked.ok) return fail(fromDomain(checked.error));
    const sourceRow = tagRows.find((row) => row.name === sourceTag);
    const head = sourceRow ? await headOf(tx, sourceRow.id) : undefined;
    return ok({
      from: { kind: 'ImageStreamTag', name: sourceTag, namespace: null },
      event: head
        ? { dockerImageReference: head.dockerImageReference, image: head.imageDigest }
        : null,
      display,
      reference: false,
    });
  }

  const sourceStream = await findStream(tx, namespace, stream);
  const [sourceRow] = sourceStream
    ? await tx
        .select()
        .from(tags)
        .where(and(eq(tags.streamId, sourceStream.id), eq(tags.name, sourceTag)))
    : [];
  if (!sourceStream || !sourceRow) {
    return notFound(`image stream tag ${namespace}/${stream}:${sourceTag} not found`, 'source');
  }
  const head = await headOf(tx, sourceRow.id);
  const crossNamespace = namespace === dest.namespace ? null : namespace;
  // The destination's item is a copy of the source's item 0 (docs/rules.md#lineage).
  const copiedFrom: TagLineage | null =
    head && input.recordLineage !== false
      ? { tagId: sourceRow.id, namespace, stream, tag: sourceTag, generation: head.generation }
      : null;
  if (head?.imageDigest) {
    // A permanent tag pins the image the source points at now.
    return ok({
      from: {
        kind: 'ImageStreamImage',
        name: `${stream}@${head.imageDigest}`,
        namespace: crossNamespace,
      },
      event: {
        dockerImageReference: head.dockerImageReference,
        image: head.imageDigest,
        copiedFrom,
      },
      display: `${crossNamespace ? `${crossNamespace}/` : ''}${stream}@${head.imageDigest}`,
      reference: false,
    });
  }
  // No image yet: keep the source's pull spec instead, to be imported.
  const pullSpec =
    head?.dockerImageReference ??
    (sourceRow.fromKind === 'DockerImage' ? sourceRow.fromName : null);
  if (!pullSpec) {
    return notFound(
      `image stream tag ${namespace}/${stream}:${sourceTag} has no image yet and no pull spec to import`,
      'source',
    );
  }
  return ok({
    from: { kind: 'DockerImage', name: pullSpec },
    // A reference to the pull spec of the source's item 0 copies that item.
    event: input.reference ? { dockerImageReference: pullSpec, image: null, copiedFrom } : null,
    display: pullSpec,
    reference: Boolean(input.reference),
  });
}

/** `oc tag stream@id dest`: the id may be a short prefix (docs/rules.md#short-image-ids). */
async function resolveStreamImage(
  tx: Tx,
  ref: Authorized<StreamImageRef>,
  dest: Authorized<StreamTagRef>,
): Promise<Result<ResolvedSource>> {
  const { namespace, stream, id } = ref;
  const crossNamespace = namespace === dest.namespace ? null : namespace;
  const pinned = (digest: string, reference: string): Result<ResolvedSource> =>
    ok({
      from: { kind: 'ImageStreamImage', name: `${stream}@${digest}`, namespace: crossNamespace },
      event: { dockerImageReference: reference, image: digest },
      display: `${crossNamespace ? `${crossNamespace}/` : ''}${stream}@${digest}`,
      reference: false,
    });
  // The common case, a full digest the stream's history holds: one statement.
  const full = fullDigestOf(id);
  const direct = full ? await directReference(tx, namespace, stream, full) : undefined;
  if (direct?.reference) return pinned(full!, direct.reference);
  const sourceStream = direct ?? (await findStream(tx, namespace, stream));
  if (!sourceStream) {
    return notFound(`image stream ${namespace}/${stream} not found`, 'source');
  }
  const resolved = resolveImageId(id, await streamImageDigests(tx, sourceStream.id));
  if (!resolved.ok) {
    return fail(fromDomain({ ...resolved.error, field: 'source' }));
  }
  const digest = resolved.value;
  // A full digest was looked up above; a short id's digest is looked up now.
  const reference =
    digest === full ? null : (await directReference(tx, namespace, stream, digest))?.reference;
  return pinned(digest, reference ?? (await parentReference(tx, sourceStream.id, digest)));
}

/** The digest an id names when it is complete (ids arrive as normalized lowercase hex). */
function fullDigestOf(id: string): string | null {
  return id.length === 64 ? `sha256:${id}` : null;
}

/** The stream, and the pull spec its history gives `digest` (null when no item has it). */
async function directReference(
  tx: Tx,
  namespace: string,
  name: string,
  digest: string,
): Promise<{ id: number; reference: string | null } | undefined> {
  const rows = await tx.execute(sql`
    select s.id, (
      select h.docker_image_reference from ${tagHistory} h join ${tags} t on t.id = h.tag_id
      where t.stream_id = s.id and h.image_digest = ${digest} limit 1
    ) as reference
    from ${imageStreams} s where s.namespace = ${namespace} and s.name = ${name}`);
  return rowsOf<{ id: number; reference: string | null }>(rows)[0];
}

/**
 * The pull spec of an image no history item of the stream names directly (a manifest list's
 * child): the repository of the stream's items, pinned to the digest.
 */
async function parentReference(tx: Tx, streamId: number, digest: string): Promise<string> {
  const rows = await tx
    .select({ reference: tagHistory.dockerImageReference })
    .from(tagHistory)
    .innerJoin(tags, eq(tags.id, tagHistory.tagId))
    .where(eq(tags.streamId, streamId));
  for (const row of rows) {
    const parsed = parseDockerReference(row.reference);
    if (parsed.ok) return pinnedReference(parsed.value, digest);
  }
  return digest;
}

async function applyToDestination(
  tx: Tx,
  stream: ImageStreamRow,
  dest: Authorized<StreamTagRef>,
  resolved: ResolvedSource,
  input: TagInput,
  { importMode, policy }: { importMode: ImportMode; policy: TagSelectionPolicy | null },
): Promise<TagOutcome> {
  const external = resolved.from.kind === 'DockerImage' && !resolved.reference;
  const spec = await writeSpecTag(tx, stream, dest.tag, {
    from: resolved.from,
    reference: resolved.reference,
    referencePolicy: input.referencePolicy ?? 'Source',
    importInsecure: Boolean(input.insecure),
    importScheduled: Boolean(input.scheduled) && external,
    importMode,
    policy,
  });
  let historyChanged = false;
  if (resolved.event) {
    const recorded = await recordTagEvent(
      tx,
      stream,
      dest.tag,
      { ...resolved.event, generation: spec.generation },
      { cause: 'tag' },
    );
    historyChanged = recorded.changed.length > 0;
  }
  if (!historyChanged && spec.changed) {
    appendEvents(tx, [
      {
        namespace: dest.namespace,
        stream: dest.stream,
        tag: dest.tag,
        type: spec.created ? 'ADDED' : 'UPDATED',
        cause: 'tag',
        payload: { spec: true },
      },
    ]);
  }
  const importJobId =
    external && spec.changed
      ? await enqueueImport(tx, {
          namespace: dest.namespace,
          stream: dest.stream,
          tags: [dest.tag],
          cause: 'tag',
        })
      : null;
  const name = `${dest.stream}:${dest.tag}`;
  const message = input.alias
    ? `Tag ${name} set up to track ${resolved.display}.`
    : policy
      ? `Tag ${name} set to follow ${resolved.display} by ${describePolicy(policy)}${input.scheduled ? ', re-evaluated periodically' : ''}.`
      : input.scheduled
        ? `Tag ${name} set to import ${resolved.display} periodically.`
        : `Tag ${name} set to ${resolved.display}.`;
  return {
    namespace: dest.namespace,
    stream: dest.stream,
    tag: dest.tag,
    tagId: spec.tagId,
    message,
    importJobId,
  };
}
