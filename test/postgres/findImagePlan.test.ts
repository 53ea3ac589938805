// Plans of findImage on Postgres: in 20,000 history items a digest prefix and a pull spec are each
// found through an index of tag_history, also in a prepared statement's generic plan.
import { createHash } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import type { Caller } from '../../src/auth/roles.ts';
import type { Db } from '../../src/db/client.ts';
import type { ImageSearch } from '../../src/domain/imageSearch.ts';
import { imageMatchConditions } from '../../src/services/imageSearch.ts';
import { onOneConnection } from '../support/database.ts';
import { analyze, explainPlan, planAndRows, planNodes } from '../support/plans.ts';
import { seedStream } from '../support/seed.ts';

/** The digest the seed gives image `n`: sha256 of its number's text, as the SQL below. */
const digestNumber = (n: number) =>
  `sha256:${createHash('sha256').update(String(n)).digest('hex')}`;

const ALICE: Caller = { subject: 'alice', groups: [], clusterAdmin: false, tokenId: null };

/** findImage's page statement, less the tag's lateral join: its plan, and the ids it returns. */
async function page(db: Db, search: ImageSearch) {
  const built = db.query.tagHistory
    .findMany({
      columns: { id: true },
      where: { RAW: (item) => imageMatchConditions(item, search, ALICE) },
      orderBy: { id: 'asc' },
      limit: 21,
    })
    .toSQL();
  const { plan, rows } = await planAndRows<{ id: string }>(db, built);
  return { nodes: planNodes(plan), rows };
}

describe('findImage in 20,000 history items', () => {
  it('finds a digest prefix and a pull spec through tag_history indexes', async () => {
    // One connection: the prepared statement below must be planned and run on it.
    await onOneConnection(async (db) => {
      const stream = await seedStream(db, { namespace: 'find-plans', name: 'big' });
      await db.execute(sql`
        insert into role_bindings (namespace, role, subject_kind, subject_name)
        values ('find-plans', 'image-puller', 'User', 'alice')`);
      await db.execute(sql`
        insert into images (digest, media_type)
        select 'sha256:' || encode(sha256(g::text::bytea), 'hex'), 'application/vnd.oci.image.manifest.v1+json'
        from generate_series(1, 20000) g`);
      await db.execute(sql`
        insert into tags (stream_id, name) select ${stream.id}, 'v' || g from generate_series(1, 2000) g`);
      // Tag vN holds images 10(N-1)+1 … 10N, the last of them now.
      await db.execute(sql`
        insert into tag_history (tag_id, seq, docker_image_reference, image_digest, generation)
        select t.id, s, 'quay.io/team/app:' || n, 'sha256:' || encode(sha256(n::text::bytea), 'hex'), 1
        from tags t, generate_series(1, 10) s,
          lateral (select (substring(t.name from 2)::int - 1) * 10 + s as n) item
        where t.stream_id = ${stream.id}`);
      await analyze(db, 'tag_history', 'tags');

      const digest = digestNumber(12345);
      const byPrefix = await page(db, {
        kind: 'digest',
        prefix: digest.slice(0, 'sha256:'.length + 9),
      });
      expect(byPrefix.nodes.join(' > ')).toMatch(/Index Scan tag_history_image_pattern_idx/);
      expect(byPrefix.rows).toHaveLength(1);

      const byReference = await page(db, { kind: 'reference', reference: 'quay.io/team/app:777' });
      expect(byReference.nodes.join(' > ')).toMatch(/Index Scan tag_history_reference_idx/);
      expect(byReference.rows).toHaveLength(1);

      // The app's statements are prepared (src/db/client.ts): after five calls Postgres weighs a
      // generic plan, which knows nothing of the prefix, against the custom ones. Whichever it
      // keeps, a prefix is still read through the index, not by walking the primary key.
      await db.execute(sql`prepare find_prefix(text, text) as
        select id from tag_history where image_digest ~>=~ $1 and image_digest ~<~ $2
        order by id limit 21`);
      for (let call = 0; call < 8; call++) {
        const prefix = digestNumber(call).slice(0, 16);
        const end = prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(15) + 1);
        await db.execute(sql.raw(`execute find_prefix('${prefix}', '${end}')`));
      }
      const repeated = await explainPlan(
        db,
        sql`execute find_prefix('sha256:abcdef012', 'sha256:abcdef013')`,
      );
      const repeatedNodes = planNodes(repeated).join(' > ');
      expect(repeatedNodes).toMatch(/Index Scan tag_history_image_pattern_idx/);
    });
  });
});
