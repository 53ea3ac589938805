// The events sequencer on the real database: positions only for committed events, each once,
// with no gap, continuing above whatever the retention job trimmed.
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type Database, openDatabase, rowsOf } from '../../src/db/client.ts';
import { trimEvents } from '../../src/events/retention.ts';
import { sequenceEvents } from '../../src/events/sequencer.ts';
import { fileDatabase } from '../support/database.ts';
import { eventsByIdOf, writeTagEvents } from '../support/events.ts';

let database: Database;
beforeAll(async () => {
  database = await openDatabase(fileDatabase());
});
afterAll(async () => {
  await database.close();
});
beforeEach(async () => {
  await sequenceEvents(database.db);
});

const write = (namespace: string, tags: string[]) => writeTagEvents(database, namespace, tags);
const eventsOf = (namespace: string) => eventsByIdOf(database, namespace);

async function highestPosition(): Promise<number> {
  const rows = rowsOf<{ n: string | null }>(
    await database.db.execute(sql`select max(seq) as n from events`),
  );
  return Number(rows[0]?.n ?? 0);
}

describe('sequenceEvents', () => {
  it('numbers the events of concurrent writers once each, without gaps, while passes race', async () => {
    const before = await highestPosition();
    const work: Promise<unknown>[] = [];
    for (let i = 0; i < 40; i++) {
      work.push(
        write(
          'race',
          Array.from({ length: 1 + (i % 3) }, (_, k) => `t${i}-${k}`),
        ),
      );
      if (i % 10 === 0) work.push(sequenceEvents(database.db));
    }
    await Promise.all(work);
    await sequenceEvents(database.db);
    const rows = await eventsOf('race');
    expect(rows).toHaveLength(79); // 14×1 + 13×2 + 13×3
    const positions = rows.map((r) => r.seq!).sort((a, b) => a - b);
    expect(positions).toEqual(positions.map((_, i) => before + 1 + i));
    expect(await sequenceEvents(database.db)).toBe(0);
  });

  it('continues above the trimmed position when retention emptied the log', async () => {
    await write('trimmed', ['a', 'b']);
    await sequenceEvents(database.db);
    const last = await highestPosition();
    await database.db.execute(sql`update events set at = now() - interval '30 days'`);
    expect(await trimEvents(database, 7 * 24 * 3_600_000)).toBeGreaterThan(0);
    expect(await highestPosition()).toBe(0);
    await write('trimmed', ['c']);
    expect(await sequenceEvents(database.db)).toBe(1);
    expect((await eventsOf('trimmed')).map((r) => r.seq)).toEqual([last + 1]);
  });
});
