// The image's final stage, rebuilt from the Dockerfile's COPY lines and run with plain node: no
// sources, no tsx, no dev dependencies; migrate, gateway and worker as deploy/ runs them.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  renameSync,
  rmSync,
} from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { withDatabase } from '../setup/global.ts';
import { TEST_ADMIN_TOKEN, TEST_SECRET_KEY } from '../support/app.ts';
import { type DockerStage, readDockerfile } from '../support/dockerfile.ts';
import { pushImage } from '../support/images.ts';
import { podContainers, readDeployTree } from '../support/manifests.ts';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));
const stages = readDockerfile(root);
const runtime = stages.at(-1)!;
const deployed = podContainers(readDeployTree(join(root, 'deploy')).manifests);
const START_TIMEOUT_MS = 60_000;

/** Whether a JSON log line's message begins with `message` (it may go on with a URL). */
const startsWith = (line: Record<string, unknown>, message: string) =>
  typeof line.msg === 'string' && line.msg.startsWith(message);

/** The command and literal environment deploy/ gives a container. */
function deployedContainer(workload: string, name: string) {
  const found = deployed.find((c) => c.workload.name === workload && c.container.name === name);
  if (!found) throw new Error(`deploy/ has no container ${workload}/${name}`);
  const env: Record<string, string> = {};
  for (const variable of found.container.env ?? []) {
    if (variable.value !== undefined) env[variable.name] = String(variable.value);
  }
  return { command: found.container.command as string[], env };
}

