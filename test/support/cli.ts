// Runs the `tagraph` executable as a subprocess, as a user would, against a test server.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, expect } from 'vitest';

/** The file package.json's `bin` names. */
export const CLI_BIN = fileURLToPath(new URL('../../src/cli/tagraph.js', import.meta.url));

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  /** The server: TAGRAPH_SERVER. */
  url?: string;
  /** The caller's API token: TAGRAPH_TOKEN (the environment's, if given there, wins). */
  token?: string;
  /** Extra environment (TAGRAPH_TOKEN, XDG_CONFIG_HOME, …). */
  env?: Record<string, string>;
  /** Written to the CLI's stdin (for `-f -`). */
  stdin?: string;
  /** Another `tagraph` executable (a built dist/cli.js) instead of the sources' CLI_BIN. */
  bin?: string;
}

const children = new Set<ChildProcess>();
/** An empty HOME, so no developer's ~/.config/tagraph/config.json is read. */
const home = mkdtempSync(join(tmpdir(), 'tagraph-cli-home-'));

function environment(options: CliOptions): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: home, ...options.env };
  for (const key of ['TAGRAPH_SERVER', 'TAGRAPH_TOKEN', 'XDG_CONFIG_HOME']) {
    if (!options.env?.[key]) delete env[key];
  }
  if (options.token && !options.env?.TAGRAPH_TOKEN) env.TAGRAPH_TOKEN = options.token;
  if (options.url) env.TAGRAPH_SERVER = options.url;
  return env;
}

/** Starts `tagraph <args>`; the caller reads its output as it comes and waits for the exit. */
export function startCli(args: string[], options: CliOptions = {}) {
  const child = spawn(process.execPath, [options.bin ?? CLI_BIN, ...args], {
    env: environment(options),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  children.add(child);
  let stdout = '';
  let stderr = '';
  const listeners = new Set<() => void>();
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    for (const listener of listeners) listener();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    for (const listener of listeners) listener();
  });
  child.stdin.end(options.stdin ?? '');
  const exited = new Promise<CliResult>((resolve) =>
    child.once('close', (code) => {
      children.delete(child);
      resolve({ code, stdout, stderr });
    }),
  );
  /** Resolves once the output so far satisfies `test` (rejects after `timeoutMs`). */
  const waitFor = (
    test: (out: { stdout: string; stderr: string }) => boolean,
    timeoutMs = 15_000,
  ) =>
    new Promise<void>((resolve, reject) => {
      const check = () => {
        if (!test({ stdout, stderr })) return;
        listeners.delete(check);
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        listeners.delete(check);
        reject(new Error(`timed out; stdout:\n${stdout}\nstderr:\n${stderr}`));
      }, timeoutMs);
      listeners.add(check);
      check();
    });
  return {
    child,
    exited,
    waitFor,
    output: () => ({ stdout, stderr }),
  };
}

/** Runs `tagraph <args>` to its end. */
export function runCli(args: string[], options: CliOptions = {}): Promise<CliResult> {
  return startCli(args, options).exited;
}

/** Kills CLI processes a test left running; returns how many there were. */
export async function stopClis(): Promise<number> {
  const left = [...children];
  await Promise.all(
    left.map(
      (child) =>
        new Promise<void>((resolve) => {
          child.once('close', () => resolve());
          child.kill('SIGKILL');
        }),
    ),
  );
  rmSync(home, { recursive: true, force: true });
  return left.length;
}

/** A `tagraph` run that exits 0, prints `stdout` and nothing on stderr. */
export const ok = (stdout: string): CliResult => ({ code: 0, stdout, stderr: '' });

/** A scratch directory for the files a test file hands the CLI; removed after the file's tests. */
export function cliScratch(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), `tagraph-${name}-`));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * Ends a CLI test file: kills the CLI processes its tests left running, runs `stops` (the server,
 * registries, …) and fails the file if any process was left.
 */
export function afterCliTests(...stops: Array<() => unknown>): void {
  afterAll(async () => {
    const left = await stopClis();
    await Promise.all(stops.map((stop) => stop()));
    expect(left, 'CLI processes left running').toBe(0);
  });
}

/**
 * `tagraph -n <namespace> <args>` with the server and token `as()` gives (called at each run, so
 * values a beforeAll sets are read), and `options` over them.
 */
export function namespacedCli(as: () => CliOptions) {
  return (namespace: string, args: string[], options: CliOptions = {}) =>
    runCli(['-n', namespace, ...args], { ...as(), ...options });
}

/**
 * Relative ages change from run to run ("Less than a second ago", "2 years ago"): replaced by
 * `<age> ago`. The exact wording is unit-tested (test/unit/cli-format.test.ts). So does the time
 * an import stamps on its stream (`openshift.io/image.dockerRepositoryCheck=<time>`).
 */
export function normalizeAges(text: string): string {
  return text
    .replace(
      /\b(Less than a second|About a minute|About an hour|\d+ (?:seconds?|minutes|hours|days|weeks|months|years)) ago\b/g,
      '<age> ago',
    )
    .replace(/(dockerRepositoryCheck=)\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ/g, '$1<time>');
}
