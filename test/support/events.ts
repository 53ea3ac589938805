// An event whose transaction took its id first and commits last: the out-of-order case that
// the events sequencer exists for (src/events/sequencer.ts).
import { sql } from 'drizzle-orm';
import { type Database, rowsOf } from '../../src/db/client.ts';
import { appendEvents, writeTransaction } from '../../src/events/append.ts';

/**
 * Inserts an event for `namespace`/s:`tag` in a transaction it keeps open; resolves once the row
 * (and so its id) exists. `commit()` lets the transaction finish. Needs Postgres: on PGlite's
 * single connection nothing else could run meanwhile.
 */
export async function insertEventAndHold(database: Database, namespace: string, tag: string) {
  let release: () => void = () => {};
  const gate = new Promise<void>((r) => {
    release = r;
  });
  let inserted: () => void = () => {};
  const insertedYet = new Promise<void>((r) => {
    inserted = r;
  });
  const done = database.db.transaction(async (tx) => {
    await tx.execute(
      sql`insert into events (namespace, stream, tag, type, cause) values (${namespace}, 's', ${tag}, 'ADDED', 'tag')`,
    );
    inserted();
    await gate;
  });
  await Promise.race([insertedYet, done]);
  return {
    commit: async () => {
      release();
      await done;
    },
  };
}

/** Appends ADDED events of `namespace`/s for `tags` in one write transaction. */
export async function writeTagEvents(
  database: Database,
  namespace: string,
  tags: string[],
): Promise<void> {
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

/** The events of `namespace` in id order, with their sequenced positions (null: not yet). */
export async function eventsByIdOf(database: Database, namespace: string) {
  return rowsOf<{ id: string; seq: string | null; tag: string }>(
    await database.db.execute(
      sql`select id, seq, tag from events where namespace = ${namespace} order by id`,
    ),
  ).map((r) => ({ id: Number(r.id), seq: r.seq === null ? null : Number(r.seq), tag: r.tag }));
}
