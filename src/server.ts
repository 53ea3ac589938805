// Builds the gateway: yoga over Node's http, graphql-ws and SSE on /graphql, health and metrics.
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type ExecutionArgs, type execute, GraphQLError, type subscribe } from 'graphql';
import { MessageType } from 'graphql-ws';
import { useServer } from 'graphql-ws/use/ws';
import { createYoga, type Plugin, type YogaServerInstance } from 'graphql-yoga';
import type { Logger } from 'pino';
import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import { WebSocket, WebSocketServer } from 'ws';
import {
  CLOSE_FORBIDDEN,
  CREDENTIAL_ENDED_MESSAGE,
  CREDENTIAL_ENDED_REASON,
  Credentials,
  limitKey,
} from './auth/credentials.ts';
import {
  authenticateHeader,
  authenticationPlugin,
  CLOSE_UNAUTHENTICATED,
  RateLimit,
  rateLimitedError,
  warnIfNoOneCanAuthenticate,
  warnIfOpen,
} from './auth/http.ts';
import { AccessChecker, type Caller, freshRoleLoader, OPEN_CALLER } from './auth/roles.ts';
import type { Config } from './config.ts';
import type { AppContext } from './context.ts';
import { type Database, openDatabase } from './db/client.ts';
import { migrationsApplied, runMigrations } from './db/migrate.ts';
import {
  type Member,
  SubscriptionGroups,
  groupKey as subscriptionGroupKey,
} from './events/groups.ts';
import { CLOSE_TOO_SLOW, EventHub } from './events/hub.ts';
import { trimEvents } from './events/retention.ts';
import { cachedGraphiqlRenderer, graphiqlOptions } from './graphiql.ts';
import { createImporter, type Importer } from './importer/importer.ts';
import { unstorableInputGuard } from './inputs.ts';
import {
  answeringHookFailures,
  maskErrorsExceptUnavailable,
  noIntrospection,
  pageSizeLimit,
  queryCostLimit,
  queryShapeLimits,
  requestBodyLimit,
  typedVariableErrors,
} from './limits.ts';
import { RepeatedFailureLog } from './log.ts';
import {
  METRICS_PATH,
  type MetricsListener,
  metricsEndpoint,
  requestMetrics,
  startMetricsListener,
} from './metrics.ts';
import { registryEventsPlugin } from './push/endpoint.ts';
import { schema } from './schema/index.ts';
import { secretKeyFor } from './secrets.ts';
import { graphqlTracing, tracedListener } from './tracing.ts';

export const GRAPHQL_PATH = '/graphql';

/** WebSocket close code sent to clients when the server shuts down (RFC 6455: going away). */
export const CLOSE_GOING_AWAY = 1001;
/**
 * graphql-ws close code for a connection over its token's connection cap. Retryable: graphql-ws's
 * client reconnects with backoff (about 1, 2, 4… s, five times by default), and a place frees
 * when another connection of the token closes. Not one graphql-ws reserves (see CLOSE_TOO_SLOW).
 */
export const CLOSE_TOO_MANY_CONNECTIONS = 4291;

export interface AppOptions {
  log: Logger;
  /** Use this database instead of opening one from the configuration (tests). */
  database?: Database;
  /** Called with every SQL statement (tests count statements per request). */
  onQuery?: (query: string) => void;
}

export interface App {
  yoga: YogaServerInstance<Record<string, never>, AppContext>;
  database: Database;
  events: EventHub;
  /** Identical live graphql-ws subscriptions sharing one source (events/groups.ts). */
  subscriptionGroups: SubscriptionGroups;
  importer: Importer;
  metrics: Registry;
  /** Listens on the port (0 picks a free one) and resolves with the address. */
  start(port?: number, host?: string): Promise<{ port: number; url: string }>;
  /** Stops accepting, lets in-flight requests finish, closes websockets and the database. */
  stop(): Promise<void>;
}

