// findImage's conditions: the history items that match a search, one per tag and image, in
// namespaces the caller may read (docs/queries.md, "Finding an image").
import { and, type SQL, sql } from 'drizzle-orm';
import { type Caller, readableNamespaceSql } from '../auth/roles.ts';
import type { Db } from '../db/client.ts';
import { tagHistory } from '../db/schema.ts';
import type { ImageSearch } from '../domain/imageSearch.ts';
import { countRows } from './listFilters.ts';

type ItemColumns = Pick<
  typeof tagHistory,
  'id' | 'tagId' | 'seq' | 'imageDigest' | 'dockerImageReference'
>;

/**
 * The smallest string above every string that starts with `prefix`, byte-wise: the prefix with
 * its last character moved up by one. Digest prefixes are ASCII, so this never overflows.
 */
function prefixEnd(prefix: string): string {
  return prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
}

/**
 * Items whose digest starts with the prefix, as a range of the byte-wise operators
 * (`text_pattern_ops`): unlike `like $1`, the range is an index condition in a prepared
 * statement's generic plan too, under any collation.
 */
function matchesSearch(item: ItemColumns, search: ImageSearch): SQL {
  if (search.kind === 'reference') return sql`${item.dockerImageReference} = ${search.reference}`;
  return sql`${item.imageDigest} ~>=~ ${search.prefix} and ${item.imageDigest} ~<~ ${prefixEnd(search.prefix)}`;
}

/**
 * No newer item of the same tag is the same match: the same image (by digest), or for a pull
 * spec search the same image under that spec, so a tag is listed once per image it held.
 */
function newestOfItsTag(item: ItemColumns, search: ImageSearch): SQL {
  const same =
    search.kind === 'digest'
      ? sql`find_newer.image_digest = ${item.imageDigest}`
      : sql`find_newer.docker_image_reference = ${item.dockerImageReference}
          and find_newer.image_digest is not distinct from ${item.imageDigest}`;
  return sql`not exists (select 1 from tag_history find_newer
    where find_newer.tag_id = ${item.tagId} and find_newer.seq > ${item.seq} and ${same})`;
}

/** The item's tag is in a namespace the caller may read; null: every namespace. */
function readableItem(item: ItemColumns, caller: Caller): SQL | undefined {
  const readable = readableNamespaceSql(caller, sql`find_stream.namespace`);
  if (readable === null) return undefined;
  return sql`exists (select 1 from tags find_tag
    join image_streams find_stream on find_stream.id = find_tag.stream_id
    where find_tag.id = ${item.tagId} and ${readable})`;
}

/**
 * The matches of `search` the caller may see, as a condition on `tag_history`: every filter runs
 * in the statement, before a page's limit, so a hidden match takes no place and leaves no gap.
 */
export function imageMatchConditions(item: ItemColumns, search: ImageSearch, caller: Caller): SQL {
  return and(
    matchesSearch(item, search),
    newestOfItsTag(item, search),
    readableItem(item, caller),
  )!;
}

/** The item is its tag's item 0: what the tag points at now. */
export function isCurrentItemSql(item: Pick<ItemColumns, 'tagId' | 'seq'>): SQL<boolean> {
  return sql<boolean>`not exists (select 1 from tag_history find_head
    where find_head.tag_id = ${item.tagId} and find_head.seq > ${item.seq})`;
}

/** Every match the caller may see, however many pages: one statement. */
export function countImageMatches(db: Db, search: ImageSearch, caller: Caller): Promise<number> {
  return countRows(db, tagHistory, imageMatchConditions(tagHistory, search, caller));
}
