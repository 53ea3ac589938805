// `tagraph create token` and `tagraph policy …` against a server that requires tokens.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, startTestApp, type TestApp } from '../support/app.ts';
import { runCli } from '../support/cli.ts';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(async () => {
  await app.stop();
});

describe('tagraph policy and tokens', () => {
  it("grants the documented cross-project puller role, and the grantee's token works", async () => {
    const asAdmin = { url: app.url, env: { TAGRAPH_TOKEN: app.adminToken } };
    const token = await runCli(
      ['create', 'token', 'system:serviceaccount:project-a:default'],
      asAdmin,
    );
    expect(token.code, token.stderr).toBe(0);
    const robot = token.stdout.trim();
    expect(robot).toMatch(/^tgr_/);

    const granted = await runCli(
      [
        'policy',
        'add-role-to-user',
        'system:image-puller',
        'system:serviceaccount:project-a:default',
        '--namespace=project-b',
      ],
      asAdmin,
    );
    expect(granted.code, granted.stderr).toBe(0);
    expect(granted.stdout).toBe(
      'clusterrole.rbac.authorization.k8s.io/system:image-puller added: "system:serviceaccount:project-a:default"\n',
    );
    const bindings = await app.graphql<{ roleBindings: { role: string; subjectName: string }[] }>(
      '{ roleBindings(namespace: "project-b") { role subjectName } }',
      {},
      bearer(app.adminToken),
    );
    expect(bindings.data!.roleBindings).toEqual([
      { role: 'IMAGE_PULLER', subjectName: 'system:serviceaccount:project-a:default' },
    ]);

    // The robot may read project-b but not grant roles there: exit 1 with a forbidden message.
    const asRobot = { url: app.url, env: { TAGRAPH_TOKEN: robot } };
    const denied = await runCli(
      ['policy', 'add-role-to-group', 'admin', 'everyone', '-n', 'project-b'],
      asRobot,
    );
    expect(denied.code).toBe(1);
    expect(denied.stderr).toContain('forbidden');

    const remove = [
      'policy',
      'remove-role-from-user',
      'system:image-puller',
      'system:serviceaccount:project-a:default',
      '-n',
      'project-b',
    ];
    const removed = await runCli(remove, asAdmin);
    expect(removed.code, removed.stderr).toBe(0);
    expect(removed.stdout).toContain('removed');

    // The binding is gone: removing it again is the server's NotFoundError, exit 1.
    const again = await runCli(remove, asAdmin);
    expect(again.code).toBe(1);
    expect(again.stdout).toBe('');
    expect(again.stderr).toContain(
      'user system:serviceaccount:project-a:default has no role image-puller in project-b',
    );

    const unknownRole = await runCli(['policy', 'add-role-to-user', 'superuser', 'x'], asAdmin);
    expect(unknownRole.code).toBe(2);
    expect(unknownRole.stderr).toContain('unknown role superuser');
  });
});
