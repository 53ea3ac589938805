// Change events: tagChanged / imageStreamChanged subscriptions and the tagEvents polling query.

import { GraphQLError } from 'graphql';
import {
  CLOSE_FORBIDDEN,
  CREDENTIAL_ENDED_MESSAGE,
  CREDENTIAL_ENDED_REASON,
  limitKey,
} from '../auth/credentials.ts';
import type { Action } from '../auth/forbidden.ts';
import { builder, MAX_PAGE_SIZE } from '../builder.ts';
import type { AppContext } from '../context.ts';
import type { StoredActor } from '../domain/actors.ts';
import { MAX_EVENT_FILTER_VALUES, parseEventFilter } from '../domain/listFilters.ts';
import { CHANGE_CAUSES } from '../events/append.ts';
import { decodeCursor, encodeCursor } from '../events/cursor.ts';
import {
  CLOSE_TOO_SLOW,
  type EventFilter,
  headDigests,
  SlowConsumerError,
  type StoredEvent,
  slowConsumerError,
  TOO_SLOW_REASON,
  TooManyReplaysError,
} from '../events/hub.ts';
import { logBounds } from '../events/retention.ts';
import {
  listEvents,
  MAX_SUBSCRIPTION_NAMES,
  MAX_SUBSCRIPTION_NAMESPACES,
  nameFilter,
  watchedDigest,
  watchedNamespaces,
} from '../services/events.ts';
import { readArgs, valueOrGraphQLError } from './access.ts';
import { validationError } from './listOrder.ts';

export const ChangeType = builder.enumType('ChangeType', {
  values: ['ADDED', 'UPDATED', 'DELETED'] as const,
});

const CAUSES = CHANGE_CAUSES;

export const ChangeCause = builder.enumType('ChangeCause', {
  description: 'What made the change.',
  values: Object.values(CAUSES),
});

interface Head {
  digest: string | null;
  reference: string;
}

const TagHead = builder.objectRef<Head>('TagHead').implement({
  description: 'What a tag pointed at: item 0 of its history.',
  fields: (t) => ({
    digest: t.exposeString('digest', { nullable: true }),
    dockerImageReference: t.exposeString('reference'),
  }),
});

interface Failure {
  reason: string;
  message: string;
}

const ImportFailure = builder.objectRef<Failure>('ImportFailure').implement({
  description: 'Why an import failed, as the ImportSuccess=False condition says.',
  fields: (t) => ({ reason: t.exposeString('reason'), message: t.exposeString('message') }),
});

export const ActorKindEnum = builder.enumType('ActorKind', {
  values: {
    USER: { description: 'A person, signed in with a JWT (or anyone in open mode).' },
    TOKEN: {
      description: 'An API token: a robot token of a namespace, or one a cluster admin issued.',
    },
    SYSTEM: { description: 'tagraph itself: the scheduler, a registry push, a webhook receiver.' },
  },
});

export const ActorRef = builder.objectRef<StoredActor>('Actor').implement({
  description: 'Who made a change (docs/model.md, "Actors").',
  fields: (t) => ({
    kind: t.field({ type: ActorKindEnum, resolve: (a) => a.kind }),
    subject: t.exposeString('subject', {
      description:
        'The user or token subject; `system:scheduler`, `system:registry:<host>`, `system:receiver:<namespace>:<name>` for the system.',
    }),
    tokenId: t.id({
      nullable: true,
      description: "The API token's id (never the token itself).",
      resolve: (a) => (a.tokenId === null ? null : String(a.tokenId)),
    }),
    source: t.exposeString('source', {
      description:
        'Which path made it: `api`, `import-job` (an import queued by the subject), `scheduler`, `push:<registry>`, `receiver:<name>`.',
    }),
    requestId: t.exposeString('requestId', {
      nullable: true,
      description: 'The request that made or queued the change (its x-request-id).',
    }),
  }),
});

const eventFields = {
  cursor: (e: StoredEvent) => encodeCursor(e.seq),
  type: (e: StoredEvent) => e.type as 'ADDED' | 'UPDATED' | 'DELETED',
  cause: (e: StoredEvent) => CAUSES[e.cause as keyof typeof CAUSES] ?? 'UPDATE',
};

