// The events sequencer with interleaved transactions (Postgres only: PGlite has one connection):
// an event that took its id first but committed last is numbered after the later one.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type Database, openDatabase } from '../../src/db/client.ts';
import { sequenceEvents } from '../../src/events/sequencer.ts';
import { fileDatabase } from '../support/database.ts';
import { eventsByIdOf, insertEventAndHold, writeTagEvents } from '../support/events.ts';

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

describe('sequenceEvents', () => {
  it('leaves an open transaction’s event unnumbered, then numbers it after later ones', async () => {
    const open = await insertEventAndHold(database, 'open', 'first');
    await write('open', ['second']);
    expect(await sequenceEvents(database.db)).toBe(1);
    await open.commit();
    expect(await sequenceEvents(database.db)).toBe(1);
    const rows = await eventsOf('open');
    expect(rows.map((r) => r.tag)).toEqual(['first', 'second']); // id order
    expect(rows[0]!.seq).toBe(rows[1]!.seq! + 1); // position order: commit order
  });
});
