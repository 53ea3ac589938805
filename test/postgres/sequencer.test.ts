// The events sequencer with interleaved transactions (Postgres only: PGlite has one connection):
// an event that took its id first but committed last is numbered after the later one.
import { describe, expect, it } from 'vitest';
import { sequenceEvents } from '../../src/events/sequencer.ts';
import { insertEventAndHold, sequencerFile } from '../support/events.ts';

const file = sequencerFile();
const { write, eventsOf } = file;

describe('sequenceEvents', () => {
  it('leaves an open transaction’s event unnumbered, then numbers it after later ones', async () => {
    const open = await insertEventAndHold(file.database, 'open', 'first');
    await write('open', ['second']);
    expect(await sequenceEvents(file.database.db)).toBe(1);
    await open.commit();
    expect(await sequenceEvents(file.database.db)).toBe(1);
    const rows = await eventsOf('open');
    expect(rows.map((r) => r.tag)).toEqual(['first', 'second']); // id order
    expect(rows[0]!.seq).toBe(rows[1]!.seq! + 1); // position order: commit order
  });
});
