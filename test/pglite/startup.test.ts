// Starting the embedded (PGlite) processes as a user does: --help, a port in use, pretty logs on a
// terminal, and open mode's imports from a registry on loopback.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { SECRET_KEY_FILE } from '../../src/secrets.ts';
import { spawnEntry } from '../support/app.ts';
import { fileDatabase } from '../support/database.ts';
import { pushImage } from '../support/images.ts';
import { startRegistry } from '../support/registry.ts';

const roots: string[] = [];
afterAll(() => {
  for (const root of roots) rmSync(root, { recursive: true, force: true });
});

/** A fresh directory for an embedded data directory that does not exist yet. */
function freshDataDir(): string {
  const root = mkdtempSync(join(tmpdir(), 'tagraph-startup-'));
  roots.push(root);
  return join(root, 'data');
}

/** Environment of an embedded (open mode) gateway on a free port, nothing else from defaults. */
function embedded(dataDir: string): Record<string, string> {
  return {
    DATABASE_URL: '',
    TAGRAPH_DATA_DIR: dataDir,
    TAGRAPH_PORT: '0',
    TAGRAPH_HOST: '127.0.0.1',
    TAGRAPH_AUTH: '',
    TAGRAPH_ADMIN_TOKEN: '',
    TAGRAPH_SECRET_KEY: '',
    TAGRAPH_EGRESS_ALLOW: '',
    TAGRAPH_LOG_FORMAT: '',
    TAGRAPH_LOG_LEVEL: 'info',
  };
}

/** This file's embedded data directory (a migrated copy: a fresh one takes a minute to make). */
function templateCopy(): string {
  const target = fileDatabase();
  if (target.kind !== 'pglite') throw new Error('pglite only');
  return target.dataDir;
}

function lines(text: string): string[] {
  return text.split('\n').filter((line) => line.trim() !== '');
}

describe('--help', () => {
  for (const entry of ['main', 'worker'] as const) {
    it(`${entry} prints its options with their variables and exits 0`, async () => {
      const run = spawnEntry(entry, {}, ['--help']);
      expect(await run.exited).toEqual({ code: 0, signal: null });
      expect(run.stdout()).toMatch(/--database-url <url>\s+DATABASE_URL/);
      expect(run.stdout()).toMatch(/--log-level <level>\s+TAGRAPH_LOG_LEVEL/);
      if (entry === 'main') expect(run.stdout()).toMatch(/--port <n>\s+TAGRAPH_PORT/);
      expect(run.stdout()).toContain('TAGRAPH_SECRET_KEY');
      expect(run.stderr()).toBe('');
    });
  }
});

describe('a port in use', () => {
  let holder: Server;
  afterAll(async () => {
    await new Promise<void>((done) => holder.close(() => done()));
  });

  it('is one line naming the port and the flag, before the database opens; exit 1', async () => {
    holder = createServer();
    await new Promise<void>((done) => holder.listen(0, '127.0.0.1', done));
    const { port } = holder.address() as { port: number };
    const dataDir = freshDataDir();
    const run = spawnEntry('main', { ...embedded(dataDir), TAGRAPH_PORT: String(port) });
    expect(await run.exited).toEqual({ code: 1, signal: null });
    const said = lines(run.stderr());
    expect(said, run.output()).toHaveLength(1);
    expect(said[0]).toContain(`port ${port} is already in use`);
    expect(said[0]).toContain('--port');
    expect(said[0]).toContain('TAGRAPH_PORT');
    // Nothing was logged and the embedded database was never created.
    expect(run.stdout()).toBe('');
    expect(existsSync(dataDir)).toBe(false);
  });
});

describe('logs on a terminal', () => {
  it('are pretty when stdout is a TTY', { timeout: 120_000 }, async () => {
    // `script` gives the server a pseudo-terminal as stdout.
    const main = fileURLToPath(new URL('../../src/main.ts', import.meta.url));
    const child = spawn(
      'script',
      ['-qfec', `${process.execPath} --import tsx ${main}`, '/dev/null'],
      {
        env: { ...process.env, ...embedded(templateCopy()) },
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
      },
    );
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk;
    });
    const exited = new Promise<void>((done) => child.once('exit', () => done()));
    try {
      await expect.poll(() => output, { timeout: 100_000 }).toMatch(/tagraph listening on http/);
      const line = lines(output).find((l) => l.includes('tagraph listening on'))!;
      expect(line.trimStart().startsWith('{')).toBe(false);
      expect(line).toContain('INFO');
    } finally {
      process.kill(-child.pid!, 'SIGTERM');
      await exited;
    }
  });
});

describe('open development mode', () => {
  it('imports from a registry on 127.0.0.1 with no TAGRAPH_EGRESS_ALLOW, and keeps its key inside the data directory', {
    timeout: 120_000,
  }, async () => {
    const registry = await startRegistry();
    const dataDir = templateCopy();
    const run = spawnEntry('main', embedded(dataDir));
    try {
      await expect.poll(() => run.stdout(), { timeout: 100_000 }).toContain('tagraph listening');
      const url = /"url":"(http:\/\/[^"]+)"/.exec(run.stdout())![1]!;
      expect(run.stdout()).toContain('open mode: imports may reach registries on this machine');
      const image = await pushImage(registry.url, 'team/app', 'v1', { content: 'local' });
      const response = await fetch(`${url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          query: `mutation($input: ImportImageInput!) { importImage(input: $input) {
            ... on ImportImagePayload { timedOut job { status images { status digest message } } }
            ... on Error { code message } } }`,
          variables: {
            input: {
              namespace: 'dev',
              image: 'app:v1',
              from: `${registry.host}/team/app:v1`,
              confirm: true,
              insecure: true,
              wait: true,
              timeoutSeconds: 30,
            },
          },
        }),
      });
      const body = (await response.json()) as { data: { importImage: Record<string, unknown> } };
      expect(body.data.importImage, run.output()).toMatchObject({
        timedOut: false,
        job: { status: 'succeeded', images: [{ status: 'Success', digest: image.digest }] },
      });
      expect(existsSync(join(dataDir, SECRET_KEY_FILE))).toBe(true);
      expect(existsSync(`${dataDir}.secret.key`)).toBe(false);
    } finally {
      run.process.kill('SIGTERM');
      await run.exited;
      await registry.stop();
    }
  });
});
