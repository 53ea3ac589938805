// The tagraph CLI as a user runs it (a subprocess) against a real server and registry: the
// documented oc tag, describe, get, delete, set image-lookup, create secret examples; exit codes.

import { execFile } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { join } from 'node:path';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { humanSize } from '../../src/cli/humanize.ts';
import { reservePort, startTestApp, type TestApp } from '../support/app.ts';
import {
  afterCliTests,
  CLI_BIN,
  cliScratch,
  namespacedCli,
  normalizeAges,
  ok,
  runCli,
} from '../support/cli.ts';
import { PYTHON_35_CONFIG_LINES } from '../support/cliTexts.ts';
import { imageSize, pushImage } from '../support/images.ts';
import { drainImports } from '../support/imports.ts';

const registryUrl = inject('registryUrl');
const registry = new URL(registryUrl).host;
/** Repositories of this run, so reruns against one registry do not meet old images. */
const repo = `cli-${process.pid}-${Date.now().toString(36)}`;

let app: TestApp;
/** The CLI's user: an editor of the namespaces these tests write. */
let editor: string;
const scratch = cliScratch('cli-test');

beforeAll(async () => {
  app = await startTestApp();
  editor = await app.member(['default', 'seed-external', 'from-file'], 'EDITOR');
});

afterCliTests(() => app.stop());

/** `tagraph -n <namespace> <args>` against the test server. */
const cli = namespacedCli(() => ({ url: app.url, token: editor }));

/** The documented centos/python-35-centos7, with the config the `describe istag` example shows. */
const PYTHON_CONFIG = {
  Entrypoint: ['container-entrypoint'],
  Cmd: ['/bin/sh', '-c', '$STI_SCRIPTS_PATH/usage'],
  WorkingDir: '/opt/app-root/src',
  User: '1001',
  ExposedPorts: { '8080/tcp': {} },
  Labels: { 'build-date': '20170801' },
};

