// Scenario 4: `tag` mutations that push a history item and an event, 1 and 50 clients, against a
// hand-written postgres.js transaction writing the same rows (lib/rawwrites.ts), in the same run.
import { join } from 'node:path';
import { createBenchDatabase } from './lib/db.ts';
import { runLoad } from './lib/load.ts';
import { ROOT, runToResult, spawnNode, withCpuPerOperation } from './lib/processes.ts';
import type { RawWriteSpec } from './lib/rawwrites.ts';
import { digestSql, seedGraph } from './lib/seed.ts';
import { collect, medianOf, printTable, type Row, round, writeResults } from './lib/stats.ts';
import { startTagraph } from './lib/tagraph.ts';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const DURATION = Number(process.env.BENCH_DURATION ?? 10);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 3);
const CLIENTS = (process.env.BENCH_CLIENTS ?? '1,50').split(',').map(Number);
const NS = 'writes';
/** 50 streams × 10 tags: far more destinations than clients, so no two write one row at once. */
const DESTINATIONS: [string, string][] = Array.from({ length: 500 }, (_, i) => [
  `s${String(i % 50).padStart(4, '0')}`,
  `d${Math.floor(i / 50)}`,
]);

const TAG = `mutation($input: TagInput!) { tag(input: $input) { __typename
  ... on TagPayload { results { message } } ... on Error { code message } } }`;

interface Figures extends Record<string, number> {
  rps: number;
  p50: number;
  p99: number;
}

