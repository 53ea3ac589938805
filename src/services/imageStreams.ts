// Creating, updating and deleting image streams: validation, persistence, events.

import { and, eq, sql } from 'drizzle-orm';
import { rowsOf, type Tx } from '../db/client.ts';
import { imageStreams, namespaces, tags } from '../db/schema.ts';
import { validateDockerImageRepository } from '../domain/importRules.ts';
import {
  validateAnnotations,
  validateLabels,
  validateNamespace,
  validateStreamName,
} from '../domain/names.ts';
import { conflict, type FieldProblem, invalid, notFound, ok, type Result } from '../errors.ts';
import { appendEvents, type EventCause, writeTransaction } from '../events/append.ts';
import { withRole } from './guards.ts';

export type ImageStreamRow = typeof imageStreams.$inferSelect & {
  /** Set by lockOrCreateStream when this very transaction created the stream. */
  createdNow?: boolean;
};

export interface KeyValue {
  key: string;
  value: string;
}

export interface CreateImageStreamInput {
  namespace: string;
  name: string;
  labels?: KeyValue[] | null;
  annotations?: KeyValue[] | null;
  lookupLocal?: boolean | null;
  dockerImageRepository?: string | null;
}

export interface StreamLocator {
  namespace: string;
  name: string;
  /** When given, the write happens only if the stream is still at this version. */
  expectedResourceVersion?: string | null;
}

/** Turns `[{key, value}]` into a record, reporting duplicate keys against their input path. */
export function toRecord(
  entries: KeyValue[] | null | undefined,
  field: string,
  problems: FieldProblem[],
): Record<string, string> {
  const record: Record<string, string> = {};
  (entries ?? []).forEach(({ key, value }, index) => {
    if (key in record)
      problems.push({ field: `${field}.${index}.key`, message: `duplicate key "${key}"` });
    record[key] = value;
  });
  return record;
}

/** Problems of a stream's labels, annotations and import repository, each when given. */
function metadataProblems(
  labels: Record<string, string> | undefined,
  annotations: Record<string, string> | undefined,
  repository: string | null | undefined,
): FieldProblem[] {
  return [
    ...(labels ? (validateLabels(labels) ?? []) : []),
    ...(annotations ? (validateAnnotations(annotations) ?? []) : []),
    ...(repository ? (validateDockerImageRepository(repository) ?? []) : []),
  ];
}

/** Creates a stream; the caller must be an editor of its namespace. */
export const createImageStream = withRole(
  'editor',
  async (db, input: CreateImageStreamInput): Promise<Result<ImageStreamRow>> => {
    const problems: FieldProblem[] = [];
    const labels = toRecord(input.labels, 'labels', problems);
    const annotations = toRecord(input.annotations, 'annotations', problems);
    problems.push(
      ...(validateNamespace(input.namespace) ?? []),
      ...(validateStreamName(input.namespace, input.name) ?? []),
      ...metadataProblems(labels, annotations, input.dockerImageRepository),
    );
    if (problems.length > 0) return invalid(problems);

    return writeTransaction(db, async (tx) => {
      await ensureNamespace(tx, input.namespace);
      const [row] = await tx
        .insert(imageStreams)
        .values({
          namespace: input.namespace,
          name: input.name,
          labels,
          annotations,
          lookupLocal: input.lookupLocal ?? false,
          dockerImageRepository: input.dockerImageRepository || null,
        })
        .onConflictDoNothing()
        .returning();
      if (!row) {
        return conflict(`image stream ${input.namespace}/${input.name} already exists`, 'name');
      }
      appendEvents(tx, [
        { namespace: row.namespace, stream: row.name, tag: null, type: 'ADDED', cause: 'create' },
      ]);
      return ok(row);
    });
  },
);

/** Deletes a stream; the caller must be an admin of its namespace. */
export const deleteImageStream = withRole(
  'admin',
  (db, locator: StreamLocator): Promise<Result<ImageStreamRow>> =>
    writeTransaction(db, async (tx) => {
      const found = await lockStream(tx, locator);
      if (!found.ok) return found;
      // Each tag's newest history item as it was, read before the delete cascades: subscribers of
      // a tag learn it is gone, and what it pointed at, as they do from deleteTag.
      const gone = rowsOf<{
        tag: string;
        previous: { digest: string | null; reference: string } | null;
      }>(
        await tx.execute(sql`
        select t.name as tag, (
          select json_build_object('digest', h.image_digest, 'reference', h.docker_image_reference)
          from tag_history h where h.tag_id = t.id order by h.seq desc limit 1) as previous
        from tags t where t.stream_id = ${found.value.id} order by t.name`),
      );
      await tx.delete(imageStreams).where(eq(imageStreams.id, found.value.id));
      appendEvents(tx, [
        ...gone.map((row) => ({
          namespace: locator.namespace,
          stream: locator.name,
          tag: row.tag,
          type: 'DELETED' as const,
          cause: 'delete' as const,
          payload: { danglingFollowers: [], previous: row.previous ?? null },
        })),
        {
          namespace: locator.namespace,
          stream: locator.name,
          tag: null,
          type: 'DELETED',
          cause: 'delete',
        },
      ]);
      return found;
    }),
);

