// Namespace.myRole: the caller's own role in each namespace it may read, as the web UI reads it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.ts';

const ROLES = `{ namespaces(first: 10) { nodes { name myRole } } }`;
const ONE = `query($name: String!) { namespace(name: $name) { name myRole } }`;

describe('Namespace.myRole', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await startTestApp();
    await app.stream('role-a', 'web');
    await app.stream('role-b', 'web');
  });

  afterAll(async () => {
    await app?.stop();
  });

  it("answers each namespace with the caller's own strongest role", async () => {
    const puller = await app.member('role-a', 'IMAGE_PULLER');
    const editor = await app.member(['role-a', 'role-b'], 'EDITOR');
    await app.grant('role-b', 'IMAGE_PULLER', 'someone-else');
    expect((await app.call(puller, ROLES)).data).toEqual({
      namespaces: { nodes: [{ name: 'role-a', myRole: 'IMAGE_PULLER' }] },
    });
    expect((await app.call(editor, ROLES)).data).toEqual({
      namespaces: {
        nodes: [
          { name: 'role-a', myRole: 'EDITOR' },
          { name: 'role-b', myRole: 'EDITOR' },
        ],
      },
    });
  });

  it('is ADMIN for a cluster admin, and a namespace the caller may not read stays hidden', async () => {
    const admin = await app.admin<{ namespace: { myRole: string } }>(ONE, { name: 'role-b' });
    expect(admin.namespace.myRole).toBe('ADMIN');
    const puller = await app.member('role-a', 'IMAGE_PULLER');
    const hidden = await app.call<{ namespace: unknown }>(puller, ONE, { name: 'role-b' });
    expect(hidden.data?.namespace ?? null).toBeNull();
  });
});
