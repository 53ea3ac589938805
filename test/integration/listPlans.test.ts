// Plans of the tag list on Postgres: the most recently updated failing tags of a large stream are
// read from the (stream, updated time, id) index in order, not sorted after a full read.
import { and, eq, sql } from 'drizzle-orm';
import { describe, expect, inject, it } from 'vitest';
import { AccessChecker, OPEN_CALLER } from '../../src/auth/roles.ts';
import { openDatabase, rowsOf } from '../../src/db/client.ts';
import { parseTagFilter } from '../../src/domain/listFilters.ts';
import { unwrap } from '../../src/errors.ts';
import { createImageStream } from '../../src/services/imageStreams.ts';
import { tagListConditions } from '../../src/services/listFilters.ts';
import { fileDatabase } from '../support/database.ts';

/** Node types of a JSON plan, depth first, with the index each scan used. */
function planNodes(plan: Record<string, unknown>): string[] {
  const own = `${plan['Node Type']}${plan['Index Name'] ? ` ${plan['Index Name']}` : ''}`;
  const children = (plan.Plans as Record<string, unknown>[] | undefined) ?? [];
  return [own, ...children.flatMap(planNodes)];
}

describe('the tag list on a stream of 10,000 tags', () => {
  // PGlite has one connection and no planner statistics worth pinning down.
  it.skipIf(inject('dbKind') !== 'postgres')(
    'reads the 20 most recently updated failing tags from the updated-time index',
    async () => {
      const target = fileDatabase();
      if (target.kind !== 'postgres') throw new Error('a Postgres test database was expected');
      const database = await openDatabase({ ...target, poolSize: 1 });
      try {
        const db = database.db;
        const stream = unwrap(
          await createImageStream(db, new AccessChecker(db, OPEN_CALLER), {
            namespace: 'list-plans',
            name: 'big',
          }),
        );
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
        await db.execute(sql`analyze tags`);
        await db.execute(sql`analyze tag_conditions`);

        const parsed = parseTagFilter({ importFailing: true });
        if (!parsed.ok) throw new Error(parsed.error.message);
        const filter = parsed.value;
        // The page query the tag list runs, less the stream's lateral join around it.
        const page = db.query.tags
          .findMany({
            columns: { id: true, name: true, updatedAt: true },
            where: {
              RAW: (t) => and(eq(t.streamId, stream.id), tagListConditions(t, null, filter))!,
            },
            orderBy: (t, { desc }) => [desc(t.streamId), desc(t.updatedAt), desc(t.id)],
            limit: 21,
          })
          .toSQL();
        const pieces = page.sql.split(/\$(\d+)/);
        const statement = sql.join(
          pieces.map((piece, i) =>
            i % 2 === 0 ? sql.raw(piece) : sql`${page.params[Number(piece) - 1]}`,
          ),
        );
        const [row] = rowsOf<{ 'QUERY PLAN': [{ Plan: Record<string, unknown> }] }>(
          await db.execute(sql`explain (format json) ${statement}`),
        );
        const nodes = planNodes(row!['QUERY PLAN'][0].Plan);
        expect(nodes, nodes.join(' > ')).toContain('Index Scan tags_stream_updated_idx');
        expect(nodes.some((n) => n.startsWith('Sort'))).toBe(false);

        const rows = rowsOf<{ name: string }>(
          await db.execute(sql`select name from (${statement}) page`),
        );
        expect(rows.slice(0, 3).map((r) => r.name)).toEqual(['v10000', 'v9950', 'v9900']);
      } finally {
        await database.close();
      }
    },
  );
});
