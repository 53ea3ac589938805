// Applies the committed drizzle migrations, and tells whether a database has all of them.
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { readMigrationFiles } from 'drizzle-orm/migrator';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import { migrate as migratePostgres } from 'drizzle-orm/postgres-js/migrator';
import postgres from 'postgres';
import { packageRoot } from '../packageRoot.ts';
import { type Database, type DatabaseTarget, rowsOf } from './client.ts';
import { relations } from './relations.ts';

/** The committed migrations, shipped beside the code in every install. */
export const migrationsFolder = join(packageRoot, 'drizzle');

/** Any fixed number: every gateway and worker that starts at once takes the same lock. */
const MIGRATION_LOCK_KEY = 7_242_001;

/**
 * Brings the database up to date. On Postgres several processes may start together, so the
 * migration runs on a single dedicated connection holding a session advisory lock; the others
 * wait, then find nothing left to apply.
 */
export async function runMigrations(database: Database, target: DatabaseTarget): Promise<void> {
  if (target.kind === 'pglite') {
    // biome-ignore lint/suspicious/noExplicitAny: drizzle's driver-specific type for the same db
    await migratePglite(database.db as any, { migrationsFolder });
    return;
  }
  const client = postgres(target.url, { max: 1, onnotice: () => {} });
  try {
    await client`select pg_advisory_lock(${MIGRATION_LOCK_KEY})`;
    await migratePostgres(drizzlePostgres({ client, relations }), { migrationsFolder });
  } finally {
    await client`select pg_advisory_unlock(${MIGRATION_LOCK_KEY})`.catch(() => {});
    await client.end({ timeout: 5 });
  }
}

/** True when every committed migration is recorded as applied in the database. */
export async function migrationsApplied(database: Database): Promise<boolean> {
  const expected = readMigrationFiles({ migrationsFolder }).map((m) => m.hash);
  try {
    const rows = await database.db.execute(sql`select hash from drizzle.__drizzle_migrations`);
    const applied = new Set(rowsOf<{ hash: string }>(rows).map((r) => r.hash));
    return expected.every((hash) => applied.has(hash));
  } catch {
    return false;
  }
}
