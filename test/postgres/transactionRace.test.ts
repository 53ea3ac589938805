// postgres.js can refuse a transaction's BEGIN with UNSAFE_TRANSACTION when the BEGIN is the
// statement that fills a connection's pipeline (porsager/postgres#823, #1189), leaving that
// connection inside an open transaction. Through the client tagraph gives drizzle, transactions
// are retried and the stray transaction is closed: no write fails and none is lost.
import postgres from 'postgres';
import { beforeAll, describe, expect, it } from 'vitest';
import { boundedClient } from '../../src/db/client.ts';
import { postgresFileDatabase } from '../support/database.ts';

const POOL_SIZE = 3;
const ROUNDS = 20;
/** The most rounds of plain postgres.js played to see the race at least once. */
const MAX_PLAIN_ROUNDS = 400;
/** …and for at most this long, well inside the test's timeout, so no round outlives the test. */
const PLAIN_ROUNDS_MS = 90_000;

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
   * One round of the race (as reported in porsager/postgres#823): every connection busy, then
   * plain writes and transactions interleaved, so that BEGINs get pipelined behind other
   * statements. A pipeline of two makes the boundary frequent; the default of 100 makes it rare
   * (1-3 of ~9,000 mutations under 200 writers).
   */
  async function round(bounded: boolean) {
    const pool = postgres(url, {
      max: POOL_SIZE,
      // Not in postgres.js's types, but one of its options.
      ...({ max_pipeline: 2 } as object),
      onnotice: () => {},
      connection: { application_name: 'race-probe' },
    });
    const { client, bounds } = boundedClient(pool, {
      acquireTimeoutMs: 10_000,
      poolSize: POOL_SIZE,
    });
    const sql = bounded ? client : pool;
    await pool`select 1`;
    const failures: string[] = [];
    let transactions = 0;
    let plainWrites = 0;
    const work: Promise<unknown>[] = [];
    for (let i = 0; i < POOL_SIZE; i++) work.push(pool`select pg_sleep(0.05)`);
    for (let i = 0; i < 6; i++) {
      plainWrites += 1;
      work.push(
        pool`insert into race_probe (kind) values ('plain')`.catch((error: Error) =>
          failures.push(`plain: ${error.message}`),
        ),
      );
      if (i % 2 === 1) {
        transactions += 1;
        work.push(
          sql
            .begin(async (tx) => {
              await tx`insert into race_probe (kind) values ('transaction')`;
            })
            .catch((error: Error & { code?: string }) =>
              failures.push(`transaction: ${error.code ?? error.message}`),
            ),
        );
      }
    }
    await Promise.all(work);
    const [stray] = await pool<{ n: number }[]>`select count(*)::int as n from pg_stat_activity
      where application_name = 'race-probe' and state like 'idle in transaction%'`;
    await pool.end({ timeout: 1 });
    return { failures, transactions, plainWrites, refused: bounds.refusedBegins, stray: stray!.n };
  }

  async function committed(): Promise<Record<string, number>> {
    const check = postgres(url, { max: 1, onnotice: () => {} });
    const rows = await check<{ kind: string; n: number }[]>`
      select kind, count(*)::int as n from race_probe group by kind`;
    await check.unsafe('truncate race_probe');
    await check.end();
    return Object.fromEntries(rows.map((r) => [r.kind, r.n]));
  }

  it('happens with plain postgres.js: transactions refused, connections left in a transaction', async () => {
    let refused = 0;
    let stray = 0;
    let rounds = 0;
    // How often a round hits the boundary depends on the machine's load: play rounds until it
    // shows (a few rounds on a busy machine, more on a quiet one), up to a bound.
    const deadline = Date.now() + PLAIN_ROUNDS_MS;
    while (refused === 0 && rounds < MAX_PLAIN_ROUNDS && Date.now() < deadline) {
      const result = await round(false);
      rounds += 1;
      refused += result.failures.filter((f) => f === 'transaction: UNSAFE_TRANSACTION').length;
      stray += result.stray;
    }
    console.info(
      `plain postgres.js: ${refused} of ${rounds * 3} transactions refused, ${stray} connections left idle in transaction`,
    );
    // The race is real in this setup: otherwise the test below proves nothing.
    expect(refused).toBeGreaterThan(0);
  }, 120_000);

  it('runs every transaction through the bounded client, and loses no write', async () => {
    await committed(); // empties the table of what the test above wrote
    let refused = 0;
    let transactions = 0;
    let plainWrites = 0;
    for (let i = 0; i < ROUNDS; i++) {
      const result = await round(true);
      expect(result.failures).toEqual([]);
      expect(result.stray).toBe(0);
      refused += result.refused;
      transactions += result.transactions;
      plainWrites += result.plainWrites;
    }
    console.info(
      `bounded client: ${refused} BEGINs refused and retried in ${transactions} transactions`,
    );
    // Every write committed and visible from another connection: none was left in, or rolled
    // back with, a stray transaction.
    expect(await committed()).toEqual({ plain: plainWrites, transaction: transactions });
  });
});
