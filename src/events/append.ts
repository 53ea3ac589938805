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
    if (buffer.length > 0) {
      await tx.execute(sql`select pg_advisory_xact_lock(${EVENTS_LOCK_KEY})`);
      await tx.insert(events).values(buffer.map((row) => ({ ...row, payload: row.payload ?? {} })));
      await tx.execute(sql`select pg_notify(${EVENTS_CHANNEL}, '')`);
    }
    return result;
  });
}
