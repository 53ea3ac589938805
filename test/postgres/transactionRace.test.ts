// postgres.js refuses a transaction's BEGIN with UNSAFE_TRANSACTION when the BEGIN is the
// statement that fills a connection's pipeline (porsager/postgres#823, #1189), leaving that
// connection inside an open transaction. Through the client tagraph gives drizzle, transactions
// are retried and the stray transaction is closed: no write fails and none is lost.
import postgres from 'postgres';
import { beforeAll, describe, expect, it } from 'vitest';
import { boundedClient } from '../../src/db/client.ts';
import { postgresFileDatabase } from '../support/database.ts';

const POOL_SIZE = 2;
/** Statements one connection holds in flight; the BEGIN that makes it full is the one refused. */
const PIPELINE = 2;
const ROUNDS = 10;

describe('transactions under the postgres.js race', () => {
  let url: string;

  beforeAll(async () => {
    const target = postgresFileDatabase();
    url = target.url;
    const setup = postgres(url, { max: 1, onnotice: () => {} });
    await setup.unsafe('create table race_probe (id serial primary key, kind text not null)');
    await setup.end();
  });

  /**
   * One round that puts a BEGIN where postgres.js refuses it, every time. postgres.js hands a
   * statement to an idle connection, else pipelines it behind the busiest-least connection, and
   * reserves a connection for a transaction only if its BEGIN left room in that pipeline. So:
   * both connections open and idle, one slow statement on each, one insert pipelined behind each,
   * and the transaction's BEGIN lands on the first connection as its pipeline's last slot.
   */
  async function round(bounded: boolean) {
    const pool = postgres(url, {
      max: POOL_SIZE,
      // Not in postgres.js's types, but one of its options.
      ...({ max_pipeline: PIPELINE } as object),
      onnotice: () => {},
      connection: { application_name: 'race-probe' },
    });
    const { client, bounds } = boundedClient(pool, {
      acquireTimeoutMs: 10_000,
      poolSize: POOL_SIZE,
    });
    const sql = bounded ? client : pool;
    // Both connections opened and back to idle.
    await Promise.all([pool`select pg_sleep(0.01)`, pool`select pg_sleep(0.01)`]);
    const failures: string[] = [];
    const work: Promise<unknown>[] = [];
    // postgres.js sends a statement when it is awaited or executed: execute() keeps this order.
    for (let i = 0; i < POOL_SIZE; i++) work.push(pool`select pg_sleep(0.05)`.execute());
    for (let i = 0; i < POOL_SIZE; i++) {
      work.push(
        pool`insert into race_probe (kind) values ('plain')`.catch((error: Error) =>
          failures.push(`plain: ${error.message}`),
        ),
      );
    }
    work.push(
      sql
        .begin(async (tx) => {
          await tx`insert into race_probe (kind) values ('transaction')`;
        })
        .catch((error: Error & { code?: string }) =>
          failures.push(`transaction: ${error.code ?? error.message}`),
        ),
    );
    await Promise.all(work);
    // Asked on a connection of its own: the pool might hand this to the stray connection.
    const check = postgres(url, { max: 1, onnotice: () => {} });
    const [stray] = await check<{ n: number }[]>`select count(*)::int as n from pg_stat_activity
      where application_name = 'race-probe' and state like 'idle in transaction%'`;
    await check.end();
    await pool.end({ timeout: 1 });
    return { failures, refused: bounds.refusedBegins, stray: stray!.n };
  }

  async function committed(): Promise<Record<string, number>> {
    const check = postgres(url, { max: 1, onnotice: () => {} });
    const rows = await check<{ kind: string; n: number }[]>`
      select kind, count(*)::int as n from race_probe group by kind`;
    await check.unsafe('truncate race_probe');
    await check.end();
    return Object.fromEntries(rows.map((r) => [r.kind, r.n]));
  }

  it('happens with plain postgres.js: the transaction is refused, its connection left in a transaction', async () => {
    const result = await round(false);
    await committed();
    // The race is real in this setup: otherwise the test below proves nothing.
    expect(result.failures).toEqual(['transaction: UNSAFE_TRANSACTION']);
    expect(result.stray).toBe(1);
  });

  it('runs every transaction through the bounded client, and loses no write', async () => {
    let refused = 0;
    for (let i = 0; i < ROUNDS; i++) {
      const result = await round(true);
      expect(result.failures).toEqual([]);
      expect(result.stray).toBe(0);
      refused += result.refused;
    }
    // Each round's BEGIN was refused once and run again.
    expect(refused).toBe(ROUNDS);
    // Every write committed and visible from another connection: none was left in, or rolled
    // back with, a stray transaction.
    expect(await committed()).toEqual({ plain: ROUNDS * POOL_SIZE, transaction: ROUNDS });
  });
});
