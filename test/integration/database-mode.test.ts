// Each integration project really runs on the database it is named after.
import { eq, sql } from 'drizzle-orm';
import { describe, expect, inject, it } from 'vitest';
import { rowsOf } from '../../src/db/client.ts';
import { namespaces } from '../../src/db/schema.ts';
import { startTestApp } from '../support/app.ts';

describe('database mode', () => {
  it('runs this project on the database its name says', async () => {
    const app = await startTestApp();
    try {
      const expected = inject('dbKind');
      expect(app.database.kind).toBe(expected);
      const [row] = rowsOf<{ version: string }>(
        await app.database.db.execute(sql`select version() as version`),
      );
      // PGlite reports a wasm build; the server in CI is PostgreSQL 15 on Linux.
      if (expected === 'pglite') expect(row!.version).toMatch(/wasm|emscripten/i);
      else expect(row!.version).not.toMatch(/wasm|emscripten/i);
    } finally {
      await app.stop();
    }
  });

  it.runIf(inject('dbKind') === 'postgres')(
    "runs drizzle's statements as prepared statements, inside transactions too",
    async () => {
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
    },
  );
});
