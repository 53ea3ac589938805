// What the entry points share: configuration from flags and env, and a graceful exit on signals.
import { parseArgs } from 'node:util';
import type { Logger } from 'pino';
import { type Config, ConfigError, loadConfig } from './config.ts';

/** Command-line flags override the environment variable of the same meaning. */
const FLAGS = {
  port: 'TAGRAPH_PORT',
  host: 'TAGRAPH_HOST',
  'database-url': 'DATABASE_URL',
  'data-dir': 'TAGRAPH_DATA_DIR',
  'log-level': 'TAGRAPH_LOG_LEVEL',
  concurrency: 'TAGRAPH_IMPORT_CONCURRENCY',
} as const;

/** Reads flags and environment; prints the problem and exits 2 when the configuration is bad. */
export function configFromCommandLine(): Config {
  const env: Record<string, string | undefined> = { ...process.env };
  try {
    const { values } = parseArgs({
      options: Object.fromEntries(
        Object.keys(FLAGS).map((flag) => [flag, { type: 'string' as const }]),
      ),
    });
    for (const [flag, variable] of Object.entries(FLAGS)) {
      const value = values[flag];
      if (typeof value === 'string') env[variable] = value;
    }
    return loadConfig(env);
  } catch (error) {
    const known =
      error instanceof ConfigError ||
      (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
    if (!known) throw error;
    console.error(`tagraph: ${(error as Error).message}`);
    process.exit(2);
  }
}

/** On SIGTERM or SIGINT: run `stop` once and exit 0, or 1 if it fails or takes over 10 s. */
export function exitOnSignals(log: Logger, stop: () => Promise<void>): void {
  let signalled = false;
  const shutdown = (signal: string) => {
    if (signalled) return;
    signalled = true;
    log.info({ signal }, 'shutting down');
    setTimeout(() => {
      log.error('shutdown took too long; exiting');
      process.exit(1);
    }, 10_000).unref();
    stop().then(
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
