// Plans of the tag list on Postgres: the most recently updated failing tags of a large stream are
// read from the (stream, updated time, id) index in order, not sorted after a full read.
import { encodeBase64, encodeCursorTuple } from '@pothos/core';
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { tagListQuery } from '../../src/schema/tagLists.ts';
import { onOneConnection } from '../support/database.ts';
import { analyze, findNode, planAndRows, planNodes } from '../support/plans.ts';
import { seedStream } from '../support/seed.ts';

describe('the tag list on a stream of 10,000 tags', () => {
  it('reads the 20 most recently updated failing tags from the updated-time index', async () => {
    await onOneConnection(async (db) => {
      const stream = await seedStream(db, { namespace: 'list-plans', name: 'big' });
      await db.execute(sql`
          insert into tags (stream_id, name, from_kind, from_name, spec_generation, updated_at)
          select ${stream.id}, 'v' || g, 'DockerImage', 'quay.io/team/app:v' || g, 1,
            timestamptz '2026-01-01' + g * interval '1 second'
          from generate_series(1, 10000) g`);
      // One tag in 50 has a failed import.
      await db.execute(sql`
          insert into tag_conditions (tag_id, type, status, reason, generation)
          select id, 'ImportSuccess', 'False', 'NotFound', 1 from tags
          where stream_id = ${stream.id} and (substring(name from 2))::int % 50 = 0`);
      // Writing a condition touches its tag (a trigger): put the times back.
      await db.execute(sql`
          update tags set updated_at = timestamptz '2026-01-01'
            + (substring(name from 2))::int * interval '1 second'
          where stream_id = ${stream.id}`);
      await analyze(db, 'tags', 'tag_conditions');

      /** The page query the tag list runs (less the stream's lateral join), and its plan. */
      const page = async (after: string | null) => {
        const list = tagListQuery({
          filter: { importFailing: true },
          orderBy: { field: 'UPDATED_AT', direction: 'desc' },
          after,
        });
        const built = db.query.tags
          .findMany({
            columns: { id: true, name: true, updatedAt: true },
            where: { streamId: stream.id, ...list.query.where },
            orderBy: (t, { desc }) => [desc(t.streamId), desc(t.updatedAt), desc(t.id)],
            limit: 21,
          })
          .toSQL();
        return planAndRows<{ id: string; name: string }>(db, built);
      };

      const first = await page(null);
      const nodes = planNodes(first.plan);
      expect(nodes, nodes.join(' > ')).toContain('Index Scan tags_stream_updated_idx');
      expect(nodes.some((n) => n.startsWith('Sort'))).toBe(false);
      expect(first.rows.slice(0, 3).map((r) => r.name)).toEqual(['v10000', 'v9950', 'v9900']);

      // A late page starts its index scan at the cursor's time rather than reading up to it.
      const last = first.rows[19]!;
      // Tag vN was updated N seconds after 2026-01-01.
      const lastTime = new Date(Date.UTC(2026, 0, 1) + Number(last.name.slice(1)) * 1000);
      const cursor = encodeBase64(
        `DC:${encodeCursorTuple([stream.id, lastTime, Number(last.id), 'tags:UPDATED_AT:desc'])}`,
      );
      const second = await page(cursor);
      const scan = findNode(second.plan, 'tags_stream_updated_idx');
      expect(scan?.['Index Cond'], JSON.stringify(second.plan)).toMatch(/updated_at <=/);
      // The bound keeps the cursor's own time; the plugin's exact keyset drops the cursor row.
      expect(second.rows.slice(0, 2).map((r) => r.name)).toEqual(['v9050', 'v9000']);
    });
  });
});
