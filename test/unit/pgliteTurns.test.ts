// Statements on embedded PGlite let the event loop turn, as statements to a Postgres server do.
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type Database, openDatabase } from '../../src/db/client.ts';

let database: Database;
beforeAll(async () => {
  database = await openDatabase({ kind: 'pglite', dataDir: 'memory' });
}, 60_000);
afterAll(() => database?.close());

it('a chain of statements does not starve timers, process.nextTick or I/O', async () => {
  const seen = { timer: -1, tick: -1 };
  let done = 0;
  // Scheduled from a microtask, as DataLoader schedules its batches.
  await Promise.resolve().then(() => {
    setTimeout(() => {
      seen.timer = done;
    }, 0);
    process.nextTick(() => {
      seen.tick = done;
    });
  });
  for (; done < 50; done++) await database.db.execute(sql`select 1`);
  // Each fired while the chain was still running, not after it.
  expect(seen.tick).toBeGreaterThanOrEqual(0);
  expect(seen.tick).toBeLessThan(5);
  expect(seen.timer).toBeGreaterThanOrEqual(0);
  expect(seen.timer).toBeLessThan(10);
});
