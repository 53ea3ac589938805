// An event whose transaction took its id first and commits last: the out-of-order case that
// the events sequencer exists for (src/events/sequencer.ts).
import { sql } from 'drizzle-orm';
import type { Database } from '../../src/db/client.ts';

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
