// The tagraph CLI's receiver commands against a real server: create (URL and secret once), get, call, delete.
import { createHmac } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.ts';
import { afterCliTests, type CliOptions, runCli } from '../support/cli.ts';

let app: TestApp;
/** The CLI's user: an admin of the namespace (receivers are admins'). */
let admin: string;

beforeAll(async () => {
  app = await startTestApp();
  admin = await app.member('cli-receivers', 'ADMIN');
});

afterCliTests(() => app.stop());

const cli = (args: string[], options: CliOptions = {}) =>
  runCli(['-n', 'cli-receivers', ...args], { url: app.url, token: admin, ...options });

describe('tagraph receivers', () => {
  it('creates a receiver whose printed URL and secret work, lists it, and deletes it', async () => {
    const created = await cli(['create', 'receiver', 'ci', '--kind', 'generic']);
    expect(created.stderr).toBe('');
    expect(created.code).toBe(0);
    const url = /url \(shown once\): (\S+)/.exec(created.stdout)?.[1];
    const secret = /secret \(shown once\): (\S+)/.exec(created.stdout)?.[1];
    expect(url).toMatch(new RegExp(`^${app.url}/hooks/[A-Za-z0-9_-]{43}$`));
    expect(secret).toBeDefined();

    const body = JSON.stringify({ repository: 'registry.test:5000/team/app', tag: 'v1' });
    const timestamp = String(Math.floor(Date.now() / 1000));
    const signature = createHmac('sha256', secret!).update(`${timestamp}.${body}`).digest('hex');
    const response = await fetch(url!, {
      method: 'POST',
      headers: { 'x-tagraph-timestamp': timestamp, 'x-tagraph-signature': `sha256=${signature}` },
      body,
    });
    expect(response.status).toBe(202);

    const listed = await cli(['get', 'receivers']);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(/^NAME\s+KIND\s+REGISTRY\s+SIGNED\s+LAST CALLED\s+AGE\n/);
    expect(listed.stdout).toMatch(/\nci\s+GENERIC\s+<from payload>\s+yes\s+\S.* ago\s+\S.* ago\n/);
    expect(listed.stdout).not.toContain(secret!);

    const deleted = await cli(['delete', 'receiver/ci']);
    expect(deleted.stdout).toBe('receiver "ci" deleted\n');
    const empty = await cli(['get', 'receivers']);
    expect(empty.stderr).toBe('No receivers found in cli-receivers namespace.\n');
  });

  it('refuses an editor: receivers are admin-only', async () => {
    const editor = await app.member('cli-receivers', 'EDITOR');
    const refused = await cli(['create', 'receiver', 'nope', '--kind', 'quay'], { token: editor });
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/forbidden/i);
  });
});
