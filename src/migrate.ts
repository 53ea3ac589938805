// `npm run migrate`: applies the committed migrations to the configured database and exits.
import { loadConfig } from './config.ts';
import { openDatabase } from './db/client.ts';
import { runMigrations } from './db/migrate.ts';

const config = loadConfig();
const database = await openDatabase(config.database);
try {
  await runMigrations(database, config.database);
  console.log(`migrations applied (${config.database.kind})`);
} finally {
  await database.close();
}