/**
 * Reads and row-locks a stream for a write, checking the caller's expected resource version.
 * Every write path goes through here, so concurrent writers to one stream serialize.
 */
export async function lockStream(tx: Tx, locator: StreamLocator): Promise<Result<ImageStreamRow>> {
  const [row] = await tx
    .select()
    .from(imageStreams)
    .where(and(eq(imageStreams.namespace, locator.namespace), eq(imageStreams.name, locator.name)))
    .for('update');
  if (!row) {
    return notFound(`image stream ${locator.namespace}/${locator.name} not found`, 'name');
  }
  const expected = locator.expectedResourceVersion;
  if (expected != null && expected !== String(row.resourceVersion)) {
    return conflict(
      `image stream ${locator.namespace}/${locator.name} has changed: resourceVersion is ${row.resourceVersion}, expected ${expected}`,
      'expectedResourceVersion',
    );
  }
  return ok(row);
}

/**
 * lockStream() for a write to one tag: the stream `ref` names, locked, and the tag's row; a
 * missing stream or tag is NOT_FOUND on `ref`, the input field that named them.
 */
export async function lockTag(
  tx: Tx,
  ref: { namespace: string; stream: string; tag: string },
  expectedResourceVersion: string | null | undefined,
) {
  const { namespace, stream, tag } = ref;
  const locked = await lockStream(tx, { namespace, name: stream, expectedResourceVersion });
  if (!locked.ok) {
    return locked.error.code === 'NOT_FOUND' ? notFound(locked.error.message, 'ref') : locked;
  }
  const [row] = await tx
    .select()
    .from(tags)
    .where(and(eq(tags.streamId, locked.value.id), eq(tags.name, tag)));
  if (!row) return notFound(`image stream tag ${namespace}/${stream}:${tag} not found`, 'ref');
  return ok({ stream: locked.value, row });
}

export async function ensureNamespace(tx: Tx, name: string): Promise<void> {
  await tx.insert(namespaces).values({ name }).onConflictDoNothing();
}

/** Streams already given a new resource version in a transaction: one bump per write. */
const touched = new WeakMap<Tx, Set<number>>();

function firstTouch(tx: Tx, streamId: number): boolean {
  let streams = touched.get(tx);
  if (!streams) {
    streams = new Set();
    touched.set(tx, streams);
  }
  if (streams.has(streamId)) return false;
  streams.add(streamId);
  return true;
}

/** Marks a stream as written: a new resource version and update time, once per transaction. */
export async function touchStream(tx: Tx, streamId: number): Promise<void> {
  if (!firstTouch(tx, streamId)) return;
  await tx
    .update(imageStreams)
    .set({ resourceVersion: sql`${imageStreams.resourceVersion} + 1`, updatedAt: sql`now()` })
    .where(eq(imageStreams.id, streamId));
}

/** A spec change: the stream's next generation, and (in the same statement) a touch. */
export async function bumpGeneration(tx: Tx, streamId: number): Promise<number> {
  const touch = firstTouch(tx, streamId)
    ? { resourceVersion: sql`${imageStreams.resourceVersion} + 1`, updatedAt: sql`now()` }
    : {};
  const [updated] = await tx
    .update(imageStreams)
    .set({ generation: sql`${imageStreams.generation} + 1`, ...touch })
    .where(eq(imageStreams.id, streamId))
    .returning({ generation: imageStreams.generation });
  return updated!.generation;
}

/**
 * Locks a stream for a write, creating it first when missing — `oc tag` and a registry push
 * both create the destination stream. An expected resource version applies only to a stream
 * that already existed.
 */
