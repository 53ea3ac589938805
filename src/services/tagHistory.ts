// Recording what a tag points at: the push rule on the stored history, tracking, events.
// The rules: docs/rules.md#tag-history-the-push-rule.
import { and, desc, eq, inArray, sql } from 'drizzle-orm';
import { rowsOf, type Tx } from '../db/client.ts';
import { tagConditions, tagHistory, tags } from '../db/schema.ts';
import { applyTagEvent, type TagEvent, type TagLineage } from '../domain/history.ts';
import { propagationOrder, type StreamTags, type TagSource } from '../domain/tracking.ts';
import { appendEvents, currentActor, type EventCause, type NewEvent } from '../events/append.ts';
import { type ImageStreamRow, touchStream } from './imageStreams.ts';

export type TagRow = typeof tags.$inferSelect;
export type HistoryRow = typeof tagHistory.$inferSelect;

/** What a write reports the tag now points at. */
export interface TagHead {
  dockerImageReference: string;
  /** Null for a reference tag. */
  image: string | null;
}

export interface NewTagEvent extends TagHead {
  generation: number;
  /** The tag a permanent `tag` copied the event from (docs/rules.md#lineage); never propagated. */
  copiedFrom?: TagLineage | null;
}

/** The spec tags of a stream as the tracking rules read them. */
export function streamTagsOf(stream: ImageStreamRow, rows: TagRow[]): StreamTags {
  return {
    namespace: stream.namespace,
    stream: stream.name,
    tags: new Map(rows.map((row) => [row.name, sourceOf(row)])),
  };
}

export function sourceOf(row: TagRow): TagSource | null {
  if (!row.fromKind || !row.fromName) return null;
  return { kind: row.fromKind, name: row.fromName, namespace: row.fromNamespace };
}

export async function loadTags(tx: Tx, streamId: number): Promise<TagRow[]> {
  return tx.select().from(tags).where(eq(tags.streamId, streamId));
}

/** A tag with its item 0 (the newest history item) and whether it has conditions. */
type TagWithHead = TagRow & { history: HistoryRow[]; conditions: unknown[] };

/**
 * The tag itself and the stream's tracking tags, each with its item 0, in one statement: all
 * that tracking propagation reads. A stream with hundreds of imported tags costs one short read
 * per event, not all its tags.
 */
async function loadTrackingCandidates(
  tx: Tx,
  streamId: number,
  tagName: string,
): Promise<TagWithHead[]> {
  return tx.query.tags.findMany({
    where: {
      streamId,
      // The kind is written into the SQL, not sent as a parameter: tracking tags are rare, and
      // only a literal lets the planner see that in the prepared statement's generic plan. With
      // a parameter, in a stream of mostly imported tags, it guesses a share of all tags, never
      // takes the generic plan and plans afresh on every write.
      OR: [{ name: tagName }, { RAW: (t) => sql`${t.fromKind} = 'ImageStreamTag'` }],
    },
    with: {
      history: { orderBy: { seq: 'desc' }, limit: 1 },
      conditions: { columns: { tagId: true }, limit: 1 },
    },
  });
}

export async function headOf(tx: Tx, tagId: number): Promise<HistoryRow | undefined> {
  const [row] = await tx
    .select()
    .from(tagHistory)
    .where(eq(tagHistory.tagId, tagId))
    .orderBy(desc(tagHistory.seq))
    .limit(1);
  return row;
}

/** A status-only tag (no spec), as a push or mapping creates it. */
async function createStatusTag(tx: Tx, streamId: number, name: string): Promise<TagRow> {
  const [row] = await tx.insert(tags).values({ streamId, name }).returning();
  return row!;
}

interface RecordOptions {
  cause: EventCause;
  /** Create the tag (status only) when it does not exist, as a push does. */
  createMissing?: boolean;
  /** Extra facts for the event payload (e.g. the job that imported it). */
  payload?: Record<string, unknown>;
}

export interface RecordResult {
  /** Tags whose item 0 changed, the written one first, then its followers. */
  changed: string[];
}

/**
 * Applies an event to a tag by the push rule and then, transitively, to every tag tracking it
 * with each follower's own spec generation, as OpenShift's UpdateTrackingTags does. The caller
 * holds the stream's row lock (lockStream), so writers to one stream are serialized.
 */
export async function recordTagEvent(
  tx: Tx,
  stream: ImageStreamRow,
  tagName: string,
  event: NewTagEvent,
  options: RecordOptions,
): Promise<RecordResult> {
  let rows = await loadTrackingCandidates(tx, stream.id, tagName);
  let target = rows.find((row) => row.name === tagName);
  if (!target) {
    if (!options.createMissing) throw new Error(`tag ${tagName} does not exist`);
    target = { ...(await createStatusTag(tx, stream.id, tagName)), history: [], conditions: [] };
    rows = [...rows, target];
  }
  const changed: string[] = [];
  const events: NewEvent[] = [];
  const written = await writeEvent(tx, stream, target, event, options.cause, options.payload);
  if (written) {
    changed.push(tagName);
    events.push(written);
    const spec = streamTagsOf(stream, rows);
    const byName = new Map(rows.map((row) => [row.name, row]));
    for (const name of propagationOrder(spec, tagName)) {
      const follower = byName.get(name);
      if (!follower) continue;
      const generation = follower.specGeneration ?? event.generation;
      // A tracking tag follows; it copies nothing, so its item has no lineage of its own.
      const followed = await writeEvent(
        tx,
        stream,
        follower,
        { ...event, generation, copiedFrom: null },
        'tracking',
        { ...options.payload, trackedFrom: tagName },
      );
      if (followed) {
        changed.push(name);
        events.push(followed);
      }
    }
  }
  appendEvents(tx, events);
  if (changed.length > 0) await touchStream(tx, stream.id);
  return { changed };
}