describe.concurrent('seed examples', () => {
  it('oc tag and oc describe: permanent, tracking and external tags', async ({ expect }) => {
    const py35 = await pushImage(registryUrl, `${repo}/centos/python-35-centos7`, 'latest', {
      content: 'python 3.5',
      config: PYTHON_CONFIG,
    });
    const py36 = await pushImage(registryUrl, `${repo}/library/python`, '3.6.0', {
      content: 'python 3.6',
    });
    const source35 = `${registry}/${repo}/centos/python-35-centos7`;
    const source36 = `${registry}/${repo}/library/python:3.6.0`;
    const pinned35 = `${source35}@${py35.digest}`;

    expect(await cli('default', ['tag', source35, 'python:3.5', '--insecure'])).toEqual(
      ok(`Tag python:3.5 set to ${source35}.\n`),
    );
    await drainImports(app);
    expect(await cli('default', ['tag', 'python:3.5', 'python:latest'])).toEqual(
      ok(`Tag python:latest set to python@${py35.digest}.\n`),
    );

    const [is, istag] = await Promise.all([
      cli('default', ['describe', 'is/python']),
      cli('default', ['describe', 'istag/python:latest']),
    ]);
    expect(is.code).toBe(0);
    expect(normalizeAges(is.stdout)).toBe(
      [
        'Name:\t\t\tpython',
        'Namespace:\t\tdefault',
        'Created:\t\t<age> ago',
        'Labels:\t\t\t<none>',
        'Annotations:\t\topenshift.io/image.dockerRepositoryCheck=<time>',
        'Image Repository:\tregistry.test:5000/default/python',
        'Image Lookup:\t\tlocal=false',
        'Unique Images:\t\t1',
        'Tags:\t\t\t2',
        '',
        'latest',
        `  tagged from python@${py35.digest}`,
        '',
        `  * ${pinned35}`,
        '      <age> ago',
        '',
        '3.5',
        `  tagged from ${source35}`,
        '    will use insecure HTTPS or HTTP connections',
        '',
        `  * ${pinned35}`,
        '      <age> ago',
        '',
      ].join('\n'),
    );
    const layer = humanSize(py35.layers[0]!.size);
    expect(normalizeAges(istag.stdout)).toBe(
      [
        `Image Name:\t${py35.digest}`,
        `Docker Image:\t${pinned35}`,
        `Name:\t\t${py35.digest}`,
        'Created:\t<age> ago',
        `Image Size:\t${humanSize(imageSize(py35))} in 1 layers`,
        `Layers:\t\t${layer}\t${py35.layers[0]!.digest}`,
        'Image Created:\t<age> ago',
        ...PYTHON_35_CONFIG_LINES,
        '',
      ].join('\n'),
    );
    expect(istag.stderr).toBe('');

    // An external image, a tag updated to follow it, and the old tag removed.
    expect(await cli('default', ['tag', source36, 'python:3.6', '--insecure'])).toEqual(
      ok(`Tag python:3.6 set to ${source36}.\n`),
    );
    await drainImports(app);
    expect(await cli('default', ['tag', 'python:3.6', 'python:latest'])).toEqual(
      ok(`Tag python:latest set to python@${py36.digest}.\n`),
    );
    expect(await cli('default', ['tag', '-d', 'python:3.6'])).toEqual(
      ok('Deleted tag default/python:3.6.\n'),
    );
    const list = await cli('default', ['get', 'is']);
    expect(normalizeAges(list.stdout)).toBe(
      'NAME      IMAGE REPOSITORY                    TAGS         UPDATED\n' +
        'python    registry.test:5000/default/python   latest,3.5   <age> ago\n',
    );
    const tags = await cli('default', ['get', 'istag']);
    const ref36 = `${registry}/${repo}/library/python@${py36.digest}`;
    const width = Math.max(pinned35.length, ref36.length) + 3;
    expect(normalizeAges(tags.stdout)).toBe(
      `NAME            ${'IMAGE REFERENCE'.padEnd(width)}UPDATED\n` +
        `python:3.5      ${pinned35.padEnd(width)}<age> ago\n` +
        `python:latest   ${ref36.padEnd(width)}<age> ago\n`,
    );
  });

  it('docker.io sources, scheduled and back', async ({ expect }) => {
    // Nothing drains this namespace's imports while the tag exists: docker.io is never asked.
    const ns = 'seed-external';
    const scheduled = ['get', 'istag', 'python:3.6', '-o', 'jsonpath={.tag.importPolicy}'];
    expect(await cli(ns, ['tag', 'docker.io/python:3.6.0', 'python:3.6'])).toEqual(
      ok('Tag python:3.6 set to docker.io/python:3.6.0.\n'),
    );
    expect(await cli(ns, ['tag', 'docker.io/python:3.6.0', 'python:3.6', '--scheduled'])).toEqual(
      ok('Tag python:3.6 set to import docker.io/python:3.6.0 periodically.\n'),
    );
    expect(await cli(ns, scheduled)).toEqual(ok('{"importMode":"Legacy","scheduled":true}'));
    expect(await cli(ns, ['tag', 'docker.io/python:3.6.0', 'python:3.6'])).toEqual(
      ok('Tag python:3.6 set to docker.io/python:3.6.0.\n'),
    );
    expect(await cli(ns, scheduled)).toEqual(ok('{"importMode":"Legacy"}'));
    expect(await cli(ns, ['tag', '-d', 'python:3.6'])).toEqual(
      ok(`Deleted tag ${ns}/python:3.6.\n`),
    );
  });
});

