// Opens the database: Postgres through postgres.js, or embedded PGlite — one drizzle API for both.
import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { sql } from 'drizzle-orm';
import type { PgAsyncDatabase } from 'drizzle-orm/pg-core/async/db';
import type { PgQueryResultHKT } from 'drizzle-orm/pg-core/session';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import { relations } from './relations.ts';

export type Db = PgAsyncDatabase<PgQueryResultHKT, typeof relations>;
/** A transaction handle: the same query API as `Db`. */
export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];

export type DatabaseTarget =
  | { kind: 'postgres'; url: string; poolSize: number }
  | { kind: 'pglite'; dataDir: string };

export interface DatabaseOptions {
  /** Called for every SQL statement drizzle runs (metrics; tests count statements with it). */
  onQuery?: (query: string) => void;
}

export interface Database {
  kind: DatabaseTarget['kind'];
  db: Db;
  /** Runs several statements separated by `;` (drizzle's `execute` takes only one). */
  exec(text: string): Promise<void>;
  /** Subscribes to a NOTIFY channel; the returned function unsubscribes. */
  listen(channel: string, onMessage: (payload: string) => void): Promise<() => Promise<void>>;
  ping(): Promise<void>;
  /** The pool's configured size (1 for PGlite, which has a single connection). */
  poolSize: number;
  close(): Promise<void>;
}

export async function openDatabase(
  target: DatabaseTarget,
  options: DatabaseOptions = {},
): Promise<Database> {
  const logger = options.onQuery
    ? { logQuery: (query: string) => options.onQuery?.(query) }
    : undefined;
  return target.kind === 'postgres'
    ? openPostgres(target.url, target.poolSize, logger)
    : openPglite(target.dataDir, logger);
}

type Logger = { logQuery: (query: string) => void } | undefined;

function openPostgres(url: string, poolSize: number, logger: Logger): Database {
  const client = postgres(url, {
    max: poolSize,
    onnotice: () => {},
    connection: { application_name: 'tagraph' },
  });
  const db = drizzlePostgres({ client: preparing(client), relations, logger }) as unknown as Db;
  return {
    kind: 'postgres',
    db,
    poolSize,
    exec: async (text) => {
      await client.unsafe(text);
    },
    listen: async (channel, onMessage) => {
      const { unlisten } = await client.listen(channel, onMessage);
      return unlisten;
    },
    ping: async () => {
      await client`select 1`;
    },
    close: async () => {
      await client.end({ timeout: 5 });
    },
  };
}

type Sql = postgres.Sql;

/**
 * The client drizzle gets: every statement as a named prepared statement, which postgres.js then
 * parses and plans once per connection (cached by its text). drizzle asks for unnamed ones, so
 * each statement was parsed and planned anew: ~0.3 ms instead of ~0.13 ms a round trip here
 * (bench/RESULTS.md, scenario 4). Transactions and savepoints hand out clients of their own,
 * which are wrapped the same way. Only drizzle's single statements come through here; `exec`
 * (several statements in one string) uses the plain client.
 */
function preparing(client: Sql): Sql {
  return new Proxy(client, {
    get(target, property, receiver) {
      if (property === 'unsafe') {
        return (query: string, params?: unknown[], options?: object) =>
          target.unsafe(query, params as never, { ...options, prepare: true });
      }
      if (property === 'begin' || property === 'savepoint') {
        return (...args: unknown[]) => {
          const body = args.pop() as (inner: Sql) => unknown;
          const open = Reflect.get(target, property, receiver) as (...a: unknown[]) => unknown;
          return open.call(target, ...args, (inner: Sql) => body(preparing(inner)));
        };
      }
      return Reflect.get(target, property, receiver);
    },
  });
}

async function openPglite(dataDir: string, logger: Logger): Promise<Database> {
  if (dataDir !== 'memory') mkdirSync(dataDir, { recursive: true });
  const client = new PGlite(dataDir === 'memory' ? 'memory://' : dataDir);
  await client.waitReady;
  const db = drizzlePglite({ client, relations, logger }) as unknown as Db;
  return {
    kind: 'pglite',
    db,
    poolSize: 1,
    exec: async (text) => {
      await client.exec(text);
    },
    listen: (channel, onMessage) => client.listen(channel, onMessage),
    ping: async () => {
      await db.execute(sql`select 1`);
    },
    close: async () => {
      if (!client.closed) await client.close();
    },
  };
}

/** Rows of a raw `execute`: drizzle returns an array on postgres.js and `{ rows }` on PGlite. */
export function rowsOf<T>(result: unknown): T[] {
  if (Array.isArray(result)) return result as T[];
  return ((result as { rows?: T[] }).rows ?? []) as T[];
}
