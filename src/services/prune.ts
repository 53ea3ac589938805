// Pruning: old history items beyond the newest N per tag (cluster-wide, or one namespace's under
// its retention rules), then, cluster-wide, images nothing references. Every tag that loses items
// gets a change event. The rules: docs/rules.md#pruning.
import { sql } from 'drizzle-orm';
import { refusal } from '../auth/authorize.ts';
import type { AccessChecker } from '../auth/roles.ts';
import { type Db, rowsOf, type Tx } from '../db/client.ts';
import { isExcluded } from '../domain/policyTags.ts';
import { type FieldProblem, invalid, ok, type Result } from '../errors.ts';
import { appendEvents, writeTransaction } from '../events/append.ts';

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

/** Which history items a namespace's pruning may remove, besides the kept count and age. */
export interface HistoryScope {
  namespace: string;
  /** Streams to prune; empty: every stream of the namespace. */
  streams: string[];
  /** Tag-name globs (`*`, `?`): only matching tags; empty: every tag. */
  includeTags: string[];
  /** Tag-name globs: matching tags are left alone. */
  excludeTags: string[];
}

/** Bounds on a namespace prune's input. */
export const RETENTION_LIMITS = { globs: 20, globLength: 128, streams: 100 } as const;

interface PrunableRow {
  id: number;
  tag_id: number;
  namespace: string;
  stream: string;
  tag: string;
  idx: number;
  generation: number;
  docker_image_reference: string;
  image_digest: string | null;
  created: Date | string;
}

function checkCounts(keep: number, minutes: number) {
  const problems: FieldProblem[] = [];
  if (!Number.isInteger(keep) || keep < 1) {
    problems.push({ field: 'keepTagRevisions', message: 'must be a whole number ≥ 1' });
  }
  if (!Number.isFinite(minutes) || minutes < 0) {
    problems.push({ field: 'keepYoungerThanMinutes', message: 'must be ≥ 0' });
  }
  return problems;
}

/** Globs as `pruneTagHistory` takes them: tag characters and `*`, `?`. */
function checkGlobs(globs: string[], field: string) {
  const problems: FieldProblem[] = [];
  if (globs.length > RETENTION_LIMITS.globs) {
    problems.push({ field, message: `at most ${RETENTION_LIMITS.globs} patterns` });
  }
  for (const [i, glob] of globs.entries()) {
    if (glob.length === 0 || glob.length > RETENTION_LIMITS.globLength || /[^\w.\-*?]/.test(glob)) {
      problems.push({
        field: `${field}.${i}`,
        message: `a pattern is 1 to ${RETENTION_LIMITS.globLength} tag characters and the globs * and ?`,
      });
    }
  }
  return problems;
}

/** The history items beyond `keep` and older than `minutes`, in the scope (all when null). */
async function prunable(
  tx: Tx,
  keep: number,
  minutes: number,
  scope: HistoryScope | null,
): Promise<PrunableRow[]> {
  const where = scope
    ? sql`where s.namespace = ${scope.namespace}
        and (${scope.streams.length === 0} or s.name = any(${toPgArray(scope.streams)}::text[]))`
    : sql``;
  const rows = rowsOf<PrunableRow>(
    await tx.execute(sql`
      with ranked as (
        select h.id, h.tag_id, s.namespace, s.name as stream, t.name as tag, h.generation,
               h.docker_image_reference, h.image_digest, h.created,
               row_number() over (partition by h.tag_id order by h.seq desc) - 1 as idx
        from tag_history h
        join tags t on t.id = h.tag_id join image_streams s on s.id = t.stream_id ${where}
      )
      select id, tag_id, namespace, stream, tag, idx::int as idx, generation,
             docker_image_reference, image_digest, created
      from ranked r
      where r.idx >= ${keep} and r.created < now() - ${minutes} * interval '1 minute'
      order by namespace, stream, tag, idx`),
  );
  if (!scope) return rows;
  return rows.filter(
    (row) =>
      (scope.includeTags.length === 0 || isExcluded(row.tag, scope.includeTags)) &&
      !isExcluded(row.tag, scope.excludeTags),
  );
}

/**
 * Deletes the items and queues one change event per tag that lost some (cause `prune`), after
 * locking those tags in id order as every writer of a tag does.
 */
