// Opens the database: Postgres through postgres.js, or embedded PGlite — one drizzle API for both.
import { mkdirSync } from 'node:fs';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { PGlite, type QueryOptions, type Transaction } from '@electric-sql/pglite';
import { DrizzleQueryError, sql } from 'drizzle-orm';
import type { PgAsyncDatabase } from 'drizzle-orm/pg-core/async/db';
import type { PgQueryResultHKT } from 'drizzle-orm/pg-core/session';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import { endSpan, startSqlSpan } from '../tracing.ts';
import { lockDataDir } from './dataDirLock.ts';
import { relations } from './relations.ts';

export type Db = PgAsyncDatabase<PgQueryResultHKT, typeof relations>;
/** A transaction handle: the same query API as `Db`. */
export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];

export type DatabaseTarget =
  | {
      kind: 'postgres';
      url: string;
      poolSize: number;
      /** Seconds a new connection may take to be established (default 10). */
      connectTimeoutSeconds?: number;
      /** How long a statement may wait for a pool connection before it fails (default 15 s). */
      acquireTimeoutMs?: number;
    }
  | { kind: 'pglite'; dataDir: string };

/** How often a transaction is retried when postgres.js refuses its BEGIN (see openTransaction). */
const UNSAFE_TRANSACTION_ATTEMPTS = 5;

/**
 * The database did not answer in time: no pool connection within the acquire timeout, or no
 * connection at all. Surfaced to clients as `DATABASE_UNAVAILABLE` (HTTP 503).
 */
export class DatabaseUnavailableError extends Error {
  override name = 'DatabaseUnavailableError';
  readonly code = 'DATABASE_UNAVAILABLE';
}

/** postgres.js's own codes for a connection that could not be made or was lost. */
const DRIVER_CONNECTION_CODES = new Set([
  'CONNECT_TIMEOUT',
  'CONNECTION_CLOSED',
  'CONNECTION_DESTROYED',
  'CONNECTION_ENDED',
]);

/** Socket errors postgres.js passes on as they are (so do other clients: a registry fetch's). */
const SOCKET_ERROR_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ETIMEDOUT',
]);

/**
 * Whether `error`, or an error it wraps, means the database is out of reach: an acquire timeout,
 * a postgres.js connection error, or a socket error under a failed drizzle query (a socket
 * error alone may be a registry's).
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  let underQuery = false;
  for (let e = error, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof DatabaseUnavailableError) return true;
    if (e instanceof DrizzleQueryError) underQuery = true;
    const code = (e as { code?: unknown }).code;
    if (typeof code !== 'string') continue;
    if (DRIVER_CONNECTION_CODES.has(code)) return true;
    if (underQuery && SOCKET_ERROR_CODES.has(code)) return true;
  }
  return false;
}

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
  /** Transactions run again because postgres.js refused their BEGIN (see openTransaction). */
  readonly refusedBegins: number;
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
    ? openPostgres(target, logger)
    : openPglite(target.dataDir, logger);
}

type Logger = { logQuery: (query: string) => void } | undefined;

function openPostgres(
  target: Extract<DatabaseTarget, { kind: 'postgres' }>,
  logger: Logger,
): Database {
  const { url, poolSize } = target;
  const acquireTimeoutMs = target.acquireTimeoutMs ?? 15_000;
  const client = postgres(url, {
    max: poolSize,
    connect_timeout: target.connectTimeoutSeconds ?? 10,
    backoff: reconnectDelaySeconds,
    onnotice: () => {},
    connection: { application_name: 'tagraph' },
  });
  const { client: bounded, bounds } = boundedClient(client, { acquireTimeoutMs, poolSize });
  const db = drizzlePostgres({
    client: bounded,
    relations,
    logger,
  }) as unknown as Db;
  return {
    kind: 'postgres',
    db,
    poolSize,
    get refusedBegins() {
      return bounds.refusedBegins;
    },
    exec: async (text) => {
      await withAcquireTimeout(client.unsafe(text), acquireTimeoutMs);
    },
    listen: async (channel, onMessage) => {
      const { unlisten } = await client.listen(channel, onMessage);
      return unlisten;
    },
    ping: async () => {
      await withAcquireTimeout(client`select 1`, acquireTimeoutMs);
    },
    close: async () => {
      await client.end({ timeout: 5 });
    },
  };
}

/** The longest a pool connection waits before trying to reconnect (postgres.js's own cap is 20 s). */
const RECONNECT_DELAY_CAP_SECONDS = 2;

