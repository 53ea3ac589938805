// Images are global, keyed by digest: a caller sees one when a tag in a namespace it may read
// names it (directly, or as a child of a manifest list), as OpenShift shows images through
// image stream images rather than to everyone.
import { sql } from 'drizzle-orm';
import { rowsOf } from '../db/client.ts';
import type { AccessChecker } from './roles.ts';
import { readableNamespaces } from './roles.ts';

export async function canSeeImage(access: AccessChecker, digest: string): Promise<boolean> {
  if (access.caller.clusterAdmin) return true;
  const namespaces = await readableNamespaces(access.db, access.caller);
  if (!namespaces || namespaces.length === 0) return false;
  const rows = await access.db.execute(sql`
    select 1 from tag_history h
      join tags t on t.id = h.tag_id join image_streams s on s.id = t.stream_id
      left join image_manifests m on m.parent_digest = h.image_digest
    where (h.image_digest = ${digest} or m.digest = ${digest})
      and s.namespace in ${namespaces}
    limit 1`);
  return rowsOf(rows).length > 0;
}
