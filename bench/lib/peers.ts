// Baseline servers measured in the same run as tagraph.
import { join } from 'node:path';
import { firstMessage, ROOT, spawnNode } from './processes.ts';

export interface RunningPeer {
  graphqlUrl: string;
  /** Statements its database clients have sent so far. */
  statements(): Promise<number>;
  stop(): Promise<void>;
}

/** PostGraphile v4 + the simplify inflector on `databaseUrl`, in its own process. */
export async function startPostgraphile(databaseUrl: string): Promise<RunningPeer> {
  const spawned = spawnNode(join(ROOT, 'bench/lib/postgraphile.ts'), {
    env: { DATABASE_URL: databaseUrl, NODE_ENV: 'production' },
  });
  spawned.child.stdout?.resume();
  const { port } = await firstMessage<{ port: number }>(spawned);
  const base = `http://127.0.0.1:${port}`;
  return {
    graphqlUrl: `${base}/graphql`,
    statements: async () =>
      ((await (await fetch(`${base}/__statements`)).json()) as { statements: number }).statements,
    stop: () => spawned.stop(),
  };
}