export const TagChangeEvent = builder.objectRef<StoredEvent>('TagChangeEvent').implement({
  authScopes: (event) => ({ read: event.namespace }),
  description: 'One change of one tag, in commit order.',
  fields: (t) => ({
    cursor: t.string({
      description: 'Pass as `since` (or `after`) to resume right after this event.',
      resolve: eventFields.cursor,
    }),
    type: t.field({ type: ChangeType, resolve: eventFields.type }),
    cause: t.field({ type: ChangeCause, resolve: eventFields.cause }),
    time: t.expose('at', { type: 'DateTime' }),
    namespace: t.exposeString('namespace'),
    stream: t.exposeString('stream'),
    tag: t.string({ resolve: (e) => e.tag ?? '' }),
    previous: t.field({
      type: TagHead,
      nullable: true,
      resolve: (e) => (e.payload.previous as Head | null | undefined) ?? null,
    }),
    current: t.field({
      type: TagHead,
      nullable: true,
      description: 'Null when only the spec changed, or the tag was deleted.',
      resolve: (e) => (e.payload.current as Head | null | undefined) ?? null,
    }),
    prunedGenerations: t.intList({
      nullable: true,
      description:
        'For cause PRUNE: the generations of the history items removed (item 0 never is).',
      resolve: (e) => (e.payload.pruned as number[] | undefined) ?? null,
    }),
    importFailure: t.field({
      type: ImportFailure,
      nullable: true,
      description: 'Set when an import of the tag failed (its history did not change).',
      resolve: (e) => (e.payload.importFailure as Failure | null | undefined) ?? null,
    }),
    actor: t.field({
      type: ActorRef,
      nullable: true,
      description: 'Who made the change; null for changes recorded before actors were kept.',
      resolve: (e) => e.actor ?? null,
    }),
    imageStreamTag: t.drizzleField({
      type: 'tags',
      nullable: true,
      description: 'The tag as it is now (null once deleted).',
      resolve: async (query, e, _args, ctx) => {
        const row = await ctx.database.db.query.tags.findFirst(
          query({
            where: { name: e.tag ?? '', stream: { namespace: e.namespace, name: e.stream } },
          }),
        );
        // Found through the event's namespace: the tag's type-level check needs no lookup.
        if (row) {
          const { streamId } = row as unknown as { streamId: number };
          ctx.access.places.rememberStream(streamId, e.namespace);
        }
        return row;
      },
    }),
  }),
});

const ImageStreamChangeEvent = builder.objectRef<StoredEvent>('ImageStreamChangeEvent').implement({
  authScopes: (event) => ({ read: event.namespace }),
  description: 'A change of a stream itself: created, deleted, labels, lookup policy.',
  fields: (t) => ({
    cursor: t.string({ resolve: eventFields.cursor }),
    type: t.field({ type: ChangeType, resolve: eventFields.type }),
    cause: t.field({ type: ChangeCause, resolve: eventFields.cause }),
    time: t.expose('at', { type: 'DateTime' }),
    namespace: t.exposeString('namespace'),
    name: t.exposeString('stream'),
    imageStream: t.drizzleField({
      type: 'imageStreams',
      nullable: true,
      resolve: (query, e, _args, ctx) =>
        ctx.database.db.query.imageStreams.findFirst(
          query({ where: { namespace: e.namespace, name: e.stream } }),
        ),
    }),
  }),
});

const TagPointing = builder.enumType('TagPointing', {
  description: 'Whether a tag started or stopped pointing at the watched image.',
  values: ['STARTED', 'STOPPED'] as const,
});

