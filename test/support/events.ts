// Events for the sequencer's tests (src/events/sequencer.ts): the file's database with every event
// numbered before each test, writes, reads, and an event whose transaction took its id first and
// commits last (the out-of-order case the sequencer exists for).
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { type Database, rowsOf } from '../../src/db/client.ts';
import { appendEvents, writeTransaction } from '../../src/events/append.ts';
import { sequenceEvents } from '../../src/events/sequencer.ts';
import { openFileDatabase } from './database.ts';

export interface SequencerFile {
  /** The file's database, open from before its first test to after its last. */
  readonly database: Database;
  /** Appends ADDED events of `namespace`/s for `tags` in one write transaction. */
  write(namespace: string, tags: string[]): Promise<void>;
  /** The events of `namespace` in id order, with their positions (null: not yet). */
  eventsOf(namespace: string): ReturnType<typeof eventsByIdOf>;
}

/** Opens the file's database for its tests, numbering every event before each test. */
export function sequencerFile(): SequencerFile {
  let opened: Database | undefined;
  const database = () => {
    if (!opened) throw new Error('the database opens in beforeAll');
    return opened;
  };
  beforeAll(async () => {
    opened = await openFileDatabase();
  });
  afterAll(async () => {
    await opened?.close();
  });
  beforeEach(async () => {
    await sequenceEvents(database().db);
  });
  return {
    get database() {
      return database();
    },
    write: (namespace, tags) => writeTagEvents(database(), namespace, tags),
    eventsOf: (namespace) => eventsByIdOf(database(), namespace),
  };
}

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
