// The server process: configuration, the app, and a graceful exit on SIGTERM / SIGINT.
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from './config.ts';
import { createLogger } from './log.ts';
import { buildApp } from './server.ts';

/** Command-line flags override the environment variable of the same meaning. */
const FLAGS = {
  port: 'TAGRAPH_PORT',
  host: 'TAGRAPH_HOST',
  'database-url': 'DATABASE_URL',
  'data-dir': 'TAGRAPH_DATA_DIR',
  'log-level': 'TAGRAPH_LOG_LEVEL',
} as const;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: Object.fromEntries(
      Object.keys(FLAGS).map((flag) => [flag, { type: 'string' as const }]),
    ),
  });
  const env: Record<string, string | undefined> = { ...process.env };
  for (const [flag, variable] of Object.entries(FLAGS)) {
    const value = values[flag];
    if (typeof value === 'string') env[variable] = value;
  }

  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`tagraph: ${error.message}`);
      process.exit(2);
    }
    throw error;
  }
  const log = createLogger(config.logLevel);
  if (config.database.kind === 'pglite') {
    log.info({ dataDir: config.database.dataDir }, 'no DATABASE_URL: using embedded PGlite');
  }
  const app = await buildApp(config, { log });
  await app.start();

  let signalled = false;
  const shutdown = (signal: string) => {
    if (signalled) return;
    signalled = true;
    log.info({ signal }, 'shutting down');
    // Exit within 10 s whatever happens (the shutdown timeout for requests is below that).
    setTimeout(() => {
      log.error('shutdown took too long; exiting');
      process.exit(1);
    }, 10_000).unref();
    app.stop().then(
      () => process.exit(0),
      (error) => {
        log.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

main().catch((error) => {
  console.error('tagraph failed to start:', error);
  process.exit(1);
});