const ImageTagChange = builder
  .objectRef<{ event: StoredEvent; digest: string }>('ImageTagChange')
  .implement({
    description:
      'A tag whose item 0 became, or stopped being, the watched image (imageTagsChanged).',
    fields: (t) => ({
      cursor: t.string({
        description: 'Pass as `since` to resume right after this change.',
        resolve: (c) => eventFields.cursor(c.event),
      }),
      pointing: t.field({
        type: TagPointing,
        resolve: (c) => (headDigests(c.event).after === c.digest ? 'STARTED' : 'STOPPED'),
      }),
      change: t.field({ type: TagChangeEvent, resolve: (c) => c.event }),
    }),
  });

/**
 * The event id in a client's cursor; an unknown, trimmed, or future one is a typed error. A cursor
 * beyond the newest event (the database was restored from a backup, or the cursor is another
 * installation's) would otherwise page nothing and subscribe to silence until the log caught up.
 */
async function cursorId(ctx: AppContext, cursor: string | null | undefined, arg: string) {
  if (cursor == null) return null;
  const id = decodeCursor(cursor);
  if (id === null) {
    throw new GraphQLError(`"${arg}" is not a cursor this server issued`, {
      extensions: { code: 'BAD_CURSOR', field: arg },
    });
  }
  const { trimmedThrough, newest } = await logBounds(ctx.database);
  if (id > newest) {
    throw new GraphQLError(
      `"${arg}" is beyond the end of this server's event log: the cursor is from another installation, or the database was restored from an older backup; re-list with queries, then subscribe without "${arg}"`,
      { extensions: { code: 'CURSOR_UNKNOWN', field: arg } },
    );
  }
  if (id < trimmedThrough) {
    const hours = Math.round(ctx.config.eventRetentionMs / 3_600_000);
    throw new GraphQLError(
      `cursor is older than the event retention window (${hours} h): re-list with queries, then subscribe without "${arg}"`,
      { extensions: { code: 'CURSOR_EXPIRED', field: arg } },
    );
  }
  return id;
}

const TOO_SLOW = Symbol('too slow');
const REVOKED = Symbol('access revoked');
const DROPPED = Symbol('namespaces dropped');
const CREDENTIAL_ENDED = Symbol('credential ended');
type Delivery =
  | StoredEvent
  | { [TOO_SLOW]: number }
  | { [REVOKED]: string[] }
  | { [DROPPED]: string[] }
  | { [CREDENTIAL_ENDED]: true };

/**
 * How often a live subscription re-reads, at delivery, which of its namespaces its caller may
 * still read and that its API token was not revoked (a JWT's expiry is compared at every one).
 */
const ACCESS_RECHECK_MS = 2000;

/** The namespaces a subscription watches, authorized when it started (services/events.ts). */
interface WatchScope {
  /** The hub filter's `namespaces`; it follows what the caller may read. */
  readable: EventFilter['namespaces'];
  /** The namespaces it named, or null: every namespace the caller may read. */
  named: string[] | null;
}

/** A namespace set's names, as messages list them. */
const listed = (namespaces: string[]) =>
  namespaces.length === 1 ? `namespace ${namespaces[0]}` : `namespaces ${namespaces.join(', ')}`;

/**
 * Events from the hub; a subscriber cut off as too slow gets one last result carrying the
 * SLOW_CONSUMER error and its resume cursor (a graphql-ws socket is also closed with CLOSE_TOO_SLOW).
 * When the caller's credential ends (token revoked, JWT expired) — seen at a delivery, or by the
 * credential watch while the stream is idle — a graphql-ws connection is closed with 4403 and
 * an SSE stream gets one last UNAUTHENTICATED result, then ends.
 *
 * Which namespaces it delivers from is re-read at delivery (at most every ACCESS_RECHECK_MS) and
 * by the grant watch while idle. A namespace the caller can no longer read stops delivering at
 * once (queued events from it are dropped) and the client gets one FORBIDDEN result naming it;
 * the stream goes on for the others. When none of the namespaces it named is left, it gets a
 * last FORBIDDEN result and ends (one namespace: as it always has). With every readable
 * namespace (`named` null) a namespace granted later joins at the next re-read.
 * Not an async generator: `return()` must reach the hub at once when a client goes away, even
 * while waiting for the next event.
 */
