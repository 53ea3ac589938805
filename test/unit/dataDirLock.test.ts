// Who holds a PGlite data directory: live holders refuse, dead or reused pids are taken over.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DataDirLockedError, LOCK_FILE, lockDataDir } from '../../src/db/dataDirLock.ts';

let dir: string;
let lockPath: string;
const children: ChildProcess[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tagraph-lock-'));
  lockPath = join(dir, LOCK_FILE);
});

afterEach(async () => {
  for (const child of children.splice(0)) {
    child.kill('SIGKILL');
    await new Promise((done) => child.once('exit', done));
  }
  rmSync(dir, { recursive: true, force: true });
});

/** A process that runs until the test ends: its pid is a live holder's. */
async function liveProcess(): Promise<number> {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  children.push(child);
  await new Promise((done) => child.once('spawn', done));
  return child.pid!;
}

function writeLock(holder: Record<string, unknown>) {
  writeFileSync(lockPath, JSON.stringify({ hostname: hostname(), since: 'earlier', ...holder }));
}

describe('lockDataDir', () => {
  it('writes the pid and removes the file when the last open of this process releases it', () => {
    const release = lockDataDir(dir);
    expect(JSON.parse(readFileSync(lockPath, 'utf8'))).toMatchObject({ pid: process.pid });
    const releaseSecond = lockDataDir(dir);
    release();
    release();
    expect(existsSync(lockPath)).toBe(true);
    releaseSecond();
    expect(existsSync(lockPath)).toBe(false);
    lockDataDir(dir)();
  });

  it('refuses a lock of a live process, naming its pid and the directory', async () => {
    const pid = await liveProcess();
    writeLock({ pid, processStart: null });
    expect(() => lockDataDir(dir)).toThrow(DataDirLockedError);
    expect(() => lockDataDir(dir)).toThrow(`${dir} is in use by tagraph process ${pid}`);
    expect(JSON.parse(readFileSync(lockPath, 'utf8')).pid).toBe(pid);
  });

  it('takes over a lock whose pid now belongs to a process started at another time', async () => {
    const pid = await liveProcess();
    writeLock({ pid, processStart: '1' });
    const release = lockDataDir(dir);
    expect(JSON.parse(readFileSync(lockPath, 'utf8')).pid).toBe(process.pid);
    release();
  });

  it("takes over a lock with this process's own pid that it does not hold (a restarted container)", () => {
    writeLock({ pid: process.pid, processStart: null });
    lockDataDir(dir)();
  });

  it('refuses a lock written on another host, which it cannot check', () => {
    writeLock({ pid: 1, hostname: 'another-host', processStart: null });
    expect(() => lockDataDir(dir)).toThrow(/process 1 on another-host/);
  });
});
