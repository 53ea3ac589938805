// `tagraph apply` on the server: one ImageStream applied all or nothing, and spec tag annotations (`spec.tags[].annotations`).
import { and, eq } from 'drizzle-orm';
import { authorizeTagRef, refusal } from '../auth/authorize.ts';
import type { AccessChecker } from '../auth/roles.ts';
import type { Db } from '../db/client.ts';
import { imageStreams, tags } from '../db/schema.ts';
import { validateAnnotations } from '../domain/names.ts';
import { PREFER_ARCH_ANNOTATION, PREFER_OS_ANNOTATION } from '../domain/platforms.ts';
import { OPEN_REGISTRY_POLICY, type RegistryPolicy } from '../domain/registryRules.ts';
import { REPOSITORY_CHECK_ANNOTATION } from '../domain/tagPolicy.ts';
import { type ExpectedError, type FieldProblem, invalid, ok, type Result } from '../errors.ts';
import { appendEvents, writeTransaction } from '../events/append.ts';
import {
  createImageStream,
  type KeyValue,
  lockTag,
  toRecord,
  touchStream,
  type UpdateImageStreamInput,
  updateImageStream,
} from './imageStreams.ts';
import { enqueueImport } from './importJobs.ts';
import { authorizeTag, type TagInput, tag } from './tagging.ts';

export interface SetTagAnnotationsInput {
  namespace: string;
  /** `[ns/]stream:tag` */
  ref: string;
  /** The whole set: keys not given are removed. */
  annotations: KeyValue[];
  expectedResourceVersion?: string | null;
}

export interface TagAnnotationsSet {
  tagId: number;
  changed: boolean;
  /** A re-import queued because the platform preference of a Legacy import changed. */
  importJobId: number | null;
}

/**
 * The annotations a Legacy import of a manifest list reads
 * (docs/rules.md#manifest-lists-and-import-modes).
 */
const IMPORT_PREFERENCES = [PREFER_ARCH_ANNOTATION, PREFER_OS_ANNOTATION];

function sameRecord(a: Record<string, string>, b: Record<string, string>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => b[k] === a[k]);
}

/**
 * Replaces a spec tag's annotations. Not a change of `from`, `reference` or `importMode`, so the
 * generation stays (docs/rules.md#generations-and-pending-imports). When the platform preference of
 * an imported tag changes, the tag is queued for import again: `apply` writes the tag first (which
 * queues its import) and the annotations second, and the import must not keep a child chosen
 * without them. The caller must be an editor in the namespace `ref` names.
 */
export async function setTagAnnotations(
  db: Db,
  access: AccessChecker,
  input: SetTagAnnotationsInput,
): Promise<Result<TagAnnotationsSet>> {
  const ref = await authorizeTagRef(access, 'editor', input);
  if (!ref.ok) return ref;
  const problems: FieldProblem[] = [];
  const annotations = toRecord(input.annotations, 'annotations', problems);
  // The list, not the record: a problem then names its entry (`annotations.2.key`).
  problems.push(...(validateAnnotations(input.annotations) ?? []));
  if (problems.length > 0) return invalid(problems);
  const { namespace, stream, tag } = ref.value;

  return writeTransaction(db, async (tx) => {
    const locked = await lockTag(tx, ref.value, input.expectedResourceVersion);
    if (!locked.ok) return locked;
    const { stream: streamRow, row } = locked.value;
    if (row.specGeneration === null) {
      return invalid([
        {
          field: 'ref',
          message: `${namespace}/${stream}:${tag} has no spec tag (it was pushed): tag it first`,
        },
      ]);
    }
    const previous = (row.annotations ?? {}) as Record<string, string>;
    if (sameRecord(previous, annotations)) {
      return ok({ tagId: row.id, changed: false, importJobId: null });
    }
    await tx.update(tags).set({ annotations, updatedAt: new Date() }).where(eq(tags.id, row.id));
    await touchStream(tx, streamRow.id);
    appendEvents(tx, [
      {
        namespace,
        stream,
        tag,
        type: 'UPDATED',
        cause: 'update',
        payload: { spec: true, annotations: true },
      },
    ]);
    const preferenceChanged = IMPORT_PREFERENCES.some((k) => previous[k] !== annotations[k]);
    const imported = row.fromKind === 'DockerImage' && !row.reference;
    const importJobId =
      preferenceChanged && imported
        ? await enqueueImport(tx, { namespace, stream, tags: [tag], cause: 'tag' })
        : null;
    return ok({ tagId: row.id, changed: true, importJobId });
  });
}