function deliveries(
  ctx: AppContext,
  scope: WatchScope,
  since: number | null,
  narrowing: Omit<EventFilter, 'namespaces'>,
): AsyncIterableIterator<Delivery> {
  const caller = ctx.access.caller;
  const { named } = scope;
  const filter: EventFilter = { namespaces: scope.readable, ...narrowing };
  let source: AsyncIterableIterator<StoredEvent>;
  try {
    source = ctx.events.subscribe(filter, since, {
      onOverflow: () => ctx.closeConnection?.(CLOSE_TOO_SLOW, TOO_SLOW_REASON),
      replayer: limitKey(caller),
    });
  } catch (error) {
    if (!(error instanceof TooManyReplaysError)) throw error;
    throw new GraphQLError(error.message, {
      extensions: { code: 'TOO_MANY_REPLAYS', limit: error.limit, scope: error.scope },
    });
  }
  let ended = false;
  let credentialEnded = false;
  let checkedAt = Date.now();
  /** Namespaces lost since the client was last told; the next result names them. */
  let dropped: string[] = [];
  /** Set once no named namespace is left: the next result is the last. */
  let revoked: string[] | null = null;
  /** Wakes a next() waiting for an event, to tell of dropped namespaces at once. */
  let notify: (() => void) | null = null;
  /** A source.next() that a notice overtook: the next call takes its result. */
  let pending: Promise<IteratorResult<StoredEvent>> | null = null;

  /** Re-reads what the caller may read; narrows or widens `filter.namespaces` to it. */
  const recheck = async (): Promise<void> => {
    const readable = await ctx.access.readableNow();
    const current = filter.namespaces;
    let next: Set<string> | 'all';
    if (named)
      next = new Set(readable === null ? named : named.filter((n) => readable.includes(n)));
    else next = readable === null ? 'all' : new Set(readable);
    const lost =
      current === 'all' ? [] : [...current].filter((n) => next === 'all' || !next.has(n));
    filter.namespaces = next;
    if (lost.length === 0) return;
    if (named && next !== 'all' && next.size === 0) {
      revoked = [...dropped, ...lost];
      dropped = [];
    } else {
      dropped.push(...lost);
    }
  };

  const endCredential = () => {
    if (ended || credentialEnded) return;
    credentialEnded = true;
    unwatch();
    ctx.closeConnection?.(CLOSE_FORBIDDEN, CREDENTIAL_ENDED_REASON);
    // Wakes a next() waiting for an event; it then yields the last result.
    void source.return?.();
  };
  const unwatchCredential = ctx.credentials.watch(caller, endCredential);
  // While idle too: a lost namespace stops delivering within TAGRAPH_CREDENTIAL_CHECK_SECONDS.
  const unwatchGrant = ctx.credentials.watchGrant(
    async () => {
      await recheck();
      if (ended || credentialEnded) return true;
      if (revoked) {
        // Wakes a next() waiting for an event; it then yields the FORBIDDEN result.
        void source.return?.();
        return false;
      }
      if (dropped.length > 0) notify?.();
      return true;
    },
    () => {},
  );
  const unwatch = () => {
    unwatchCredential();
    unwatchGrant();
  };
  const stop = async () => {
    ended = true;
    unwatch();
    await source.return?.();
  };
  const revokedResult = async (): Promise<IteratorResult<Delivery>> => {
    await stop();
    return { done: false, value: { [REVOKED]: revoked ?? [] } };
  };
  const droppedResult = (): IteratorResult<Delivery> => {
    const value = { [DROPPED]: dropped };
    dropped = [];
    return { done: false, value };
  };
  const lastResult = async (): Promise<IteratorResult<Delivery>> => {
    await stop();
    return { done: false, value: { [CREDENTIAL_ENDED]: true } };
  };
  /** The source's next event, or null when a notice comes first (the event waits its turn). */
  const nextOrNotice = async (): Promise<IteratorResult<StoredEvent> | null> => {
    pending ??= source.next();
    const noticed = new Promise<null>((resolveNotice) => {
      notify = () => resolveNotice(null);
    });
    const first = await Promise.race([pending, noticed]);
    notify = null;
    if (first === null) return null;
    pending = null;
    return first;
  };
  const iterator: AsyncIterableIterator<Delivery> = {
    next: async () => {
      try {
        for (;;) {
          if (ended) return { done: true, value: undefined };
          if (credentialEnded) return lastResult();
          if (revoked) return revokedResult();
          if (dropped.length > 0) return droppedResult();
          const result = await nextOrNotice();
          if (result === null) continue;
          if (credentialEnded) return lastResult();
          if (revoked) return revokedResult();
          if (result.done) {
            await stop();
            return result;
          }
          if (ctx.credentials.expired(caller)) {
            endCredential();
            return lastResult();
          }
          // A revoked grant or token stops the stream: re-read at delivery, at most every few
          // seconds; the reads of one event's deliveries go to the database together.
          if (Date.now() - checkedAt > ACCESS_RECHECK_MS) {
            checkedAt = Date.now();
            const [valid] = await Promise.all([ctx.credentials.valid(caller), recheck()]);
            if (!valid) {
              endCredential();
              return lastResult();
            }
            if (revoked) return revokedResult();
          }
          // Queued before its namespace was dropped: not delivered.
          const { namespaces } = filter;
          if (namespaces !== 'all' && !namespaces.has(result.value.namespace)) continue;
          ctx.onDelivered?.(result.value.seq);
          return result;
        }
      } catch (error) {
        if (!(error instanceof SlowConsumerError)) throw error;
        ended = true;
        unwatch();
        return { done: false, value: { [TOO_SLOW]: error.cursor } };
      }
    },
    return: async () => {
      await stop();
      return { done: true, value: undefined };
    },
    [Symbol.asyncIterator]: () => iterator,
  };
  return iterator;
}

