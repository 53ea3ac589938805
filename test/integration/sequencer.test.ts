// The events sequencer on the real database: positions only for committed events, each once,
// with no gap, continuing above whatever the retention job trimmed.
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { rowsOf } from '../../src/db/client.ts';
import { trimEvents } from '../../src/events/retention.ts';
import { sequenceEvents } from '../../src/events/sequencer.ts';
import { sequencerFile } from '../support/events.ts';

const file = sequencerFile();
const { write, eventsOf } = file;

async function highestPosition(): Promise<number> {
  const rows = rowsOf<{ n: string | null }>(
    await file.database.db.execute(sql`select max(seq) as n from events`),
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
      if (i % 10 === 0) work.push(sequenceEvents(file.database.db));
    }
    await Promise.all(work);
    await sequenceEvents(file.database.db);
    const rows = await eventsOf('race');
    expect(rows).toHaveLength(79); // 14×1 + 13×2 + 13×3
    const positions = rows.map((r) => r.seq!).sort((a, b) => a - b);
    expect(positions).toEqual(positions.map((_, i) => before + 1 + i));
    expect(await sequenceEvents(file.database.db)).toBe(0);
  });

  it('continues above the trimmed position when retention emptied the log', async () => {
    await write('trimmed', ['a', 'b']);
    await sequenceEvents(file.database.db);
    const last = await highestPosition();
    await file.database.db.execute(sql`update events set at = now() - interval '30 days'`);
    expect(await trimEvents(file.database, 7 * 24 * 3_600_000)).toBeGreaterThan(0);
    expect(await highestPosition()).toBe(0);
    await write('trimmed', ['c']);
    expect(await sequenceEvents(file.database.db)).toBe(1);
    expect((await eventsOf('trimmed')).map((r) => r.seq)).toEqual([last + 1]);
  });
});
