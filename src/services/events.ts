// Reading the events log for polling clients.
import { and, asc, type Column, eq, gt, inArray, isNotNull, sql } from 'drizzle-orm';
import { refusal } from '../auth/authorize.ts';
import type { AccessChecker } from '../auth/roles.ts';
import type { Db } from '../db/client.ts';
import { events } from '../db/schema.ts';
import type { EventFilter } from '../domain/listFilters.ts';
import { fail, ok, type Result } from '../errors.ts';
import type { StoredEvent } from '../events/hub.ts';
import { sequenceEvents } from '../events/sequencer.ts';

export interface EventQuery {
  namespace: string;
  stream?: string | null;
  tag?: string | null;
  /** Checked on the rows the (namespace, seq) index yields in order (docs/queries.md). */
  filter?: EventFilter;
}

function eventFilterConditions(filter: EventFilter | undefined) {
  if (!filter) return [];
  const anyOf = (column: Column, values: string[] | null) =>
    values === null ? undefined : values.length === 0 ? sql`false` : inArray(column, values);
  return [
    anyOf(events.stream, filter.streams),
    anyOf(events.tag, filter.tags),
    anyOf(events.type, filter.types),
    anyOf(events.cause, filter.causes),
    filter.occurredAfter
      ? sql`${events.at} > ${filter.occurredAfter.toISOString()}::timestamptz`
      : undefined,
    filter.occurredBefore
      ? sql`${events.at} < ${filter.occurredBefore.toISOString()}::timestamptz`
      : undefined,
  ];
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
        ...eventFilterConditions(query.filter),
        gt(events.seq, after),
      ),
    )
    .orderBy(asc(events.seq))
    .limit(first + 1)) as StoredEvent[];
  return ok({ events: rows.slice(0, first), hasNextPage: rows.length > first });
}