function delivered(value: Delivery): StoredEvent {
  if (CREDENTIAL_ENDED in value) {
    throw new GraphQLError(CREDENTIAL_ENDED_MESSAGE, { extensions: { code: 'UNAUTHENTICATED' } });
  }
  if (REVOKED in value) {
    throw new GraphQLError(`forbidden: access to ${listed(value[REVOKED])} was revoked`, {
      extensions: { code: 'FORBIDDEN', namespaces: value[REVOKED] },
    });
  }
  if (DROPPED in value) {
    throw new GraphQLError(
      `forbidden: access to ${listed(value[DROPPED])} was revoked: its events are no longer delivered, the others' still are`,
      { extensions: { code: 'FORBIDDEN', namespaces: value[DROPPED], continues: true } },
    );
  }
  if (TOO_SLOW in value) throw slowConsumerError(value[TOO_SLOW]);
  return value;
}

const SUBSCRIPTION_NAMESPACE_ARGS = builder.args((t) => ({
  namespace: t.string({
    description: 'One namespace (give exactly one of namespace, namespaces, allNamespaces).',
  }),
  namespaces: t.stringList({
    description: `Several namespaces, each readable now (at most ${MAX_SUBSCRIPTION_NAMESPACES}). One the caller stops being able to read stops delivering; the subscription ends when none is left.`,
  }),
  allNamespaces: t.boolean({
    description:
      'Every namespace the caller may read, re-read while live: one it loses stops delivering, one it gains joins.',
  }),
  types: t.field({ type: [ChangeType], description: 'Only these change types.' }),
  causes: t.field({ type: [ChangeCause], description: 'Only these causes.' }),
  since: t.string({
    description:
      'Replays every matching change after this cursor first, then goes live with no gap and no repeat.',
  }),
}));

/** What watching tags and streams is called in a refusal (as `oc` says it). */
const WATCH_TAGS = { verb: 'watch', resource: 'imagestreamtags' };
const WATCH_STREAMS = { verb: 'watch', resource: 'imagestreams' };

/**
 * The schema's first line for a subscription naming one namespace: image-puller there. Several,
 * or all, are authorized by the service (watchedNamespaces), which names the refused one.
 */
const subscriptionScopes = (_root: unknown, args: { namespace?: string | null }) =>
  args.namespace != null ? { read: args.namespace } : true;

