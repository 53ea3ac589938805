// Reading the events log for polling clients; which namespaces a subscription may watch.
import { and, asc, type Column, eq, gt, inArray, isNotNull, sql } from 'drizzle-orm';
import { forbidden, refusal } from '../auth/authorize.ts';
import type { Action } from '../auth/forbidden.ts';
import type { AccessChecker } from '../auth/roles.ts';
import type { Db } from '../db/client.ts';
import { events } from '../db/schema.ts';
import type { EventFilter } from '../domain/listFilters.ts';
import {
  type Problem,
  validateNamespace,
  validateStreamName,
  validateTagName,
} from '../domain/names.ts';
import { validateDigest } from '../domain/references.ts';
import { fail, invalid, ok, type Result } from '../errors.ts';
import type { StoredEvent } from '../events/hub.ts';
import { sequenceEvents } from '../events/sequencer.ts';
import { between } from './listFilters.ts';

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
    anyOf(events.actorSubject, filter.actors),
    between(events.at, filter.occurredAfter, filter.occurredBefore),
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
  if (refused) return refused;
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

/** Namespaces one subscription may name. */
export const MAX_SUBSCRIPTION_NAMESPACES = 50;
/** Streams, or tags, one subscription may narrow to. */
export const MAX_SUBSCRIPTION_NAMES = 50;

/** Where a subscription watches: exactly one of the three. */
export interface WatchedNamespacesInput {
  namespace?: string | null;
  namespaces?: readonly string[] | null;
  allNamespaces?: boolean | null;
}

/**
 * The namespaces a subscription watches, authorized: `named` are the ones it named (each readable
 * now), or null for every namespace the caller may read; `readable` what it delivers from at the
 * start ('all' for a caller who reads everything: a cluster admin, a registry).
 */
export interface WatchedNamespaces {
  named: string[] | null;
  readable: Set<string> | 'all';
}

const bad = (problems: Problem[]) => invalid(problems);

/** The argument that named the namespaces, for errors. */
const field = (input: WatchedNamespacesInput) =>
  input.namespace != null ? 'namespace' : 'namespaces';

/**
 * Checks and authorizes a subscription's namespaces: every named namespace must be readable (the
 * first that is not is refused as FORBIDDEN, naming only what the caller sent, so a namespace that
 * does not exist is refused alike). One fresh read of the caller's namespaces, however many are
 * named.
 */
export async function watchedNamespaces(
  access: AccessChecker,
  input: WatchedNamespacesInput,
  action: Action,
): Promise<Result<WatchedNamespaces>> {
  const given = [input.namespace != null, input.namespaces != null, input.allNamespaces === true];
  if (given.filter(Boolean).length !== 1) {
    return bad([
      {
        field: 'namespaces',
        message: 'give exactly one of namespace, namespaces or allNamespaces: true',
      },
    ]);
  }
  const named =
    input.namespace != null
      ? [input.namespace]
      : input.namespaces
        ? [...new Set(input.namespaces)]
        : null;
  if (named) {
    if (named.length === 0) {
      return bad([{ field: field(input), message: 'namespaces must name at least one' }]);
    }
    if (named.length > MAX_SUBSCRIPTION_NAMESPACES) {
      const message = `at most ${MAX_SUBSCRIPTION_NAMESPACES} namespaces per subscription`;
      return bad([{ field: field(input), message }]);
    }
    const problems = named.flatMap((namespace) => validateNamespace(namespace, field(input)) ?? []);
    if (problems.length > 0) return bad(problems);
  }
  if (named?.length === 1) {
    // One namespace: the request's cached answer (the schema asked it already).
    const refused = await refusal(access, 'image-puller', named[0]!, field(input), action);
    return refused ?? ok({ named, readable: new Set(named) });
  }
  const readable = await access.readableNow();
  if (!named) return ok({ named: null, readable: readable === null ? 'all' : new Set(readable) });
  const readableSet = readable === null ? null : new Set(readable);
  for (const namespace of named) {
    if (readableSet && !readableSet.has(namespace)) {
      return fail(forbidden(access, 'image-puller', namespace, field(input), action));
    }
  }
  return ok({ named, readable: new Set(named) });
}

/** The optional narrowing lists of a subscription, checked and bounded; null: no narrowing. */
export function nameFilter(
  names: readonly string[] | null | undefined,
  field: string,
  kind: 'stream' | 'tag' | 'actor',
): Result<Set<string> | null> {
  if (names == null) return ok(null);
  if (names.length === 0) return bad([{ field, message: `${field} must name at least one` }]);
  if (names.length > MAX_SUBSCRIPTION_NAMES) {
    return bad([{ field, message: `at most ${MAX_SUBSCRIPTION_NAMES} ${field} per subscription` }]);
  }
  const problems = names.flatMap((name) =>
    kind === 'actor'
      ? name.length === 0 || name.length > 255
        ? [{ field, message: 'an actor subject is 1-255 characters' }]
        : []
      : kind === 'tag'
        ? (validateTagName(name, field) ?? [])
        : // No namespace to measure the full name against: only the name's own form and length.
          (validateStreamName('', name, field) ?? []),
  );
  return problems.length > 0 ? bad(problems) : ok(new Set(names));
}

/** A full digest to watch tags point at, or a VALIDATION error (short ids are not taken). */
export function watchedDigest(digest: string): Result<string> {
  const problems = validateDigest(digest, 'digest');
  return problems ? bad(problems) : ok(digest);
}
