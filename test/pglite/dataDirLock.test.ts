// One process per PGlite data directory: a second one refuses to start, naming the first; a lock
// left by a dead process does not block a start; the lock is released on a clean shutdown.
import { spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/client.ts';
import { LOCK_FILE } from '../../src/db/dataDirLock.ts';
import { imageStreams } from '../../src/db/schema.ts';
import { ADMIN_HEADERS, type SpawnedServer, spawnServer } from '../support/app.ts';
import { fileDatabase } from '../support/database.ts';

/** As production runs: token mode on the embedded database. */
const TOKEN_MODE = { TAGRAPH_AUTH: 'token' };

async function graphql(server: SpawnedServer, query: string) {
  const response = await fetch(`${server.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...ADMIN_HEADERS },
    body: JSON.stringify({ query }),
  });
  expect(response.status).toBe(200);
  return (await response.json()) as { data?: Record<string, unknown>; errors?: unknown[] };
}

async function createStream(server: SpawnedServer, name: string) {
  const result = await graphql(
    server,
    `mutation { createImageStream(input: { namespace: "locked", name: "${name}" }) { __typename } }`,
  );
  expect(result).toEqual({ data: { createImageStream: { __typename: 'ImageStreamPayload' } } });
}

async function streamNames(server: SpawnedServer): Promise<string[]> {
  const result = await graphql(server, '{ imageStreams(namespace: "locked") { nodes { name } } }');
  expect(result.errors).toBeUndefined();
  const streams = result.data!.imageStreams as { nodes: { name: string }[] };
  return streams.nodes.map((node) => node.name);
}

async function stop(server: SpawnedServer) {
  server.process.kill('SIGTERM');
  expect(await server.exited).toEqual({ code: 0, signal: null });
}

/** A pid that was a process a moment ago and is none now. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await new Promise((done) => child.once('exit', done));
  return child.pid!;
}

// Each spawned server takes seconds to start on a busy machine; the first test starts two.
describe('the PGlite data directory lock', { timeout: 120_000 }, () => {
  it('refuses a second process, naming the first, which keeps serving and keeps its writes', async () => {
    const { dataDir } = fileDatabase() as { dataDir: string };
    const first = await spawnServer(TOKEN_MODE);
    try {
      await createStream(first, 'before');
      const refused = await spawnServer(TOKEN_MODE).then(
        () => {
          throw new Error('a second process started on the same data directory');
        },
        (error: Error) => error.message,
      );
      expect(refused).toContain('server exited (code 1) before listening');
      expect(refused).toContain(`in use by tagraph process ${first.process.pid}`);
      expect(refused).toContain(dataDir);

      await createStream(first, 'after');
      expect(await streamNames(first)).toEqual(['after', 'before']);
      expect((await fetch(`${first.url}/readyz`)).status).toBe(200);
    } finally {
      await stop(first);
    }
    expect(existsSync(join(dataDir, LOCK_FILE))).toBe(false);

    // Nothing acknowledged was lost: both writes are on disk once the first process is gone.
    const database = await openDatabase(fileDatabase());
    try {
      const rows = await database.db
        .select({ name: imageStreams.name })
        .from(imageStreams)
        .where(eq(imageStreams.namespace, 'locked'))
        .orderBy(imageStreams.name);
      expect(rows.map((row) => row.name)).toEqual(['after', 'before']);
    } finally {
      await database.close();
    }
  });

  it('starts over a lock left by a process that no longer runs', async () => {
    const { dataDir } = fileDatabase() as { dataDir: string };
    const pid = await deadPid();
    writeFileSync(
      join(dataDir, LOCK_FILE),
      JSON.stringify({ pid, hostname: hostname(), processStart: null, since: 'yesterday' }),
    );
    const server = await spawnServer(TOKEN_MODE);
    try {
      await createStream(server, 'over-stale-lock');
      expect(await streamNames(server)).toContain('over-stale-lock');
    } finally {
      await stop(server);
    }
  });

  it('in one process: a second open shares the lock, which goes with the last close', async () => {
    const target = fileDatabase() as { kind: 'pglite'; dataDir: string };
    const lockPath = join(target.dataDir, LOCK_FILE);
    const first = await openDatabase(target);
    const second = await openDatabase(target);
    await second.ping();
    await first.close();
    expect(existsSync(lockPath)).toBe(true);
    await second.close();
    expect(existsSync(lockPath)).toBe(false);
  });
});
