// Starts the app (in process, or as a child process) for tests, and checks none is left running.
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { type Logger, pino } from 'pino';
import { expect } from 'vitest';
import { type Config, loadConfig } from '../../src/config.ts';
import { type App, buildApp } from '../../src/server.ts';
import { fileDatabase } from './database.ts';
import { subscribeWs } from './subscriptions.ts';

/** The bootstrap cluster-admin token of test apps and of servers that tests spawn. */
export const TEST_ADMIN_TOKEN = 'test-admin-token-0123456789abcdef0123456789';
export const ADMIN_HEADERS = { authorization: `Bearer ${TEST_ADMIN_TOKEN}` };

/** The authorization header of a token, for requests made by hand (fetch, /metrics). */
export const bearer = (token: string): Record<string, string> => ({
  authorization: `Bearer ${token}`,
});

/**
 * A GraphQL request posted by hand as `token`'s holder (JSON, with `accept` when given), for tests
 * that read the status, the headers or a streamed body rather than a parsed result.
 */
export function postGraphql(
  app: { url: string },
  token: string,
  body: Record<string, unknown>,
  options: { accept?: string; headers?: Record<string, string> } = {},
): Promise<Response> {
  return fetch(`${app.url}/graphql`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(options.accept === undefined ? {} : { accept: options.accept }),
      ...bearer(token),
      ...options.headers,
    },
    body: JSON.stringify(body),
  });
}

/** The key tests seal pull secrets with (Postgres mode requires one). */
export const TEST_SECRET_KEY = Buffer.alloc(32, 7);

const running = new Set<{ name: string; stop: () => Promise<void> }>();

export type RoleName = 'IMAGE_PULLER' | 'EDITOR' | 'ADMIN';

export interface GraphqlResponse<T> {
  data?: T;
  errors?: { message: string; path?: (string | number)[]; extensions?: { code?: string } }[];
}

/**
 * A running app seen by one caller. `startTestApp` returns it with no caller chosen: in token
 * mode `graphql()` then needs an authorization header, and `as(token)` gives the view of a caller.
 */
export interface TestApp extends App {
  url: string;
  auth: 'token' | 'open';
  /** Every SQL statement the app ran, in order (reset it between measurements). */
  statements: string[];
  /** The bootstrap cluster-admin token (token mode). */
  adminToken: string;
  /** The token this view speaks with: null for the app itself (and for `as(null)`). */
  token: string | null;
  /**
   * POSTs a GraphQL operation through yoga in process as this view's caller (headers given win);
   * returns the parsed body. In token mode the app itself has no caller and throws without an
   * authorization header: say who calls, with `as(token)`, `call` or `admin`.
   */
  graphql<T = Record<string, unknown>>(
    query: string,
    variables?: Record<string, unknown>,
    headers?: Record<string, string>,
  ): Promise<GraphqlResponse<T>>;
  /** The same app seen by the caller of `token` (null: an anonymous caller, on purpose). */
  as(token: string | null): TestApp;
  /** Runs an operation as the caller of `token` (no assertion on errors). */
  call<T = Record<string, unknown>>(
    token: string,
    query: string,
    variables?: Record<string, unknown>,
  ): Promise<GraphqlResponse<T>>;
  /** Runs an operation as the bootstrap admin and fails the test on any GraphQL error. */
  admin<T = Record<string, unknown>>(
    query: string,
    variables?: Record<string, unknown>,
  ): Promise<T>;
  /** Issues an API token for `subject` (with `groups`); returns the token and its id. */
  user(subject: string, groups?: string[]): Promise<{ token: string; id: string }>;
  /** Binds `role` in `namespace` to a user (or a group, with `kind: 'Group'`). */
  grant(namespace: string, role: RoleName, name: string, kind?: 'User' | 'Group'): Promise<void>;
  /** Creates the stream `namespace/name` as the admin. */
  stream(namespace: string, name: string): Promise<void>;
  /** A user holding exactly `role` in `namespace` (in each, for a list): its token. */
  member(namespace: string | string[], role: RoleName, subject?: string): Promise<string>;
  /** A registry's token: a member of `system:registries`, which may map pushes into any stream. */
  registry(): Promise<string>;
  /** Subscribes over graphql-ws as this view's caller (its token in the connection params). */
  subscribe<T = { data?: Record<string, unknown>; errors?: unknown[] }>(
    query: string,
    variables?: Record<string, unknown>,
    options?: { onClose?: (code: number, reason: string) => void },
  ): ReturnType<typeof subscribeWs<T>>;
}

/**
 * The statements a request ran for its own work: without those that authenticated its token and
 * loaded the caller's role bindings (a fixed cost of every token-mode request).
 */
export function ownStatements(statements: string[]): string[] {
  return statements.filter((statement) => !/"(api_tokens|role_bindings)"/.test(statement));
}

/** Runs an operation as the caller of `token`; fails the test on any GraphQL error; the data. */
export async function dataAs<T>(
  app: TestApp,
  token: string,
  query: string,
  variables: Record<string, unknown> = {},
): Promise<T> {
  const result = await app.call<T>(token, query, variables);
  expect(result.errors, JSON.stringify(result.errors)).toBeUndefined();
  return result.data!;
}

