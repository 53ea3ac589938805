// `npm run worker`: the import worker and scheduler alone, beside gateways on one Postgres.
import { openDatabase } from './db/client.ts';
import { runMigrations } from './db/migrate.ts';
import { createImporter } from './importer/importer.ts';
import { createLogger } from './log.ts';
import { configFromCommandLine, exitOnSignals } from './process.ts';
import { secretKeyFor } from './secrets.ts';

async function main(): Promise<void> {
  const config = configFromCommandLine();
  if (config.database.kind !== 'postgres') {
    console.error(
      'tagraph worker: DATABASE_URL is required; the embedded database belongs to one process, and `npm start` already runs a worker in it',
    );
    process.exit(2);
  }
  const log = createLogger(config.logLevel);
  const database = await openDatabase(config.database);
  await runMigrations(database, config.database);
  const importer = createImporter(config, database, log, secretKeyFor(config));
  await importer.start();
  exitOnSignals(log, async () => {
    await importer.stop(config.shutdownTimeoutMs);
    await database.close();
    log.info('tagraph worker stopped');
  });
}

main().catch((error) => {
  console.error('tagraph worker failed to start:', error);
  process.exit(1);
});
