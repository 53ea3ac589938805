// Throwaway Postgres databases for one scenario: created and migrated at start, dropped after.
import postgres from 'postgres';
import { openDatabase } from '../../src/db/client.ts';
import { runMigrations } from '../../src/db/migrate.ts';

/** The server the benchmarks use; override with TAGRAPH_BENCH_PG (a URL without a database). */
export const PG_SERVER = process.env.TAGRAPH_BENCH_PG ?? 'postgres://postgres@127.0.0.1:5432';

export interface BenchDatabase {
  name: string;
  url: string;
  /** A small postgres.js pool on the database, for seeding and checks. */
  sql: postgres.Sql;
  drop(): Promise<void>;
}

async function admin<T>(fn: (sql: postgres.Sql) => Promise<T>): Promise<T> {
  const sql = postgres(`${PG_SERVER}/postgres`, { max: 1, onnotice: () => {} });
  try {
    return await fn(sql);
  } finally {
    await sql.end({ timeout: 5 });
  }
}

/** Creates `tagraph_bench_<scenario>` (dropping a leftover one) and applies the migrations. */
export async function createBenchDatabase(scenario: string): Promise<BenchDatabase> {
  const name = `tagraph_bench_${scenario}`;
  await admin(async (sql) => {
    await sql.unsafe(`drop database if exists ${name} with (force)`);
    await sql.unsafe(`create database ${name}`);
  });
  const url = `${PG_SERVER}/${name}`;
  const target = { kind: 'postgres' as const, url, poolSize: 1 };
  const database = await openDatabase(target);
  try {
    await runMigrations(database, target);
  } finally {
    await database.close();
  }
  const sql = postgres(url, { max: 4, onnotice: () => {} });
  let dropped = false;
  const drop = async () => {
    if (dropped) return;
    dropped = true;
    await sql.end({ timeout: 5 });
    await admin((a) => a.unsafe(`drop database if exists ${name} with (force)`));
  };
  return { name, url, sql, drop };
}
