// Scenario 5: a filtered, ordered tag-list page against the plain first page of the same list, in
// the same run: the 20 most recently updated failing tags (with totalCount) of a 10,000-tag stream,
// and of a namespace of 100 streams × 100 tags (Namespace.tags); and the first page of the tag
// graph (follows, followers, dangling) of the 10,000-tag stream, where one tag in ten tracks another.
import { createBenchDatabase } from './lib/db.ts';
import { runLoad } from './lib/load.ts';
import { type Measured, measureRounds, pick, statementsPerRequest } from './lib/rounds.ts';
import { medianOf, printTable, type Row, round, writeResults } from './lib/stats.ts';
import { startTagraph } from './lib/tagraph.ts';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const DURATION = Number(process.env.BENCH_DURATION ?? 10);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 3);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10);
const SHAPE = {
  namespace: 'bench',
  stream: 'big',
  tags: 10_000,
  failingEvery: 50,
  trackingEvery: 10,
};
/** Namespace.tags: as many tags, spread over streams. */
const WIDE = { namespace: 'bench-wide', streams: 100, tagsPerStream: 100 };

const QUERIES = {
  /** The baseline: the list's first page by name, no filter. */
  firstPage: `query { imageStream(namespace: "${SHAPE.namespace}", name: "${SHAPE.stream}") {
    tags(first: 20) { nodes { name } } } }`,
  /** The 20 most recently updated failing tags. */
  failingRecentPage: `query { imageStream(namespace: "${SHAPE.namespace}", name: "${SHAPE.stream}") {
    tags(first: 20, filter: { importFailing: true }, orderBy: { field: UPDATED_AT, direction: DESC }) {
      nodes { name } } } }`,
  /** The same page, and how many fail in all. */
  failingRecent: `query { imageStream(namespace: "${SHAPE.namespace}", name: "${SHAPE.stream}") {
    tags(first: 20, filter: { importFailing: true }, orderBy: { field: UPDATED_AT, direction: DESC }) {
      totalCount nodes { name } } } }`,
  /** The tag graph's first page: what each tag tracks and what tracks it. */
  graphPage: `query { imageStream(namespace: "${SHAPE.namespace}", name: "${SHAPE.stream}") {
    tags(first: 20) { nodes { name dangling follows { name } followers { name } } } } }`,
  /** A namespace's tags across its streams, first page by name. */
  namespaceFirstPage: `query { namespace(name: "${WIDE.namespace}") {
    tags(first: 20) { nodes { name } } } }`,
  /** The dashboard: the 20 most recently updated failing tags of the namespace. */
  namespaceFailingRecentPage: `query { namespace(name: "${WIDE.namespace}") {
    tags(first: 20, filter: { importFailing: true }, orderBy: { field: UPDATED_AT, direction: DESC }) {
      nodes { name } } } }`,
  namespaceFailingRecent: `query { namespace(name: "${WIDE.namespace}") {
    tags(first: 20, filter: { importFailing: true }, orderBy: { field: UPDATED_AT, direction: DESC }) {
      totalCount nodes { name } } } }`,
} as const;
type QueryName = keyof typeof QUERIES;

/** Each query's ratios are against the first page by name of the same list. */
const BASELINE: Record<QueryName, QueryName> = {
  firstPage: 'firstPage',
  failingRecentPage: 'firstPage',
  failingRecent: 'firstPage',
  graphPage: 'firstPage',
  namespaceFirstPage: 'namespaceFirstPage',
  namespaceFailingRecentPage: 'namespaceFirstPage',
  namespaceFailingRecent: 'namespaceFirstPage',
};

