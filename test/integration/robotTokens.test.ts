// Robot tokens: a namespace admin issues a token that holds one role in one namespace and nothing
// elsewhere, whatever bindings name its subject; it expires, records its last use, is listed and
// revoked by the namespace's admins, and cannot issue tokens itself.
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiTokens } from '../../src/db/schema.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { subscribeWs } from '../support/subscriptions.ts';

const NS = 'robots-a';
const OTHER = 'robots-b';

interface TokenFields {
  namespace: string | null;
  name: string | null;
  role: string | null;
  expiresAt: string | null;
  lastUsedAt: string | null;
  createdBy: string | null;
  revokedAt: string | null;
}
type Payload = {
  __typename: string;
  token?: string;
  apiToken?: TokenFields;
  code?: string;
  fields?: string[];
};

const TOKEN_FIELDS = 'namespace name role expiresAt lastUsedAt createdBy revokedAt';
const CREATE = `mutation($input: CreateRobotTokenInput!) { createRobotToken(input: $input) {
  __typename
  ... on RobotTokenPayload { token apiToken { ${TOKEN_FIELDS} } }
  ... on Error { code }
  ... on ValidationError { problems { field } }
} }`;

let app: TestApp;
let admin: TestApp;
let adminToken: string;

async function create(caller: TestApp, input: Record<string, unknown>) {
  const result = await caller.graphql<{
    createRobotToken: Payload & { problems?: { field: string }[] };
  }>(CREATE, { input: { namespace: NS, ...input } });
  expect(result.errors).toBeUndefined();
  return result.data!.createRobotToken;
}

async function robot(name: string, role: string, extra: Record<string, unknown> = {}) {
  const created = await create(admin, { name, role, ...extra });
  expect(created.__typename).toBe('RobotTokenPayload');
  return created.token!;
}

beforeAll(async () => {
  app = await startTestApp({ credentialCheckIntervalMs: 300 });
  await app.stream(NS, 'app');
  await app.stream(OTHER, 'app');
  adminToken = await app.member(NS, 'ADMIN', 'robots-admin');
  admin = app.as(adminToken);
  // Every authenticated caller may read the other namespace: a robot still may not.
  await app.grant(OTHER, 'IMAGE_PULLER', 'system:authenticated', 'Group');
});

afterAll(() => app?.stop());

