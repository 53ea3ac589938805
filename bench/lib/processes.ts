// Child processes of a benchmark: spawned with tsx, stopped by pid, never left behind.
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

const children = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});
// Ctrl-C: stop the children (a leftover tagraph_bench_* database is dropped by the next run).
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    for (const child of children) child.kill('SIGTERM');
    setTimeout(() => process.exit(130), 500);
  });
}

export interface Spawned {
  child: ChildProcess;
  /** Resolves with the exit code once the process is gone. */
  exited: Promise<number | null>;
  /** Everything it printed to stderr so far (for failure messages). */
  stderr(): string;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when it is gone. */
  stop(graceMs?: number): Promise<void>;
}

/**
 * Runs `node [nodeArgs] --import tsx <script> [args]` from the repository root (a `.mjs`/`.js`
 * script without tsx). `node` picks another Node executable (a peer that needs Node 22).
 */
export function spawnNode(
  script: string,
  options: {
    args?: string[];
    env?: Record<string, string>;
    nodeArgs?: string[];
    node?: string;
  } = {},
): Spawned {
  const loader = /\.m?js$/.test(script) ? [] : ['--import', 'tsx'];
  const child = spawn(
    options.node ?? process.execPath,
    [...(options.nodeArgs ?? []), ...loader, script, ...(options.args ?? [])],
    {
      cwd: ROOT,
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    },
  );
  children.add(child);
  let err = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    err = (err + chunk.toString()).slice(-8000);
    if (process.env.BENCH_DEBUG) process.stderr.write(chunk);
  });
  const exited = new Promise<number | null>((done) =>
    child.once('exit', (code) => {
      children.delete(child);
      done(code);
    }),
  );
  return {
    child,
    exited,
    stderr: () => err,
    stop: async (graceMs = 15_000) => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** The first IPC message the child sends (its "ready" report), or its stderr if it dies first. */
export function firstMessage<T>(spawned: Spawned, timeoutMs = 60_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no message in ${timeoutMs} ms`)), timeoutMs);
    spawned.child.once('message', (message) => {
      clearTimeout(timer);
      resolve(message as T);
    });
    void spawned.exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`child exited (${code}) before reporting:\n${spawned.stderr()}`));
    });
  });
}

/** Runs a child to completion and returns the last IPC message it sent. */
export async function runToResult<T>(spawned: Spawned): Promise<T> {
  let last: T | undefined;
  spawned.child.on('message', (message) => {
    last = message as T;
  });
  const code = await spawned.exited;
  if (code !== 0 || last === undefined) {
    throw new Error(`child failed (exit ${code}):\n${spawned.stderr()}`);
  }
  return last;
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as { port: number };
  await new Promise<void>((done) => server.close(() => done()));
  return port;
}

/** Polls `url` until it answers 200. */
export async function waitForOk(url: string, spawned: Spawned, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (spawned.child.exitCode !== null) {
      throw new Error(`process exited before ${url} answered:\n${spawned.stderr()}`);
    }
    const ok = await fetch(url)
      .then((r) => r.ok)
      .catch(() => false);
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`${url} not ready in ${timeoutMs} ms`);
    await new Promise((done) => setTimeout(done, 100));
  }
}

/** Resident set size of a process in bytes (Linux /proc). */
export async function rssOf(pid: number): Promise<number> {
  const { readFile } = await import('node:fs/promises');
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = /VmRSS:\s+(\d+) kB/.exec(status)?.[1];
  return Number(kb) * 1024;
}

/** CPU time (user + system) a process has used so far, in ms (Linux /proc, 100 ticks a second). */
export async function cpuMsOf(pid: number): Promise<number> {
  const { readFile } = await import('node:fs/promises');
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** The CPU time each `postgres` process was last seen with, exited ones included, by scope. */
const postgresLastSeen = new Map<string, Map<number, number>>();

/**
 * Whether a `postgres` process counts for `database`: every process when none is named, else only
 * the backends connected to it (Postgres titles a backend `postgres: [<cluster>:] <user> <database>
 * <client> <state>`), so other databases' work on a shared server does not count.
 */
async function countsFor(pid: string, database: string | undefined): Promise<boolean> {
  if (database === undefined) return true;
  const { readFile } = await import('node:fs/promises');
  const title = (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => ''))
    .split(/[\s\0]+/)
    .filter(Boolean);
  if (title[0] !== 'postgres:') return false;
  // With `cluster_name` set (Debian sets e.g. `15/main`) the title names it first.
  const rest = title[1]?.endsWith(':') ? title.slice(2) : title.slice(1);
  return rest[1] === database;
}

/**
 * CPU time used so far by the `postgres` processes on this machine (server and backends, or only
 * the backends of `database`), ms. A backend that exits between two calls keeps the time it was
 * last seen with, so the total never goes down (a plain sum over live processes did, when a pool
 * closed a connection mid-run).
 */
export async function postgresCpuMs(database?: string): Promise<number> {
  const { readdir, readFile } = await import('node:fs/promises');
  const scope = database ?? '';
  const lastSeen = postgresLastSeen.get(scope) ?? new Map<number, number>();
  postgresLastSeen.set(scope, lastSeen);
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const comm = await readFile(`/proc/${entry}/comm`, 'utf8').catch(() => '');
    if (comm.trim() !== 'postgres' || !(await countsFor(entry, database))) continue;
    const ms = await cpuMsOf(Number(entry)).catch(() => undefined);
    if (ms !== undefined) lastSeen.set(Number(entry), ms);
  }
  let total = 0;
  for (const ms of lastSeen.values()) total += ms;
  return total;
}

/**
 * Runs a load and adds what it cost per operation, from /proc: the server process's CPU (0 when
 * no pid is given) and Postgres's — every Postgres process, or with `database` only the backends
 * connected to it (read-only loads, where the server's background processes do no work for the
 * load and another database's work on a shared machine must not count).
 */
export async function withCpuPerOperation<T extends { total: number }>(
  serverPid: number | null,
  run: () => Promise<T>,
  database?: string,
): Promise<T & { serverCpuMs: number; postgresCpuMs: number }> {
  const server = () => (serverPid === null ? Promise.resolve(0) : cpuMsOf(serverPid));
  const serverBefore = await server();
  const postgresBefore = await postgresCpuMs(database);
  const result = await run();
  return {
    ...result,
    serverCpuMs: ((await server()) - serverBefore) / result.total,
    postgresCpuMs: ((await postgresCpuMs(database)) - postgresBefore) / result.total,
  };
}
