// Writing an import's outcome: images and history on success, a condition on failure.
// Both re-check under the stream lock that the spec is still the one imported.
// The rules: docs/rules.md#importing and #import-failures-and-the-importsuccess-condition.
import { and, eq, sql } from 'drizzle-orm';
import type { Tx } from '../db/client.ts';
import { imageStreams, tagConditions, tags } from '../db/schema.ts';
import type { PolicyEvaluation } from '../domain/policyTags.ts';
import type { DockerReference } from '../domain/references.ts';
import { REPOSITORY_CHECK_ANNOTATION } from '../domain/tagPolicy.ts';
import { appendEvents, type EventCause, writeTransaction } from '../events/append.ts';
import type { ImageStreamRow } from '../services/imageStreams.ts';
import { lockStream, touchStream } from '../services/imageStreams.ts';
import { saveImage } from '../services/images.ts';
import { recordTagEvent, type TagRow } from '../services/tagHistory.ts';
import type { ImporterOptions } from './execute.ts';
import type { FetchedSource } from './fetchImage.ts';
import type { LeaseFence } from './lease.ts';

export const IMPORT_SUCCESS_CONDITION = 'ImportSuccess';

/**
 * Failures that another try in an interval will not fix unless someone acts (the source is gone,
 * or policy refuses its registry): a scheduled tag failing so backs off.
 */
const BACKOFF_REASONS = new Set(['NotFound', 'Forbidden']);
/** A backing-off scheduled tag waits at most this many intervals (8 h at the default 15 min). */
export const MAX_BACKOFF_FACTOR = 32;

/** How many intervals a scheduled tag waits after `failures` such failures in a row. */
export function backoffFactor(failures: number): number {
  return Math.min(2 ** failures, MAX_BACKOFF_FACTOR);
}

export interface TagSnapshot {
  stream: typeof imageStreams.$inferSelect;
  tag: TagRow;
}

type Options = Pick<ImporterOptions, 'database' | 'intervalMs'>;

/**
 * Stores the fetched images and applies the import to the tag's history by the push rule, then to
 * the tags tracking it. Returns false, writing nothing, when the spec changed meanwhile; throws,
 * writing nothing, when `fence` finds the job no longer this attempt's.
 */
export async function recordImportSuccess(
  options: Options,
  snapshot: TagSnapshot,
  fetched: FetchedSource,
  source: DockerReference,
  context: {
    cause: EventCause;
    jobId: number;
    fence?: LeaseFence;
    /** A policy tag's evaluation that picked the fetched image, stored with the outcome. */
    policyEvaluation?: PolicyEvaluation;
  },
): Promise<boolean> {
  return writeTransaction(options.database.db, async (tx) => {
    await context.fence?.(tx);
    const current = await relock(tx, snapshot);
    if (!current) return false;
    const { stream, tag } = current;
    // fetchSource checked every manifest and config blob against its digest.
    for (const child of fetched.children) await saveImage(tx, child, 'registry-verified');
    await saveImage(tx, fetched.image, 'registry-verified');
    await recordTagEvent(
      tx,
      stream,
      tag.name,
      {
        dockerImageReference: fetched.image.dockerImageReference ?? '',
        image: fetched.image.digest,
        generation: tag.specGeneration ?? stream.generation,
      },
      { cause: context.cause, payload: { importJob: context.jobId } },
    );
    // A success ends an earlier failure even when the image itself did not change.
    if (tag.conditions.length > 0) {
      await tx
        .delete(tagConditions)
        .where(
          and(eq(tagConditions.tagId, tag.id), eq(tagConditions.type, IMPORT_SUCCESS_CONDITION)),
        );
    }
    const pinned = source.digest !== undefined;
    await tx
      .update(tags)
      .set({
        importedSourceDigest: fetched.sourceDigest,
        ...(context.policyEvaluation
          ? {
              policyEvaluation: {
                ...context.policyEvaluation,
                evaluatedAt: new Date().toISOString(),
                digest: fetched.sourceDigest,
              },
            }
          : {}),
        importFailures: 0,
        // A digest-pinned source cannot change, so it is not checked again.
        nextImportAt: tag.importScheduled && !pinned ? nextCheck(options, 0) : null,
      })
      .where(eq(tags.id, tag.id));
    await stampRepositoryCheck(tx, stream.id);
    return true;
  });
}