/** The change types and causes a subscription narrows to, as the events log spells them. */
function typeAndCauseFilter(
  types: readonly string[] | null | undefined,
  causes: readonly string[] | null | undefined,
): Pick<EventFilter, 'types' | 'causes'> {
  const logCause = Object.fromEntries(Object.entries(CAUSES).map(([log, api]) => [api, log]));
  return {
    types: types ? new Set(types) : null,
    causes: causes ? new Set(causes.map((cause) => logCause[cause]!)) : null,
  };
}

/** The names a subscription narrows to: its `list` argument's (checked), else its `single` one. */
function namesOf(
  single: string | null | undefined,
  list: string[] | null | undefined,
  listArg: string,
  kind: 'stream' | 'tag',
): ReadonlySet<string> | null {
  return (
    valueOrGraphQLError(nameFilter(list, listArg, kind)) ?? (single ? new Set([single]) : null)
  );
}

const SINGLE_STREAM_OR_LIST = (single: string, list: string) =>
  new GraphQLError(`give ${single} or ${list}, not both`, {
    extensions: { code: 'BAD_USER_INPUT', field: list },
  });

/** The authorized namespaces of a subscription's arguments, or the typed refusal. */
async function watched(
  ctx: AppContext,
  args: { namespace?: string | null; namespaces?: string[] | null; allNamespaces?: boolean | null },
  action: Action,
) {
  return valueOrGraphQLError(await watchedNamespaces(ctx.access, args, action));
}

builder.subscriptionType({
  fields: (t) => ({
    tagChanged: t.field({
      authScopes: subscriptionScopes,
      type: TagChangeEvent,
      description:
        'Tag changes in one namespace, several, or every one the caller may read, narrowed to streams, tags, types and causes. With `since`, replays every change after that cursor first, then goes live with no gap.',
      args: {
        ...SUBSCRIPTION_NAMESPACE_ARGS,
        stream: t.arg.string(),
        tag: t.arg.string(),
        streams: t.arg.stringList({
          description: `Only these streams (at most ${MAX_SUBSCRIPTION_NAMES}).`,
        }),
        tags: t.arg.stringList({
          description: `Only these tags (at most ${MAX_SUBSCRIPTION_NAMES}).`,
        }),
        actors: t.arg.stringList({
          description: `Only changes made by these actor subjects (at most ${MAX_SUBSCRIPTION_NAMES}).`,
        }),
      },
      subscribe: async (_root, args, ctx) => {
        if (args.stream != null && args.streams != null)
          throw SINGLE_STREAM_OR_LIST('stream', 'streams');
        if (args.tag != null && args.tags != null) throw SINGLE_STREAM_OR_LIST('tag', 'tags');
        const since = await cursorId(ctx, args.since, 'since');
        const scope = await watched(ctx, args, WATCH_TAGS);
        return deliveries(ctx, scope, since, {
          streams: namesOf(args.stream, args.streams, 'streams', 'stream'),
          tags: namesOf(args.tag, args.tags, 'tags', 'tag'),
          actors: valueOrGraphQLError(nameFilter(args.actors, 'actors', 'actor')),
          ...typeAndCauseFilter(args.types, args.causes),
        });
      },
      resolve: (value: Delivery) => delivered(value),
    }),
    imageStreamChanged: t.field({
      authScopes: subscriptionScopes,
      type: ImageStreamChangeEvent,
      description:
        'Stream-level changes (created, deleted, labels, annotations, lookup policy) in one namespace, several, or every one the caller may read.',
      args: {
        ...SUBSCRIPTION_NAMESPACE_ARGS,
        name: t.arg.string(),
        names: t.arg.stringList({
          description: `Only these streams (at most ${MAX_SUBSCRIPTION_NAMES}).`,
        }),
      },
      subscribe: async (_root, args, ctx) => {
        if (args.name != null && args.names != null) throw SINGLE_STREAM_OR_LIST('name', 'names');
        const since = await cursorId(ctx, args.since, 'since');
        const scope = await watched(ctx, args, WATCH_STREAMS);
        return deliveries(ctx, scope, since, {
          streams: namesOf(args.name, args.names, 'names', 'stream'),
          streamLevel: true,
          ...typeAndCauseFilter(args.types, args.causes),
        });
      },
      resolve: (value: Delivery) => delivered(value),
    }),
    imageTagsChanged: t.field({
      type: ImageTagChange,
      description:
        'Whenever a tag, in any namespace the caller may read, starts or stops pointing at the image `digest` (its history item 0 becomes, or stops being, that image). With `since`, replays first, as tagChanged does.',
      args: {
        digest: t.arg.string({ required: true, description: 'A full digest: sha256:<64 hex>.' }),
        since: t.arg.string(),
      },
      subscribe: async (_root, args, ctx) => {
        const digest = valueOrGraphQLError(watchedDigest(args.digest));
        const since = await cursorId(ctx, args.since, 'since');
        const scope = await watched(ctx, { allNamespaces: true }, WATCH_TAGS);
        return deliveries(ctx, scope, since, { digest });
      },
      resolve: (value: Delivery, args) => ({ event: delivered(value), digest: args.digest }),
    }),
  }),
});