export async function buildApp(config: Config, options: AppOptions): Promise<App> {
  const { log } = options;
  const metrics = new Registry();
  collectDefaultMetrics({ register: metrics, prefix: 'tagraph_' });
  const statements = new Counter({
    name: 'tagraph_db_statements_total',
    help: 'SQL statements sent to the database.',
    registers: [metrics],
  });

  const ownsDatabase = !options.database;
  const database =
    options.database ??
    (await openDatabase(config.database, {
      onQuery: (query) => {
        statements.inc();
        options.onQuery?.(query);
      },
    }));
  if (ownsDatabase) await runMigrations(database, config.database);

  new Gauge({
    name: 'tagraph_db_pool_size',
    help: 'Connections the database pool may open (1 for embedded PGlite).',
    registers: [metrics],
    collect() {
      this.set(database.poolSize);
    },
  });

  const secretKey = secretKeyFor(config, log);
  const hub = new EventHub(database, log.child({ component: 'events' }), {
    subscriberQueue: config.subscriberQueue,
    maxReplays: config.maxReplays,
    maxReplaysPerReplayer: config.maxReplaysPerToken,
  });
  await hub.start();
  // Always built so tests can drive it; it claims work only when started.
  const importer = createImporter(
    config,
    database,
    log.child({ component: 'importer' }),
    secretKey,
    metrics,
  );
  if (config.importWorker) await importer.start();
  const trimFailures = new RepeatedFailureLog(log, 'trimming the events log');
  const trim = () =>
    trimEvents(database, config.eventRetentionMs).then(
      () => trimFailures.succeeded(),
      (error) => trimFailures.failed(error),
    );
  void trim();
  const trimTimer = setInterval(trim, config.eventTrimIntervalMs);
  trimTimer.unref();
  new Gauge({
    name: 'tagraph_subscribers',
    help: 'Readers of the event hub: SSE subscriptions and graphql-ws sources (shared or not).',
    registers: [metrics],
    collect() {
      this.set(hub.subscriberCount);
    },
  });
  new Gauge({
    name: 'tagraph_replays',
    help: 'Subscriptions with since replaying the events log (capped by TAGRAPH_MAX_REPLAYS).',
    registers: [metrics],
    collect() {
      this.set(hub.replayCount);
    },
  });
  const subscriptionGroups = new SubscriptionGroups();
  new Gauge({
    name: 'tagraph_shared_subscriptions',
    help: 'graphql-ws subscriptions served by a source shared with identical ones.',
    registers: [metrics],
    collect() {
      this.set(subscriptionGroups.memberCount);
    },
  });
  new Counter({
    name: 'tagraph_slow_consumer_cutoffs_total',
    help: `Subscribers cut off as too slow (close code ${CLOSE_TOO_SLOW} / SLOW_CONSUMER; they resume from their cursor): readers of the event log that fell behind it, and graphql-ws members whose socket backed up.`,
    registers: [metrics],
    collect() {
      this.reset();
      this.inc(hub.overflowCount + subscriptionGroups.cutOffCount);
    },
  });

  const requestIds = new WeakMap<Request, string>();
  // Live subscriptions' access re-checks, batched across all of them.
  const freshRoles = freshRoleLoader(database.db);
  // Open connections' and streams' credentials, re-checked together (auth/credentials.ts).
  const credentials = new Credentials(database.db, config.credentialCheckIntervalMs);
  // One per-token budget for HTTP requests and graphql-ws operations alike.
  const rateLimit = new RateLimit(config);
  const callers = new WeakMap<Request, Caller>();
  const authLog = log.child({ component: 'auth' });
  warnIfOpen(config, log);
  if (config.egressLoopbackDefault) {
    log.info(
      { egressAllow: config.egressAllow },
      'open mode: imports may reach registries on this machine (127.0.0.1, ::1, any port); setting TAGRAPH_EGRESS_ALLOW replaces this default',
    );
  }
  await warnIfNoOneCanAuthenticate(config, database.db, log);
  const yoga = createYoga<Record<string, never>, AppContext>({
    schema,
    graphqlEndpoint: GRAPHQL_PATH,
    graphiql: graphiqlOptions(config),
    renderGraphiQL: cachedGraphiqlRenderer(),
    // Enforced by requestBodyLimit below, which skips yoga's per-request stream for bodies whose
    // Content-Length already answers.
    maxRequestBodySize: false,
    landingPage: false,
    maskedErrors: { maskError: maskErrorsExceptUnavailable },
    logging: log.child({ component: 'yoga' }),
    context: (initial) => {
      const { request } = initial;
      const socket = (initial as { socket?: WebSocket }).socket;
      const requestId = (request && requestIds.get(request)) ?? randomUUID();
      // HTTP and SSE: set by the authentication plugin; graphql-ws: by onConnect.
      const caller =
        (request && callers.get(request)) ??
        (initial as { caller?: Caller }).caller ??
        (config.auth.mode === 'open' ? OPEN_CALLER : null);
      if (!caller)
        throw new GraphQLError('authentication required', {
          extensions: { code: 'UNAUTHENTICATED' },
        });
      return {
        database,
        config,
        requestId,
        access: new AccessChecker(database.db, caller, freshRoles),
        events: hub,
        credentials,
        secretKey,
        log: log.child({ requestId }),
        closeConnection: socket ? (code, reason) => socket.close(code, reason) : undefined,
      };
    },
    plugins: answeringHookFailures(
      [
        requestBodyLimit(config.maxBodyBytes),
        pageSizeLimit(),
        queryCostLimit(),
        typedVariableErrors(),
        unstorableInputGuard(),
        ...queryShapeLimits(!config.introspection),
        ...(config.introspection ? [] : [noIntrospection()]),
        healthPlugin(database),
        registryEventsPlugin(database.db, config.pushRegistries, log.child({ component: 'push' })),
        requestIdPlugin(requestIds, log),
        authenticationPlugin(database.db, config, GRAPHQL_PATH, callers, rateLimit, authLog),
        metricsEndpoint(metrics, {
          token: config.metrics.token,
          ownListener: config.metrics.port !== null,
        }),
        requestMetrics(metrics),
        graphqlTracing(),
      ],
      log,
    ),
  });

  const httpServer: Server = createServer(tracedListener(yoga));
  const wsServer = new WebSocketServer({ server: httpServer, path: GRAPHQL_PATH });
  new Gauge({
    name: 'tagraph_websocket_connections',
    help: 'Open graphql-ws connections.',
    registers: [metrics],
    collect() {
      this.set(wsServer.clients.size);
    },
  });
  const wsLog = log.child({ component: 'graphql-ws' });
  // Open graphql-ws connections per token (limitKey), for the per-token cap.
  const connectionsOf = new Map<string, number>();
  const graphqlWs = useServer<
    Record<string, unknown>,
    {
      request: IncomingMessage;
      socket: WebSocket;
      caller?: Caller;
      /** Set while the connection counts against its token's cap. */
      countedAs?: string;
      /** Stops watching the caller's credential (the connection closed). */
      unwatch?: () => void;
    }
  >(
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
        const enveloped = yoga.getEnveloped({
          ...ctx,
          req: ctx.extra.request,
          socket: ctx.extra.socket,
          caller: ctx.extra.caller,
          params,
        });
        const document = enveloped.parse(params.query);
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
          ? subscriptionGroupKey(
              document,
              params.query,
              params.operationName,
              params.variables,
              caller,
            )
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

  let stopping: Promise<void> | undefined;
  let metricsListener: MetricsListener | undefined;
  return {
    yoga,
    database,
    events: hub,
    subscriptionGroups,
    importer,
    metrics,
    start: (port = config.port, host = config.host) =>
      new Promise<{ port: number; url: string }>((resolvePromise, reject) => {
        httpServer.once('error', reject);
        httpServer.listen(port, host, () => {
          const address = httpServer.address() as AddressInfo;
          const url = `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`;
          const graphqlUrl = `${url}${GRAPHQL_PATH}`;
          log.info(
            { url, graphql: graphqlUrl, database: database.kind },
            `tagraph listening on ${graphqlUrl}`,
          );
          resolvePromise({ port: address.port, url });
        });
      }).then(async (listening) => {
        if (config.metrics.port !== null) {
          metricsListener = await startMetricsListener(metrics, {
            ...config.metrics,
            port: config.metrics.port,
            host,
          });
          log.info({ url: `${metricsListener.url}${METRICS_PATH}` }, 'metrics listening');
        }
        return listening;
      }),
    stop: () => {
      stopping ??= (async () => {
        const wasListening = httpServer.listening;
        // In parallel with the requests draining: imports in hand get the same grace period.
        const importerStopped = importer.stop(config.shutdownTimeoutMs);
        const closed = new Promise<void>((done) => httpServer.close(() => done()));
        httpServer.closeIdleConnections();
        // graphql-ws closes each socket with 1001 "Going away" and completes its operations.
        await graphqlWs.dispose();
        credentials.stop();
        await new Promise<void>((done) => wsServer.close(() => done()));
        const deadline = setTimeout(
          () => httpServer.closeAllConnections(),
          config.shutdownTimeoutMs,
        );
        if (wasListening) await closed;
        clearTimeout(deadline);
        clearInterval(trimTimer);
        await importerStopped;
        await hub.stop();
        await yoga.dispose();
        await metricsListener?.close();
        if (ownsDatabase) await database.close();
        log.info('tagraph stopped');
      })();
      return stopping;
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
 * graphql-ws itself would, without its per-subscriber stringify and awaited send (a send
 * callback alone costs ~40 % more CPU per message; the backlog is read from the socket instead).
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

/** Liveness: 200 while the process is alive. */
export const HEALTH_PATH = '/healthz';
/** Readiness: 200 when the database answers and every migration is applied, else 503. */
export const READY_PATH = '/readyz';

/** `/healthz`: the process is alive. `/readyz`: the database answers and is fully migrated. */
function healthPlugin(database: Database): Plugin {
  return {
    async onRequest({ url, endResponse }) {
      if (url.pathname === HEALTH_PATH) {
        endResponse(Response.json({ status: 'ok' }));
      } else if (url.pathname === READY_PATH) {
        const ready = await database
          .ping()
          .then(() => migrationsApplied(database))
          .catch(() => false);
        endResponse(
          Response.json({ status: ready ? 'ready' : 'not ready' }, { status: ready ? 200 : 503 }),
        );
      }
    },
  };
}

/** Gives every request an id (the caller's `x-request-id` when sane), echoes it, logs the result. */
function requestIdPlugin(requestIds: WeakMap<Request, string>, log: Logger): Plugin {
  const started = new WeakMap<Request, number>();
  return {
    onRequest({ request }) {
      const given = request.headers.get('x-request-id');
      requestIds.set(request, given && /^[\w.-]{1,128}$/.test(given) ? given : randomUUID());
      started.set(request, performance.now());
    },
    onResponse({ request, response, serverContext }) {
      const requestId = requestIds.get(request);
      if (requestId) response.headers.set('x-request-id', requestId);
      const start = started.get(request);
      const url = new URL(request.url);
      if (url.pathname === HEALTH_PATH || url.pathname === METRICS_PATH) return;
      void serverContext;
      log.info(
        {
          requestId,
          method: request.method,
          path: url.pathname,
          status: response.status,
          ms: start === undefined ? undefined : Math.round(performance.now() - start),
        },
        'request',
      );
    },
  };
}