/**
 * docs/rules.md#import-failures-and-the-importsuccess-condition: history untouched;
 * `ImportSuccess=False` with reason and message, not rewritten when an identical one is already
 * there. A scheduled tag is checked again an interval later.
 */
export async function recordImportFailure(
  options: Options,
  snapshot: TagSnapshot,
  failure: { reason: string; message: string },
  /** What queued the import: the event says so, as a success's does. */
  cause: EventCause,
  /** Writes nothing (throws) unless the job is still this attempt's. */
  fence?: LeaseFence,
): Promise<void> {
  await writeTransaction(options.database.db, async (tx) => {
    await fence?.(tx);
    const current = await relock(tx, snapshot);
    if (!current) return;
    const { stream, tag } = current;
    const failures = BACKOFF_REASONS.has(failure.reason) ? tag.importFailures + 1 : 0;
    await tx
      .update(tags)
      .set({
        importFailures: failures,
        ...(tag.importScheduled ? { nextImportAt: nextCheck(options, failures) } : {}),
      })
      .where(eq(tags.id, tag.id));
    await stampRepositoryCheck(tx, stream.id);
    const generation = tag.specGeneration ?? stream.generation;
    const [existing] = tag.conditions;
    const identical =
      existing?.status === 'False' &&
      existing.reason === failure.reason &&
      existing.message === failure.message &&
      existing.generation === generation;
    if (identical) return;
    const condition = {
      status: 'False' as const,
      reason: failure.reason,
      message: failure.message,
      generation,
      // The time of the transition to False; a new message while still False keeps it.
      lastTransitionTime: existing?.status === 'False' ? existing.lastTransitionTime : new Date(),
    };
    await tx
      .insert(tagConditions)
      .values({ tagId: tag.id, type: IMPORT_SUCCESS_CONDITION, ...condition })
      .onConflictDoUpdate({ target: [tagConditions.tagId, tagConditions.type], set: condition });
    appendEvents(tx, [
      {
        namespace: stream.namespace,
        stream: stream.name,
        tag: tag.name,
        type: 'UPDATED',
        cause,
        payload: { importFailure: { reason: failure.reason, message: failure.message } },
      },
    ]);
  });
}

type ConditionRow = typeof tagConditions.$inferSelect;

/**
 * Locks the stream and re-reads the tag with its ImportSuccess condition (if any); null when the
 * tag is gone or its spec moved on.
 */
async function relock(
  tx: Tx,
  snapshot: TagSnapshot,
): Promise<{ stream: ImageStreamRow; tag: TagRow & { conditions: ConditionRow[] } } | null> {
  const locked = await lockStream(tx, {
    namespace: snapshot.stream.namespace,
    name: snapshot.stream.name,
  });
  if (!locked.ok || locked.value.id !== snapshot.stream.id) return null;
  const tag = await tx.query.tags.findFirst({
    where: { id: snapshot.tag.id },
    with: { conditions: { where: { type: IMPORT_SUCCESS_CONDITION } } },
  });
  if (!tag) return null;
  const same =
    tag.fromKind === snapshot.tag.fromKind &&
    tag.fromName === snapshot.tag.fromName &&
    tag.reference === snapshot.tag.reference &&
    tag.specGeneration === snapshot.tag.specGeneration;
  return same ? { stream: locked.value, tag } : null;
}

function nextCheck(options: Options, failures: number): Date {
  return new Date(Date.now() + options.intervalMs * backoffFactor(failures));
}

/** Stamps the stream with the time of this import, whatever its outcome, as OpenShift does. */
async function stampRepositoryCheck(tx: Tx, streamId: number): Promise<void> {
  const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
  await touchStream(tx, streamId);
  await tx
    .update(imageStreams)
    .set({
      annotations: sql`${imageStreams.annotations} || jsonb_build_object(${REPOSITORY_CHECK_ANNOTATION}::text, ${now}::text)`,
    })
    .where(eq(imageStreams.id, streamId));
}