/** Spec tags one applied ImageStream may state. */
export const MAX_APPLY_TAGS = 1000;
const TAG_NAME = /^[\w][\w.-]{0,127}$/;

export interface ApplyImageStreamInput {
  namespace: string;
  name: string;
  labels: KeyValue[];
  annotations: KeyValue[];
  lookupLocal: boolean;
  /** `spec.dockerImageRepository`; null: none. */
  dockerImageRepository: string | null;
  /** One `tag` operation per spec tag, each with this stream's tag as its only destination. */
  tags: TagInput[];
  /** The annotations each spec tag should have (tags left out keep theirs). */
  tagAnnotations: { tag: string; annotations: KeyValue[] }[];
}

export interface ApplyFailure {
  /** The spec tag at fault; null for the stream itself. */
  tag: string | null;
  error: ExpectedError;
}

export interface ApplyOutcome {
  status: 'CREATED' | 'CONFIGURED' | 'UNCHANGED' | 'FAILED';
  /** Every part that failed; when there is one, nothing of the stream was changed. */
  failures: ApplyFailure[];
  imageStreamId: number | null;
}

/** Rolls an apply back once every part was tried, carrying what failed. */
class ApplyFailed extends Error {
  constructor(readonly failures: ApplyFailure[]) {
    super('apply failed');
  }
}

const recordOf = (entries: KeyValue[]) => Object.fromEntries(entries.map((e) => [e.key, e.value]));

/**
 * `oc apply` of one ImageStream, all or nothing: the stream is created or its metadata and spec
 * replaced, each spec tag set as `tag` sets it and its annotations replaced, in one transaction
 * (each part in a savepoint). Every part is tried so all failures are reported; if any failed,
 * the whole object is rolled back. Input problems and refused namespaces (of the stream and of
 * every tag's source and destination) are answered before anything is read.
 */
