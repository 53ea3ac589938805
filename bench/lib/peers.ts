// Baseline servers measured in the same run as tagraph.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { firstMessage, ROOT, type Spawned, spawnNode } from './processes.ts';

export interface RunningPeer {
  graphqlUrl: string;
  /** The server's process, for its CPU time. */
  pid: number;
  /** Statements its database clients have sent so far. */
  statements(): Promise<number>;
  stop(): Promise<void>;
}

/** PostGraphile v4 + the simplify inflector on `databaseUrl`, in its own process. */
export async function startPostgraphile(databaseUrl: string): Promise<RunningPeer> {
  return peerOn(
    spawnNode(join(ROOT, 'bench/lib/postgraphile.ts'), {
      env: { DATABASE_URL: databaseUrl, NODE_ENV: 'production' },
    }),
  );
}

const V5_DIR = join(ROOT, 'bench/peers/postgraphile5');
const V5_NODE = join(V5_DIR, 'node_modules/.bin/node');

/**
 * PostGraphile v5 + the simplify-inflection preset, on the Node 22 its folder pins (the `node`
 * npm package). The folder is installed from its lockfile on first use (~40 s, ~190 packages), so
 * neither `npm ci` of the project nor CI pays for it.
 */
export async function startPostgraphile5(databaseUrl: string): Promise<RunningPeer> {
  if (!existsSync(V5_NODE)) {
    console.log('installing PostGraphile v5 and Node 22 into bench/peers/postgraphile5 …');
    execFileSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: V5_DIR, stdio: 'inherit' });
  }
  return peerOn(
    spawnNode(join(V5_DIR, 'server.mjs'), {
      node: V5_NODE,
      env: { DATABASE_URL: databaseUrl, NODE_ENV: 'production' },
    }),
  );
}

async function peerOn(spawned: Spawned): Promise<RunningPeer> {
  spawned.child.stdout?.resume();
  const { port } = await firstMessage<{ port: number }>(spawned);
  const base = `http://127.0.0.1:${port}`;
  return {
    graphqlUrl: `${base}/graphql`,
    pid: spawned.child.pid!,
    statements: async () =>
      ((await (await fetch(`${base}/__statements`)).json()) as { statements: number }).statements,
    stop: () => spawned.stop(),
  };
}
