// Images are global, keyed by digest: a caller sees one when a tag in a namespace it may read
// names it (directly, or as a child of a verified manifest list), as OpenShift shows images
// through image stream images rather than to everyone.
import { sql } from 'drizzle-orm';
import { rowsOf } from '../db/client.ts';
import type { AccessChecker } from './roles.ts';
import { readableNamespaces } from './roles.ts';

/**
 * Whether a history item of a tag in a namespace the caller may read names `digest`, or names a
 * manifest list that has `digest` among its entries. Only a list whose metadata a registry served
 * and its digest verified counts: a declared list's entries are claims that could name anyone's
 * image.
 */
export async function canSeeImage(access: AccessChecker, digest: string): Promise<boolean> {
  const namespaces = await readableNamespaces(access.db, access.caller);
  if (namespaces === null) return true;
  if (namespaces.length === 0) return false;
  const rows = await access.db.execute(sql`
    select 1 from tag_history h
      join tags t on t.id = h.tag_id join image_streams s on s.id = t.stream_id
    where s.namespace in ${namespaces}
      and (h.image_digest = ${digest} or h.image_digest in (
        select m.parent_digest from image_manifests m
          join images list on list.digest = m.parent_digest
        where m.digest = ${digest} and list.metadata_source = 'registry-verified'))
    limit 1`);
  return rowsOf(rows).length > 0;
}

/**
 * Which of the digests name a stored image the caller may see, in one statement for all of them:
 * as `canSeeImage` decides, and stored (a cluster-wide caller sees every stored image).
 */
export async function visibleImages(
  access: AccessChecker,
  digests: readonly string[],
): Promise<Set<string>> {
  if (digests.length === 0) return new Set();
  const namespaces = await readableNamespaces(access.db, access.caller);
  if (namespaces !== null && namespaces.length === 0) return new Set();
  const wanted = [...new Set(digests)];
  const rows = await access.db.execute(
    namespaces === null
      ? sql`select i.digest from images i where i.digest in ${wanted}`
      : sql`
    select i.digest from images i
    where i.digest in ${wanted}
      and exists (select 1 from tag_history h
        join tags t on t.id = h.tag_id join image_streams s on s.id = t.stream_id
        where s.namespace in ${namespaces}
          and (h.image_digest = i.digest or h.image_digest in (
            select m.parent_digest from image_manifests m
              join images list on list.digest = m.parent_digest
            where m.digest = i.digest and list.metadata_source = 'registry-verified')))`,
  );
  return new Set(rowsOf<{ digest: string }>(rows).map((row) => row.digest));
}