export async function applyImageStream(
  db: Db,
  access: AccessChecker,
  input: ApplyImageStreamInput,
  /** Registries a tag's pull spec source may name (as for `tag`). */
  registries: RegistryPolicy = OPEN_REGISTRY_POLICY,
): Promise<Result<ApplyOutcome>> {
  const refused = await refusal(access, 'editor', input.namespace);
  if (refused) return refused;
  const problems: FieldProblem[] = [];
  if (input.tags.length > MAX_APPLY_TAGS) {
    problems.push({ field: 'tags', message: `at most ${MAX_APPLY_TAGS} tags per ImageStream` });
  }
  for (const [i, entry] of input.tagAnnotations.entries()) {
    if (!TAG_NAME.test(entry.tag)) {
      problems.push({ field: `tagAnnotations.${i}.tag`, message: `"${entry.tag}" is no tag name` });
    }
  }
  if (problems.length > 0) return invalid(problems);
  for (const [i, tagInput] of input.tags.entries()) {
    const authorized = await authorizeTag(access, tagInput, registries);
    if (!authorized.ok) {
      // Refusals answer for the whole call; other problems are the tag's, reported with the rest.
      if (authorized.error.code === 'FORBIDDEN') return authorized;
      continue;
    }
    const elsewhere = authorized.value.destinations.find(
      (d) => d.namespace !== input.namespace || d.stream !== input.name,
    );
    if (elsewhere || authorized.value.destinations.length !== 1) {
      return invalid([
        {
          field: `tags.${i}.destinations`,
          message: `each tag of ImageStream ${input.name} names one destination in ${input.namespace}/${input.name}`,
        },
      ]);
    }
  }

  try {
    return await writeTransaction(db, async (tx) => {
      // Each service runs in a savepoint of this transaction: a failed part leaves the others.
      const nested = tx as unknown as Db;
      const failures: ApplyFailure[] = [];
      const [before] = await tx
        .select()
        .from(imageStreams)
        .where(and(eq(imageStreams.namespace, input.namespace), eq(imageStreams.name, input.name)))
        .for('update');
      const stream = before
        ? await updateImageStream(nested, access, {
            namespace: input.namespace,
            name: input.name,
            ...streamChanges(before, input),
          })
        : await createImageStream(nested, access, input);
      if (!stream.ok) failures.push({ tag: null, error: stream.error });
      for (const tagInput of input.tags) {
        const tagged = await tag(nested, access, tagInput, registries);
        if (!tagged.ok) {
          const destination = tagInput.destinations[0] ?? '';
          failures.push({
            tag: destination.slice(destination.indexOf(':') + 1),
            error: tagged.error,
          });
        }
      }
      for (const entry of input.tagAnnotations) {
        const set = await setTagAnnotations(nested, access, {
          namespace: input.namespace,
          ref: `${input.name}:${entry.tag}`,
          annotations: entry.annotations,
        });
        // A tag that failed already has its failure.
        if (!set.ok && !failures.some((f) => f.tag === entry.tag)) {
          failures.push({ tag: entry.tag, error: set.error });
        }
      }
      if (failures.length > 0) throw new ApplyFailed(failures);
      const [after] = await tx
        .select({ id: imageStreams.id, resourceVersion: imageStreams.resourceVersion })
        .from(imageStreams)
        .where(and(eq(imageStreams.namespace, input.namespace), eq(imageStreams.name, input.name)));
      const status = !before
        ? 'CREATED'
        : after?.resourceVersion === before.resourceVersion
          ? 'UNCHANGED'
          : 'CONFIGURED';
      return ok<ApplyOutcome>({ status, failures: [], imageStreamId: after?.id ?? null });
    });
  } catch (error) {
    if (!(error instanceof ApplyFailed)) throw error;
    return ok({ status: 'FAILED', failures: error.failures, imageStreamId: null });
  }
}

/** What an update must change for the stream to be as `input` states (only what differs). */
function streamChanges(
  before: typeof imageStreams.$inferSelect,
  input: ApplyImageStreamInput,
): Omit<UpdateImageStreamInput, 'namespace' | 'name'> {
  const changes: Omit<UpdateImageStreamInput, 'namespace' | 'name'> = {};
  if (!sameRecord(before.labels ?? {}, recordOf(input.labels))) changes.labels = input.labels;
  // The import's time stamp is the server's: a document without it keeps it.
  const current = { ...(before.annotations ?? {}) } as Record<string, string>;
  const wanted = recordOf(input.annotations);
  const stamp =
    REPOSITORY_CHECK_ANNOTATION in wanted ? undefined : current[REPOSITORY_CHECK_ANNOTATION];
  if (stamp !== undefined) delete current[REPOSITORY_CHECK_ANNOTATION];
  if (!sameRecord(current, wanted)) {
    changes.annotations =
      stamp === undefined
        ? input.annotations
        : [...input.annotations, { key: REPOSITORY_CHECK_ANNOTATION, value: stamp }];
  }
  if (before.lookupLocal !== input.lookupLocal) changes.lookupLocal = input.lookupLocal;
  if ((before.dockerImageRepository ?? null) !== input.dockerImageRepository) {
    // The empty string clears it.
    changes.dockerImageRepository = input.dockerImageRepository ?? '';
  }
  return changes;
}
