// The server process (`npm start`): the gateway, and the import worker unless turned off.
import { DataDirLockedError } from './db/dataDirLock.ts';
import { createLogger } from './log.ts';
import { configFromCommandLine, exitOnSignals } from './process.ts';
import { buildApp } from './server.ts';
import { startTracing } from './tracing.ts';

async function main(): Promise<void> {
  const config = configFromCommandLine();
  const log = createLogger(config.logLevel);
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

main().catch((error) => {
  if (error instanceof DataDirLockedError)
    console.error(`tagraph failed to start: ${error.message}`);
  else console.error('tagraph failed to start:', error);
  process.exit(1);
});
