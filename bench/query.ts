// Scenario 1: the tag-graph query against PostGraphile v4 and v5 on the same tables, in the same run.
import { createBenchDatabase } from './lib/db.ts';
import { runLoad } from './lib/load.ts';
import { type RunningPeer, startPostgraphile, startPostgraphile5 } from './lib/peers.ts';
import { type Measured, measureRounds, pick, statementsPerRequest } from './lib/rounds.ts';
import { seedGraph } from './lib/seed.ts';
import { medianOf, printTable, type Row, round, writeResults } from './lib/stats.ts';
import { type RunningTagraph, startTagraph } from './lib/tagraph.ts';

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

/** The peers, each started only when `BENCH_PEERS` (default `v4,v5`) names it. */
const PEERS = {
  v4: { server: 'postgraphile4', label: 'PostGraphile v4', start: startPostgraphile },
  v5: { server: 'postgraphile5', label: 'PostGraphile v5', start: startPostgraphile5 },
} as const;
type PeerServer = (typeof PEERS)[keyof typeof PEERS]['server'];
/**
 * tagraph twice in the same run: with compiled reads (the default) and with them switched off
 * (`TAGRAPH_COMPILED_READS=off`, every request through the ordinary execution).
 */
const TAGRAPHS = [
  { server: 'tagraph', label: 'tagraph (compiled reads)', env: {} },
  {
    server: 'tagraph_ordinary',
    label: 'tagraph (ordinary)',
    env: { TAGRAPH_COMPILED_READS: 'off' },
  },
] as const;
type TagraphServer = (typeof TAGRAPHS)[number]['server'];
type Server = TagraphServer | PeerServer;
const SELECTED_PEERS = (process.env.BENCH_PEERS ?? 'v4,v5').split(',').map((key) => {
  const peer = PEERS[key as keyof typeof PEERS];
  if (!peer) throw new Error(`BENCH_PEERS: unknown peer ${key} (v4, v5)`);
  return peer;
});
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
    const tagraphs: { server: TagraphServer; label: string; running: RunningTagraph }[] = [];
    const peers: { server: PeerServer; label: string; running: RunningPeer }[] = [];
    try {
      for (const t of TAGRAPHS) {
        tagraphs.push({
          ...t,
          running: await startTagraph({
            databaseUrl: database.url,
            cpuProfDir: profileDir,
            env: { ...t.env },
          }),
        });
      }
      for (const peer of SELECTED_PEERS) {
        peers.push({ ...peer, running: await peer.start(database.url) });
      }
      const jsonHeaders = { 'content-type': 'application/json' };
      const servers: {
        server: Server;
        url: string;
        headers: Record<string, string>;
        pid: number;
      }[] = [
        ...tagraphs.map((t) => ({
          server: t.server,
          url: t.running.graphqlUrl,
          headers: t.running.headers,
          pid: t.running.pid,
        })),
        ...peers.map((p) => ({
          server: p.server,
          url: p.running.graphqlUrl,
          headers: jsonHeaders,
          pid: p.running.pid,
        })),
      ];
      const queryOf = (server: Server, name: QueryName) =>
        server.startsWith('tagraph') ? QUERIES[name].tagraph : QUERIES[name].postgraphile;
      // Same answers, or the comparison means nothing.
      const sizes: Record<string, number> = {};
      for (const name of SELECTED) {
        const answers = [];
        for (const s of servers)
          answers.push(digests(await post(s.url, s.headers, queryOf(s.server, name))));
        for (const [i, answer] of answers.entries()) {
          if (answer.join() !== answers[0]!.join())
            throw new Error(`${name}: tagraph and ${servers[i]!.server} disagree`);
        }
        sizes[name] = answers[0]!.length;
      }
      console.log(`answers agree (digests per response: ${JSON.stringify(sizes)})`);

      // Statements per request over 20 sequential requests: tagraph's drizzle counter on /metrics,
      // the peers' pg client calls (pg_stat_statements is not preloaded on this server).
      const counters: Record<Server, () => Promise<number>> = {
        ...Object.fromEntries(
          tagraphs.map((t) => [t.server, () => t.running.metric('tagraph_db_statements_total')]),
        ),
        ...Object.fromEntries(peers.map((p) => [p.server, () => p.running.statements()])),
      } as Record<Server, () => Promise<number>>;
      const statements: Record<string, number> = {};
      for (const name of SELECTED) {
        for (const s of servers) {
          statements[`${s.server}_${name}`] = await statementsPerRequest(counters[s.server], () =>
            post(s.url, s.headers, queryOf(s.server, name)),
          );
        }
      }
      console.log('statements per request:', statements);

      const load = (s: (typeof servers)[number], name: QueryName, duration: number) =>
        runLoad({
          url: s.url,
          connections: CONNECTIONS,
          duration,
          headers: s.headers,
          bodies: [
            JSON.stringify({ query: queryOf(s.server, name), variables: { ns: SHAPE.namespace } }),
          ],
          expect: '{"data":',
        });

      // CPU per request: the server's own process and every Postgres process. The load
      // generator's share is left out; on two cores the sum of the two bounds the rate.
      const runs: Record<string, Measured[]> = {};
      for (const name of SELECTED) {
        await measureRounds(
          servers.map((s) => ({
            key: `${s.server}_${name}`,
            label: `${name} ${s.server}`,
            pid: s.pid,
            load: (duration) => load(s, name, duration),
          })),
          {
            rounds: ROUNDS,
            warmupSeconds: WARMUP,
            durationSeconds: DURATION,
            database: database.name,
          },
          runs,
        );
      }

      const rows: Row[] = [];
      const summary: Record<string, unknown> = {};
      for (const name of SELECTED) {
        const peerMedians = peers.map((p) => ({
          ...p,
          m: medianOf(runs[`${p.server}_${name}`]!.map(pick)),
        }));
        const entry: Record<string, unknown> = {};
        for (const variant of tagraphs) {
          const t = medianOf(runs[`${variant.server}_${name}`]!.map(pick));
          const against = peerMedians.map((p) => ({
            ...p,
            ratio: t.rps / p.m.rps,
            met: t.rps / p.m.rps >= 1.5 && t.p99 <= p.m.p99,
          }));
          entry[variant.server] = {
            ...t,
            ...Object.fromEntries(against.map((a) => [`${a.server}Ratio`, a.ratio])),
            met: against.every((a) => a.met),
          };
          const ratios = against.map(
            (a) => `${round(a.ratio)}× ${a.label.replace('PostGraphile ', '')}`,
          );
          rows.push({
            query: name,
            server: variant.label,
            'req/s': round(t.rps, 1),
            'p50 ms': t.p50,
            'p99 ms': t.p99,
            'SQL/req': statements[`${variant.server}_${name}`]!,
            'CPU ms/req server + PG': `${round(t.serverCpuMs)} + ${round(t.postgresCpuMs)}`,
            'vs PostGraphile': ratios.join(', '),
            'target ≥1.5× & p99 ≤': against.every((a) => a.met) ? 'met' : 'MISSED',
          });
        }
        for (const a of peerMedians) {
          entry[a.server] = a.m;
          rows.push({
            query: name,
            server: a.label,
            'req/s': round(a.m.rps, 1),
            'p50 ms': a.m.p50,
            'p99 ms': a.m.p99,
            'SQL/req': statements[`${a.server}_${name}`]!,
            'CPU ms/req server + PG': `${round(a.m.serverCpuMs)} + ${round(a.m.postgresCpuMs)}`,
            'vs PostGraphile': '',
            'target ≥1.5× & p99 ≤': '',
          });
        }
        summary[name] = entry;
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
        peers: peers.map((p) => p.label),
        statements,
        digestsPerResponse: sizes,
        runs,
        summary,
        rows,
      });
    } finally {
      for (const peer of peers) await peer.running.stop();
      for (const t of tagraphs) await t.running.stop();
    }
  } finally {
    await database.drop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
