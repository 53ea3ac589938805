// The yoga instance: the schema, each operation's context (caller, access, request id), and the
// plugin chain of limits, health, push notifications, authentication, metrics and tracing.
import { randomUUID } from 'node:crypto';
import { useDeferStream } from '@graphql-yoga/plugin-defer-stream';
import { GraphQLError } from 'graphql';
import { createYoga, type Plugin, type YogaServerInstance } from 'graphql-yoga';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { WebSocket } from 'ws';
import type { Credentials } from '../auth/credentials.ts';
import { authenticationPlugin, type RateLimit } from '../auth/http.ts';
import {
  AccessChecker,
  type Caller,
  freshReadableLoader,
  freshRoleLoader,
  OPEN_CALLER,
} from '../auth/roles.ts';
import type { Config } from '../config.ts';
import type { AppContext } from '../context.ts';
import type { Database } from '../db/client.ts';
import type { StoredActor } from '../domain/actors.ts';
import { actingAs } from '../events/append.ts';
import type { EventHub } from '../events/hub.ts';
import { cachedGraphiqlRenderer, graphiqlOptions } from '../graphiql.ts';
import { unstorableInputGuard } from '../inputs.ts';
import {
  answeringHookFailures,
  maskErrorsExceptUnavailable,
  noIncrementalSubscriptions,
  noIntrospection,
  pageSizeLimit,
  queryCostLimit,
  queryShapeLimits,
  requestBodyLimit,
  typedVariableErrors,
} from '../limits.ts';
import {
  answeredWithoutExecution,
  metricsEndpoint,
  OperationNameLabels,
  requestMetrics,
} from '../metrics.ts';
import { registryEventsPlugin } from '../push/endpoint.ts';
import { receiversPlugin } from '../push/receivers.ts';
import { subgraphSchema } from '../schema/federation.ts';
import { schema } from '../schema/index.ts';
import { graphqlTracing } from '../tracing.ts';
import { compiledReads } from './compiledReads/plugin.ts';
import type { PersistedDocuments } from './persistedDocuments.ts';
import { GRAPHQL_PATH, healthPlugin, requestIdPlugin } from './routes.ts';
import { webUiPlugin } from './webUi.ts';

export type GatewayYoga = YogaServerInstance<Record<string, never>, AppContext>;

export interface YogaParts {
  config: Config;
  database: Database;
  log: Logger;
  /** The auth component's logger, shared with graphql-ws's authentication. */
  authLog: Logger;
  metrics: Registry;
  hub: EventHub;
  credentials: Credentials;
  rateLimit: RateLimit;
  secretKey: AppContext['secretKey'];
  registryReader: AppContext['registryReader'];
  /** Which documents run: trusted documents only, or any with APQ (shared with graphql-ws). */
  persistedDocuments: PersistedDocuments;
  /** Where the web UI's files are (default dist/web); unused when `config.webUi` is off. */
  webUiDirectory?: string | undefined;
}

export function createGatewayYoga(parts: YogaParts): GatewayYoga {
  const { config, database, log, authLog, metrics, hub, credentials, rateLimit, secretKey } = parts;
  const { persistedDocuments, registryReader } = parts;
  const requestIds = new WeakMap<Request, string>();
  // Live subscriptions' access re-checks, batched across all of them.
  const freshRoles = freshRoleLoader(database.db);
  const freshReadable = freshReadableLoader(database.db);
  const callers = new WeakMap<Request, Caller>();
  // One bounded set of operation-name labels for both paths that answer queries.
  const operationNames = new OperationNameLabels();
  return createYoga<Record<string, never>, AppContext>({
    schema: config.federation ? subgraphSchema() : schema,
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
        access: new AccessChecker(database.db, caller, freshRoles, freshReadable),
        events: hub,
        credentials,
        secretKey,
        registryReader,
        log: log.child({ requestId }),
        closeConnection: socket ? (code, reason) => socket.close(code, reason) : undefined,
      };
    },
    plugins: answeringHookFailures(
      [
        // First: the plugins after it read the document it resolves from a hash.
        ...persistedDocuments.plugins(
          (request) => callers.get(request) ?? (config.auth.mode === 'open' ? OPEN_CALLER : null),
        ),
        requestBodyLimit(config.maxBodyBytes),
        // @defer and @stream's validation (the directives are in the schema already).
        useDeferStream(),
        noIncrementalSubscriptions(),
        pageSizeLimit(),
        queryCostLimit(),
        typedVariableErrors(),
        unstorableInputGuard(),
        ...queryShapeLimits(!config.introspection),
        ...(config.introspection ? [] : [noIntrospection()]),
        healthPlugin(database),
        ...(config.webUi
          ? [webUiPlugin(config.auth.mode, parts.webUiDirectory, config.trustedDocuments !== null)]
          : []),
        registryEventsPlugin(database.db, config.pushRegistries, log.child({ component: 'push' })),
        requestIdPlugin(requestIds, log),
        receiversPlugin(database.db, secretKey, requestIds, log.child({ component: 'receivers' })),
        authenticationPlugin(database.db, config, GRAPHQL_PATH, callers, rateLimit, authLog),
        metricsEndpoint(metrics, {
          token: config.metrics.token,
          ownListener: config.metrics.port !== null,
        }),
        requestMetrics(metrics, operationNames),
        graphqlTracing(),
        actingCaller(),
        // Last: its onParams runs after authentication and after the persisted-document rule
        // (trusted documents or APQ) has resolved the document and refused what may not run.
        ...(config.compiledReads
          ? [
              compiledReads({
                db: database.db,
                callerOf: (request) =>
                  callers.get(request) ?? (config.auth.mode === 'open' ? OPEN_CALLER : null),
                registryHost: config.registryHost,
                metrics,
                onAnswered: answeredWithoutExecution(metrics, operationNames),
              }),
            ]
          : []),
      ],
      log,
    ),
  });
}

/** The author of what an operation writes: its caller, through the API, in this request. */
export function callerActor(caller: Caller, requestId: string): StoredActor {
  return {
    kind: caller.tokenId !== null ? 'TOKEN' : 'USER',
    subject: caller.subject,
    tokenId: caller.tokenId,
    source: 'api',
    requestId,
  };
}

/** Runs each operation as its caller (events/append.ts `actingAs`), over HTTP and graphql-ws alike. */
function actingCaller(): Plugin {
  return {
    onExecute({ executeFn, setExecuteFn }) {
      setExecuteFn((args) => {
        const context = args.contextValue as AppContext;
        return actingAs(callerActor(context.access.caller, context.requestId), () =>
          executeFn(args),
        );
      });
    },
  };
}
