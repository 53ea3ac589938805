// Scenario 1: the tag-graph query against PostGraphile v4 on the same tables, in the same run.
import { createBenchDatabase } from './lib/db.ts';
import { type LoadResult, runLoad } from './lib/load.ts';
import { startPostgraphile } from './lib/peers.ts';
import { seedGraph } from './lib/seed.ts';
import { collect, medianOf, printTable, type Row, round, writeResults } from './lib/stats.ts';
import { startTagraph } from './lib/tagraph.ts';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const DURATION = Number(process.env.BENCH_DURATION ?? 10);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 3);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10);
const SHAPE = {
  namespace: 'bench',
  streams: 200,
  tagsPerStream: 20,
  historyPerTag: 5,
  images: 1000,
};

const IMAGE_FIELDS = 'digest mediaType architecture os size created author';

/**
 * One stream's whole tag graph: 20 tags × 5 history items, each with its image and layers. (A page
 * of 20 such streams costs 76,494 under tagraph's query-cost limit of 5,000 and is refused.)
 */
const QUERIES = {
  graph: {
    tagraph: `query Graph($ns: String!) { imageStream(namespace: $ns, name: "s0042") {
      name labels { key value }
      tags(first: 20) { nodes { name
        history(first: 5) { nodes { created dockerImageReference generation
          image { ${IMAGE_FIELDS} layers { digest size } } } } } } } }`,
    postgraphile: `query Graph($ns: String!) { imageStreamByNamespaceAndName(namespace: $ns, name: "s0042") {
      name labels
      tagsByStreamId(orderBy: NAME_ASC, first: 20) { nodes { name
        tagHistories(orderBy: SEQ_DESC, first: 5) { nodes { created dockerImageReference generation
          imageByImageDigest { ${IMAGE_FIELDS}
            imageLayersByImageDigest(orderBy: POSITION_ASC) { nodes { digest size } } } } } } } } }`,
  },
  /** One tag's current image: the lookup a client does before a rollout. */
  small: {
    tagraph: `query Small($ns: String!) { imageStream(namespace: $ns, name: "s0042") {
      name tag(name: "t07") { name history(first: 1) { nodes { image { digest } } } } } }`,
    postgraphile: `query Small($ns: String!) { imageStreamByNamespaceAndName(namespace: $ns, name: "s0042") {
      name tagsByStreamId(condition: { name: "t07" }) { nodes { name
        tagHistories(orderBy: SEQ_DESC, first: 1) { nodes { imageByImageDigest { digest } } } } } } }`,
  },
} as const;

type Server = 'tagraph' | 'postgraphile';
type QueryName = keyof typeof QUERIES;
/** `BENCH_QUERIES=small` runs a subset (e.g. to profile one query). */
const SELECTED = (process.env.BENCH_QUERIES ?? Object.keys(QUERIES).join(',')).split(
  ',',
) as QueryName[];

/** Every digest in a response, in order: both servers must return the same ones. */
function digests(body: unknown): string[] {
  const out: string[] = [];
  JSON.stringify(body, (key, value) => {
    if (key === 'digest' && typeof value === 'string') out.push(value);
    return value;
  });
  return out;
}

async function post(url: string, headers: Record<string, string>, query: string) {
  const response = await fetch(url, {
    method: 'POST',
    headers,
    body: JSON.stringify({ query, variables: { ns: SHAPE.namespace } }),
  });
  const body = (await response.json()) as { data?: unknown; errors?: unknown };
  if (!response.ok || body.errors)
    throw new Error(`${url}: ${JSON.stringify(body).slice(0, 1000)}`);
  return body.data;
}

