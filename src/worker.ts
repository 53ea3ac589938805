// `npm run worker`: the import worker and scheduler alone, beside gateways on one Postgres.
import type { Config } from './config.ts';
import { openDatabase } from './db/client.ts';
import { runMigrations } from './db/migrate.ts';
import { createImporter } from './importer/importer.ts';
import { createProcessLogger } from './log.ts';
import { configFromCommandLine, exitOnSignals, exitOnStartupFailure } from './process.ts';
import { secretKeyFor } from './secrets.ts';

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
  const database = await openDatabase(config.database);
  await runMigrations(database, config.database);
  const importer = createImporter(config, database, log, secretKeyFor(config, log));
  await importer.start();
  exitOnSignals(log, async () => {
    await importer.stop(config!.shutdownTimeoutMs);
    await database.close();
    log.info('tagraph worker stopped');
  });
}

main().catch((error) => exitOnStartupFailure(error, config, 'tagraph worker'));