/**
 * Seconds before a pool connection reconnects after `failures` failed attempts in a row (counted
 * across the pool): postgres.js's default curve, 30 ms growing threefold and jittered, capped at
 * RECONNECT_DELAY_CAP_SECONDS. Uncapped it reaches 10 to 20 s after about seven failures, a few
 * seconds into an outage, and the pool then stays away that long after the database is back.
 */
export function reconnectDelaySeconds(failures: number): number {
  const jitter = 0.5 + Math.random() / 2;
  return jitter * Math.min(3 ** failures / 100, RECONNECT_DELAY_CAP_SECONDS);
}

type Sql = postgres.Sql;

/**
 * The client drizzle gets (see `preparing`) over a postgres.js pool of `poolSize` connections,
 * and its counters.
 */
export function boundedClient(
  client: Sql,
  options: { acquireTimeoutMs: number; poolSize: number },
): { client: Sql; bounds: TransactionBounds } {
  const bounds: TransactionBounds = { ...options, refusedBegins: 0 };
  return { client: preparing(client, bounds), bounds };
}

/**
 * Fails `query` with a DatabaseUnavailableError if it has not been handed to a connection within
 * `timeoutMs` (postgres.js queues a statement without limit while every connection is busy or
 * cannot connect). A statement already sent is left alone; the timer goes when it settles.
 */
function withAcquireTimeout<Q extends { cancel(): unknown }>(query: Q, timeoutMs: number): Q {
  const internals = query as unknown as QueryInternals;
  const { resolve, reject } = internals;
  const timer = setTimeout(() => {
    if (internals.state) return;
    // The caller has its answer; whatever becomes of the statement from now on is nobody's.
    internals.resolve = () => {};
    internals.reject = () => {};
    reject(
      new DatabaseUnavailableError(
        `no database connection within ${timeoutMs / 1000} s: the database is unavailable or overloaded`,
      ),
    );
    abandon(internals);
  }, timeoutMs);
  timer.unref();
  internals.resolve = (value) => {
    clearTimeout(timer);
    resolve(value);
  };
  internals.reject = (error) => {
    clearTimeout(timer);
    reject(error);
  };
  return query;
}

/** The parts of a postgres.js 3.4.9 Query (src/query.js) that withAcquireTimeout relies on. */
interface QueryInternals {
  /** Set when a connection sends the statement. */
  state: unknown;
  /** `true` once `cancel()` took an unsent statement off the queue. */
  cancelled: unknown;
  strings: readonly string[];
  args: unknown[];
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
  cancel(): unknown;
}

/** What an abandoned statement runs instead, if a connection still picks it up. */
const ABANDONED_STATEMENT = 'select 1';

/**
 * Takes a statement that was never sent out of postgres.js's hands, so that it never runs.
 *
 * A statement waits for a connection in one of two places: postgres.js's queue, or as the first
 * statement of a connection that is being (re)connected for it, which the connection sends once
 * it is up. `cancel()` takes it off the queue and marks it cancelled; in the second place the
 * connection still holds it, and when it is up it skips the cancelled statement without sending
 * anything, so no reply ever comes to move it from "connecting" into the pool. It stays there
 * for good, and once every connection has gone that way (an outage longer than the acquire
 * timeout and the reconnect backoff: every reconnect is delayed past the timeout of the
 * statement it is for) statements queue until they time out, for ever. So the statement stays
 * runnable but is made harmless: if a connection sends it, it runs `select 1`, whose reply puts
 * the connection into the pool.
 */
function abandon(query: QueryInternals): void {
  void query.cancel();
  query.cancelled = null;
  query.strings = [ABANDONED_STATEMENT];
  query.args = [];
}

/**
 * `query` (a postgres.js statement, run once awaited) in a span of its own from now until it
 * settles, when tracing is on. Wrapped before withAcquireTimeout, whose timeout settles the
 * statement through these same functions.
 */
function traced<Q>(query: Q, text: string): Q {
  const span = startSqlSpan(text);
  if (!span) return query;
  const internals = query as unknown as {
    resolve: (value: unknown) => void;
    reject: (error: unknown) => void;
  };
  const { resolve, reject } = internals;
  internals.resolve = (value) => {
    endSpan(span);
    resolve(value);
  };
  internals.reject = (error) => {
    endSpan(span, error);
    reject(error);
  };
  return query;
}