export async function main() {
  const database = await createBenchDatabase('writes');
  try {
    // Stream `src` holds tag `a` whose history names two images; every write pins a destination
    // to the other one than last time, so each mutation pushes a history item and an event.
    await seedGraph(database.sql, {
      namespace: NS,
      streams: 50,
      tagsPerStream: 1,
      historyPerTag: 1,
      images: 2,
    });
    const images = (await database.sql.unsafe(
      `select ${digestSql(`'img-' || i`)} as digest from generate_series(1, 2) i order by i`,
    )) as unknown as { digest: string }[];
    const pair = [images[0]!.digest, images[1]!.digest] as [string, string];
    const [src] =
      await database.sql`insert into image_streams (namespace, name) values (${NS}, 'src') returning id`;
    const [a] =
      await database.sql`insert into tags (stream_id, name, spec_generation) values (${src!.id}, 'a', 1) returning id`;
    for (const [seq, digest] of pair.entries()) {
      await database.sql`insert into tag_history (tag_id, seq, docker_image_reference, image_digest, generation)
        values (${a!.id}, ${seq + 1}, ${`quay.io/bench/app@${digest}`}, ${digest}, 1)`;
    }
    const bodies = [0, 1].flatMap((image) =>
      DESTINATIONS.map(([stream, tag]) =>
        JSON.stringify({
          query: TAG,
          variables: {
            input: {
              namespace: NS,
              source: `src@${pair[image]}`,
              destinations: [`${stream}:${tag}`],
            },
          },
        }),
      ),
    );

    const tagraph = await startTagraph({
      databaseUrl: database.url,
      cpuProfDir: process.env.BENCH_PROFILE_DIR,
    });
    const runs: Record<string, Figures[]> = {};
    try {
      const check = await tagraph.graphql<{ tag: { __typename: string } }>(
        TAG,
        JSON.parse(bodies[0]!).variables,
      );
      if (check.tag.__typename !== 'TagPayload')
        throw new Error(`tag failed: ${JSON.stringify(check)}`);
      // Statements per mutation, over 20 sequential ones (drizzle's counter on /metrics).
      const statementsBefore = await tagraph.metric('tagraph_db_statements_total');
      for (const body of bodies.slice(1, 21)) {
        await tagraph.graphql(TAG, JSON.parse(body).variables);
      }
      const statementsPerMutation =
        ((await tagraph.metric('tagraph_db_statements_total')) - statementsBefore) / 20;
      console.log(`SQL statements per tag mutation: ${statementsPerMutation}`);
      const historyBefore = await count(database.sql, 'tag_history');
      const eventsBefore = await count(database.sql, 'events');

      const gateway = (clients: number, duration: number) =>
        runLoad({
          url: tagraph.graphqlUrl,
          connections: clients,
          duration,
          headers: tagraph.headers,
          bodies,
          expect: '"__typename":"TagPayload"',
        });
      const raw = (clients: number, duration: number, eventsLock = false) =>
        runToResult<Figures & { total: number }>(
          spawnNode(join(ROOT, 'bench/lib/rawwrites.ts'), {
            args: [
              JSON.stringify({
                databaseUrl: database.url,
                namespace: NS,
                connections: clients,
                duration,
                destinations: DESTINATIONS.map(([s, t]) => [s, `raw-${t}`]),
                images: pair,
                eventsLock,
              } satisfies RawWriteSpec),
            ],
          }),
        );

      let tagraphRequests = 0;
      for (const clients of CLIENTS) {
        await gateway(clients, WARMUP);
        await raw(clients, WARMUP);
        // The warm-up created the destination tags: refresh the planner's statistics as
        // autovacuum would in a running database. Without it, plans made for the freshly seeded
        // tables degrade round by round (the tag read grew 0.11 → 0.45 ms over 3,000 writes).
        await database.sql`analyze`;
        for (let r0 = 0; r0 < ROUNDS; r0++) {
          // CPU per request: the gateway's own process, and every Postgres process (the
          // machine runs nothing else), read from /proc around each run.
          const t = await withCpuPerOperation(tagraph.pid, () => gateway(clients, DURATION));
          const gatewayCpu = t.serverCpuMs;
          const postgresCpu = t.postgresCpuMs;
          tagraphRequests += t.total;
          const r = await withCpuPerOperation(null, () => raw(clients, DURATION));
          const rawPostgresCpu = r.postgresCpuMs;
          const u = await raw(clients, DURATION, true);
          collect(runs, `tagraph_${clients}`, {
            rps: t.rps,
            p50: t.p50,
            p99: t.p99,
            gatewayCpuMs: gatewayCpu,
            postgresCpuMs: postgresCpu,
          });
          collect(runs, `raw_${clients}`, {
            rps: r.rps,
            p50: r.p50,
            p99: r.p99,
            postgresCpuMs: rawPostgresCpu,
          });
          collect(runs, `rawOldLock_${clients}`, { rps: u.rps, p50: u.p50, p99: u.p99 });
          console.log(
            `  ${clients} clients round ${r0 + 1}: tagraph ${round(t.rps, 1)}/s p99 ${t.p99} ms; raw SQL ${round(r.rps, 1)}/s p99 ${round(r.p99, 1)} ms; raw with the old events lock ${round(u.rps, 1)}/s p99 ${round(u.p99, 1)} ms; CPU per request: gateway ${round(gatewayCpu)} ms, Postgres ${round(postgresCpu)} ms (raw SQL: Postgres ${round(rawPostgresCpu)} ms)`,
          );
        }
      }
      const historyRows = (await count(database.sql, 'tag_history')) - historyBefore;
      const eventRows = (await count(database.sql, 'events')) - eventsBefore;
      console.log(
        `history rows written: ${historyRows}, events: ${eventRows} (raw SQL rows included)`,
      );

      const rows: Row[] = [];
      const summary: Record<string, unknown> = {};
      const oneClient = medianOf(runs[`tagraph_${CLIENTS[0]}`]!);
      for (const clients of CLIENTS) {
        const t = medianOf(runs[`tagraph_${clients}`]!);
        const r = medianOf(runs[`raw_${clients}`]!);
        const u = medianOf(runs[`rawOldLock_${clients}`]!);
        const met = t.rps >= 2000 && t.p99 < 20;
        summary[clients] = {
          tagraph: t,
          raw: r,
          rawOldLock: u,
          vsRaw: t.rps / r.rps,
          vsOneClient: t.rps / oneClient.rps,
          met,
        };
        rows.push({
          clients,
          'tagraph tag/s': round(t.rps, 1),
          'p50 ms': t.p50,
          'p99 ms': t.p99,
          'raw SQL tx/s': round(r.rps, 1),
          'raw p99 ms': round(r.p99, 1),
          'vs raw SQL': `${round(t.rps / r.rps)}×`,
          'raw + old events lock tx/s': round(u.rps, 1),
          'CPU ms/req gateway + Postgres (raw: Postgres)': `${round(t.gatewayCpuMs!)} + ${round(t.postgresCpuMs!)} (${round(r.postgresCpuMs!)})`,
          [`vs ${CLIENTS[0]} client(s)`]: `${round(t.rps / oneClient.rps)}×`,
          'target ≥2000/s, p99<20ms': met ? 'met' : 'MISSED',
        });
      }
      printTable(
        `Scenario 4 — tag mutations (history + event each), median of ${ROUNDS} × ${DURATION} s`,
        rows,
      );
      await writeResults('writes', {
        rounds: ROUNDS,
        durationSeconds: DURATION,
        runs,
        statementsPerMutation,
        summary,
        rows,
        tagraphRequests,
        historyRows,
        eventRows,
      });
    } finally {
      await tagraph.stop();
    }
  } finally {
    await database.drop();
  }
}

async function count(sql: Awaited<ReturnType<typeof createBenchDatabase>>['sql'], table: string) {
  const [row] = await sql.unsafe(`select count(*)::int as n from ${table}`);
  return (row as unknown as { n: number }).n;
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
