// Reading the events log for polling clients.
import { and, asc, eq, gt, isNotNull } from 'drizzle-orm';
import { refusal } from '../auth/authorize.ts';
import type { AccessChecker } from '../auth/roles.ts';
import type { Db } from '../db/client.ts';
import { events } from '../db/schema.ts';
import { fail, ok, type Result } from '../errors.ts';
import type { StoredEvent } from '../events/hub.ts';
import { sequenceEvents } from '../events/sequencer.ts';

export interface EventQuery {
  namespace: string;
  stream?: string | null;
  tag?: string | null;
}

/**
 * Tag events after position `after`, oldest first; the caller must be able to read the namespace. Positions never appear out of order
 * (events/sequencer.ts), so paging by position never skips an event. It sequences first, so a
 * client reads its own writes even before the hub's next pass.
 */
export async function listEvents(
  db: Db,
  access: AccessChecker,
  query: EventQuery,
  after: number,
  first: number,
): Promise<Result<{ events: StoredEvent[]; hasNextPage: boolean }>> {
  const refused = await refusal(access, 'image-puller', query.namespace, 'namespace', {
    verb: 'list',
    resource: 'events',
  });
  if (refused) return fail(refused);
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
  return ok({ events: rows.slice(0, first), hasNextPage: rows.length > first });
}