export async function main() {
  const database = await createBenchDatabase('query');
  const profileDir = process.env.BENCH_PROFILE_DIR;
  try {
    const started = Date.now();
    await seedGraph(database.sql, SHAPE);
    console.log(
      `seeded ${SHAPE.streams}×${SHAPE.tagsPerStream}×${SHAPE.historyPerTag} in ${Date.now() - started} ms`,
    );
    const tagraph = await startTagraph({ databaseUrl: database.url, cpuProfDir: profileDir });
    const peer = await startPostgraphile(database.url);
    try {
      const servers = {
        tagraph: { url: tagraph.graphqlUrl, headers: tagraph.headers },
        postgraphile: { url: peer.graphqlUrl, headers: { 'content-type': 'application/json' } },
      };
      // Same answers, or the comparison means nothing.
      const sizes: Record<string, number> = {};
      for (const name of SELECTED) {
        const a = digests(
          await post(servers.tagraph.url, servers.tagraph.headers, QUERIES[name].tagraph),
        );
        const b = digests(
          await post(
            servers.postgraphile.url,
            servers.postgraphile.headers,
            QUERIES[name].postgraphile,
          ),
        );
        if (a.join() !== b.join()) throw new Error(`${name}: tagraph and PostGraphile disagree`);
        sizes[name] = a.length;
      }
      console.log(`answers agree (digests per response: ${JSON.stringify(sizes)})`);

      // Statements per request over 20 sequential requests: tagraph's drizzle counter on /metrics,
      // PostGraphile's pg client calls (pg_stat_statements is not preloaded on this server).
      const statements: Record<string, number> = {};
      for (const name of SELECTED) {
        const before = await tagraph.metric('tagraph_db_statements_total');
        for (let i = 0; i < 20; i++)
          await post(servers.tagraph.url, servers.tagraph.headers, QUERIES[name].tagraph);
        const after = await tagraph.metric('tagraph_db_statements_total');
        statements[`tagraph_${name}`] = (after - before) / 20;
        const p0 = await peer.statements();
        for (let i = 0; i < 20; i++)
          await post(
            servers.postgraphile.url,
            servers.postgraphile.headers,
            QUERIES[name].postgraphile,
          );
        statements[`postgraphile_${name}`] = ((await peer.statements()) - p0) / 20;
      }
      console.log('statements per request:', statements);

      const load = (server: Server, name: QueryName, duration: number) =>
        runLoad({
          url: servers[server].url,
          connections: CONNECTIONS,
          duration,
          headers: servers[server].headers,
          bodies: [
            JSON.stringify({ query: QUERIES[name][server], variables: { ns: SHAPE.namespace } }),
          ],
          expect: '{"data":',
        });

      const runs: Record<string, LoadResult[]> = {};
      for (const name of SELECTED) {
        for (const server of ['tagraph', 'postgraphile'] as Server[]) {
          await load(server, name, WARMUP);
        }
        for (let r0 = 0; r0 < ROUNDS; r0++) {
          // Alternate who goes first so drift (caches, vacuum, thermal) hits both alike.
          const order: Server[] =
            r0 % 2 ? ['postgraphile', 'tagraph'] : ['tagraph', 'postgraphile'];
          for (const server of order) {
            const result = await load(server, name, DURATION);
            collect(runs, `${server}_${name}`, result);
            console.log(
              `  ${name} ${server} round ${r0 + 1}: ${round2(result.rps)} req/s, p50 ${result.p50} ms, p99 ${result.p99} ms`,
            );
          }
        }
      }

      const rows: Row[] = [];
      const summary: Record<string, unknown> = {};
      for (const name of SELECTED) {
        const t = medianOf(runs[`tagraph_${name}`]!.map(pick));
        const p = medianOf(runs[`postgraphile_${name}`]!.map(pick));
        const ratio = t.rps / p.rps;
        const met = ratio >= 1.5 && t.p99 <= p.p99;
        summary[name] = { tagraph: t, postgraphile: p, rpsRatio: ratio, met };
        for (const [server, m] of [
          ['tagraph', t],
          ['PostGraphile v4', p],
        ] as const) {
          rows.push({
            query: name,
            server,
            'req/s': round(m.rps, 1),
            'p50 ms': m.p50,
            'p99 ms': m.p99,
            'SQL/req': statements[`${server === 'tagraph' ? 'tagraph' : 'postgraphile'}_${name}`]!,
            'vs PostGraphile': server === 'tagraph' ? `${round(ratio)}×` : '1×',
            'target ≥1.5× & p99 ≤': server === 'tagraph' ? (met ? 'met' : 'MISSED') : '',
          });
        }
      }
      printTable(
        `Scenario 1 — tag-graph query, ${CONNECTIONS} connections, median of ${ROUNDS} × ${DURATION} s`,
        rows,
      );
      await writeResults('query', {
        shape: SHAPE,
        connections: CONNECTIONS,
        rounds: ROUNDS,
        durationSeconds: DURATION,
        statements,
        digestsPerResponse: sizes,
        runs,
        summary,
        rows,
      });
    } finally {
      await peer.stop();
      await tagraph.stop();
    }
  } finally {
    await database.drop();
  }
}

const pick = (r: LoadResult) => ({ rps: r.rps, p50: r.p50, p99: r.p99 });
const round2 = (v: number) => round(v, 1);

if (import.meta.url === `file://${process.argv[1]}`) await main();