async function removeItems(tx: Tx, rows: PrunableRow[]): Promise<void> {
  if (rows.length === 0) return;
  const byTag = new Map<number, PrunableRow[]>();
  for (const row of rows) {
    const list = byTag.get(Number(row.tag_id)) ?? [];
    list.push(row);
    byTag.set(Number(row.tag_id), list);
  }
  const tagIds = [...byTag.keys()].sort((a, b) => a - b);
  await tx.execute(
    sql`select id from tags where id = any(${toPgArray(tagIds)}::bigint[]) order by id for update`,
  );
  await tx.execute(
    sql`delete from tag_history where id = any(${toPgArray(rows.map((r) => Number(r.id)))}::bigint[])`,
  );
  appendEvents(
    tx,
    tagIds.map((id) => {
      const items = byTag.get(id)!;
      return {
        namespace: items[0]!.namespace,
        stream: items[0]!.stream,
        tag: items[0]!.tag,
        type: 'UPDATED' as const,
        cause: 'prune' as const,
        payload: { pruned: items.map((item) => Number(item.generation)) },
      };
    }),
  );
}

function reportOf(rows: PrunableRow[]): PrunedHistoryItem[] {
  return rows.map((h) => ({
    namespace: h.namespace,
    stream: h.stream,
    tag: h.tag,
    index: Number(h.idx),
    dockerImageReference: h.docker_image_reference,
    image: h.image_digest,
    created: new Date(h.created),
  }));
}

export async function pruneImages(db: Db, input: PruneInput): Promise<Result<PruneResult>> {
  const keep = input.keepTagRevisions ?? 3;
  const minutes = input.keepYoungerThanMinutes ?? 60;
  const dryRun = input.dryRun ?? true;
  const problems = checkCounts(keep, minutes);
  if (problems.length > 0) return invalid(problems);

  return writeTransaction(db, async (tx) => {
    // One snapshot for both lists; a concurrent push after this is simply not considered.
    const history = await prunable(tx, keep, minutes, null);
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
      await removeItems(tx, history);
      if (images.length > 0) {
        await tx.execute(sql`delete from images where digest = any(${toPgArray(images)}::text[])`);
      }
    }
    return ok({ dryRun, images, historyItems: reportOf(history) });
  });
}

export interface PruneHistoryInput extends HistoryScope {
  keepTagRevisions: number;
  keepYoungerThanMinutes: number;
  dryRun: boolean;
}

export interface PruneHistoryResult {
  dryRun: boolean;
  /** Every item removed (or that would be). */
  historyItemCount: number;
  /** Tags that lost items (or would). */
  tagCount: number;
  /** The first `reportLimit` of them, in namespace, stream, tag and position order. */
  historyItems: PrunedHistoryItem[];
}

/** What is wrong with a namespace's retention rules, by field (none: they may run). */
export function retentionProblems(
  input: Omit<PruneHistoryInput, 'dryRun' | 'namespace'>,
): FieldProblem[] {
  const problems: FieldProblem[] = [
    ...checkCounts(input.keepTagRevisions, input.keepYoungerThanMinutes),
    ...checkGlobs(input.includeTags, 'includeTags'),
    ...checkGlobs(input.excludeTags, 'excludeTags'),
  ];
  if (input.streams.length > RETENTION_LIMITS.streams) {
    problems.push({ field: 'streams', message: `at most ${RETENTION_LIMITS.streams} streams` });
  }
  return problems;
}

/**
 * Applies checked retention rules inside `tx` (opened by writeTransaction): what pruneTagHistory
 * and every retention policy run do once authorized.
 */
export async function applyRetention(
  tx: Tx,
  input: PruneHistoryInput,
  reportLimit: number,
): Promise<PruneHistoryResult> {
  const rows = await prunable(tx, input.keepTagRevisions, input.keepYoungerThanMinutes, input);
  if (!input.dryRun) await removeItems(tx, rows);
  return {
    dryRun: input.dryRun,
    historyItemCount: rows.length,
    tagCount: new Set(rows.map((row) => Number(row.tag_id))).size,
    historyItems: reportOf(rows.slice(0, reportLimit)),
  };
}

/**
 * A namespace's retention run: removes history items beyond the newest N of each tag in scope
 * that are older than the minimum age (item 0 always stays); images are left to the cluster's
 * `pruneImages`. Needs ADMIN in the namespace. A dry run by default.
 */
export async function pruneTagHistory(
  db: Db,
  access: AccessChecker,
  input: PruneHistoryInput,
  reportLimit: number,
): Promise<Result<PruneHistoryResult>> {
  const refused = await refusal(access, 'admin', input.namespace, 'namespace', {
    verb: 'delete',
    resource: 'imagestreamtags',
  });
  if (refused) return refused;
  const problems = retentionProblems(input);
  if (problems.length > 0) return invalid(problems);
  return writeTransaction(db, async (tx) => ok(await applyRetention(tx, input, reportLimit)));
}

/** A Postgres array literal, passed as one text parameter (identical on postgres.js and PGlite). */
function toPgArray(values: (string | number)[]): string {
  return `{${values.map((v) => `"${String(v).replace(/["\\]/g, '\\$&')}"`).join(',')}}`;
}
