// The one place a benchmark starts tagraph. When access control lands (Postgres mode will want an
// auth token), adapt it here: put the token in `headers` and every scenario picks it up.
import { join } from 'node:path';
import { freePort, ROOT, type Spawned, spawnNode, waitForOk } from './processes.ts';

/** Any fixed 32 bytes: the benchmarks store no real pull secrets. */
const BENCH_SECRET_KEY = 'be'.repeat(32);
/**
 * Token mode (the Postgres default once access control is in) with a cluster-admin token; a server
 * without access control ignores both the variable and the header.
 */
const BENCH_ADMIN_TOKEN = `tgr_bench_${'a'.repeat(40)}`;

export interface TagraphOptions {
  databaseUrl: string;
  /** Extra TAGRAPH_* variables (e.g. TAGRAPH_IMPORT_WORKER: 'true'). */
  env?: Record<string, string>;
  /** Write a V8 CPU profile of the server into this directory when it stops. */
  cpuProfDir?: string;
}

export interface RunningTagraph {
  url: string;
  graphqlUrl: string;
  wsUrl: string;
  pid: number;
  /** Headers every request needs (an auth token once access control requires one). */
  headers: Record<string, string>;
  /** POSTs an operation; throws on HTTP or GraphQL errors. */
  graphql<T = Record<string, unknown>>(query: string, variables?: object): Promise<T>;
  /** The value of a counter on /metrics (e.g. tagraph_db_statements_total). */
  metric(name: string): Promise<number>;
  process: Spawned;
  stop(): Promise<void>;
}

export async function startTagraph(options: TagraphOptions): Promise<RunningTagraph> {
  const port = await freePort();
  const spawned = spawnNode(join(ROOT, 'src/main.ts'), {
    // e.g. bench/peers/postgraphile5/node_modules/.bin/node: tagraph on the Node 22 v5 runs on.
    node: process.env.BENCH_TAGRAPH_NODE || undefined,
    nodeArgs: [
      ...(options.cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${options.cpuProfDir}`] : []),
      ...(process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean),
    ],
    env: {
      DATABASE_URL: options.databaseUrl,
      TAGRAPH_SECRET_KEY: BENCH_SECRET_KEY,
      TAGRAPH_PORT: String(port),
      TAGRAPH_HOST: '127.0.0.1',
      TAGRAPH_LOG_LEVEL: 'warn',
      TAGRAPH_IMPORT_WORKER: 'false',
      TAGRAPH_GRAPHIQL: 'false',
      NODE_ENV: 'production',
      TAGRAPH_ADMIN_TOKEN: BENCH_ADMIN_TOKEN,
      // The per-caller limit (1200 a minute by default) would turn a load test into 429s.
      TAGRAPH_RATE_LIMIT_PER_MINUTE: '0',
      // The subscription scenarios open up to 10,000 connections with one token.
      TAGRAPH_MAX_CONNECTIONS_PER_TOKEN: '0',
      ...options.env,
    },
  });
  // Its stdout (JSON logs at warn) is drained so the pipe never fills.
  spawned.child.stdout?.resume();
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitForOk(`${url}/readyz`, spawned);
  } catch (error) {
    await spawned.stop();
    throw error;
  }
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    authorization: `Bearer ${BENCH_ADMIN_TOKEN}`,
  };
  const graphqlUrl = `${url}/graphql`;
  return {
    url,
    graphqlUrl,
    wsUrl: `ws://127.0.0.1:${port}/graphql`,
    pid: spawned.child.pid!,
    headers,
    process: spawned,
    graphql: async <T>(query: string, variables?: object) => {
      const response = await fetch(graphqlUrl, {
        method: 'POST',
        headers,
        body: JSON.stringify({ query, variables }),
      });
      const body = (await response.json()) as { data?: T; errors?: unknown[] };
      if (!response.ok || body.errors) {
        throw new Error(`tagraph ${response.status}: ${JSON.stringify(body).slice(0, 2000)}`);
      }
      return body.data as T;
    },
    metric: async (name) => {
      const text = await (await fetch(`${url}/metrics`, { headers })).text();
      const line = text
        .split('\n')
        .find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
      return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : Number.NaN;
    },
    stop: () => spawned.stop(),
  };
}