/**
 * The push rule (docs/rules.md#tag-history-the-push-rule) against the stored item 0; returns the
 * event to log, or null when nothing changed.
 */
async function writeEvent(
  tx: Tx,
  stream: ImageStreamRow,
  tag: TagWithHead,
  event: NewTagEvent,
  cause: EventCause,
  payload: Record<string, unknown> | undefined,
): Promise<NewEvent | null> {
  const head = tag.history[0];
  const now = new Date();
  const current: TagEvent[] = head
    ? [
        {
          created: head.created,
          dockerImageReference: head.dockerImageReference,
          image: head.imageDigest,
          generation: head.generation,
          copiedFrom: lineageOf(head),
        },
      ]
    : [];
  const change = applyTagEvent(current, {
    created: now,
    dockerImageReference: event.dockerImageReference,
    image: event.image,
    generation: event.generation,
    copiedFrom: event.copiedFrom ?? null,
  });
  if (change.kind === 'unchanged') return null;
  if (change.kind === 'pushed') {
    await tx.insert(tagHistory).values({
      tagId: tag.id,
      seq: head ? head.seq + 1 : 0,
      created: now,
      dockerImageReference: change.item0.dockerImageReference,
      imageDigest: change.item0.image,
      generation: change.item0.generation,
      ...lineageColumns(change.item0.copiedFrom),
      actor: currentActor(),
    });
  } else {
    await tx
      .update(tagHistory)
      .set({
        dockerImageReference: change.item0.dockerImageReference,
        imageDigest: change.item0.image,
        generation: change.item0.generation,
        ...lineageColumns(change.item0.copiedFrom),
        actor: currentActor(),
      })
      .where(eq(tagHistory.id, head!.id));
  }
  if (change.clearConditions && tag.conditions.length > 0) {
    await tx.delete(tagConditions).where(eq(tagConditions.tagId, tag.id));
  }
  const previous = head ? { digest: head.imageDigest, reference: head.dockerImageReference } : null;
  return {
    namespace: stream.namespace,
    stream: stream.name,
    tag: tag.name,
    type: head ? 'UPDATED' : 'ADDED',
    cause,
    payload: {
      ...payload,
      change: change.kind,
      previous,
      current: { digest: change.item0.image, reference: change.item0.dockerImageReference },
    },
  };
}

/** The columns of a history row that record its lineage. */
export type LineageColumns = Pick<
  HistoryRow,
  | 'copiedFromTagId'
  | 'copiedFromNamespace'
  | 'copiedFromStream'
  | 'copiedFromTag'
  | 'copiedFromGeneration'
>;

/** The lineage a stored history item records, or null (docs/rules.md#lineage). */
export function lineageOf(row: LineageColumns): TagLineage | null {
  const { copiedFromTagId: tagId, copiedFromNamespace: namespace } = row;
  const { copiedFromStream: stream, copiedFromTag: tag, copiedFromGeneration: generation } = row;
  if (tagId === null || namespace === null || stream === null || tag === null) return null;
  if (generation === null) return null;
  return { tagId, namespace, stream, tag, generation };
}

/** The lineage columns of a history row: all five set, or all null. */
function lineageColumns(lineage: TagLineage | null | undefined) {
  return {
    copiedFromTagId: lineage?.tagId ?? null,
    copiedFromNamespace: lineage?.namespace ?? null,
    copiedFromStream: lineage?.stream ?? null,
    copiedFromTag: lineage?.tag ?? null,
    copiedFromGeneration: lineage?.generation ?? null,
  };
}

/**
 * Every image digest in the stream's histories, including the entries of verified manifest
 * lists (a declared list's entries are claims that could name any digest).
 */
export async function streamImageDigests(tx: Tx, streamId: number): Promise<string[]> {
  const rows = await tx.execute(sql`
    select distinct h.image_digest as digest from tag_history h join tags t on t.id = h.tag_id
      where t.stream_id = ${streamId} and h.image_digest is not null
    union
    select distinct m.digest from image_manifests m
      join images list on list.digest = m.parent_digest
        and list.metadata_source = 'registry-verified'
      join tag_history h on h.image_digest = m.parent_digest
      join tags t on t.id = h.tag_id
      where t.stream_id = ${streamId}`);
  return rowsOf<{ digest: string }>(rows).map((row) => row.digest);
}

/** The history of one tag, newest first. */
export async function historyOf(tx: Tx, tagId: number): Promise<HistoryRow[]> {
  return tx
    .select()
    .from(tagHistory)
    .where(eq(tagHistory.tagId, tagId))
    .orderBy(desc(tagHistory.seq));
}

export async function deleteTagsByName(tx: Tx, streamId: number, names: string[]): Promise<void> {
  if (names.length === 0) return;
  await tx.delete(tags).where(and(eq(tags.streamId, streamId), inArray(tags.name, names)));
}
