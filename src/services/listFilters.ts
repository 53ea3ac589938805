// The stream, tag and tag-history list filters as SQL conditions, so a page and its total count select the
// same rows (docs/queries.md).
import { and, count, type SQL, type SQLWrapper, sql } from 'drizzle-orm';
import type { PgTable } from 'drizzle-orm/pg-core';
import type { Db } from '../db/client.ts';
import type { imageStreams, streamImages, tagHistory, tags } from '../db/schema.ts';
import type {
  HistoryFilter,
  LabelRequirement,
  NameMatch,
  StreamFilter,
  StreamImageFilter,
  TagFilter,
  TagKind,
} from '../domain/listFilters.ts';

type StreamColumns = Pick<typeof imageStreams, 'name' | 'labels'>;
type TagColumns = Pick<
  typeof tags,
  | 'id'
  | 'name'
  | 'specGeneration'
  | 'reference'
  | 'fromKind'
  | 'importScheduled'
  | 'policy'
  | 'updatedAt'
>;

function escapeLike(value: string): string {
  return value.replace(/[\\%_]/g, (c) => `\\${c}`);
}

function nameConditions(name: typeof imageStreams.name | typeof tags.name, match: NameMatch) {
  return [
    match.prefix ? sql`${name} like ${`${escapeLike(match.prefix)}%`}` : undefined,
    match.contains ? sql`strpos(${name}, ${match.contains}) > 0` : undefined,
  ];
}

function valueList(values: string[]): SQL {
  return sql.join(
    values.map((v) => sql`${v}`),
    sql`, `,
  );
}

/**
 * Single-value equalities fold into one containment (`labels @> {…}`); the other requirements
 * read the key's value. Label values are strings, so a missing key reads as null.
 */
function labelConditions(labels: StreamColumns['labels'], requirements: LabelRequirement[]) {
  const equal: Record<string, string> = {};
  const conditions: (SQL | undefined)[] = [];
  for (const r of requirements) {
    const value = sql`(${labels} ->> ${r.key})`;
    switch (r.op) {
      case 'in':
        if (r.values.length === 1 && !(r.key in equal)) equal[r.key] = r.values[0]!;
        else conditions.push(sql`${value} in (${valueList(r.values)})`);
        break;
      case 'notin':
        conditions.push(sql`not coalesce(${value} in (${valueList(r.values)}), false)`);
        break;
      case 'exists':
        conditions.push(sql`${value} is not null`);
        break;
      case 'notexists':
        conditions.push(sql`${value} is null`);
        break;
    }
  }
  if (Object.keys(equal).length > 0) {
    conditions.unshift(sql`${labels} @> ${JSON.stringify(equal)}::text::jsonb`);
  }
  return conditions;
}

/** Rows of `table` where `condition` holds: one statement. */
export async function countRows(db: Db, table: PgTable, condition: SQL): Promise<number> {
  const [row] = await db.select({ count: count() }).from(table).where(condition);
  return row?.count ?? 0;
}

/** The streams the filter selects (the list's scope, the namespace, is added by the list). */
export function streamListConditions(s: StreamColumns, filter: StreamFilter): SQL | undefined {
  return and(...nameConditions(s.name, filter), ...labelConditions(s.labels, filter.labels));
}

/** Each kind as its spec columns say (`tagKindOf` in src/domain/listFilters.ts). */
function kindCondition(t: TagColumns, kind: TagKind): SQL {
  const spec = sql`${t.specGeneration} is not null and not ${t.reference}`;
  switch (kind) {
    case 'STATUS_ONLY':
      return sql`${t.specGeneration} is null`;
    case 'REFERENCE':
      return sql`(${t.specGeneration} is not null and ${t.reference})`;
    case 'TRACKING':
      return sql`(${spec} and ${t.fromKind} = 'ImageStreamTag')`;
    case 'PERMANENT':
      return sql`(${spec} and ${t.fromKind} = 'ImageStreamImage')`;
    case 'POLICY':
      return sql`(${spec} and ${t.fromKind} = 'DockerImage' and ${t.policy} is not null)`;
    case 'EXTERNAL':
      return sql`(${spec} and ${t.fromKind} = 'DockerImage' and ${t.policy} is null and not ${t.importScheduled})`;
    case 'SCHEDULED':
      return sql`(${spec} and ${t.fromKind} = 'DockerImage' and ${t.policy} is null and ${t.importScheduled})`;
  }
}

/** The tag's last import failed: its `ImportSuccess` condition is `False` (`importFailing`). */
export function importFailingSql(tagId: SQLWrapper): SQL {
  return sql`exists (select 1 from tag_conditions c where c.tag_id = ${tagId}
    and c.type = 'ImportSuccess' and c.status = 'False')`;
}

/** The tags the filter selects (the list's scope, a stream or a namespace, is added by the list). */
export function tagListConditions(t: TagColumns, filter: TagFilter): SQL | undefined {
  const failing = importFailingSql(t.id);
  // Item 0 names an image (a reference tag's item names none).
  const hasImage = sql`coalesce((select h.image_digest is not null from tag_history h
    where h.tag_id = ${t.id} order by h.seq desc limit 1), false)`;
  return and(
    ...nameConditions(t.name, filter),
    filter.kinds
      ? filter.kinds.length === 0
        ? sql`false`
        : sql`(${sql.join(
            filter.kinds.map((k) => kindCondition(t, k)),
            sql` or `,
          )})`
      : undefined,
    holds(failing, filter.importFailing),
    holds(hasImage, filter.hasImage),
    between(t.updatedAt, filter.updatedAfter, filter.updatedBefore),
  );
}

/** The column strictly between the two times, either bound left out when null. */
export function between(column: SQLWrapper, after: Date | null, before: Date | null) {
  return and(
    after ? sql`${column} > ${after.toISOString()}::timestamptz` : undefined,
    before ? sql`${column} < ${before.toISOString()}::timestamptz` : undefined,
  );
}

/** For a yes/no filter: the condition when asked for true, its negation for false, none for null. */
function holds(condition: SQL, wanted: boolean | null): SQL | undefined {
  return wanted === null ? undefined : wanted ? condition : sql`not ${condition}`;
}

/** The history items the filter selects (the list's scope, the tag, is added by the list). */
export function historyListConditions(
  h: Pick<typeof tagHistory, 'created' | 'imageDigest'>,
  filter: HistoryFilter,
): SQL | undefined {
  return and(
    between(h.created, filter.createdAfter, filter.createdBefore),
    filter.hasImage === null
      ? undefined
      : filter.hasImage
        ? sql`${h.imageDigest} is not null`
        : sql`${h.imageDigest} is null`,
    filter.digestPrefix ? sql`${h.imageDigest} like ${`${filter.digestPrefix}%`}` : undefined,
  );
}

/** Media types of a manifest list or OCI index: an image made of per-platform images. */
export const MANIFEST_LIST_MEDIA_TYPES = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
];

/**
 * The images of a stream the filter selects (the list's scope, the stream, is added by the list).
 * Each condition filters the rows of the ordering's index range for the stream.
 */
export function streamImageListConditions(
  si: Pick<typeof streamImages, 'digest' | 'created'>,
  filter: StreamImageFilter,
): SQL | undefined {
  const manifestList = sql`exists (select 1 from images i where i.digest = ${si.digest}
    and i.media_type in (${valueList(MANIFEST_LIST_MEDIA_TYPES)}))`;
  return and(
    filter.digestPrefix ? sql`${si.digest} like ${`${filter.digestPrefix}%`}` : undefined,
    between(si.created, filter.createdAfter, filter.createdBefore),
    holds(manifestList, filter.isManifestList),
  );
}
