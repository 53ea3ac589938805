// The events sequencer with interleaved transactions (Postgres only: PGlite has one connection):
// an event that took its id first but committed last is numbered after the later one.
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type Database, openDatabase, rowsOf } from '../../src/db/client.ts';
import { appendEvents, writeTransaction } from '../../src/events/append.ts';
import { sequenceEvents } from '../../src/events/sequencer.ts';
import { fileDatabase } from '../support/database.ts';
import { insertEventAndHold } from '../support/events.ts';

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

async function write(namespace: string, tags: string[]): Promise<void> {
  await writeTransaction(database.db, async (tx) => {
    appendEvents(
      tx,
      tags.map((tag) => ({
        namespace,
        stream: 's',
        tag,
        type: 'ADDED' as const,
        cause: 'tag' as const,
      })),
    );
  });
}

async function eventsOf(namespace: string) {
  return rowsOf<{ id: string; seq: string | null; tag: string }>(
    await database.db.execute(
      sql`select id, seq, tag from events where namespace = ${namespace} order by id`,
    ),
  ).map((r) => ({ id: Number(r.id), seq: r.seq === null ? null : Number(r.seq), tag: r.tag }));
}

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
