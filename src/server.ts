// Builds the gateway: yoga over Node's http, graphql-ws and SSE on /graphql, health and metrics.
// The parts live in src/server/; this composes them in start-up order.
import { createServer, type Server } from 'node:http';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { Credentials } from './auth/credentials.ts';
import { RateLimit, warnIfNoOneCanAuthenticate, warnIfOpen } from './auth/http.ts';
import type { Config } from './config.ts';
import { type Database, openDatabase } from './db/client.ts';
import { runMigrations } from './db/migrate.ts';
import { SubscriptionGroups } from './events/groups.ts';
import { EventHub } from './events/hub.ts';
import { createImporter, type Importer } from './importer/importer.ts';
import { secretKeyFor } from './secrets.ts';
import {
  createMetricsRegistry,
  registerDatabaseMetrics,
  registerSubscriptionMetrics,
  registerWebSocketMetrics,
} from './server/gatewayMetrics.ts';
import { serveGraphqlWs } from './server/graphqlWs.ts';
import { gatewayLifecycle, type Lifecycle, startEventTrimming } from './server/lifecycle.ts';
import { persistedDocuments as persistedDocumentsRule } from './server/persistedDocuments.ts';
import { createGatewayYoga, type GatewayYoga } from './server/yoga.ts';
import { tracedListener } from './tracing.ts';
import type { WebhookDispatcher } from './webhooks/dispatcher.ts';
import { startWebhookDelivery } from './webhooks/start.ts';

export interface AppOptions {
  log: Logger;
  /** Use this database instead of opening one from the configuration (tests). */
  database?: Database;
  /** Called with every SQL statement (tests count statements per request). */
  onQuery?: (query: string) => void;
  /** Serve the web UI from this directory instead of dist/web (tests build it elsewhere). */
  webUiDirectory?: string;
}

export interface App extends Lifecycle {
  yoga: GatewayYoga;
  database: Database;
  events: EventHub;
  /** Identical live graphql-ws subscriptions sharing one source (events/groups.ts). */
  subscriptionGroups: SubscriptionGroups;
  importer: Importer;
  /** Webhook delivery of this process; null when TAGRAPH_WEBHOOK_DELIVERY is off. */
  webhooks: WebhookDispatcher | null;
  metrics: Registry;
}

export async function buildApp(config: Config, options: AppOptions): Promise<App> {
  const { log } = options;
  const { metrics, statements } = createMetricsRegistry();

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
  registerDatabaseMetrics(metrics, database);

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
  const webhooks = await startWebhookDelivery(config, database, log, secretKey);
  const stopTrimming = startEventTrimming(database, config, log);
  const subscriptionGroups = new SubscriptionGroups();
  registerSubscriptionMetrics(metrics, hub, subscriptionGroups);

  // Open connections' and streams' credentials, re-checked together (auth/credentials.ts).
  const credentials = new Credentials(database.db, config.credentialCheckIntervalMs);
  // One per-token budget for HTTP requests and graphql-ws operations alike.
  const rateLimit = new RateLimit(config);
  const authLog = log.child({ component: 'auth' });
  warnIfOpen(config, log);
  if (config.egressLoopbackDefault) {
    log.info(
      { egressAllow: config.egressAllow },
      'open mode: imports may reach registries on this machine (127.0.0.1, ::1, any port); setting TAGRAPH_EGRESS_ALLOW replaces this default',
    );
  }
  await warnIfNoOneCanAuthenticate(config, database.db, log);
  const persistedDocuments = persistedDocumentsRule(config, metrics);
  const yoga = createGatewayYoga({
    persistedDocuments,
    config,
    database,
    log,
    authLog,
    metrics,
    hub,
    credentials,
    rateLimit,
    secretKey,
    registryReader: importer.reader,
    webUiDirectory: options.webUiDirectory,
  });

  const httpServer: Server = createServer(tracedListener(yoga));
  const graphqlWs = serveGraphqlWs({
    persistedDocuments,
    httpServer,
    yoga,
    config,
    database,
    log,
    authLog,
    hub,
    subscriptionGroups,
    credentials,
    rateLimit,
  });
  registerWebSocketMetrics(metrics, graphqlWs.wsServer);

  const { start, stop } = gatewayLifecycle({
    config,
    log,
    httpServer,
    graphqlWs,
    yoga,
    database,
    ownsDatabase,
    hub,
    importer,
    credentials,
    metrics,
    stopTrimming,
  });
  const stopAll = async () => {
    await webhooks?.stop();
    await stop();
  };
  return {
    yoga,
    database,
    events: hub,
    subscriptionGroups,
    importer,
    webhooks,
    metrics,
    start,
    stop: stopAll,
  };
}
