// The tagraph CLI's retention policy commands against a real server: create (and replace), get,
// a manual run through prune history --policy, and delete, as a namespace admin.
import { beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.ts';
import { afterCliTests, type CliOptions, runCli } from '../support/cli.ts';
import { seedAgedHistory, seedStream } from '../support/seed.ts';

const NS = 'cli-keep';

let app: TestApp;
let admin: string;

beforeAll(async () => {
  app = await startTestApp();
  const stream = await seedStream(app.database.db, { namespace: NS, name: 'web' });
  for (const tag of ['v1', 'main']) {
    await seedAgedHistory(app.database.db, stream.id, tag, {
      items: 4,
      repository: 'quay.io/k/web',
      digestSeed: `cli-keep-${tag}`,
    });
  }
  admin = await app.member(NS, 'ADMIN');
});

afterCliTests(() => app.stop());

const cli = (args: string[], options: CliOptions = {}) =>
  runCli(['-n', NS, ...args], { url: app.url, token: admin, ...options });

describe('tagraph retention policies', () => {
  it('creates, replaces, lists and runs a policy, then deletes it', async () => {
    const create = ['create', 'retentionpolicy', 'nightly', '--keep-tag-revisions', '2'];
    const created = await cli([...create, '--schedule', '30m', '--include', 'v*']);
    expect(created).toMatchObject({ code: 0, stdout: 'retentionpolicy/nightly created\n' });
    const replaced = await cli([...create, '--schedule', '2h', '--keep-younger-than', '90m']);
    expect(replaced.stdout).toBe('retentionpolicy/nightly configured\n');

    const table = await cli(['get', 'retentionpolicies']);
    expect(table.code).toBe(0);
    expect(table.stdout.split('\n')[0]).toMatch(/^NAME\s+KEEP\s+YOUNGER THAN\s+SCOPE\s+SCHEDULE/);
    expect(table.stdout.split('\n')[1]).toMatch(
      /^nightly\s+2\s+1h30m\s+<all>\s+every 2h\s+<none>$/,
    );
    const yaml = await cli(['get', 'rp/nightly', '-o', 'yaml']);
    expect(yaml.stdout).toContain('intervalMinutes: 120');

    const dry = await cli(['prune', 'history', '--policy', 'nightly']);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toMatch(/^Dry run enabled/);
    expect(dry.stdout.match(/cli-keep\/web/g)).toHaveLength(4);
    const real = await cli(['prune', 'history', '--policy', 'nightly', '--confirm']);
    expect(real.stdout).not.toContain('Dry run');
    const after = (await cli(['get', 'retentionpolicy', 'nightly'])).stdout;
    expect(after, after).toMatch(/nightly .*4 removed .+ ago/);

    const deleted = await cli(['delete', 'retentionpolicy/nightly']);
    expect(deleted).toMatchObject({ code: 0, stdout: 'retentionpolicy "nightly" deleted\n' });
    const again = await cli(['delete', 'retentionpolicy/nightly']);
    expect(again.code).toBe(1);
    expect(again.stderr).toBe(
      'Error from server (NotFound): retentionpolicies "nightly" not found\n',
    );
  }, 90_000);

  it('refuses a schedule under 5 minutes, and an editor', async () => {
    const short = await cli(['create', 'retentionpolicy', 'fast', '--schedule', '4m']);
    expect(short.code).toBe(2);
    expect(short.stderr).toContain('--schedule must be at least 5m');
    const editor = await app.member(NS, 'EDITOR', 'cli-keep-editor');
    const refused = await cli(['create', 'rp', 'sneaky'], { token: editor });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(
      'Error from server (Forbidden): retentionpolicies is forbidden: User "cli-keep-editor" cannot update resource "retentionpolicies"',
    );
  });
});
