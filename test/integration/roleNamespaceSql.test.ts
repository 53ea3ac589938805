// roleNamespaceSql, the condition compiled reads check roles with, answers as AccessChecker.can for
// every kind of caller, role and namespace.
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AccessChecker,
  type Caller,
  REGISTRY_GROUP,
  ROLES,
  readableNamespaceSql,
  roleNamespaceSql,
} from '../../src/auth/roles.ts';
import { rowsOf } from '../../src/db/client.ts';
import { roleBindings } from '../../src/db/schema.ts';
import { startTestApp, type TestApp } from '../support/app.ts';

const NAMESPACES = ['rq-a', 'rq-b', 'rq-c', 'rq-none'];

const user = (subject: string, groups: string[] = []): Caller => ({
  subject,
  groups,
  clusterAdmin: false,
  tokenId: null,
});

/** Callers of every kind: bound as a user, through groups (own and implied), robots, registries. */
const CALLERS: Record<string, Caller> = {
  puller: user('rq-puller'),
  editor: user('rq-editor'),
  admin: user('rq-admin'),
  mixed: user('rq-mixed', ['rq-team']),
  serviceAccount: user('system:serviceaccount:rq-b:builder'),
  registry: user('rq-registry', [REGISTRY_GROUP]),
  registryAdmin: user('rq-registry-admin', [REGISTRY_GROUP]),
  outsider: user('rq-outsider'),
  clusterAdmin: { ...user('rq-root'), clusterAdmin: true },
  ...Object.fromEntries(
    ROLES.map((role) => [
      `robot-${role}`,
      { ...user(`system:robot:rq-a:${role}`), scope: { namespace: 'rq-a', role } },
    ]),
  ),
};

let app: TestApp;

beforeAll(async () => {
  app = await startTestApp();
  const bind = (
    namespace: string,
    role: (typeof ROLES)[number],
    subjectName: string,
    subjectKind: 'User' | 'Group' = 'User',
  ) => ({ namespace, role, subjectKind, subjectName });
  await app.database.db.insert(roleBindings).values([
    bind('rq-a', 'image-puller', 'rq-puller'),
    bind('rq-a', 'editor', 'rq-editor'),
    bind('rq-b', 'image-puller', 'rq-editor'),
    bind('rq-a', 'admin', 'rq-admin'),
    // The strongest of several bindings (a user's and its group's) counts.
    bind('rq-a', 'image-puller', 'rq-mixed'),
    bind('rq-a', 'admin', 'rq-team', 'Group'),
    bind('rq-b', 'editor', 'rq-team', 'Group'),
    bind('rq-c', 'editor', 'system:serviceaccounts:rq-b', 'Group'),
    bind('rq-c', 'admin', 'system:authenticated', 'Group'),
    bind('rq-b', 'admin', 'rq-registry-admin'),
    // A robot token's subject is bound in vain: its scope alone counts.
    bind('rq-b', 'admin', 'system:robot:rq-a:image-puller'),
  ]);
});

afterAll(async () => {
  await app?.stop();
});

describe('roleNamespaceSql', () => {
  it('holds exactly where AccessChecker.can answers true', async () => {
    let held = 0;
    for (const [who, caller] of Object.entries(CALLERS)) {
      const access = new AccessChecker(app.database.db, caller);
      for (const role of ROLES) {
        for (const namespace of NAMESPACES) {
          const ns = sql`${namespace}::text`;
          const condition = roleNamespaceSql(caller, role, ns) ?? sql`true`;
          // Reading is readableNamespaceSql's condition.
          const readable = readableNamespaceSql(caller, ns) ?? sql`true`;
          const [row] = rowsOf<{ held: boolean; readable: boolean }>(
            await app.database.db.execute(
              sql`select (${condition}) as held, (${readable}) as readable`,
            ),
          );
          const expected = await access.can(role, namespace);
          expect(row!.held, `${who} ${role} ${namespace}`).toBe(expected);
          if (role === 'image-puller') expect(row!.readable, `${who} ${namespace}`).toBe(expected);
          if (expected) held += 1;
        }
      }
    }
    // Both answers occur for most callers (the table is not all true or all false).
    expect(held).toBeGreaterThan(20);
    expect(held).toBeLessThan(Object.keys(CALLERS).length * ROLES.length * NAMESPACES.length);
  });
});
