// graphql-ws on /graphql: authentication per connection, the per-token connection cap, each
// operation's rate limit and credential check, and identical subscriptions sharing one source.
import type { IncomingMessage, Server } from 'node:http';
import { type ExecutionArgs, type execute, GraphQLError, type subscribe } from 'graphql';
import { MessageType } from 'graphql-ws';
import { useServer } from 'graphql-ws/use/ws';
import type { Logger } from 'pino';
import { WebSocket, WebSocketServer } from 'ws';
import {
  CLOSE_FORBIDDEN,
  CREDENTIAL_ENDED_MESSAGE,
  CREDENTIAL_ENDED_REASON,
  type Credentials,
  limitKey,
} from '../auth/credentials.ts';
import {
  authenticateHeader,
  CLOSE_UNAUTHENTICATED,
  type RateLimit,
  rateLimitedError,
} from '../auth/http.ts';
import { type Caller, OPEN_CALLER } from '../auth/roles.ts';
import type { Config } from '../config.ts';
import type { AppContext } from '../context.ts';
import type { Database } from '../db/client.ts';
import {
  type Member,
  type SubscriptionGroups,
  groupKey as subscriptionGroupKey,
} from '../events/groups.ts';
import type { EventHub } from '../events/hub.ts';
import type { PersistedDocuments } from './persistedDocuments.ts';
import { GRAPHQL_PATH } from './routes.ts';
import type { GatewayYoga } from './yoga.ts';

/** WebSocket close code sent to clients when the server shuts down (RFC 6455: going away). */
export const CLOSE_GOING_AWAY = 1001;
/**
 * graphql-ws close code for a connection over its token's connection cap. Retryable: graphql-ws's
 * client reconnects with backoff (about 1, 2, 4… s, five times by default), and a place frees
 * when another connection of the token closes. Not one graphql-ws reserves (see CLOSE_TOO_SLOW).
 */
export const CLOSE_TOO_MANY_CONNECTIONS = 4291;

export interface GraphqlWsParts {
  httpServer: Server;
  yoga: GatewayYoga;
  config: Config;
  database: Database;
  log: Logger;
  /** The auth component's logger, shared with the HTTP authentication plugin. */
  authLog: Logger;
  hub: EventHub;
  subscriptionGroups: SubscriptionGroups;
  credentials: Credentials;
  rateLimit: RateLimit;
  /** Which documents run (yoga's parameter hooks, where HTTP applies it, do not run here). */
  persistedDocuments: PersistedDocuments;
}

export interface GraphqlWs {
  wsServer: WebSocketServer;
  /** Closes each socket with 1001 "Going away" and completes its operations. */
  dispose(): Promise<void>;
}

/** What graphql-ws keeps per connection. */
type ConnectionExtra = {
  request: IncomingMessage;
  socket: WebSocket;
  caller?: Caller;
  /** Set while the connection counts against its token's cap. */
  countedAs?: string;
  /** Stops watching the caller's credential (the connection closed). */
  unwatch?: () => void;
};