export async function lockOrCreateStream(
  tx: Tx,
  namespace: string,
  name: string,
  options: { expectedResourceVersion?: string | null; cause?: EventCause } = {},
): Promise<Result<ImageStreamRow>> {
  const found = await lockStream(tx, {
    namespace,
    name,
    expectedResourceVersion: options.expectedResourceVersion,
  });
  if (found.ok || found.error.code !== 'NOT_FOUND') return found;
  await ensureNamespace(tx, namespace);
  const [row] = await tx
    .insert(imageStreams)
    .values({ namespace, name })
    .onConflictDoNothing()
    .returning();
  if (row) {
    appendEvents(tx, [
      { namespace, stream: name, tag: null, type: 'ADDED', cause: options.cause ?? 'tag' },
    ]);
  }
  const created = await lockStream(tx, { namespace, name });
  // A stream created by this write takes its first spec tags at generation 1, as a stream
  // created with those tags in one go would.
  return created.ok ? ok({ ...created.value, createdNow: Boolean(row) }) : created;
}

export interface UpdateImageStreamInput extends StreamLocator {
  /** Replaces all labels when given. */
  labels?: KeyValue[] | null;
  /** Replaces all annotations when given. */
  annotations?: KeyValue[] | null;
  /** `oc set image-lookup`: a spec change, so the generation moves on. */
  lookupLocal?: boolean | null;
  /** `spec.dockerImageRepository`: a spec change; the empty string clears it. */
  dockerImageRepository?: string | null;
}

/**
 * Records the repository `import-image --all` imports from as the stream's
 * `spec.dockerImageRepository`: a spec change, so the generation moves on. The caller holds the
 * stream lock.
 */
export async function recordRepository(
  tx: Tx,
  stream: ImageStreamRow,
  repository: string,
): Promise<void> {
  if (!stream.createdNow) stream.generation = await bumpGeneration(tx, stream.id);
  await tx
    .update(imageStreams)
    .set({ dockerImageRepository: repository })
    .where(eq(imageStreams.id, stream.id));
  stream.dockerImageRepository = repository;
  appendEvents(tx, [
    {
      namespace: stream.namespace,
      stream: stream.name,
      tag: null,
      type: 'UPDATED',
      cause: 'import',
      payload: { dockerImageRepository: true },
    },
  ]);
}

/** Updates a stream; the caller must be an editor of its namespace. */
export const updateImageStream = withRole(
  'editor',
  async (db, input: UpdateImageStreamInput): Promise<Result<ImageStreamRow>> => {
    const problems: FieldProblem[] = [];
    const labels = input.labels ? toRecord(input.labels, 'labels', problems) : undefined;
    const annotations = input.annotations
      ? toRecord(input.annotations, 'annotations', problems)
      : undefined;
    problems.push(...metadataProblems(labels, annotations, input.dockerImageRepository));
    if (problems.length > 0) return invalid(problems);

    return writeTransaction(db, async (tx) => {
      const locked = await lockStream(tx, input);
      if (!locked.ok) return locked;
      const stream = locked.value;
      const lookupChanged = input.lookupLocal != null && input.lookupLocal !== stream.lookupLocal;
      const labelsChanged = labels && JSON.stringify(labels) !== JSON.stringify(stream.labels);
      const annotationsChanged =
        annotations && JSON.stringify(annotations) !== JSON.stringify(stream.annotations);
      const repository =
        input.dockerImageRepository == null ? undefined : input.dockerImageRepository || null;
      const repositoryChanged =
        repository !== undefined && repository !== (stream.dockerImageRepository ?? null);
      if (!lookupChanged && !labelsChanged && !annotationsChanged && !repositoryChanged) {
        return ok(stream);
      }
      const specChanged = lookupChanged || repositoryChanged;
      const [row] = await tx
        .update(imageStreams)
        .set({
          ...(labelsChanged ? { labels } : {}),
          ...(annotationsChanged ? { annotations } : {}),
          ...(lookupChanged ? { lookupLocal: input.lookupLocal! } : {}),
          ...(repositoryChanged ? { dockerImageRepository: repository } : {}),
          ...(specChanged ? { generation: sql`${imageStreams.generation} + 1` } : {}),
          resourceVersion: sql`${imageStreams.resourceVersion} + 1`,
          updatedAt: sql`now()`,
        })
        .where(eq(imageStreams.id, stream.id))
        .returning();
      appendEvents(tx, [
        {
          namespace: stream.namespace,
          stream: stream.name,
          tag: null,
          type: 'UPDATED',
          cause: 'update',
          payload: {
            labels: Boolean(labelsChanged),
            annotations: Boolean(annotationsChanged),
            lookupPolicy: lookupChanged,
            dockerImageRepository: repositoryChanged,
          },
        },
      ]);
      return ok(row!);
    });
  },
);
