// Change events: buffered per write transaction, inserted at its end; numbered after commit.
import { AsyncLocalStorage } from 'node:async_hooks';
import { sql } from 'drizzle-orm';
import type { Db, Tx } from '../db/client.ts';
import { events } from '../db/schema.ts';
import type { StoredActor } from '../domain/actors.ts';

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
  | 'prune'
  | 'webhook';

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
  webhook: 'WEBHOOK',
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

/**
 * Who is acting, for everything run inside `actingAs`: the one place events, history items and
 * queued import jobs read their author from (a request's caller, the scheduler, a push, a
 * receiver, an import job), so no write path passes it along by hand.
 */
const acting = new AsyncLocalStorage<StoredActor>();

/** Runs `fn` with `actor` as the author of every change it writes. */
export function actingAs<T>(actor: StoredActor, fn: () => T): T {
  return acting.run(actor, fn);
}

/** The author of changes written now; null outside any `actingAs` (unattributed). */
export function currentActor(): StoredActor | null {
  return acting.getStore() ?? null;
}

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
  const actor = currentActor();
  return db.transaction(async (tx) => {
    const buffer: NewEvent[] = [];
    buffers.set(tx, buffer);
    const result = await fn(tx);
    if (buffer.length > 0) await flushEvents(tx, buffer, actor);
    return result;
  });
}

/** Insert and NOTIFY in one statement (data-modifying CTEs always run). */
async function flushEvents(tx: Tx, rows: NewEvent[], actor: StoredActor | null): Promise<void> {
  const actorJson = actor ? JSON.stringify(actor) : null;
  const subject = actor?.subject ?? null;
  const values = sql.join(
    rows.map(
      (row) =>
        sql`(${row.namespace}, ${row.stream}, ${row.tag}, ${row.type}, ${row.cause}, ${JSON.stringify(row.payload ?? {})}::text::jsonb, ${actorJson}::text::jsonb, ${subject}::text)`,
    ),
    sql`, `,
  );
  await tx.execute(sql`
    with inserted as (
      insert into ${events} (namespace, stream, tag, type, cause, payload, actor, actor_subject)
      select v.namespace, v.stream, v.tag, v.type, v.cause, v.payload, v.actor, v.actor_subject
      from (values ${values}) as v(namespace, stream, tag, type, cause, payload, actor, actor_subject)
      returning 1)
    select pg_notify(${EVENTS_CHANNEL}, '') from (select count(*) from inserted) as done`);
}
