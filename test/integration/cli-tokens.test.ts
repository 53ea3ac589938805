// `tagraph create token <name> --role`, `get tokens`, `delete token/<name>` and `whoami`, run as
// a namespace admin and as the robot token it issues, against a server that requires tokens.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.ts';
import { runCli } from '../support/cli.ts';

const NS = 'cli-robots';
let app: TestApp;
let adminToken: string;

beforeAll(async () => {
  app = await startTestApp();
  await app.stream(NS, 'app');
  adminToken = await app.member(NS, 'ADMIN', 'cli-robots-admin');
});
afterAll(() => app?.stop());

describe('robot tokens from the command line', () => {
  it('issues, lists, uses and revokes a robot token as a namespace admin', async () => {
    const asAdmin = { url: app.url, token: adminToken };
    const created = await runCli(
      ['create', 'token', 'deployer', '--role=editor', '--expires=30d', '-n', NS],
      asAdmin,
    );
    expect(created.code, created.stderr).toBe(0);
    const robot = created.stdout.trim();
    expect(robot).toMatch(/^tgr_/);

    const who = await runCli(['whoami'], { url: app.url, token: robot });
    expect(who.code, who.stderr).toBe(0);
    expect(who.stdout).toBe(`system:robot:${NS}:deployer\n`);
    const whoJson = await runCli(['whoami', '-o', 'json'], { url: app.url, token: robot });
    expect(JSON.parse(whoJson.stdout)).toMatchObject({
      namespaces: [NS],
      scope: { namespace: NS, role: 'EDITOR' },
    });

    // The robot edits its namespace from the command line.
    const tagged = await runCli(
      ['tag', 'quay.io/example/app:1', 'app:1', '--reference', '-n', NS],
      { url: app.url, token: robot },
    );
    expect(tagged.code, tagged.stderr).toBe(0);

    const listed = await runCli(['get', 'tokens', '-n', NS], asAdmin);
    expect(listed.code, listed.stderr).toBe(0);
    const [header, row] = listed.stdout.trimEnd().split('\n');
    expect(header).toMatch(/^NAME\s+ROLE\s+STATUS\s+EXPIRES\s+LAST USED\s+CREATED BY$/);
    expect(row).toMatch(/^deployer\s+editor\s+Active\s+in 4 weeks\s+.+ ago\s+cli-robots-admin$/);

    const refusedToRobot = await runCli(['get', 'tokens', '-n', NS], {
      url: app.url,
      token: robot,
    });
    expect(refusedToRobot.code).toBe(1);

    const deleted = await runCli(['delete', 'token/deployer', '-n', NS], asAdmin);
    expect(deleted.code, deleted.stderr).toBe(0);
    expect(deleted.stdout).toBe('token "deployer" deleted\n');
    const after = await runCli(['whoami'], { url: app.url, token: robot });
    expect(after.code).toBe(1);
    const status = await runCli(['get', 'token/deployer', '-o', 'name', '-n', NS], asAdmin);
    expect(status.stdout).toBe('token/deployer\n');
    const again = await runCli(['delete', 'token/deployer', '-n', NS], asAdmin);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('no live robot token named deployer');
  });

  it('refuses a bad role or expiry before sending anything', async () => {
    const asAdmin = { url: app.url, token: adminToken };
    const role = await runCli(['create', 'token', 'x', '--role=owner', '-n', NS], asAdmin);
    expect(role.code).toBe(2);
    expect(role.stderr).toContain('--role must be image-puller, editor or admin');
    const expiry = await runCli(
      ['create', 'token', 'x', '--role=editor', '--expires=soon', '-n', NS],
      asAdmin,
    );
    expect(expiry.code).toBe(2);
    expect(expiry.stderr).toContain('--expires must be a lifetime');
  });
});
