// The server process (`npm start`): the gateway, and the import worker unless turned off.
import type { Config } from './config.ts';
import { createProcessLogger } from './log.ts';
import {
  checkListenable,
  configFromCommandLine,
  exitOnSignals,
  exitOnStartupFailure,
} from './process.ts';
import { buildApp } from './server.ts';
import { startTracing } from './tracing.ts';

let config: Config | null = null;

async function main(): Promise<void> {
  config = configFromCommandLine('gateway');
  // A port in use is one line now, not a stack trace after the database and importer opened.
  await checkListenable(config);
  const log = await createProcessLogger(config.logLevel, config.logFormat);
  if (config.database.kind === 'pglite') {
    log.info({ dataDir: config.database.dataDir }, 'no DATABASE_URL: using embedded PGlite');
  }
  // Before the app: its HTTP listener and hooks are traced only if tracing is on when it is built.
  const tracing = await startTracing(config.tracing, log);
  const app = await buildApp(config, { log });
  await app.start();
  exitOnSignals(log, async () => {
    await app.stop();
    await tracing?.shutdown();
  });
}

main().catch((error) => exitOnStartupFailure(error, config, 'tagraph'));
