// Starting and stopping the gateway: listening, the metrics listener, the events-log trim timer,
// and the shutdown order that lets in-flight work finish.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Credentials } from '../auth/credentials.ts';
import type { Config } from '../config.ts';
import type { Database } from '../db/client.ts';
import type { EventHub } from '../events/hub.ts';
import { trimEvents } from '../events/retention.ts';
import type { Importer } from '../importer/importer.ts';
import { RepeatedFailureLog } from '../log.ts';
import { METRICS_PATH, type MetricsListener, startMetricsListener } from '../metrics.ts';
import type { GraphqlWs } from './graphqlWs.ts';
import { GRAPHQL_PATH } from './routes.ts';
import type { GatewayYoga } from './yoga.ts';

/**
 * Trims the events log past its retention now and every `eventTrimIntervalMs`; a failure is
 * logged (once while it repeats) and the next tick tries again. Returns the stop.
 */
export function startEventTrimming(database: Database, config: Config, log: Logger): () => void {
  const trimFailures = new RepeatedFailureLog(log, 'trimming the events log');
  const trim = () =>
    trimEvents(database, config.eventRetentionMs).then(
      () => trimFailures.succeeded(),
      (error) => trimFailures.failed(error),
    );
  void trim();
  const trimTimer = setInterval(trim, config.eventTrimIntervalMs);
  trimTimer.unref();
  return () => clearInterval(trimTimer);
}

export interface LifecycleParts {
  config: Config;
  log: Logger;
  httpServer: Server;
  graphqlWs: GraphqlWs;
  yoga: GatewayYoga;
  database: Database;
  /** Close the database on stop (it was opened for this app, not handed in). */
  ownsDatabase: boolean;
  hub: EventHub;
  importer: Importer;
  credentials: Credentials;
  metrics: Registry;
  stopTrimming: () => void;
}

export interface Lifecycle {
  /** Listens on the port (0 picks a free one) and resolves with the address. */
  start(port?: number, host?: string): Promise<{ port: number; url: string }>;
  /** Stops accepting, lets in-flight requests finish, closes websockets and the database. */
  stop(): Promise<void>;
}

export function gatewayLifecycle(parts: LifecycleParts): Lifecycle {
  const { config, log, httpServer, graphqlWs, yoga, database, hub, importer, metrics } = parts;
  let stopping: Promise<void> | undefined;
  let metricsListener: MetricsListener | undefined;
  return {
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
        parts.credentials.stop();
        await new Promise<void>((done) => graphqlWs.wsServer.close(() => done()));
        const deadline = setTimeout(
          () => httpServer.closeAllConnections(),
          config.shutdownTimeoutMs,
        );
        if (wasListening) await closed;
        clearTimeout(deadline);
        parts.stopTrimming();
        await importerStopped;
        await hub.stop();
        await yoga.dispose();
        await metricsListener?.close();
        if (parts.ownsDatabase) await database.close();
        log.info('tagraph stopped');
      })();
      return stopping;
    },
  };
}
