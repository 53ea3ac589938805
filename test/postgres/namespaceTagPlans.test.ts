// Plans of a namespace's tag list on Postgres: the 20 most recently updated failing tags of a
// namespace of 100 streams × 100 tags are read from the (namespace, updated time, id) index in
// order, with no join to the streams and no sort.
import { encodeBase64, encodeCursorTuple } from '@pothos/core';
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { rowsOf } from '../../src/db/client.ts';
import { namespaceTagListQuery } from '../../src/schema/tagLists.ts';
import { onOneConnection } from '../support/database.ts';
import { analyze, findNode, planAndRows, planNodes } from '../support/plans.ts';

const NS = 'namespace-plans';

describe('the tag list of a namespace of 10,000 tags', () => {
  it('reads the 20 most recently updated failing tags from the namespace updated-time index', async () => {
    await onOneConnection(async (db) => {
      await db.execute(sql`insert into namespaces (name) values (${NS})`);
      await db.execute(sql`
        insert into image_streams (namespace, name)
        select ${NS}, 's' || g from generate_series(1, 100) g`);
      // Tag n of stream s is updated (s - 1) * 100 + n seconds after 2026-01-01; no namespace is
      // given: the trigger copies the stream's.
      await db.execute(sql`
        insert into tags (stream_id, name, from_kind, from_name, spec_generation)
        select s.id, 'v' || g, 'DockerImage', 'quay.io/team/app:v' || g, 1
        from image_streams s, generate_series(1, 100) g where s.namespace = ${NS}`);
      // One tag in 50 has a failed import.
      await db.execute(sql`
        insert into tag_conditions (tag_id, type, status, reason, generation)
        select t.id, 'ImportSuccess', 'False', 'NotFound', 1 from tags t
        where t.namespace = ${NS} and (substring(t.name from 2))::int % 50 = 0`);
      // Writing a condition touches its tag (a trigger): set every time afterwards.
      await db.execute(sql`
        update tags t set updated_at = timestamptz '2026-01-01'
          + ((substring(s.name from 2))::int * 100 + (substring(t.name from 2))::int) * interval '1 second'
        from image_streams s where s.id = t.stream_id and s.namespace = ${NS}`);
      await analyze(db, 'tags', 'tag_conditions');

      const page = async (after: string | null) => {
        const list = namespaceTagListQuery({
          filter: { importFailing: true },
          orderBy: { field: 'UPDATED_AT', direction: 'desc' },
          after,
        });
        const built = db.query.tags
          .findMany({
            columns: { id: true, name: true, streamId: true, updatedAt: true },
            where: { namespace: NS, ...list.query.where },
            orderBy: (t, { desc }) => [desc(t.namespace), desc(t.updatedAt), desc(t.id)],
            limit: 21,
          })
          .toSQL();
        return planAndRows<{ id: string; name: string; updatedAt: string }>(db, built);
      };

      const first = await page(null);
      const nodes = planNodes(first.plan);
      expect(nodes, nodes.join(' > ')).toContain('Index Scan tags_namespace_updated_idx');
      expect(
        nodes.some((n) => n.startsWith('Sort')),
        nodes.join(' > '),
      ).toBe(false);
      expect(
        nodes.some((n) => n.includes('image_streams')),
        nodes.join(' > '),
      ).toBe(false);
      // A page of 20 reads 21 rows: the 21st tells there is a next page.
      expect(first.rows).toHaveLength(21);
      // The newest failing tags are v100 and v50 of the last streams.
      expect(first.rows.slice(0, 2).map((r) => r.name)).toEqual(['v100', 'v50']);

      // A late page starts its index scan at the cursor's time.
      const last = first.rows[19]!;
      const [timeRow] = rowsOf<{ updated_at: Date | string }>(
        await db.execute(sql`select updated_at from tags where id = ${last.id}`),
      );
      const cursor = encodeBase64(
        `DC:${encodeCursorTuple([NS, new Date(timeRow!.updated_at), Number(last.id), 'namespaceTags:UPDATED_AT:desc'])}`,
      );
      const second = await page(cursor);
      const scan = findNode(second.plan, 'tags_namespace_updated_idx');
      expect(scan?.['Index Cond'], JSON.stringify(second.plan)).toMatch(/updated_at <=/);
      // The bound keeps the cursor's own time (the plugin's exact keyset then drops the cursor
      // row); what follows is the first page's 21st row.
      expect(second.rows[0]!.id).toBe(last.id);
      expect(second.rows[1]!.id).toBe(first.rows[20]!.id);
    });
  });
});
