// Deleting a tag (`oc tag -d`) and rolling a tag back to its own history.
// The rules: docs/rules.md#deleting-a-tag-and-dangling-trackers and #rollback-targets.
import { eq, sql } from 'drizzle-orm';
import { authorizeTagRef } from '../auth/authorize.ts';
import type { AccessChecker } from '../auth/roles.ts';
import type { Db, Tx } from '../db/client.ts';
import { tagHistory, tags } from '../db/schema.ts';
import { type RollbackBy, rollbackTarget } from '../domain/history.ts';
import type { StreamTagRef } from '../domain/references.ts';
import { followers } from '../domain/tracking.ts';
import { type FieldProblem, fail, fromDomain, invalid, ok, type Result } from '../errors.ts';
import { appendEvents } from '../events/append.ts';
import { type ImageStreamRow, lockTag, touchStream } from './imageStreams.ts';
import { writeSpecTag } from './specTags.ts';
import { writeRollingBack } from './tagging.ts';
import { historyOf, loadTags, recordTagEvent, streamTagsOf } from './tagHistory.ts';

export interface TagLocator {
  namespace: string;
  /** `[ns/]stream:tag` */
  ref: string;
  expectedResourceVersion?: string | null;
}

export interface DeletedTag {
  namespace: string;
  stream: string;
  tag: string;
  tagId: number;
  /**
   * Tags that tracked it and now dangle: reported, not removed
   * (docs/rules.md#deleting-a-tag-and-dangling-trackers).
   */
  danglingFollowers: string[];
  message: string;
}

/** The stream a tag write locked, and the tag's row. */
interface LockedTag {
  stream: ImageStreamRow;
  row: typeof tags.$inferSelect;
}

/**
 * A write to the one tag `locator.ref` names: the caller must be an editor in its namespace, then
 * `problems` must be empty, then `write` runs in a transaction with the tag's stream locked.
 */
async function writeTag<T>(
  db: Db,
  access: AccessChecker,
  locator: TagLocator,
  problems: FieldProblem[],
  write: (tx: Tx, ref: StreamTagRef, locked: LockedTag) => Promise<Result<T>>,
): Promise<Result<T>> {
  const ref = await authorizeTagRef(access, 'editor', locator);
  if (!ref.ok) return ref;
  if (problems.length > 0) return invalid(problems);
  return writeRollingBack(db, async (tx) => {
    const locked = await lockTag(tx, ref.value, locator.expectedResourceVersion);
    return locked.ok ? write(tx, ref.value, locked.value) : locked;
  });
}

/** Deletes the tag `ref` names; the caller must be an editor in the ref's namespace. */
export function deleteTag(
  db: Db,
  access: AccessChecker,
  locator: TagLocator,
): Promise<Result<DeletedTag>> {
  return writeTag(db, access, locator, [], async (tx, { namespace, stream, tag }, locked) => {
    const { stream: streamRow, row } = locked;
    const rows = await loadTags(tx, streamRow.id);
    const dangling = followers(streamTagsOf(streamRow, rows), tag);
    // Removing a spec tag is a spec change: the stream's generation moves on.
    // Item 0 as it was, for the event (the statement's snapshot still holds the history).
    const [gone] = await tx
      .delete(tags)
      .where(eq(tags.id, row.id))
      .returning({
        previous: sql<{ digest: string | null; reference: string } | null>`(
          select json_build_object('digest', h.image_digest, 'reference', h.docker_image_reference)
          from ${tagHistory} h where h.tag_id = ${row.id} order by h.seq desc limit 1)`,
      });
    if (row.specGeneration !== null) {
      await tx.execute(
        sql`update image_streams set generation = generation + 1 where id = ${streamRow.id}`,
      );
    }
    await touchStream(tx, streamRow.id);
    appendEvents(tx, [
      {
        namespace,
        stream,
        tag,
        type: 'DELETED',
        cause: 'delete',
        payload: { danglingFollowers: dangling, previous: gone?.previous ?? null },
      },
    ]);
    return ok({
      namespace,
      stream,
      tag,
      tagId: row.id,
      danglingFollowers: dangling,
      message: `Deleted tag ${namespace}/${stream}:${tag}.`,
    });
  });
}

export interface RollbackInput extends TagLocator {
  by: RollbackBy;
}

export interface RolledBack {
  namespace: string;
  stream: string;
  tag: string;
  tagId: number;
  /** The history item rolled back to (its index before the rollback). */
  historyIndex: number;
  image: string | null;
  dockerImageReference: string;
  message: string;
}

/**
 * Rollback (docs/rules.md#rollback-targets), as `oc tag stream@<digest> stream:tag` would do it:
 * the spec is pinned to the chosen historical image (so a scheduled import no longer moves it) and
 * the event is pushed by the push rule, never rewriting history; tracking tags follow.
 */
export async function rollbackTag(
  db: Db,
  access: AccessChecker,
  input: RollbackInput,
): Promise<Result<RolledBack>> {
  const by = input.by;
  const given = ['index', 'generation', 'digest'].filter((k) => k in by);
  const problems =
    given.length === 1
      ? []
      : [{ field: 'to', message: 'give exactly one of index, generation or digest' }];
  return writeTag(db, access, input, problems, async (tx, { namespace, stream, tag }, locked) => {
    const { stream: streamRow, row } = locked;
    const history = await historyOf(tx, row.id);
    const target = rollbackTarget(
      history.map((h) => ({
        created: h.created,
        dockerImageReference: h.dockerImageReference,
        image: h.imageDigest,
        generation: h.generation,
      })),
      by,
    );
    if (!target.ok)
      return fail(fromDomain({ ...target.error, field: `to.${target.error.field ?? ''}` }));
    const { event, index } = target.value;
    const spec = await writeSpecTag(tx, streamRow, tag, {
      from: event.image
        ? { kind: 'ImageStreamImage', name: `${stream}@${event.image}`, namespace: null }
        : { kind: 'DockerImage', name: event.dockerImageReference },
      reference: event.image === null,
      referencePolicy: row.referencePolicy,
      importInsecure: row.importInsecure,
      importScheduled: false,
      importMode: row.importMode,
    });
    await recordTagEvent(
      tx,
      streamRow,
      tag,
      {
        dockerImageReference: event.dockerImageReference,
        image: event.image,
        generation: spec.generation,
      },
      { cause: 'rollback', payload: { historyIndex: index } },
    );
    return ok({
      namespace,
      stream,
      tag,
      tagId: row.id,
      historyIndex: index,
      image: event.image,
      dockerImageReference: event.dockerImageReference,
      message: `Tag ${stream}:${tag} rolled back to ${event.image ?? event.dockerImageReference}.`,
    });
  });
}
