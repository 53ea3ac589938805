// SIGTERM stops the server however it was started: through `npm start` or as plain `node`.
import { readdirSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnServer } from '../support/app.ts';
import { type StagedPackage, stagePackage } from '../support/package.ts';

/** The shutdown bound the README promises (the server's own timer is 10 s). */
const SHUTDOWN_TIMEOUT_MS = 10_000;

/** Every process below `pid`, read from /proc (parent ids of all processes). */
function descendants(pid: number): number[] {
  const parents = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // exited while we looked
    }
    // Fields after the command name, which is in parentheses and may hold spaces.
    const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    parents.set(parent, [...(parents.get(parent) ?? []), Number(entry)]);
  }
  const found: number[] = [];
  const walk = (id: number) => {
    for (const child of parents.get(id) ?? []) {
      found.push(child);
      walk(child);
    }
  };
  walk(pid);
  return found;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('SIGTERM', () => {
  let staged: StagedPackage;
  beforeAll(async () => {
    staged = await stagePackage({ linkDependencies: true });
  }, 60_000);
  afterAll(() => staged?.remove());

  it.each([
    { how: 'npm start', command: 'npm', args: ['start'] },
    { how: 'node dist/main.js', command: process.execPath, args: ['dist/main.js'] },
  ])(
    'started with `$how`: the server exits 0 within the shutdown timeout and nothing is left',
    async ({ command, args }) => {
      const server = await spawnServer({}, { command, args, cwd: staged.dir });
      const pid = server.process.pid as number;
      expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
      const below = descendants(pid);

      const sent = Date.now();
      server.process.kill('SIGTERM');
      const exit = await Promise.race([
        server.exited,
        new Promise<'timed out'>((done) =>
          setTimeout(() => done('timed out'), SHUTDOWN_TIMEOUT_MS),
        ),
      ]);
      expect(exit).toEqual({ code: 0, signal: null });
      expect(Date.now() - sent).toBeLessThan(SHUTDOWN_TIMEOUT_MS);
      // No server left behind as an orphan, and the port no longer answers.
      expect(below.filter(alive)).toEqual([]);
      await expect(fetch(`${server.url}/readyz`)).rejects.toThrow();
    },
  );
});
