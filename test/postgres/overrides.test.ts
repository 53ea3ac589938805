// Guard of the `preparing` override (docs/overrides.md), on Postgres only: PGlite runs drizzle's
// statements through its own client, and the override is postgres.js's.
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { rowsOf } from '../../src/db/client.ts';
import { openFileDatabase } from '../support/database.ts';

describe('drizzle statements as named prepared statements (preparing, src/db/client.ts)', () => {
  it('prepares every drizzle statement, in and out of transactions and savepoints, and reuses it', async () => {
    // One connection: every statement below is prepared on the connection asked afterwards.
    const database = await openFileDatabase({ poolSize: 1 });
    try {
      const { db } = database;
      // With a parameter each, as drizzle's statements have (postgres.js sends a statement
      // without any by the simple protocol, prepared or not).
      await db.execute(sql`select ${1}::int as guard_plain`);
      await db.execute(sql`select ${2}::int as guard_plain`);
      await db.transaction((tx) => tx.execute(sql`select ${1}::int as guard_transaction`));
      await db.transaction((tx) =>
        tx.transaction((savepoint) => savepoint.execute(sql`select ${1}::int as guard_savepoint`)),
      );
      const prepared = rowsOf<{ statement: string; runs: number | string }>(
        await db.execute(sql`
            select statement, generic_plans + custom_plans as runs from pg_prepared_statements
            where statement like '%as guard\\_%' and statement not like '%pg_prepared_statements%'
            order by statement`),
      ).map((row) => ({ statement: row.statement, runs: Number(row.runs) }));
      expect(prepared).toEqual([
        // Prepared once on the connection, run twice.
        { statement: 'select $1::int as guard_plain', runs: 2 },
        { statement: 'select $1::int as guard_savepoint', runs: 1 },
        { statement: 'select $1::int as guard_transaction', runs: 1 },
      ]);
    } finally {
      await database.close();
    }
  });
});