/**
 * The client drizzle gets: every statement as a named prepared statement, which postgres.js then
 * parses and plans once per connection (cached by its text). drizzle asks for unnamed ones, which
 * Postgres parses and plans anew on every execution, more than doubling a short statement's
 * round trip. Transactions and savepoints hand out clients of their own,
 * which are wrapped the same way. Only drizzle's single statements come through here; `exec`
 * (several statements in one string) uses the plain client.
 *
 * Every statement waits at most `acquireTimeoutMs` for a connection (withAcquireTimeout), and so
 * does a transaction's BEGIN (openTransaction).
 */
function preparing(client: Sql, bounds: TransactionBounds): Sql {
  return new Proxy(client, {
    get(target, property, receiver) {
      if (property === 'unsafe') {
        return (query: string, params?: unknown[], options?: object) =>
          withAcquireTimeout(
            traced(target.unsafe(query, params as never, { ...options, prepare: true }), query),
            bounds.acquireTimeoutMs,
          );
      }
      if (property === 'begin') {
        return (...args: unknown[]) => {
          const body = args.pop() as (inner: Sql) => unknown;
          return openTransaction(target, args, (inner) => body(preparing(inner, bounds)), bounds);
        };
      }
      if (property === 'savepoint') {
        return (...args: unknown[]) => {
          const body = args.pop() as (inner: Sql) => unknown;
          const open = Reflect.get(target, property, receiver) as (...a: unknown[]) => unknown;
          return open.call(target, ...args, (inner: Sql) => body(preparing(inner, bounds)));
        };
      }
      return Reflect.get(target, property, receiver);
    },
  });
}

export interface TransactionBounds {
  acquireTimeoutMs: number;
  poolSize: number;
  /** Counts the BEGINs postgres.js refused (UNSAFE_TRANSACTION). */
  refusedBegins: number;
}

/** Thrown into a transaction whose caller gave up waiting for its BEGIN: postgres.js rolls it back. */
class AbandonedTransaction extends Error {}

/**
 * `client.begin(...options, body)`, bounded and retried:
 *
 * - A BEGIN that has no connection within the acquire timeout fails the call with a
 *   DatabaseUnavailableError; if it gets one later, the body is not run and the transaction is
 *   rolled back at once.
 * - postgres.js 3.4.9 can send a BEGIN without reserving its connection when the BEGIN is the
 *   query that fills a connection's pipeline (or meets socket backpressure); it then refuses the
 *   transaction with UNSAFE_TRANSACTION when the BEGIN completes (porsager/postgres#823, #1189).
 *   That happens before the body is called, so none of the transaction's statements were sent:
 *   running it again on another BEGIN is safe, and it is retried up to
 *   UNSAFE_TRANSACTION_ATTEMPTS times. A failure after the body started is never retried.
 *   The refused BEGIN did open a transaction on the server, and postgres.js hands that
 *   connection back to the pool; whatever runs there next would run inside it. So before the
 *   retry a COMMIT goes to each idle connection of the pool (closing that transaction, committing
 *   what others already ran in it as they meant it to be; elsewhere a COMMIT outside a
 *   transaction only warns).
 */
async function openTransaction(
  client: Sql,
  options: unknown[],
  body: (inner: Sql) => unknown,
  bounds: TransactionBounds,
): Promise<unknown> {
  for (let attempt = 1; ; attempt++) {
    let started = false;
    try {
      return await new Promise((resolveTransaction, rejectTransaction) => {
        let abandoned = false;
        const timer = setTimeout(() => {
          if (started) return;
          abandoned = true;
          rejectTransaction(
            new DatabaseUnavailableError(
              `no database connection within ${bounds.acquireTimeoutMs / 1000} s: the database is unavailable or overloaded`,
            ),
          );
        }, bounds.acquireTimeoutMs);
        timer.unref();
        const begin = client.begin as unknown as (...a: unknown[]) => Promise<unknown>;
        begin
          .call(client, ...options, (inner: Sql) => {
            if (abandoned) throw new AbandonedTransaction();
            started = true;
            clearTimeout(timer);
            return body(inner);
          })
          .then(
            (value) => {
              clearTimeout(timer);
              resolveTransaction(value);
            },
            (error: unknown) => {
              clearTimeout(timer);
              if (!abandoned) rejectTransaction(error);
            },
          );
      });
    } catch (error) {
      const refusedBegin = !started && (error as { code?: unknown }).code === 'UNSAFE_TRANSACTION';
      if (!refusedBegin) throw error;
      bounds.refusedBegins += 1;
      await closeStrayTransactions(client, bounds);
      if (attempt >= UNSAFE_TRANSACTION_ATTEMPTS) throw error;
    }
  }
}

