// The packed tarball installs on a machine with only Node, and its `tagraph` works.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.ts';
import { type StagedPackage, stagePackage } from '../support/package.ts';

const run = promisify(execFile);

describe('npm pack, then npm install -g of the tarball', () => {
  let staged: StagedPackage;
  let prefix: string;
  let app: TestApp;
  /** Only the Node that runs the tests, not the repository's node_modules/.bin. */
  const env = () => ({
    PATH: `${join(prefix, 'bin')}:${dirname(process.execPath)}:/usr/bin:/bin`,
    HOME: prefix,
  });

  beforeAll(async () => {
    staged = await stagePackage();
    prefix = mkdtempSync(join(tmpdir(), 'tagraph-prefix-'));
    const { stdout } = await run(
      'npm',
      ['pack', '--ignore-scripts', '--json', '--pack-destination', prefix],
      { cwd: staged.dir },
    );
    const [packed] = JSON.parse(stdout) as { filename: string }[];
    if (!packed) throw new Error(`npm pack printed no tarball:\n${stdout}`);
    // From the tarball alone: production dependencies come from the registry (or npm's cache).
    await run(
      'npm',
      [
        'install',
        '--global',
        '--prefix',
        prefix,
        '--prefer-offline',
        '--no-audit',
        '--no-fund',
        join(prefix, packed.filename),
      ],
      { cwd: prefix, env: { ...process.env, ...env() } },
    );
    app = await startTestApp();
  }, 240_000);

  afterAll(async () => {
    await app?.stop();
    staged?.remove();
    if (prefix) rmSync(prefix, { recursive: true, force: true });
  });

  it('installs the compiled CLI without development dependencies', () => {
    const installed = join(prefix, 'lib', 'node_modules', 'tagraph');
    expect(existsSync(join(installed, 'dist', 'cli.js'))).toBe(true);
    expect(existsSync(join(installed, 'src'))).toBe(false);
    const dependencies = readdirSync(join(installed, 'node_modules'));
    for (const development of [
      'tsx',
      'esbuild',
      'typescript',
      'vitest',
      'drizzle-kit',
      'gql.tada',
    ]) {
      expect(dependencies).not.toContain(development);
    }
  });

  it('`tagraph --help` prints the usage', async () => {
    const { stdout } = await run('tagraph', ['--help'], { env: env() });
    expect(stdout).toMatch(/Usage: tagraph/);
    expect(stdout).toMatch(/import-image/);
  });

  it('`tagraph get imagestreams` answers from a server, as an image puller', async () => {
    await app.stream('release-cli', 'web');
    const token = await app.member('release-cli', 'IMAGE_PULLER');
    const { stdout } = await run('tagraph', ['-n', 'release-cli', 'get', 'imagestreams'], {
      env: { ...env(), TAGRAPH_SERVER: app.url, TAGRAPH_TOKEN: token },
    });
    expect(stdout.split('\n')[0]).toMatch(/^NAME\s/);
    expect(stdout).toMatch(/^web\s/m);
  });
});
