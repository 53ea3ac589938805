// Change events: buffered per write transaction, inserted at its end in commit order.
import { sql } from 'drizzle-orm';
import type { Db, Tx } from '../db/client.ts';
import { events } from '../db/schema.ts';

/** NOTIFY channel that tells every gateway "new events committed"; the table holds the truth. */
export const EVENTS_CHANNEL = 'tagraph_events';

/**
 * Transaction-level advisory lock taken just before events are inserted. Event ids are then
 * allocated in commit order: a transaction that took id 41 has committed before another can take
 * 42, so a reader that has seen 42 can never later find 41 (DESIGN.md §3). The cost: event-writing
 * transactions serialize from their flush to their commit (one insert and the commit).
 */
const EVENTS_LOCK_KEY = 7_242_002;

export type EventType = 'ADDED' | 'UPDATED' | 'DELETED';
export type EventCause =
  | 'create'
  | 'update'
  | 'delete'
  | 'tag'
  | 'import'
  | 'scheduled-import'
  | 'push'
  | 'rollback'
  | 'tracking';

export interface NewEvent {
  namespace: string;
  stream: string;
  /** Null for an event about the stream itself. */
  tag: string | null;
  type: EventType;
  cause: EventCause;
  payload?: Record<string, unknown>;
}

const buffers = new WeakMap<Tx, NewEvent[]>();

/** Queues events to be written when the surrounding writeTransaction commits. */
export function appendEvents(tx: Tx, rows: NewEvent[]): void {
  const buffer = buffers.get(tx);
  if (!buffer) throw new Error('appendEvents needs a transaction opened by writeTransaction');
  buffer.push(...rows);
}

/**
 * A transaction whose change events are inserted last, under the events lock, with a NOTIFY
 * that Postgres delivers only if the transaction commits.
 */
export async function writeTransaction<T>(db: Db, fn: (tx: Tx) => Promise<T>): Promise<T> {
  return db.transaction(async (tx) => {
    const buffer: NewEvent[] = [];
    buffers.set(tx, buffer);
    const result = await fn(tx);
    if (buffer.length > 0) await flushEvents(tx, buffer);
    return result;
  });
}

/**
 * Lock, insert and NOTIFY in one statement: the lock is held from here to the commit, so every
 * round trip inside it caps event throughput (three statements made it four round trips under
 * the lock; now two: this one and the commit). The insert reads from the lock's CTE, so the lock
 * is taken first; data-modifying CTEs always run.
 */
async function flushEvents(tx: Tx, rows: NewEvent[]): Promise<void> {
  const values = sql.join(
    rows.map(
      (row) =>
        sql`(${row.namespace}, ${row.stream}, ${row.tag}, ${row.type}, ${row.cause}, ${JSON.stringify(row.payload ?? {})}::text::jsonb)`,
    ),
    sql`, `,
  );
  await tx.execute(sql`
    with locked as (select pg_advisory_xact_lock(${EVENTS_LOCK_KEY})),
    inserted as (
      insert into ${events} (namespace, stream, tag, type, cause, payload)
      select v.namespace, v.stream, v.tag, v.type, v.cause, v.payload
      from locked, (values ${values}) as v(namespace, stream, tag, type, cause, payload)
      returning 1)
    select pg_notify(${EVENTS_CHANNEL}, '') from (select count(*) from inserted) as done`);
}