describe('robot tokens', () => {
  it('are issued by a namespace admin, once, with a default expiry and the issuer recorded', async () => {
    const before = Date.now();
    const created = await create(admin, { name: 'ci', role: 'EDITOR', description: 'CI' });
    expect(created.__typename).toBe('RobotTokenPayload');
    expect(created.token).toMatch(/^tgr_/);
    expect(created.apiToken).toMatchObject({
      namespace: NS,
      name: 'ci',
      role: 'EDITOR',
      lastUsedAt: null,
      createdBy: 'robots-admin',
      revokedAt: null,
    });
    const days = (Date.parse(created.apiToken!.expiresAt!) - before) / 86_400_000;
    expect(days).toBeGreaterThan(89.9);
    expect(days).toBeLessThan(90.1);
  });

  it('hold their role in their namespace and nothing elsewhere, whatever binds their subject', async () => {
    const token = await robot('scoped', 'EDITOR');
    const bot = app.as(token);
    // Bindings naming the robot's subject grant it nothing beyond its scope.
    await app.grant(NS, 'ADMIN', `system:robot:${NS}:scoped`);
    await app.grant(OTHER, 'EDITOR', `system:robot:${NS}:scoped`);

    const me = await bot.graphql<{
      me: {
        namespaces: string[];
        scope: { namespace: string; role: string };
        clusterAdmin: boolean;
      };
    }>('{ me { namespaces clusterAdmin scope { namespace role } } }');
    expect(me.data!.me).toEqual({
      namespaces: [NS],
      clusterAdmin: false,
      scope: { namespace: NS, role: 'EDITOR' },
    });

    const write = await bot.graphql<{ updateImageStream: { __typename: string } }>(
      `mutation { updateImageStream(input: { namespace: "${NS}", name: "app",
        labels: [{ key: "by", value: "robot" }] }) { __typename } }`,
    );
    expect(write.data!.updateImageStream.__typename).toBe('ImageStreamPayload');

    const administer = await bot.graphql<{ addRoleBinding: { __typename: string } | null }>(
      `mutation { addRoleBinding(input: { namespace: "${NS}", role: IMAGE_PULLER,
        subjectKind: User, subjectName: "someone" }) { __typename } }`,
    );
    expect(
      administer.errors?.[0]?.extensions?.code ?? administer.data?.addRoleBinding?.__typename,
    ).toMatch(/FORBIDDEN|ForbiddenError/);

    const elsewhere = await bot.graphql<{ imageStreams: unknown }>(
      `{ imageStreams(namespace: "${OTHER}") { nodes { name } } }`,
    );
    expect(elsewhere.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const listed = await bot.graphql<{ namespaces: { nodes: { name: string }[] } }>(
      '{ namespaces { nodes { name } } }',
    );
    expect(listed.data!.namespaces.nodes.map((n) => n.name)).toEqual([NS]);
  });

  it('as an image puller, cannot write', async () => {
    const bot = app.as(await robot('reader', 'IMAGE_PULLER'));
    const write = await bot.graphql<{ updateImageStream: { __typename: string } | null }>(
      `mutation { updateImageStream(input: { namespace: "${NS}", name: "app" }) { __typename } }`,
    );
    expect(
      write.errors?.[0]?.extensions?.code ?? write.data?.updateImageStream?.__typename,
    ).toMatch(/FORBIDDEN|ForbiddenError/);
    const read = await bot.graphql<{ imageStream: { name: string } }>(
      `{ imageStream(namespace: "${NS}", name: "app") { name } }`,
    );
    expect(read.data!.imageStream.name).toBe('app');
  });

  it('are refused to an editor, to a robot admin, and for bad names, expiries and duplicates', async () => {
    const editor = app.as(await app.member(NS, 'EDITOR', 'robots-editor'));
    const byEditor = await editor.graphql<{ createRobotToken: Payload | null }>(CREATE, {
      input: { namespace: NS, name: 'x', role: 'IMAGE_PULLER' },
    });
    expect(byEditor.errors?.[0]?.extensions?.code ?? byEditor.data?.createRobotToken?.code).toBe(
      'FORBIDDEN',
    );

    const robotAdmin = app.as(await robot('boss', 'ADMIN'));
    expect(await create(robotAdmin, { name: 'minion', role: 'EDITOR' })).toMatchObject({
      __typename: 'ForbiddenError',
    });

    const invalid = await create(admin, {
      name: 'Not_A_Label',
      role: 'EDITOR',
      expiresAt: new Date(Date.now() - 1000).toISOString(),
    });
    expect(invalid.__typename).toBe('ValidationError');
    expect(invalid.problems!.map((p) => p.field).sort()).toEqual(['expiresAt', 'name']);
    const tooLong = await create(admin, {
      name: 'long',
      role: 'EDITOR',
      expiresAt: new Date(Date.now() + 400 * 86_400_000).toISOString(),
    });
    expect(tooLong.problems!.map((p) => p.field)).toEqual(['expiresAt']);

    await robot('twice', 'EDITOR');
    expect(await create(admin, { name: 'twice', role: 'EDITOR' })).toMatchObject({
      __typename: 'ConflictError',
    });
  });

  it('record their last use, are listed, and once revoked are refused (the name is free again)', async () => {
    const token = await robot('used', 'IMAGE_PULLER');
    const bot = app.as(token);
    await bot.graphql(`{ imageStream(namespace: "${NS}", name: "app") { name } }`);
    const list = async () => {
      const result = await admin.graphql<{ robotTokens: TokenFields[] }>(
        `{ robotTokens(namespace: "${NS}") { ${TOKEN_FIELDS} } }`,
      );
      expect(result.errors).toBeUndefined();
      return result.data!.robotTokens;
    };
    const used = (await list()).find((t) => t.name === 'used');
    expect(used?.lastUsedAt).not.toBeNull();

    const revoked = await admin.graphql<{ revokeRobotToken: { __typename: string } }>(
      `mutation { revokeRobotToken(namespace: "${NS}", name: "used") { __typename } }`,
    );
    expect(revoked.data!.revokeRobotToken.__typename).toBe('RobotTokenPayload');
    const refused = await bot.graphql(`{ me { subject } }`);
    expect(refused.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect((await list()).find((t) => t.name === 'used')?.revokedAt).not.toBeNull();
    await robot('used', 'IMAGE_PULLER');

    const unknown = await admin.graphql<{ revokeRobotToken: { __typename: string } }>(
      `mutation { revokeRobotToken(namespace: "${NS}", name: "nobody") { __typename } }`,
    );
    expect(unknown.data!.revokeRobotToken.__typename).toBe('NotFoundError');
    const all = await app.admin<{ apiTokens: { name: string | null; namespace: string | null }[] }>(
      '{ apiTokens { name namespace } }',
    );
    expect(all.apiTokens).toContainEqual({ name: 'ci', namespace: NS });
  });

  it('stop authenticating when they expire, and end a live subscription then', async () => {
    const token = await robot('short', 'IMAGE_PULLER');
    const db = app.database.db;
    // Expire it two seconds from now.
    await db
      .update(apiTokens)
      .set({ expiresAt: sql`now() + interval '2 seconds'` })
      .where(eq(apiTokens.name, 'short'));
    let closeCode: number | null = null;
    const live = subscribeWs(
      app.url,
      `subscription { tagChanged(namespace: "${NS}") { tag } }`,
      {},
      {
        token,
        onClose: (code) => {
          closeCode = code;
        },
      },
    );
    try {
      await live.connected;
      await live.ended;
      expect(closeCode).toBe(4403);
    } finally {
      await live.stop();
    }
    const refused = await app.as(token).graphql('{ me { subject } }');
    expect(refused.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });
});
