// Change events: tagChanged / imageStreamChanged subscriptions and the tagEvents polling query.

import { GraphQLError } from 'graphql';
import {
  CLOSE_FORBIDDEN,
  CREDENTIAL_ENDED_MESSAGE,
  CREDENTIAL_ENDED_REASON,
  limitKey,
} from '../auth/credentials.ts';
import { builder, MAX_PAGE_SIZE } from '../builder.ts';
import type { AppContext } from '../context.ts';
import { decodeCursor, encodeCursor } from '../events/cursor.ts';
import {
  CLOSE_TOO_SLOW,
  type EventFilter,
  SlowConsumerError,
  type StoredEvent,
  slowConsumerError,
  TOO_SLOW_REASON,
  TooManyReplaysError,
} from '../events/hub.ts';
import { logBounds } from '../events/retention.ts';
import { listEvents } from '../services/events.ts';
import { readArgs, valueOrGraphQLError } from './access.ts';

const ChangeType = builder.enumType('ChangeType', {
  values: ['ADDED', 'UPDATED', 'DELETED'] as const,
});

const CAUSES = {
  tag: 'TAG',
  import: 'IMPORT',
  'scheduled-import': 'SCHEDULED_IMPORT',
  push: 'PUSH',
  rollback: 'ROLLBACK',
  tracking: 'TRACKING',
  policy: 'POLICY',
  delete: 'DELETE',
  create: 'CREATE',
  update: 'UPDATE',
} as const;

const ChangeCause = builder.enumType('ChangeCause', {
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
    importFailure: t.field({
      type: ImportFailure,
      nullable: true,
      description: 'Set when an import of the tag failed (its history did not change).',
      resolve: (e) => (e.payload.importFailure as Failure | null | undefined) ?? null,
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
const CREDENTIAL_ENDED = Symbol('credential ended');
type Delivery =
  | StoredEvent
  | { [TOO_SLOW]: number }
  | { [REVOKED]: string }
  | { [CREDENTIAL_ENDED]: true };

/**
 * How often a live subscription re-reads, at delivery, that its caller may still read the
 * namespace and that its API token was not revoked (a JWT's expiry is compared at every one).
 */
const ACCESS_RECHECK_MS = 2000;

/**
 * Events from the hub; a subscriber cut off as too slow gets one last result carrying the
 * SLOW_CONSUMER error and its resume cursor (a graphql-ws socket is also closed with CLOSE_TOO_SLOW).
 * When the caller's credential ends (token revoked, JWT expired) — seen at a delivery, or by the
 * credential watch while the stream is idle — a graphql-ws connection is closed with 4403 and
 * an SSE stream gets one last UNAUTHENTICATED result, then ends.
 * Not an async generator: `return()` must reach the hub at once when a client goes away, even
 * while waiting for the next event.
 */
function deliveries(
  ctx: AppContext,
  filter: EventFilter,
  since: number | null,
): AsyncIterableIterator<Delivery> {
  const caller = ctx.access.caller;
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
  const endCredential = () => {
    if (ended || credentialEnded) return;
    credentialEnded = true;
    unwatch();
    ctx.closeConnection?.(CLOSE_FORBIDDEN, CREDENTIAL_ENDED_REASON);
    // Wakes a next() waiting for an event; it then yields the last result.
    void source.return?.();
  };
  const unwatchCredential = ctx.credentials.watch(caller, endCredential);
  // While idle too: a revoked grant ends the stream within TAGRAPH_CREDENTIAL_CHECK_SECONDS.
  let grantRevoked = false;
  const unwatchGrant = ctx.credentials.watchGrant(
    () => ctx.access.canNow('image-puller', filter.namespace),
    () => {
      if (ended || credentialEnded) return;
      grantRevoked = true;
      // Wakes a next() waiting for an event; it then yields the FORBIDDEN result.
      void source.return?.();
    },
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
    return { done: false, value: { [REVOKED]: filter.namespace } };
  };
  const lastResult = async (): Promise<IteratorResult<Delivery>> => {
    await stop();
    return { done: false, value: { [CREDENTIAL_ENDED]: true } };
  };
  const iterator: AsyncIterableIterator<Delivery> = {
    next: async () => {
      if (ended) return { done: true, value: undefined };
      if (credentialEnded) return lastResult();
      if (grantRevoked) return revokedResult();
      try {
        const result = await source.next();
        if (credentialEnded) return lastResult();
        if (grantRevoked) return revokedResult();
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
          const [valid, readable] = await Promise.all([
            ctx.credentials.valid(caller),
            ctx.access.canNow('image-puller', filter.namespace),
          ]);
          if (!valid) {
            endCredential();
            return lastResult();
          }
          if (!readable) {
            await stop();
            return { done: false, value: { [REVOKED]: filter.namespace } };
          }
        }
        ctx.onDelivered?.(result.value.seq);
        return result;
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
    throw new GraphQLError(`forbidden: access to namespace ${value[REVOKED]} was revoked`, {
      extensions: { code: 'FORBIDDEN' },
    });
  }
  if (TOO_SLOW in value) throw slowConsumerError(value[TOO_SLOW]);
  return value;
}

builder.subscriptionType({
  fields: (t) => ({
    tagChanged: t.field({
      authScopes: readArgs,
      type: TagChangeEvent,
      description:
        'Tag changes in a namespace (narrowed to a stream and tag). With `since`, replays every change after that cursor first, then goes live with no gap.',
      args: {
        namespace: t.arg.string({ required: true }),
        stream: t.arg.string(),
        tag: t.arg.string(),
        since: t.arg.string(),
      },
      subscribe: async (_root, args, ctx) =>
        deliveries(
          ctx,
          { namespace: args.namespace, stream: args.stream, tag: args.tag },
          await cursorId(ctx, args.since, 'since'),
        ),
      resolve: (value: Delivery) => delivered(value),
    }),
    imageStreamChanged: t.field({
      authScopes: readArgs,
      type: ImageStreamChangeEvent,
      description: 'Stream-level changes: created, deleted, labels, annotations, lookup policy.',
      args: {
        namespace: t.arg.string({ required: true }),
        name: t.arg.string(),
        since: t.arg.string(),
      },
      subscribe: async (_root, args, ctx) =>
        deliveries(
          ctx,
          { namespace: args.namespace, stream: args.name, streamLevel: true },
          await cursorId(ctx, args.since, 'since'),
        ),
      resolve: (value: Delivery) => delivered(value),
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

builder.queryFields((t) => ({
  tagEvents: t.field({
    authScopes: readArgs,
    type: TagEventPage,
    description: 'The tag change log for polling clients: the same events tagChanged delivers.',
    args: {
      namespace: t.arg.string({ required: true }),
      stream: t.arg.string(),
      tag: t.arg.string(),
      after: t.arg.string(),
      first: t.arg.int({ defaultValue: 50 }),
    },
    resolve: async (_root, args, ctx) => {
      const first = Math.max(1, Math.min(args.first ?? 50, MAX_PAGE_SIZE));
      const after = (await cursorId(ctx, args.after, 'after')) ?? 0;
      const page = valueOrGraphQLError(
        await listEvents(
          ctx.database.db,
          ctx.access,
          { namespace: args.namespace, stream: args.stream, tag: args.tag },
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
