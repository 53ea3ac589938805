// Each integration project really runs on the database it is named after.
import { sql } from 'drizzle-orm';
import { describe, expect, inject, it } from 'vitest';
import { rowsOf } from '../../src/db/client.ts';
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
});
