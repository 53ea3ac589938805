// Reading the events log for polling clients.
import { and, asc, eq, gt, isNotNull } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { events } from '../db/schema.ts';
import type { StoredEvent } from '../events/hub.ts';

export interface EventQuery {
  namespace: string;
  stream?: string | null;
  tag?: string | null;
}

/**
 * Tag events after `after`, oldest first. Ids are allocated in commit order (events/append.ts),
 * so every id below the newest visible one is visible too: paging by id never skips an event.
 */
export async function listEvents(
  db: Db,
  query: EventQuery,
  after: number,
  first: number,
): Promise<{ events: StoredEvent[]; hasNextPage: boolean }> {
  const rows = await db
    .select()
    .from(events)
    .where(
      and(
        eq(events.namespace, query.namespace),
        isNotNull(events.tag),
        query.stream ? eq(events.stream, query.stream) : undefined,
        query.tag ? eq(events.tag, query.tag) : undefined,
        gt(events.id, after),
      ),
    )
    .orderBy(asc(events.id))
    .limit(first + 1);
  return { events: rows.slice(0, first), hasNextPage: rows.length > first };
}