/** Serves graphql-ws on the HTTP server's GRAPHQL_PATH upgrades. */
export function serveGraphqlWs(parts: GraphqlWsParts): GraphqlWs {
  const { httpServer, yoga, config, database, log, authLog, hub, subscriptionGroups } = parts;
  const { credentials, rateLimit, persistedDocuments } = parts;
  const wsServer = new WebSocketServer({ server: httpServer, path: GRAPHQL_PATH });
  const wsLog = log.child({ component: 'graphql-ws' });
  // Open graphql-ws connections per token (limitKey), for the per-token cap.
  const connectionsOf = new Map<string, number>();
  const graphqlWs = useServer<Record<string, unknown>, ConnectionExtra>(
    {
      execute: (args) => (args.rootValue as EnvelopedRoot).execute(args),
      subscribe: (args) => {
        const root = args.rootValue as EnvelopedRoot;
        if (!root.groupKey) return root.subscribe(args);
        const context = args.contextValue as AppContext;
        const member = {
          position: hub.position,
          queueLimit: config.subscriberQueue,
          ...root.delivery!,
          closeConnection: context.closeConnection,
        };
        // The first member's context serves the group: its hooks reach every member.
        return subscriptionGroups.join(root.groupKey, member, async (hooks) =>
          root.subscribe({ ...args, contextValue: Object.assign(context, hooks) }),
        );
      },
      onConnect: async (ctx) => {
        const params = ctx.connectionParams ?? {};
        const header =
          (typeof params.authorization === 'string' ? params.authorization : null) ??
          (typeof params.Authorization === 'string' ? params.Authorization : null) ??
          ctx.extra.request.headers.authorization;
        const result = await authenticateHeader(database.db, config, header, authLog);
        const { socket } = ctx.extra;
        if (result.ok) {
          if (socket.readyState !== WebSocket.OPEN) return false;
          const key = limitKey(result.caller);
          const open = connectionsOf.get(key) ?? 0;
          if (
            config.auth.mode === 'token' &&
            config.maxConnectionsPerToken > 0 &&
            open >= config.maxConnectionsPerToken
          ) {
            socket.close(
              CLOSE_TOO_MANY_CONNECTIONS,
              `Too many connections: at most ${config.maxConnectionsPerToken} per token`,
            );
            return false;
          }
          connectionsOf.set(key, open + 1);
          ctx.extra.countedAs = key;
          ctx.extra.caller = result.caller;
          // The connection ends with its credential, even while no operation runs.
          ctx.extra.unwatch = credentials.watch(result.caller, () =>
            socket.close(CLOSE_FORBIDDEN, CREDENTIAL_ENDED_REASON),
          );
          return true;
        }
        if (result.reason === 'missing') {
          ctx.extra.socket.close(CLOSE_UNAUTHENTICATED, 'Unauthorized: send a bearer token');
        }
        return false; // graphql-ws closes with 4403 Forbidden
      },
      onClose: (ctx) => {
        ctx.extra.unwatch?.();
        const key = ctx.extra.countedAs;
        if (key === undefined) return;
        ctx.extra.countedAs = undefined;
        const left = (connectionsOf.get(key) ?? 1) - 1;
        if (left > 0) connectionsOf.set(key, left);
        else connectionsOf.delete(key);
      },
      onSubscribe: async (ctx, id, params) => {
        const caller = ctx.extra.caller ?? (config.auth.mode === 'open' ? OPEN_CALLER : null);
        if (caller) {
          // Every operation spends the token's budget and re-checks its credential, as an HTTP
          // request does: a revoked or expired one closes the connection.
          const refused = await rateLimit.consume(caller);
          if (refused) return [rateLimitedError(refused)];
          if (!(await credentials.valid(caller))) {
            const error = new GraphQLError(CREDENTIAL_ENDED_MESSAGE, {
              extensions: { code: 'UNAUTHENTICATED' },
            });
            const { socket } = ctx.extra;
            if (socket.readyState === WebSocket.OPEN) {
              socket.send(
                JSON.stringify({ id, type: MessageType.Error, payload: [error.toJSON()] }),
              );
              socket.close(CLOSE_FORBIDDEN, CREDENTIAL_ENDED_REASON);
            }
            return [error];
          }
        }
        // graphql-ws has registered this operation already: it is one of the count.
        if (Object.keys(ctx.subscriptions).length > config.maxSubscriptionsPerConnection) {
          return [
            new GraphQLError(
              `at most ${config.maxSubscriptionsPerConnection} subscriptions per connection: open another connection`,
              { extensions: { code: 'TOO_MANY_SUBSCRIPTIONS' } },
            ),
          ];
        }
        const query = persistedDocuments.documentFor(params, caller);
        if (query instanceof GraphQLError) return [query];
        const enveloped = yoga.getEnveloped({
          ...ctx,
          req: ctx.extra.request,
          socket: ctx.extra.socket,
          caller: ctx.extra.caller,
          params,
        });
        let document: ReturnType<typeof enveloped.parse>;
        try {
          document = enveloped.parse(query);
        } catch (error) {
          // A syntax error, or a parse-time limit: the operation's error, not the connection's.
          if (!(error instanceof GraphQLError)) throw error;
          if (error.extensions.code) return [error];
          return [
            new GraphQLError(error.message, {
              extensions: { code: 'GRAPHQL_PARSE_FAILED' },
              originalError: error,
            }),
          ];
        }
        const args: ExecutionArgs = {
          schema: enveloped.schema,
          operationName: params.operationName ?? null,
          document,
          variableValues: params.variables ?? null,
          contextValue: await enveloped.contextFactory(),
        };
        const errors = enveloped.validate(args.schema, args.document);
        if (errors.length > 0) return errors;
        const groupKey = caller
          ? subscriptionGroupKey(document, query, params.operationName, params.variables, caller)
          : null;
        args.rootValue = {
          execute: enveloped.execute,
          subscribe: enveloped.subscribe,
          groupKey,
          delivery: groupKey ? nextMessageDelivery(ctx.extra.socket, id) : undefined,
        };
        return args;
      },
      onError: (_ctx, _id, _payload, errors) => {
        wsLog.warn({ errors: errors.map((e) => e.message) }, 'graphql-ws operation failed');
      },
    },
    wsServer,
  );
  return {
    wsServer,
    dispose: async () => {
      await graphqlWs.dispose();
    },
  };
}

/** yoga's enveloped execute/subscribe, carried to graphql-ws through rootValue (yoga's recipe). */
interface EnvelopedRoot {
  execute: typeof execute;
  subscribe: typeof subscribe;
  /** Set when identical live subscriptions may share one execution (events/groups.ts). */
  groupKey?: string | null;
  /** How the group sends this subscription a serialized result. */
  delivery?: Pick<Member, 'write' | 'backlog'>;
}

/**
 * Sends a serialized execution result as graphql-ws's `next` message for subscription `id`, as
 * graphql-ws itself would, without its per-subscriber stringify and awaited send: a send callback
 * per member is much of the CPU of a fan-out, so the backlog is read from the socket instead.
 */
function nextMessageDelivery(socket: WebSocket, id: string): Pick<Member, 'write' | 'backlog'> {
  const prefix = `{"id":${JSON.stringify(id)},"type":"${MessageType.Next}","payload":`;
  return {
    write: (payload) => {
      if (socket.readyState === WebSocket.OPEN) socket.send(`${prefix}${payload}}`);
    },
    backlog: () => socket.bufferedAmount,
  };
}