/**
 * PGlite runs in this process, and a statement on it completes through promises alone: without a
 * turn of the event loop between statements, a chain of them (requests served in process, a long
 * import) runs as one unbroken microtask chain that starves timers, process.nextTick (so
 * DataLoader batches), sockets and signals until it ends. Each statement here first lets the
 * event loop turn once, as a statement sent to a Postgres server does by waiting on its socket.
 */
export class TurnTakingPGlite extends PGlite {
  override async query<T>(query: string, params?: unknown[], options?: QueryOptions) {
    await nextTurn();
    return super.query<T>(query, params, options);
  }

  override async exec(query: string, options?: QueryOptions) {
    await nextTurn();
    return super.exec(query, options);
  }

  override async transaction<T>(callback: (tx: Transaction) => Promise<T>): Promise<T> {
    await nextTurn();
    return super.transaction(callback);
  }
}

async function openPglite(dataDir: string, logger: Logger): Promise<Database> {
  let unlock = () => {};
  if (dataDir !== 'memory') {
    mkdirSync(dataDir, { recursive: true });
    // PGlite itself lets a second process open the directory, and the two lose each other's writes.
    unlock = lockDataDir(dataDir);
  }
  let client: PGlite;
  try {
    client = new TurnTakingPGlite(dataDir === 'memory' ? 'memory://' : dataDir);
    await client.waitReady;
  } catch (error) {
    unlock();
    throw error;
  }
  const db = drizzlePglite({ client: tracedPglite(client), relations, logger }) as unknown as Db;
  return {
    kind: 'pglite',
    db,
    poolSize: 1,
    refusedBegins: 0,
    exec: async (text) => {
      await client.exec(text);
    },
    listen: (channel, onMessage) => client.listen(channel, onMessage),
    ping: async () => {
      await db.execute(sql`select 1`);
    },
    close: async () => {
      try {
        if (!client.closed) await client.close();
      } finally {
        unlock();
      }
    },
  };
}

type PgliteQueries = Pick<PGlite, 'query' | 'transaction'>;

/**
 * The PGlite handle drizzle gets: each `query` (in or out of a transaction) in a span of its own
 * when tracing is on.
 */
function tracedPglite<C extends PgliteQueries>(client: C): C {
  return new Proxy(client, {
    get(target, property, receiver) {
      if (property === 'query') {
        return async (text: string, ...rest: unknown[]) => {
          const span = startSqlSpan(text);
          const query = target.query as (...a: unknown[]) => Promise<unknown>;
          if (!span) return query.call(target, text, ...rest);
          try {
            const result = await query.call(target, text, ...rest);
            endSpan(span);
            return result;
          } catch (error) {
            endSpan(span, error);
            throw error;
          }
        };
      }
      if (property === 'transaction') {
        return (body: (tx: PgliteQueries) => unknown) =>
          target.transaction((tx) => body(tracedPglite(tx as unknown as PgliteQueries)) as never);
      }
      return Reflect.get(target, property, receiver);
    },
  });
}

/**
 * Sends a COMMIT on every connection of the pool, closing the transaction a refused BEGIN left
 * open (what others ran in it is committed, as they meant it to be; elsewhere a COMMIT outside a
 * transaction only warns). Each connection is reserved, so no statement of anyone else's runs on
 * it meanwhile, and all are held until every one has been reserved, so that each gets its own
 * COMMIT. Waiting for busy connections is bounded by the acquire timeout; a connection reserved
 * after that still gets its COMMIT and is released.
 */
async function closeStrayTransactions(client: Sql, bounds: TransactionBounds): Promise<void> {
  const reservations = Array.from({ length: bounds.poolSize }, () => client.reserve());
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolveTimeout) => {
    timer = setTimeout(() => resolveTimeout('timeout'), bounds.acquireTimeoutMs);
    timer.unref();
  });
  const all = Promise.allSettled(reservations);
  await Promise.race([all, timedOut]);
  clearTimeout(timer);
  await Promise.allSettled(
    reservations.map(async (reservation) => {
      const reserved = await reservation;
      try {
        await reserved.unsafe('commit');
      } finally {
        reserved.release();
      }
    }),
  );
}

/** Rows of a raw `execute`: drizzle returns an array on postgres.js and `{ rows }` on PGlite. */
export function rowsOf<T>(result: unknown): T[] {
  if (Array.isArray(result)) return result as T[];
  return ((result as { rows?: T[] }).rows ?? []) as T[];
}
