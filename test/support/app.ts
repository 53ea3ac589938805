// Starts the app (in process, or as a child process) for tests, and checks none is left running.
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { type Logger, pino } from 'pino';
import { type Config, loadConfig } from '../../src/config.ts';
import { type App, buildApp } from '../../src/server.ts';
import { fileDatabase } from './database.ts';

/** The bootstrap cluster-admin token of servers that tests spawn (token mode on Postgres). */
export const TEST_ADMIN_TOKEN = 'test-admin-token-0123456789abcdef0123456789';
export const ADMIN_HEADERS = { authorization: `Bearer ${TEST_ADMIN_TOKEN}` };

/** The key tests seal pull secrets with (Postgres mode requires one). */
export const TEST_SECRET_KEY = Buffer.alloc(32, 7);

const running = new Set<{ name: string; stop: () => Promise<void> }>();

export interface TestApp extends App {
  url: string;
  /** Every SQL statement the app ran, in order (reset it between measurements). */
  statements: string[];
  /** POSTs a GraphQL operation through yoga in process; returns the parsed body. */
  graphql<T = Record<string, unknown>>(
    query: string,
    variables?: Record<string, unknown>,
    headers?: Record<string, string>,
  ): Promise<{
    data?: T;
    errors?: { message: string; path?: string[]; extensions?: { code?: string } }[];
  }>;
}

export function testConfig(overrides: Partial<Config> = {}): Config {
  return {
    ...loadConfig({ TAGRAPH_LOG_LEVEL: 'silent', TAGRAPH_REGISTRY_HOST: 'registry.test:5000' }),
    secretKey: TEST_SECRET_KEY,
    database: fileDatabase(),
    // Tests drive the importer themselves (app.importer) unless they ask for the background one.
    importWorker: false,
    // The test registries listen on loopback, which the SSRF guard otherwise refuses.
    egressAllow: ['127.0.0.1:*'],
    egressLoopbackDefault: false,
    ...overrides,
  };
}

/** Builds the app on this file's database and listens on 127.0.0.1 (a free port unless given). */
export async function startTestApp(
  overrides: Partial<Config> = {},
  options: { log?: Logger } = {},
): Promise<TestApp> {
  const statements: string[] = [];
  const app = await buildApp(testConfig(overrides), {
    log: options.log ?? pino({ level: 'silent' }),
    // The event hub, its sequencer and the retention job work on the events table in the
    // background; leave them out so a test can count the statements its own request ran.
    onQuery: (query) => {
      if (!/\b(from|delete from) "?events"?\b|tagraph_sequence_events/.test(query)) {
        statements.push(query);
      }
    },
  });
  const { url } = await app.start(overrides.port ?? 0, '127.0.0.1');
  const entry = { name: `app ${url}`, stop: () => app.stop() };
  running.add(entry);
  return {
    ...app,
    url,
    statements,
    stop: async () => {
      running.delete(entry);
      await app.stop();
    },
    graphql: async (query, variables, headers) => {
      const response = await app.yoga.fetch(`${url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ query, variables }),
      });
      return response.json();
    },
  };
}

/** A port that was free a moment ago, for a server that must be known before it starts. */
export async function reservePort(): Promise<number> {
  const { createServer } = await import('node:net');
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as { port: number };
  await new Promise<void>((done) => server.close(() => done()));
  return port;
}

const mainScript = fileURLToPath(new URL('../../src/main.ts', import.meta.url));

export interface SpawnedServer {
  process: ChildProcess;
  url: string;
  logs: () => string;
  /** Resolves with the exit code (or signal) once the process has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** How to start the server: `src/main.ts` through tsx unless a command is given. */
export interface ServerCommand {
  command: string;
  args: string[];
  cwd?: string;
}

/** Runs the server as a child process on a free port and waits until it listens. */
export async function spawnServer(
  env: Record<string, string> = {},
  how: ServerCommand = { command: process.execPath, args: ['--import', 'tsx', mainScript] },
): Promise<SpawnedServer> {
  const target = fileDatabase();
  const child = spawn(how.command, how.args, {
    cwd: how.cwd,
    env: {
      ...process.env,
      ...(target.kind === 'postgres'
        ? { DATABASE_URL: target.url }
        : { DATABASE_URL: '', TAGRAPH_DATA_DIR: target.dataDir }),
      TAGRAPH_PORT: '0',
      TAGRAPH_HOST: '127.0.0.1',
      TAGRAPH_LOG_LEVEL: 'info',
      TAGRAPH_SECRET_KEY: TEST_SECRET_KEY.toString('hex'),
      TAGRAPH_ADMIN_TOKEN: TEST_ADMIN_TOKEN,
      TAGRAPH_EGRESS_ALLOW: '127.0.0.1:*',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) =>
    child.once('exit', (code, signal) => done({ code, signal })),
  );
  const entry = {
    name: `server pid ${child.pid}`,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
  running.add(entry);
  void exited.then(() => running.delete(entry));
  const url = await new Promise<string>((resolveUrl, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${output}`)), 30_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = output.match(/"url":"(http:\/\/[^"]+)"/);
      if (match?.[1]) {
        clearTimeout(timer);
        resolveUrl(match[1]);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`server exited (code ${code ?? signal}) before listening:\n${output}`));
    });
  });
  return { process: child, url, logs: () => output, exited };
}

/** Fails the file if a test left an app or a server process running (and stops them). */
export async function assertNothingRunning(): Promise<void> {
  const left = [...running];
  running.clear();
  await Promise.all(left.map((entry) => entry.stop()));
  if (left.length > 0) {
    throw new Error(`test left servers running: ${left.map((e) => e.name).join(', ')}`);
  }
}

const workerScript = fileURLToPath(new URL('../../src/worker.ts', import.meta.url));

export interface SpawnedProcess {
  process: ChildProcess;
  /** stdout and stderr as received so far. */
  output: () => string;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Runs an entry point (`main` or `worker`) through tsx with exactly `env` added to this
 * process's environment (no defaults), collecting its output; stopped at the end of the file.
 */
export function spawnEntry(
  entry: 'main' | 'worker',
  env: Record<string, string>,
  args: string[] = [],
): SpawnedProcess {
  const script = entry === 'main' ? mainScript : workerScript;
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk;
    output += chunk;
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk;
    output += chunk;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) =>
    child.once('exit', (code, signal) => done({ code, signal })),
  );
  const entryRecord = {
    name: `${entry} pid ${child.pid}`,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
  running.add(entryRecord);
  void exited.then(() => running.delete(entryRecord));
  return {
    process: child,
    output: () => output,
    stdout: () => stdout,
    stderr: () => stderr,
    exited,
  };
}