describe('the command line', () => {
  it('runs as an installed bin: a node_modules/.bin symlink, by its shebang', async () => {
    // What npm makes of package.json's "bin" in a project that depends on tagraph.
    const project = join(scratch, 'project');
    mkdirSync(join(project, 'node_modules', '.bin'), { recursive: true });
    const bin = join(project, 'node_modules', '.bin', 'tagraph');
    symlinkSync(CLI_BIN, bin);
    const run = await new Promise<{ code: number | null; stdout: string }>((resolve) => {
      execFile(bin, ['--help'], { cwd: project }, (error, stdout) =>
        resolve({ code: error ? (error.code as number) : 0, stdout }),
      );
    });
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^Usage: tagraph \[options\] \[command\]\n/);
  });

  it('exit codes pass through the executable: 0, 2 for usage, 1 for errors', async () => {
    // Every command's help and each kind of mistake: test/unit/cli-usage.test.ts, in process.
    const unreachable = `http://127.0.0.1:${await reservePort()}`;
    const [help, unknown, down] = await Promise.all([
      runCli(['tag', '--help']),
      runCli(['frobnicate']),
      runCli(['get', 'is'], { url: unreachable }),
    ]);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: tagraph tag \[options\] <source> <dest>\.\.\.\n/);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^error: unknown command 'frobnicate'/);
    expect(down).toEqual({
      code: 1,
      stdout: '',
      stderr:
        `error: cannot reach the tagraph server at ${unreachable}/graphql: ECONNREFUSED\n` +
        'error: set the address with --server, TAGRAPH_SERVER or "server" in the config file\n',
    });
  });

  it('server, token and namespace come from flags, the environment or the config file', async () => {
    // A stand-in server that records what it is sent and answers 401 without the right token.
    const seen: { headers: IncomingHttpHeaders; body: { variables: Record<string, unknown> } }[] =
      [];
    const fake = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk) => {
        body += chunk;
      });
      request.on('end', () => {
        seen.push({ headers: request.headers, body: JSON.parse(body) });
        response.setHeader('content-type', 'application/json');
        if (request.headers.authorization !== 'Bearer good') {
          response.statusCode = 401;
          response.end(JSON.stringify({ errors: [{ message: 'the token is not valid' }] }));
          return;
        }
        response.end(
          JSON.stringify({
            data: {
              imageStreams: { pageInfo: { hasNextPage: false, endCursor: null }, nodes: [] },
            },
          }),
        );
      });
    });
    await new Promise<void>((done) => fake.listen(0, '127.0.0.1', done));
    const address = `http://127.0.0.1:${(fake.address() as { port: number }).port}`;
    try {
      const home = join(scratch, 'home');
      mkdirSync(join(home, '.config', 'tagraph'), { recursive: true });
      writeFileSync(
        join(home, '.config', 'tagraph', 'config.json'),
        JSON.stringify({ server: address, token: 'good', namespace: 'from-file' }),
      );
      const [fromFile, fromEnv, fromFlags, refused] = await Promise.all([
        runCli(['get', 'is'], { env: { HOME: home } }),
        runCli(['get', 'is'], { env: { HOME: home, TAGRAPH_TOKEN: 'bad' } }),
        runCli(['--token', 'good', '-n', 'flagged', 'get', 'is'], {
          env: { HOME: home, TAGRAPH_TOKEN: 'bad' },
        }),
        runCli(['--server', address, 'get', 'is']),
      ]);
      expect(fromFile).toEqual({
        code: 0,
        stdout: '',
        stderr: 'No resources found in from-file namespace.\n',
      });
      expect(fromEnv).toEqual({
        code: 1,
        stdout: '',
        stderr:
          'error: unauthorized: the token is not valid\n' +
          'error: the token was refused: check --token, TAGRAPH_TOKEN or "token" in the config file\n',
      });
      expect(fromFlags.stderr).toBe('No resources found in flagged namespace.\n');
      expect(refused.stderr).toBe(
        'error: unauthorized: the token is not valid\n' +
          'error: pass a token with --token, TAGRAPH_TOKEN or "token" in the config file\n',
      );
      const sent = seen.map((s) => [s.body.variables.namespace, s.headers.authorization ?? null]);
      expect(sent.sort()).toEqual([
        ['default', null],
        ['flagged', 'Bearer good'],
        ['from-file', 'Bearer bad'],
        ['from-file', 'Bearer good'],
      ]);
    } finally {
      await new Promise((done) => fake.close(done));
    }
  });
});
