// Change events: buffered per write transaction, inserted at its end; numbered after commit.
import { sql } from 'drizzle-orm';
import type { Db, Tx } from '../db/client.ts';
import { events } from '../db/schema.ts';

/** NOTIFY channel that tells every gateway "new events committed"; the table holds the truth. */
export const EVENTS_CHANNEL = 'tagraph_events';

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
  | 'tracking'
  | 'policy'
  | 'prune';

/** Each stored cause as the API names it (ChangeCause). */
export const CHANGE_CAUSES = {
  tag: 'TAG',
  import: 'IMPORT',
  'scheduled-import': 'SCHEDULED_IMPORT',
  push: 'PUSH',
  rollback: 'ROLLBACK',
  tracking: 'TRACKING',
  policy: 'POLICY',
  prune: 'PRUNE',
  delete: 'DELETE',
  create: 'CREATE',
  update: 'UPDATE',
} as const satisfies Record<EventCause, string>;

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
 * A transaction whose change events are inserted last, after every row lock it takes (the
 * sequencer's per-tag order rests on that, see sequencer.ts), with a NOTIFY that Postgres
 * delivers only if the transaction commits. No lock is held for the events themselves: they get
 * their position after the commit.
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

/** Insert and NOTIFY in one statement (data-modifying CTEs always run). */
async function flushEvents(tx: Tx, rows: NewEvent[]): Promise<void> {
  const values = sql.join(
    rows.map(
      (row) =>
        sql`(${row.namespace}, ${row.stream}, ${row.tag}, ${row.type}, ${row.cause}, ${JSON.stringify(row.payload ?? {})}::text::jsonb)`,
    ),
    sql`, `,
  );
  await tx.execute(sql`
    with inserted as (
      insert into ${events} (namespace, stream, tag, type, cause, payload)
      select v.namespace, v.stream, v.tag, v.type, v.cause, v.payload
      from (values ${values}) as v(namespace, stream, tag, type, cause, payload)
      returning 1)
    select pg_notify(${EVENTS_CHANNEL}, '') from (select count(*) from inserted) as done`);
}