export async function main() {
  const database = await createBenchDatabase('lists');
  try {
    const sql = database.sql;
    await sql`insert into namespaces (name) values (${SHAPE.namespace})`;
    const [stream] = await sql<{ id: string }[]>`
      insert into image_streams (namespace, name) values (${SHAPE.namespace}, ${SHAPE.stream})
      returning id`;
    await sql`
      insert into tags (stream_id, name, from_kind, from_name, spec_generation)
      select ${stream!.id}, 'v' || g, 'DockerImage', 'quay.io/bench/app:v' || g, 1
      from generate_series(1, ${SHAPE.tags}) g`;
    // Tag v<n> tracks v<n-1> when n is a multiple of trackingEvery (`oc tag --alias`).
    await sql`
      update tags set from_kind = 'ImageStreamTag', from_name = 'v' || ((substring(name from 2))::int - 1)
      where stream_id = ${stream!.id} and (substring(name from 2))::int % ${SHAPE.trackingEvery} = 0`;
    await sql`insert into namespaces (name) values (${WIDE.namespace})`;
    await sql`
      insert into image_streams (namespace, name)
      select ${WIDE.namespace}, 's' || g from generate_series(1, ${WIDE.streams}) g`;
    await sql`
      insert into tags (stream_id, name, from_kind, from_name, spec_generation)
      select s.id, 'v' || g, 'DockerImage', 'quay.io/bench/app:v' || g, 1
      from image_streams s, generate_series(1, ${WIDE.tagsPerStream}) g
      where s.namespace = ${WIDE.namespace}`;
    await sql`
      insert into tag_conditions (tag_id, type, status, reason, generation)
      select id, 'ImportSuccess', 'False', 'NotFound', 1 from tags
      where (substring(name from 2))::int % ${SHAPE.failingEvery} = 0`;
    // Spread the updated times (writing the conditions touched their tags).
    await sql`
      update tags t set updated_at = timestamptz '2026-01-01'
        + ((case when s.namespace = ${WIDE.namespace} then (substring(s.name from 2))::int
            else 0 end) * ${WIDE.tagsPerStream}
          + (substring(t.name from 2))::int) * interval '1 second'
      from image_streams s where s.id = t.stream_id`;
    await sql`analyze`;

    const tagraph = await startTagraph({ databaseUrl: database.url });
    try {
      const failing = (await tagraph.graphql(QUERIES.failingRecent)) as {
        imageStream: { tags: { totalCount: number; nodes: { name: string }[] } };
      };
      const expected = SHAPE.tags / SHAPE.failingEvery;
      if (
        failing.imageStream.tags.totalCount !== expected ||
        failing.imageStream.tags.nodes[0]?.name !== `v${SHAPE.tags}`
      ) {
        throw new Error(`unexpected answer: ${JSON.stringify(failing).slice(0, 300)}`);
      }
      const graph = (await tagraph.graphql(QUERIES.graphPage)) as {
        imageStream: { tags: { nodes: { name: string; follows: { name: string } | null }[] } };
      };
      const v10 = graph.imageStream.tags.nodes.find((n) => n.name === 'v10');
      if (v10?.follows?.name !== 'v9') {
        throw new Error(`unexpected answer: ${JSON.stringify(graph).slice(0, 300)}`);
      }
      const wide = (await tagraph.graphql(QUERIES.namespaceFailingRecent)) as {
        namespace: { tags: { totalCount: number; nodes: { name: string }[] } };
      };
      if (
        wide.namespace.tags.totalCount !== expected ||
        wide.namespace.tags.nodes.length !== 20 ||
        wide.namespace.tags.nodes[0]?.name !== `v${WIDE.tagsPerStream}`
      ) {
        throw new Error(`unexpected answer: ${JSON.stringify(wide).slice(0, 300)}`);
      }

      const statements: Record<string, number> = {};
      for (const name of Object.keys(QUERIES) as QueryName[]) {
        statements[name] = await statementsPerRequest(
          () => tagraph.metric('tagraph_db_statements_total'),
          () => tagraph.graphql(QUERIES[name]),
        );
      }
      console.log('statements per request:', statements);

      const load = (name: QueryName, duration: number) =>
        runLoad({
          url: tagraph.graphqlUrl,
          connections: CONNECTIONS,
          duration,
          headers: tagraph.headers,
          bodies: [JSON.stringify({ query: QUERIES[name] })],
          expect: '{"data":',
        });
      const runs: Record<string, Measured[]> = {};
      const names = Object.keys(QUERIES) as QueryName[];
      await measureRounds(
        names.map((name) => ({
          key: name,
          label: name,
          pid: tagraph.pid,
          load: (duration) => load(name, duration),
        })),
        {
          rounds: ROUNDS,
          warmupSeconds: WARMUP,
          durationSeconds: DURATION,
          database: database.name,
        },
        runs,
      );

      const rows: Row[] = names.map((name) => {
        const m = medianOf(runs[name]!.map(pick));
        const base = medianOf(runs[BASELINE[name]]!.map(pick));
        return {
          query: name,
          'req/s': round(m.rps, 1),
          'p50 ms': m.p50,
          'p99 ms': m.p99,
          'SQL/req': statements[name]!,
          'CPU ms/req server + PG': `${round(m.serverCpuMs)} + ${round(m.postgresCpuMs)}`,
          'req/s vs first page': round(m.rps / base.rps),
          'p99 vs first page': round(m.p99 / base.p99),
        };
      });
      printTable(
        `Scenario 5 — tag lists of ${SHAPE.tags} tags (one stream; a namespace of ${WIDE.streams} × ${WIDE.tagsPerStream}), ${CONNECTIONS} connections, median of ${ROUNDS} × ${DURATION} s`,
        rows,
      );
      await writeResults('lists', {
        shape: { ...SHAPE, wide: WIDE },
        connections: CONNECTIONS,
        rounds: ROUNDS,
        durationSeconds: DURATION,
        statements,
        runs,
        rows,
      });
    } finally {
      await tagraph.stop();
    }
  } finally {
    await database.drop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
