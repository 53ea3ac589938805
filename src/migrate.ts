// `npm run migrate`: applies the committed migrations to the configured database and exits.
import { openDatabase } from './db/client.ts';
import { runMigrations } from './db/migrate.ts';
import { configFromCommandLine, exitOnStartupFailure } from './process.ts';

const config = configFromCommandLine('migrate');
try {
  const database = await openDatabase(config.database);
  try {
    await runMigrations(database, config.database);
    console.log(`migrations applied (${config.database.kind})`);
  } finally {
    await database.close();
  }
} catch (error) {
  exitOnStartupFailure(error, config, 'tagraph migrate');
}
