// Starts throwaway CNCF distribution registries (`docker-registry serve`) for tests.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

const REGISTRY_BINARY = process.env.TAGRAPH_REGISTRY_BINARY ?? '/usr/bin/docker-registry';
const START_TIMEOUT_MS = 10_000;
const LOG_TAIL_LINES = 40;

export interface RegistryOptions {
  /** Require Basic auth with this one account (hashed with `htpasswd -B`). */
  htpasswd?: { user: string; password: string };
  /** Serve HTTPS with a fresh self-signed certificate for 127.0.0.1 (returned as `caCert`). */
  tls?: boolean;
  /** Send push/delete events to this endpoint with `Authorization: Bearer <token>`. */
  notifications?: { url: string; token: string };
  /** Require Bearer tokens signed by the key whose certificate is in `rootCertBundle` (a path). */
  tokenAuth?: { realm: string; service: string; issuer: string; rootCertBundle: string };
}

export interface RunningRegistry {
  /** `http://127.0.0.1:PORT`, or `https://…` with `tls`. */
  url: string;
  /** `127.0.0.1:PORT`, as used in image references. */
  host: string;
  /** PEM of the self-signed server certificate (only with `tls`). */
  caCert?: string;
  /** The registry's working directory (config.yml, data/). */
  dir: string;
  /** The last lines the registry logged, for failure messages. */
  logTail(): string;
  /** The registry process's id (a benchmark reads its CPU time from /proc). */
  pid(): number | undefined;
  /** Stops the process but keeps its storage, so `resume` brings the same registry back. */
  pause(): Promise<void>;
  /** Starts it again on the same port with the same storage. */
  resume(): Promise<void>;
  stop(): Promise<void>;
}

const running = new Set<RunningRegistry>();

export async function startRegistry(options: RegistryOptions = {}): Promise<RunningRegistry> {
  const dir = await mkdtemp(join(tmpdir(), 'tagraph-registry-'));
  try {
    return await launch(dir, options);
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

/** Stops every registry still running; for a suite teardown. Returns how many were left. */
export async function stopAllRegistries(): Promise<number> {
  const left = [...running];
  await Promise.all(left.map((registry) => registry.stop()));
  return left.length;
}

async function launch(dir: string, options: RegistryOptions): Promise<RunningRegistry> {
  const http: Record<string, unknown> = { addr: '127.0.0.1:0', secret: 'test-secret' };
  const config: Record<string, unknown> = {
    version: '0.1',
    // `info` is required: the real port only appears in the "listening on" info line.
    log: { level: 'info', accesslog: { disabled: true } },
    storage: { filesystem: { rootdirectory: join(dir, 'data') }, delete: { enabled: true } },
    http,
  };

  let caCert: string | undefined;
  if (options.tls) {
    const key = join(dir, 'tls.key');
    const certificate = join(dir, 'tls.crt');
    // Clients verify the IP against the subjectAltName; a CN alone is rejected.
    // biome-ignore format: argv pairs read better packed
    await run('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-days', '2', '-subj', '/CN=127.0.0.1',
      '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
      '-keyout', key, '-out', certificate,
    ]);
    http.tls = { certificate, key };
    caCert = await readFile(certificate, 'utf8');
  }

  if (options.htpasswd) {
    const { user, password } = options.htpasswd;
    const path = join(dir, 'htpasswd');
    // The registry only accepts bcrypt entries.
    const { stdout } = await run('htpasswd', ['-Bbn', user, password]);
    await writeFile(path, stdout);
    config.auth = { htpasswd: { realm: 'test', path } };
  } else if (options.tokenAuth) {
    const { realm, service, issuer, rootCertBundle } = options.tokenAuth;
    config.auth = { token: { realm, service, issuer, rootcertbundle: rootCertBundle } };
  }

  if (options.notifications) {
    config.notifications = {
      events: { includereferences: true },
      endpoints: [
        {
          name: 'tagraph',
          url: options.notifications.url,
          headers: { Authorization: [`Bearer ${options.notifications.token}`] },
          timeout: '2s',
          // Short backoff so a test endpoint that starts late still gets the events quickly.
          threshold: 3,
          backoff: '1s',
          ignore: { mediatypes: ['application/octet-stream'], actions: ['pull'] },
        },
      ],
    };
  }

  // JSON is valid YAML, so no YAML library is needed to write the config.
  const configPath = join(dir, 'config.yml');
  await writeFile(configPath, `${JSON.stringify(config, null, 2)}\n`);

  let proc = spawnRegistry(configPath);
  const port = await waitForPort(proc.child, proc.lines, proc.exited);
  const host = `127.0.0.1:${port}`;
  const stopProcess = async () => {
    if (proc.child.exitCode === null && proc.child.signalCode === null) proc.child.kill('SIGTERM');
    await proc.exited;
  };
  const registry: RunningRegistry = {
    url: `${options.tls ? 'https' : 'http'}://${host}`,
    host,
    caCert,
    dir,
    logTail: () => proc.lines.join('\n'),
    pid: () => proc.child.pid,
    pause: stopProcess,
    resume: async () => {
      await stopProcess();
      http.addr = host;
      await writeFile(configPath, `${JSON.stringify(config, null, 2)}\n`);
      proc = spawnRegistry(configPath);
      await waitForPort(proc.child, proc.lines, proc.exited);
    },
    stop: async () => {
      running.delete(registry);
      await stopProcess();
      await rm(dir, { recursive: true, force: true });
    },
  };
  running.add(registry);
  return registry;
}

function spawnRegistry(configPath: string) {
  const child = spawn(REGISTRY_BINARY, ['serve', configPath], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  // 'close' rather than 'exit': it waits for the pipes to drain, so a panic is in the log tail.
  const exited = new Promise<void>((done) => child.once('close', () => done()));
  // A test runner that dies must not leave registries behind.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  void exited.then(() => process.off('exit', killOnExit));
  return { child, lines, exited };
}

/** Resolves with the port from `listening on 127.0.0.1:PORT` (logged on stderr by 2.8). */
function waitForPort(child: ChildProcess, lines: string[], exited: Promise<void>): Promise<number> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const fail = (reason: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`docker-registry ${reason}; log tail:\n${lines.join('\n')}`));
    };
    const timer = setTimeout(
      () => fail(`logged no port within ${START_TIMEOUT_MS} ms`),
      START_TIMEOUT_MS,
    );
    let partial = '';
    // Both streams are read for the whole life of the process so its pipes never fill up.
    const onData = (chunk: Buffer) => {
      const parts = (partial + chunk.toString()).split('\n');
      partial = parts.pop() ?? '';
      for (const line of parts) {
        lines.push(line);
        if (lines.length > LOG_TAIL_LINES) lines.shift();
        const match = /listening on 127\.0\.0\.1:(\d+)/.exec(line);
        if (match && !settled) {
          settled = true;
          clearTimeout(timer);
          resolve(Number(match[1]));
        }
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('error', (error) => fail(`could not start (${error.message})`));
    void exited.then(() => {
      if (partial) lines.push(partial);
      fail(`exited with code ${child.exitCode} before listening`);
    });
  });
}
