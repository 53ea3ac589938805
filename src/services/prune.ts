// Pruning: old history items beyond the newest N per tag, then images nothing references.
// The rules: docs/rules.md#pruning.
import { sql } from 'drizzle-orm';
import { type Db, rowsOf } from '../db/client.ts';
import { fail, ok, type Result, ValidationError } from '../errors.ts';

export interface PruneInput {
  /** History items kept per tag, newest first; item 0 is always kept. @default 3 */
  keepTagRevisions?: number | null;
  /** Nothing younger than this many minutes is pruned. @default 60 */
  keepYoungerThanMinutes?: number | null;
  /** Report only. @default true */
  dryRun?: boolean | null;
}

export interface PrunedHistoryItem {
  namespace: string;
  stream: string;
  tag: string;
  /** Position in the tag's history before pruning (0 = newest). */
  index: number;
  dockerImageReference: string;
  image: string | null;
  created: Date;
}

export interface PruneResult {
  dryRun: boolean;
  historyItems: PrunedHistoryItem[];
  images: string[];
}

export async function pruneImages(db: Db, input: PruneInput): Promise<Result<PruneResult>> {
  const keep = input.keepTagRevisions ?? 3;
  const minutes = input.keepYoungerThanMinutes ?? 60;
  const dryRun = input.dryRun ?? true;
  const problems = [];
  if (!Number.isInteger(keep) || keep < 1) {
    problems.push({ field: 'keepTagRevisions', message: 'must be a whole number ≥ 1' });
  }
  if (!Number.isFinite(minutes) || minutes < 0) {
    problems.push({ field: 'keepYoungerThanMinutes', message: 'must be ≥ 0' });
  }
  if (problems.length > 0) return fail(new ValidationError(problems));

  return db.transaction(async (tx) => {
    // One snapshot for both lists; a concurrent push after this is simply not considered.
    const history = rowsOf<{
      id: number;
      namespace: string;
      stream: string;
      tag: string;
      idx: number;
      docker_image_reference: string;
      image_digest: string | null;
      created: Date | string;
    }>(
      await tx.execute(sql`
        with ranked as (
          select h.*, row_number() over (partition by h.tag_id order by h.seq desc) - 1 as idx
          from tag_history h
        )
        select r.id, s.namespace, s.name as stream, t.name as tag, r.idx::int as idx,
               r.docker_image_reference, r.image_digest, r.created
        from ranked r join tags t on t.id = r.tag_id join image_streams s on s.id = t.stream_id
        where r.idx >= ${keep} and r.created < now() - ${minutes} * interval '1 minute'
        order by s.namespace, s.name, t.name, r.idx`),
    );
    const prunedIds = history.map((h) => Number(h.id));
    const images = rowsOf<{ digest: string }>(
      await tx.execute(sql`
        with kept as (
          select image_digest as d from tag_history
            where image_digest is not null
              and not (id = any(${toPgArray(prunedIds)}::bigint[]))
        ), kept_all as (
          select d from kept
          union select m.digest from image_manifests m join kept k on m.parent_digest = k.d
          union select split_part(from_name, '@', 2) from tags where from_kind = 'ImageStreamImage'
        )
        select digest from images
        where created_at < now() - ${minutes} * interval '1 minute'
          and digest not in (select d from kept_all where d is not null)
        order by digest`),
    ).map((row) => row.digest);

    if (!dryRun) {
      if (prunedIds.length > 0) {
        await tx.execute(
          sql`delete from tag_history where id = any(${toPgArray(prunedIds)}::bigint[])`,
        );
      }
      if (images.length > 0) {
        await tx.execute(sql`delete from images where digest = any(${toPgArray(images)}::text[])`);
      }
    }
    return ok({
      dryRun,
      images,
      historyItems: history.map((h) => ({
        namespace: h.namespace,
        stream: h.stream,
        tag: h.tag,
        index: Number(h.idx),
        dockerImageReference: h.docker_image_reference,
        image: h.image_digest,
        created: new Date(h.created),
      })),
    });
  });
}

/** A Postgres array literal, passed as one text parameter (identical on postgres.js and PGlite). */
function toPgArray(values: (string | number)[]): string {
  return `{${values.map((v) => `"${String(v).replace(/["\\]/g, '\\$&')}"`).join(',')}}`;
}