const TagEventPage = builder
  .objectRef<{ events: StoredEvent[]; hasNextPage: boolean; endCursor: string | null }>(
    'TagEventPage',
  )
  .implement({
    description: 'A page of the tag change log, oldest first.',
    fields: (t) => ({
      events: t.field({ type: [TagChangeEvent], resolve: (p) => p.events }),
      hasNextPage: t.exposeBoolean('hasNextPage'),
      endCursor: t.exposeString('endCursor', {
        nullable: true,
        description: 'Pass as `after` for the next page (or as `since` to subscribe).',
      }),
    }),
  });

const CAUSE_OF = Object.fromEntries(Object.entries(CAUSES).map(([stored, name]) => [name, stored]));

const TagEventFilter = builder.inputType('TagEventFilter', {
  description:
    'Every given condition must hold; a list holds when the event has any of its values ' +
    `(at most ${MAX_EVENT_FILTER_VALUES} each; docs/queries.md).`,
  fields: (t) => ({
    streams: t.stringList(),
    tags: t.stringList(),
    types: t.field({ type: [ChangeType] }),
    causes: t.field({ type: [ChangeCause] }),
    actors: t.stringList({
      description: 'Only changes made by these actor subjects (`Actor.subject`).',
    }),
    occurredAfter: t.field({ type: 'DateTime', description: "The event's time, strictly after." }),
    occurredBefore: t.field({ type: 'DateTime' }),
  }),
});

builder.queryFields((t) => ({
  tagEvents: t.field({
    authScopes: readArgs,
    type: TagEventPage,
    description: 'The tag change log for polling clients: the same events tagChanged delivers.',
    args: {
      namespace: t.arg.string({ required: true }),
      stream: t.arg.string(),
      tag: t.arg.string(),
      filter: t.arg({ type: TagEventFilter }),
      after: t.arg.string(),
      first: t.arg.int({ defaultValue: 50 }),
    },
    resolve: async (_root, args, ctx) => {
      const filter = parseEventFilter(
        args.filter && {
          ...args.filter,
          causes: args.filter.causes?.map((cause) => CAUSE_OF[cause] ?? cause),
        },
      );
      if (!filter.ok) throw validationError(filter.error);
      const first = Math.max(1, Math.min(args.first ?? 50, MAX_PAGE_SIZE));
      const after = (await cursorId(ctx, args.after, 'after')) ?? 0;
      const page = valueOrGraphQLError(
        await listEvents(
          ctx.database.db,
          ctx.access,
          { namespace: args.namespace, stream: args.stream, tag: args.tag, filter: filter.value },
          after,
          first,
        ),
      );
      const last = page.events[page.events.length - 1];
      return {
        events: page.events,
        hasNextPage: page.hasNextPage,
        endCursor: last ? encodeCursor(last.seq) : (args.after ?? null),
      };
    },
  }),
}));