/** The one RUN of `stage` that starts with `npm ci`, as argv. */
function npmCi(stage: DockerStage): string[] {
  const found = stage.runs.filter((command) => /^npm ci\b/.test(command));
  expect(found, `stage ${stage.name}: one npm ci`).toHaveLength(1);
  expect(found[0]).not.toMatch(/[;&|$`]/);
  return found[0]!.split(/\s+/);
}

/**
 * The deps stage's `npm ci` run on package.json and package-lock.json alone, kept in the temp
 * directory under a hash of both files and the command, so later runs reuse it.
 */
async function productionDependencies(stage: DockerStage): Promise<string> {
  const argv = npmCi(stage);
  expect(stage.copies.flatMap((c) => c.sources).sort()).toEqual([
    'package-lock.json',
    'package.json',
  ]);
  const manifest = await readFile(join(root, 'package.json'));
  const lock = await readFile(join(root, 'package-lock.json'));
  const key = createHash('sha256').update(manifest).update(lock).update(argv.join(' '));
  const dir = join(tmpdir(), `tagraph-runtime-deps-${key.digest('hex').slice(0, 16)}`);
  if (existsSync(join(dir, 'node_modules'))) return dir;
  const building = mkdtempSync(`${dir}.building-`);
  await writeFile(join(building, 'package.json'), manifest);
  await writeFile(join(building, 'package-lock.json'), lock);
  try {
    // npm gets this machine's environment: its registry settings, proxy and CA certificates.
    await run(argv[0]!, [...argv.slice(1), '--prefer-offline'], { cwd: building });
  } catch (error) {
    rmSync(building, { recursive: true, force: true });
    throw error;
  }
  try {
    renameSync(building, dir);
  } catch {
    // Another run finished the same directory first.
    rmSync(building, { recursive: true, force: true });
  }
  return dir;
}

/** .dockerignore's patterns: a path they match is not in the build context. */
async function ignoredByDocker(): Promise<(path: string) => boolean> {
  const patterns = (await readFile(join(root, '.dockerignore'), 'utf8'))
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'));
  expect(patterns.filter((p) => /[?[\]!]/.test(p) || p.includes('**'))).toEqual([]);
  const matchers = patterns.map(
    (pattern) => new RegExp(`^${pattern.replace(/\./g, '\\.').replace(/\*/g, '[^/]*')}(/|$)`),
  );
  return (path) => matchers.some((matcher) => matcher.test(path));
}

interface Sources {
  /** The build stage's `dist/`, built by `npm run build`'s script into a directory of its own. */
  buildOutput: string;
  depsDir: string;
  ignored: (path: string) => boolean;
}

/**
 * Where a path of `stage`'s filesystem is on this machine: the checkout (the build context, minus
 * .dockerignore), the build's output, or the production dependencies.
 */
function locate(stage: DockerStage | null, path: string, sources: Sources): string {
  const workdir = stage?.workdir ?? '/';
  const inside = relative(workdir, path.startsWith('/') ? path : join(workdir, path));
  expect(inside.startsWith('..'), `${path} is outside ${stage?.name}'s WORKDIR`).toBe(false);
  const hasContext =
    stage === null || stage.copies.some((c) => c.from === null && c.sources.includes('.'));
  if (!hasContext) return join(sources.depsDir, inside);
  if (stage?.runs.includes('npm run build') && /^dist(\/|$)/.test(inside)) {
    return join(sources.buildOutput, inside);
  }
  expect(sources.ignored(inside), `${inside} is left out by .dockerignore`).toBe(false);
  return join(root, inside);
}

interface Process {
  child: ChildProcess;
  logs(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves with the first JSON log line whose `msg` is `message`. */
  logged(message: string): Promise<Record<string, unknown>>;
}

function start(tree: string, command: string[], env: Record<string, string>): Process {
  const [program, ...args] = command;
  expect(program).toBe('node');
  // Plain node: no loader, no NODE_OPTIONS or NODE_PATH from the test runner.
  const child = spawn(process.execPath, args, {
    cwd: tree,
    env: { PATH: process.env.PATH, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const lines: Record<string, unknown>[] = [];
  const waiters: { message: string; resolve: (line: Record<string, unknown>) => void }[] = [];
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) =>
    child.once('exit', (code, signal) => done({ code, signal })),
  );
  const onData = (chunk: Buffer) => {
    output += chunk.toString();
    const complete = output.split('\n').slice(0, -1);
    for (const text of complete.slice(lines.length)) {
      let line: Record<string, unknown> = {};
      try {
        line = JSON.parse(text);
      } catch {}
      lines.push(line);
      for (const waiter of waiters.filter((w) => startsWith(line, w.message))) waiter.resolve(line);
    }
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  return {
    child,
    logs: () => output,
    exited,
    logged: (message) =>
      new Promise((resolve, reject) => {
        const seen = lines.find((line) => startsWith(line, message));
        if (seen) return resolve(seen);
        const timer = setTimeout(
          () => reject(new Error(`no "${message}" log line:\n${output}`)),
          START_TIMEOUT_MS,
        );
        waiters.push({
          message,
          resolve: (line) => {
            clearTimeout(timer);
            resolve(line);
          },
        });
        void exited.then(() => reject(new Error(`exited before "${message}":\n${output}`)));
      }),
  };
}

async function stopProcess(process: Process | undefined): Promise<void> {
  if (!process || process.child.exitCode !== null || process.child.signalCode !== null) return;
  process.child.kill('SIGKILL');
  await process.exited;
}

async function graphql<T>(
  url: string,
  token: string,
  query: string,
  variables: Record<string, unknown> = {},
): Promise<T> {
  const response = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { data?: T; errors?: unknown[] };
  expect(body.errors, JSON.stringify(body.errors)).toBeUndefined();
  return body.data!;
}

describe('the image runtime tree', () => {
  let tree: string;
  let databaseUrl: string;
  let dropDatabase: () => Promise<void> = async () => {};
  const started: Process[] = [];
  const cleanups: (() => void)[] = [];

  beforeAll(async () => {
    const build = stages.find((stage) => stage.runs.includes('npm run build'));
    expect(build, 'a stage runs npm run build').toBeDefined();
    // `npm run build`'s own script, writing where the test says instead of the checkout's dist/.
    const manifest = JSON.parse(await readFile(join(root, 'package.json'), 'utf8'));
    expect(manifest.scripts.build).toBe('node esbuild.config.mjs');
    const buildRoot = mkdtempSync(join(tmpdir(), 'tagraph-build-'));
    cleanups.push(() => rmSync(buildRoot, { recursive: true, force: true }));
    await run(process.execPath, [
      join(root, 'esbuild.config.mjs'),
      '--outdir',
      join(buildRoot, 'dist'),
    ]);

    const installs = stages.filter((s) => s !== build && s.runs.some((r) => /^npm ci\b/.test(r)));
    expect(installs, 'one stage besides the build installs dependencies').toHaveLength(1);
    const depsStage = installs[0]!;
    expect(npmCi(depsStage)).toEqual(expect.arrayContaining(['--omit=dev', '--ignore-scripts']));
    const sources: Sources = {
      buildOutput: buildRoot,
      depsDir: await productionDependencies(depsStage),
      ignored: await ignoredByDocker(),
    };

    tree = mkdtempSync(join(tmpdir(), 'tagraph-runtime-'));
    for (const copy of runtime.copies) {
      const from = copy.from === null ? null : stages.find((s) => s.name === copy.from);
      expect(from, `COPY --from=${copy.from}`).toBeDefined();
      for (const source of copy.sources) {
        const target = join(
          tree,
          relative(runtime.workdir, join(runtime.workdir, copy.destination)),
        );
        mkdirSync(join(target, '..'), { recursive: true });
        const located = locate(from ?? null, source, sources);
        if (located.startsWith(sources.depsDir)) {
          // Hard links from the cached install (same temp filesystem): 120 MB not copied again.
          await run('cp', ['-a', '--link', located, target]);
        } else cpSync(located, target, { recursive: true, verbatimSymlinks: true });
      }
    }

    const serverUrl = inject('dbServerUrl');
    const name = `tagraph_runtime_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
    const admin = postgres(serverUrl, { max: 1, onnotice: () => {} });
    await admin.unsafe(`create database ${name}`);
    databaseUrl = withDatabase(serverUrl, name);
    dropDatabase = async () => {
      await admin.unsafe(`drop database if exists ${name} with (force)`);
      await admin.end();
    };
  }, 300_000);

  afterAll(async () => {
    await Promise.all(started.map(stopProcess));
    await dropDatabase();
    if (tree) rmSync(tree, { recursive: true, force: true });
    for (const cleanup of cleanups) cleanup();
  });

  it('holds production dependencies, dist/, drizzle/ and package.json, and nothing else', async () => {
    expect(readdirSync(tree).sort()).toEqual(['dist', 'drizzle', 'node_modules', 'package.json']);
    const manifest = JSON.parse(await readFile(join(tree, 'package.json'), 'utf8'));
    for (const dependency of Object.keys(manifest.dependencies)) {
      expect(existsSync(join(tree, 'node_modules', dependency)), dependency).toBe(true);
    }
    // Nothing the lockfile marks as needed by development only (a dev dependency that a
    // production dependency also needs, like @types/node, is not marked and may be there).
    const lock = JSON.parse(await readFile(join(root, 'package-lock.json'), 'utf8'));
    const devOnly = Object.entries(lock.packages as Record<string, { dev?: boolean }>)
      .filter(([path, entry]) => path && entry.dev)
      .map(([path]) => path);
    expect(devOnly).toEqual(expect.arrayContaining(['node_modules/tsx', 'node_modules/esbuild']));
    expect(devOnly.filter((path) => existsSync(join(tree, path)))).toEqual([]);
    expect(readdirSync(join(tree, 'drizzle')).sort()).toEqual(
      readdirSync(join(root, 'drizzle')).sort(),
    );
  });

  it('migrates a fresh database, serves and imports as deploy/ runs it, and stops on SIGTERM', async () => {
    const secrets = {
      DATABASE_URL: databaseUrl,
      TAGRAPH_SECRET_KEY: TEST_SECRET_KEY.toString('hex'),
      TAGRAPH_ADMIN_TOKEN: TEST_ADMIN_TOKEN,
    };
    // On a shared machine: free ports on loopback, and the test registry on loopback allowed.
    const local = {
      TAGRAPH_HOST: '127.0.0.1',
      TAGRAPH_PORT: '0',
      TAGRAPH_EGRESS_ALLOW: '127.0.0.1:*',
    };

    const migrateSpec = deployedContainer('tagraph-gateway', 'migrate');
    const migrate = start(tree, migrateSpec.command, {
      ...runtime.env,
      ...migrateSpec.env,
      ...secrets,
    });
    started.push(migrate);
    expect(await migrate.exited, migrate.logs()).toEqual({ code: 0, signal: null });
    expect(migrate.logs()).toContain('migrations applied (postgres)');

    const gatewaySpec = deployedContainer('tagraph-gateway', 'gateway');
    expect(gatewaySpec.env.TAGRAPH_IMPORT_WORKER).toBe('false');
    expect(gatewaySpec.command).toEqual(runtime.cmd);
    const gateway = start(tree, runtime.cmd!, {
      ...runtime.env,
      ...gatewaySpec.env,
      ...secrets,
      ...local,
      ...(gatewaySpec.env.TAGRAPH_METRICS_PORT ? { TAGRAPH_METRICS_PORT: '0' } : {}),
    });
    started.push(gateway);
    const url = String((await gateway.logged('tagraph listening')).url);

    // Every probe deploy/ declares answers 200 on the running gateway.
    const probes = deployed.flatMap(({ container }) =>
      ['readinessProbe', 'livenessProbe', 'startupProbe']
        .map((probe) => container[probe]?.httpGet?.path as string | undefined)
        .filter((path): path is string => path !== undefined),
    );
    expect(probes.length).toBeGreaterThanOrEqual(2);
    for (const path of new Set(probes)) {
      const response = await fetch(`${url}${path}`);
      expect(response.status, path).toBe(200);
    }
    // The web UI ships in dist/: its page and the script it names are served.
    const page = await fetch(`${url}/`);
    expect(page.status).toBe(200);
    const script = (await page.text()).match(/src="(\/ui\/app-[^"]+\.js)"/)?.[1];
    expect(script).toBeDefined();
    expect((await fetch(`${url}${script}`)).status).toBe(200);
    if (gatewaySpec.env.TAGRAPH_METRICS_PORT) {
      const metricsUrl = String((await gateway.logged('metrics listening')).url);
      const metrics = await fetch(metricsUrl);
      expect(metrics.status).toBe(200);
      expect(await metrics.text()).toContain('tagraph_');
      expect((await fetch(`${url}/metrics`)).status).toBe(404);
    }

    const workerSpec = deployedContainer('tagraph-worker', 'worker');
    const worker = start(tree, workerSpec.command, {
      ...runtime.env,
      ...workerSpec.env,
      ...secrets,
      TAGRAPH_EGRESS_ALLOW: local.TAGRAPH_EGRESS_ALLOW,
    });
    started.push(worker);
    await worker.logged('importer started');

    // Token mode as production runs: the admin makes an editor and a puller of one namespace.
    const namespace = `runtime-${process.pid}`;
    const member = async (subject: string, role: string) => {
      const { createToken } = await graphql<{ createToken: { token: string } }>(
        url,
        TEST_ADMIN_TOKEN,
        `mutation($input: CreateTokenInput!) { createToken(input: $input) {
          ... on CreateTokenPayload { token } } }`,
        { input: { subject, groups: [] } },
      );
      await graphql(
        url,
        TEST_ADMIN_TOKEN,
        `mutation($input: RoleBindingInput!) { addRoleBinding(input: $input) { __typename } }`,
        { input: { namespace, role, subjectKind: 'User', subjectName: subject } },
      );
      return createToken.token;
    };
    const editor = await member('runtime-editor', 'EDITOR');
    const puller = await member('runtime-puller', 'IMAGE_PULLER');

    const registryUrl = inject('registryUrl');
    const repository = `runtime-${process.pid}/app`;
    const pushed = await pushImage(registryUrl, repository, 'v1', { content: 'runtime tree' });
    const { importImage } = await graphql<{
      importImage: { timedOut: boolean; job: { status: string; images: { digest: string }[] } };
    }>(
      url,
      editor,
      `mutation($input: ImportImageInput!) { importImage(input: $input) {
        ... on ImportImagePayload { timedOut job { status images { digest } } }
        ... on Error { code message } } }`,
      {
        input: {
          namespace,
          image: 'app:v1',
          from: `${new URL(registryUrl).host}/${repository}:v1`,
          confirm: true,
          insecure: true,
          wait: true,
          timeoutSeconds: 60,
        },
      },
    );
    expect(importImage).toMatchObject({
      timedOut: false,
      job: { status: 'succeeded', images: [{ digest: pushed.digest }] },
    });
    const { imageStreamTag } = await graphql<{ imageStreamTag: { image: { digest: string } } }>(
      url,
      puller,
      `query($ns: String!) { imageStreamTag(namespace: $ns, ref: "app:v1") {
        __typename ... on ImageStreamTag { image { digest } } } }`,
      { ns: namespace },
    );
    expect(imageStreamTag.image.digest).toBe(pushed.digest);
    // The gateway ran no importer of its own: the worker did the import.
    expect(gateway.logs()).not.toContain('importer started');
    expect(worker.logs()).toContain('import job succeeded');

    // The `tagraph` CLI of the same image reads it back (`docker run tagraph node dist/cli.js`).
    const cli = await run(
      process.execPath,
      [
        'dist/cli.js',
        '--server',
        url,
        '--token',
        puller,
        '-n',
        namespace,
        'get',
        'istag',
        'app:v1',
        '-o',
        'json',
      ],
      { cwd: tree, env: { PATH: process.env.PATH, HOME: tree } },
    );
    expect(JSON.parse(cli.stdout)).toMatchObject({ image: { metadata: { name: pushed.digest } } });

    gateway.child.kill('SIGTERM');
    worker.child.kill('SIGTERM');
    expect(await gateway.exited, gateway.logs()).toEqual({ code: 0, signal: null });
    expect(await worker.exited, worker.logs()).toEqual({ code: 0, signal: null });
  }, 120_000);
});