/** The configuration of a test app: production's defaults for the mode, test registries allowed. */
export function testConfig(
  overrides: Partial<Config> = {},
  auth: 'token' | 'open' = 'token',
): Config {
  return {
    ...loadConfig({
      TAGRAPH_LOG_LEVEL: 'silent',
      TAGRAPH_REGISTRY_HOST: 'registry.test:5000',
      TAGRAPH_AUTH: auth,
      ...(auth === 'token' ? { TAGRAPH_ADMIN_TOKEN: TEST_ADMIN_TOKEN } : {}),
    }),
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

let users = 0;

/**
 * Builds the app on this file's database and listens on 127.0.0.1 (a free port unless given).
 * Token mode, as production runs, unless `auth: 'open'` asks for the embedded development mode
 * (refused on Postgres, as production refuses it with DATABASE_URL).
 */
export async function startTestApp(
  overrides: Partial<Config> = {},
  options: { log?: Logger; auth?: 'token' | 'open'; webUiDirectory?: string } = {},
): Promise<TestApp> {
  const auth = options.auth ?? 'token';
  const config = testConfig(overrides, auth);
  if (config.auth.mode === 'open' && config.database.kind === 'postgres') {
    throw new Error('open mode is only for the embedded database, as in production');
  }
  const statements: string[] = [];
  const app = await buildApp(config, {
    log: options.log ?? pino({ level: 'silent' }),
    ...(options.webUiDirectory ? { webUiDirectory: options.webUiDirectory } : {}),
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

  const post = async <T>(
    query: string,
    variables: Record<string, unknown> | undefined,
    headers: Record<string, string>,
  ): Promise<GraphqlResponse<T>> => {
    const response = await app.yoga.fetch(`${url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ query, variables }),
    });
    return response.json() as Promise<GraphqlResponse<T>>;
  };
  const call = <T>(token: string, query: string, variables: Record<string, unknown> = {}) =>
    post<T>(query, variables, bearer(token));
  const admin = async <T>(query: string, variables: Record<string, unknown> = {}) => {
    const result = await call<T>(TEST_ADMIN_TOKEN, query, variables);
    expect(result.errors, JSON.stringify(result.errors)).toBeUndefined();
    return result.data!;
  };
  const user = async (subject: string, groups: string[] = []) => {
    const data = await admin<{ createToken: { token: string; apiToken: { id: string } } }>(
      `mutation($input: CreateTokenInput!) { createToken(input: $input) {
        ... on CreateTokenPayload { token apiToken { id } } } }`,
      { input: { subject, groups } },
    );
    return { token: data.createToken.token, id: data.createToken.apiToken.id };
  };
  const grant = async (
    namespace: string,
    role: RoleName,
    name: string,
    kind: 'User' | 'Group' = 'User',
  ) => {
    const data = await admin<{ addRoleBinding: { __typename: string } }>(
      `mutation($input: RoleBindingInput!) { addRoleBinding(input: $input) { __typename } }`,
      { input: { namespace, role, subjectKind: kind, subjectName: name } },
    );
    expect(data.addRoleBinding.__typename).toBe('RoleBindingPayload');
  };
  const stream = async (namespace: string, name: string) => {
    const data = await admin<{ createImageStream: { __typename: string } }>(
      `mutation($ns: String!, $name: String!) {
        createImageStream(input: { namespace: $ns, name: $name }) { __typename } }`,
      { ns: namespace, name },
    );
    expect(data.createImageStream.__typename).toBe('ImageStreamPayload');
  };
  const member = async (namespace: string | string[], role: RoleName, subject?: string) => {
    const namespaces = typeof namespace === 'string' ? [namespace] : namespace;
    users += 1;
    const name = subject ?? `${role.toLowerCase().replace('_', '-')}-${namespaces[0]}-${users}`;
    const { token } = await user(name);
    for (const each of namespaces) await grant(each, role, name);
    return token;
  };

  const registry = async () => {
    users += 1;
    return (await user(`registry-${users}`, ['system:registries'])).token;
  };

  const view = (token: string | null, chosen: boolean): TestApp => ({
    ...app,
    url,
    auth,
    statements,
    adminToken: TEST_ADMIN_TOKEN,
    token,
    stop: async () => {
      running.delete(entry);
      await app.stop();
    },
    graphql: async (query, variables, headers = {}) => {
      if (!chosen && auth === 'token' && !('authorization' in headers)) {
        throw new Error(
          'token mode: say who calls (app.as(token).graphql, app.call, app.admin, or an authorization header)',
        );
      }
      return post(query, variables, { ...(token === null ? {} : bearer(token)), ...headers });
    },
    as: (other) => view(other, true),
    call,
    admin,
    user,
    grant,
    stream,
    member,
    registry,
    subscribe: (query, variables = {}, subscribeOptions = {}) =>
      subscribeWs(url, query, variables, { ...subscribeOptions, token: token ?? undefined }),
  });
  return view(null, false);
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
  /**
   * Resolves once the output contains `text` (at once if it already does); rejects naming it
   * if the process exits first or `ms` pass.
   */
  waitForLog: (text: string, ms?: number) => Promise<void>;
  /** Resolves with the exit code (or signal) once the process has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** How to start the server: `src/main.ts` through tsx unless a command is given. */
export interface ServerCommand {
  command: string;
  args: string[];
  cwd?: string;
}

/** Runs the server as a child process (token mode) on a free port and waits until it listens. */
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
      TAGRAPH_AUTH: 'token',
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
  const waitForLog = (text: string, ms = 10_000) =>
    new Promise<void>((resolveWait, reject) => {
      if (output.includes(text)) return resolveWait();
      const fail = (why: string) => {
        stopWaiting();
        reject(new Error(`the server did not log "${text}" (${why}):\n${output}`));
      };
      const timer = setTimeout(() => fail(`not within ${ms} ms`), ms);
      const onData = () => {
        if (!output.includes(text)) return;
        stopWaiting();
        resolveWait();
      };
      const onExit = () => fail('it exited');
      const stopWaiting = () => {
        clearTimeout(timer);
        child.stdout.off('data', onData);
        child.stderr.off('data', onData);
        child.off('exit', onExit);
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', onData);
      child.once('exit', onExit);
    });
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
  return { process: child, url, logs: () => output, waitForLog, exited };
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
