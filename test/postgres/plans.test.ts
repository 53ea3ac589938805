// Prepared statements on Postgres: drizzle's statements are prepared, and those every write runs
// settle on one generic plan per connection instead of being planned again on every call
// (bench/RESULTS.md, scenario 3).
import { eq, sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { AccessChecker, OPEN_CALLER } from '../../src/auth/roles.ts';
import { rowsOf } from '../../src/db/client.ts';
import { namespaces } from '../../src/db/schema.ts';
import { unwrap } from '../../src/errors.ts';
import { writeTransaction } from '../../src/events/append.ts';
import { createImageStream } from '../../src/services/imageStreams.ts';
import { recordTagEvent } from '../../src/services/tagHistory.ts';
import { startTestApp } from '../support/app.ts';
import { openFileDatabase } from '../support/database.ts';

describe('the tracking-candidates read of every tag write', () => {
  it('switches to the generic plan in a stream where tracking tags are rare', async () => {
    // One connection, so every call below prepares and runs on the connection asked afterwards.
    const database = await openFileDatabase({ poolSize: 1 });
    try {
      const stream = unwrap(
        await createImageStream(database.db, new AccessChecker(database.db, OPEN_CALLER), {
          namespace: 'plans',
          name: 'app',
        }),
      );
      // What a real stream looks like to the planner: hundreds of imported tags, one tracking.
      await database.db.execute(sql`
        insert into tags (stream_id, name, from_kind, from_name)
        select ${stream.id}, 'v' || g, 'DockerImage', 'quay.io/team/app:v' || g
        from generate_series(1, 400) g`);
      await database.db.execute(sql`
        insert into tags (stream_id, name, from_kind, from_name)
        values (${stream.id}, 'latest', 'ImageStreamTag', 'v1')`);
      await database.db.execute(sql`analyze tags`);

      for (let write = 0; write < 8; write++) {
        const result = await writeTransaction(database.db, (tx) =>
          recordTagEvent(
            tx,
            stream,
            'v1',
            { dockerImageReference: `quay.io/team/app:v1-${write}`, image: null, generation: 1 },
            { cause: 'tag' },
          ),
        );
        expect(result.changed).toEqual(['v1', 'latest']);
      }

      const plans = rowsOf<{ generic_plans: string; custom_plans: string }>(
        await database.db.execute(sql`
          select generic_plans, custom_plans from pg_prepared_statements
          where statement like '%from "tag_history"%' and statement like '%from "tag_conditions"%'`),
      );
      expect(plans).toHaveLength(1);
      // Postgres plans the first five calls for their values, then keeps the generic plan when
      // it is no worse; a kind sent as a parameter made it guess "half the stream" and re-plan.
      expect(Number(plans[0]!.generic_plans)).toBeGreaterThanOrEqual(2);
    } finally {
      await database.close();
    }
  });
});

describe('prepared statements', () => {
  it("runs drizzle's statements as prepared statements, inside transactions too", async () => {
    const app = await startTestApp();
    try {
      // pg_prepared_statements lists the current connection's named statements only; drizzle
      // alone would leave it empty (it asks postgres.js for unnamed ones).
      const names = await app.database.db.transaction(async (tx) => {
        await tx.select().from(namespaces).where(eq(namespaces.name, 'prepared-check'));
        return rowsOf<{ statement: string }>(
          await tx.execute(sql`select statement from pg_prepared_statements`),
        ).map((row) => row.statement);
      });
      expect(names.some((text) => /from "namespaces"/.test(text))).toBe(true);
    } finally {
      await app.stop();
    }
  });
});
