// Reading the events log for polling clients.
import { and, asc, eq, gt, isNotNull } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { events } from '../db/schema.ts';
import type { StoredEvent } from '../events/hub.ts';
import { sequenceEvents } from '../events/sequencer.ts';

export interface EventQuery {
  namespace: string;
  stream?: string | null;
  tag?: string | null;
}

/**
 * Tag events after position `after`, oldest first. Positions never appear out of order
 * (events/sequencer.ts), so paging by position never skips an event. It sequences first, so a
 * client reads its own writes even before the hub's next pass.
 */
export async function listEvents(
  db: Db,
  query: EventQuery,
  after: number,
  first: number,
): Promise<{ events: StoredEvent[]; hasNextPage: boolean }> {
  await sequenceEvents(db);
  const rows = (await db
    .select()
    .from(events)
    .where(
      and(
        eq(events.namespace, query.namespace),
        isNotNull(events.tag),
        query.stream ? eq(events.stream, query.stream) : undefined,
        query.tag ? eq(events.tag, query.tag) : undefined,
        gt(events.seq, after),
      ),
    )
    .orderBy(asc(events.seq))
    .limit(first + 1)) as StoredEvent[];
  return { events: rows.slice(0, first), hasNextPage: rows.length > first };
}
