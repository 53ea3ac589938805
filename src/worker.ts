// `npm run worker`: the import worker, scheduler and webhook delivery alone, beside gateways on one Postgres.
import { collectDefaultMetrics, Registry } from 'prom-client';
import type { Config } from './config.ts';
import { openDatabase } from './db/client.ts';
import { runMigrations } from './db/migrate.ts';
import { createImporter } from './importer/importer.ts';
import { createProcessLogger } from './log.ts';
import { METRICS_PATH, startMetricsListener } from './metrics.ts';
import { configFromCommandLine, exitOnSignals, exitOnStartupFailure } from './process.ts';
import { secretKeyFor } from './secrets.ts';
import { startTracing } from './tracing.ts';
import { startWebhookDelivery } from './webhooks/start.ts';

let config: Config | null = null;

async function main(): Promise<void> {
  config = configFromCommandLine('worker');
  if (config.database.kind !== 'postgres') {
    console.error(
      'tagraph worker: DATABASE_URL is required; the embedded database belongs to one process, and `npm start` already runs a worker in it',
    );
    process.exit(2);
  }
  const log = await createProcessLogger(config.logLevel, config.logFormat);
  const tracing = await startTracing(config.tracing, log);
  const database = await openDatabase(config.database);
  await runMigrations(database, config.database);
  // The worker has no public listener: its metrics (imports, registry requests, the queue) are
  // served only on TAGRAPH_METRICS_PORT.
  const metrics = new Registry();
  collectDefaultMetrics({ register: metrics, prefix: 'tagraph_' });
  const importer = createImporter(config, database, log, secretKeyFor(config, log), metrics);
  await importer.start();
  const webhooks = await startWebhookDelivery(config, database, log, secretKeyFor(config, log));
  const listener =
    config.metrics.port === null
      ? null
      : await startMetricsListener(metrics, {
          port: config.metrics.port,
          host: config.host,
          token: config.metrics.token,
        });
  if (listener) log.info({ url: `${listener.url}${METRICS_PATH}` }, 'metrics listening');
  exitOnSignals(log, async () => {
    await listener?.close();
    await importer.stop(config!.shutdownTimeoutMs);
    await webhooks?.stop();
    await database.close();
    await tracing?.shutdown();
    log.info('tagraph worker stopped');
  });
}

main().catch((error) => exitOnStartupFailure(error, config, 'tagraph worker'));
