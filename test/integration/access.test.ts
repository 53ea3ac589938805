// Access control end to end: tokens, roles, cross-namespace sources, subscriptions, limits.

import { createServer } from 'node:http';
import { sql } from 'drizzle-orm';
import { createClient } from 'graphql-ws';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT } from 'jose';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { type Caller, freshRoleLoader, roleIn } from '../../src/auth/roles.ts';
import { hashToken } from '../../src/auth/tokens.ts';
import { rowsOf } from '../../src/db/client.ts';
import { buildApp } from '../../src/server.ts';
import { startTestApp, type TestApp, testConfig } from '../support/app.ts';
import { pushMapping } from '../support/mapping.ts';
import { subscribeWs } from '../support/subscriptions.ts';

const ADMIN = 'access-test-admin-token-0123456789abcdef';
const as = (token: string) => ({ authorization: `Bearer ${token}` });

let app: TestApp;
const tokens: Record<string, string> = {};

async function asAdmin<T = Record<string, unknown>>(query: string, variables = {}) {
  const result = await app.graphql<T>(query, variables, as(ADMIN));
  expect(result.errors, JSON.stringify(result.errors)).toBeUndefined();
  return result.data!;
}

async function createToken(subject: string, groups: string[] = []) {
  const data = await asAdmin<{ createToken: { token: string } }>(
    `mutation($input: CreateTokenInput!) { createToken(input: $input) {
      ... on CreateTokenPayload { token } } }`,
    { input: { subject, groups } },
  );
  return data.createToken.token;
}

async function grant(namespace: string, role: string, subjectKind: string, subjectName: string) {
  const data = await asAdmin<{ addRoleBinding: { __typename: string } }>(
    `mutation($input: RoleBindingInput!) { addRoleBinding(input: $input) { __typename } }`,
    { input: { namespace, role, subjectKind, subjectName } },
  );
  expect(data.addRoleBinding.__typename).toBe('RoleBindingPayload');
}

beforeAll(async () => {
  app = await startTestApp({
    auth: { mode: 'token', adminTokenHash: hashToken(ADMIN), jwt: null },
    introspection: false,
  });
  for (const namespace of ['project-a', 'project-b']) {
    await asAdmin(
      `mutation($ns: String!) { createImageStream(input: { namespace: $ns, name: "ruby" }) { __typename } }`,
      { ns: namespace },
    );
  }
  tokens.alice = await createToken('alice');
  tokens.bob = await createToken('bob', ['team-b']);
  tokens.robot = await createToken('system:serviceaccount:project-a:default');
  tokens.nobody = await createToken('nobody');
  await grant('project-a', 'EDITOR', 'User', 'alice');
  await grant('project-b', 'IMAGE_PULLER', 'Group', 'team-b');
  await grant('project-b', 'ADMIN', 'User', 'carol');
});
afterAll(async () => {
  await app.stop();
});

describe('authentication', () => {
  it('refuses requests without a token or with an unknown one (401)', async () => {
    const body = JSON.stringify({ query: '{ me { subject } }' });
    for (const headers of [{}, as('tgr_not-a-real-token')]) {
      const response = await fetch(`${app.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body,
      });
      expect(response.status).toBe(401);
      const json = (await response.json()) as { errors: { extensions: { code: string } }[] };
      expect(json.errors[0]!.extensions.code).toBe('UNAUTHENTICATED');
    }
  });

  it('refuses an SSE subscription without a token (401)', async () => {
    const query = encodeURIComponent('subscription { tagChanged(namespace: "project-b") { tag } }');
    const response = await fetch(`${app.url}/graphql?query=${query}`, {
      headers: { accept: 'text/event-stream' },
    });
    expect(response.status).toBe(401);
    await response.body?.cancel();
  });

  it('keeps only a hash of each token', async () => {
    const rows = rowsOf<{ token_hash: string }>(
      await app.database.db.execute(sql`select token_hash from api_tokens`),
    );
    expect(rows.length).toBeGreaterThanOrEqual(4);
    const stored = JSON.stringify(rows);
    for (const token of Object.values(tokens)) {
      expect(stored).not.toContain(token);
      expect(stored).toContain(hashToken(token));
    }
  });

  it('a revoked token stops working at once', async () => {
    const token = await createToken('temporary');
    const me = await app.graphql<{ me: { subject: string } }>('{ me { subject } }', {}, as(token));
    expect(me.data?.me.subject).toBe('temporary');
    const list = await asAdmin<{ apiTokens: { id: string; subject: string }[] }>(
      '{ apiTokens { id subject } }',
    );
    const id = list.apiTokens.find((t) => t.subject === 'temporary')!.id;
    await asAdmin(`mutation($id: ID!) { revokeToken(id: $id) { __typename } }`, { id });
    const after = await fetch(`${app.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...as(token) },
      body: JSON.stringify({ query: '{ me { subject } }' }),
    });
    expect(after.status).toBe(401);
  });
});

describe('roles per namespace', () => {
  const READ = `query($ns: String!) { imageStream(namespace: $ns, name: "ruby") { name } }`;
  const WRITE = `mutation($ns: String!) { updateImageStream(input: { namespace: $ns, name: "ruby",
    labels: [{ key: "touched", value: "yes" }] }) { __typename } }`;
  const ADMINISTER = `mutation($ns: String!) { addRoleBinding(input: { namespace: $ns,
    role: IMAGE_PULLER, subjectKind: User, subjectName: "someone" }) { __typename } }`;

  async function allowed(token: string, query: string, ns: string): Promise<boolean> {
    const result = await app.graphql(query, { ns }, as(token));
    if (result.errors) {
      expect(result.errors[0]!.extensions?.code).toBe('FORBIDDEN');
      return false;
    }
    return true;
  }

  it.each([
    // caller, namespace, read, write, administer
    ['alice', 'project-a', true, true, false],
    ['alice', 'project-b', false, false, false],
    ['bob', 'project-a', false, false, false],
    ['bob', 'project-b', true, false, false],
    ['nobody', 'project-a', false, false, false],
    ['nobody', 'project-b', false, false, false],
  ])('%s in %s: read %s, write %s, administer %s', async (who, ns, read, write, administer) => {
    const token = tokens[who]!;
    expect(await allowed(token, READ, ns)).toBe(read);
    expect(await allowed(token, WRITE, ns)).toBe(write);
    expect(await allowed(token, ADMINISTER, ns)).toBe(administer);
  });

  it('answers fresh role questions of many callers together, one statement per namespace', async () => {
    const caller = (subject: string, groups: string[] = []): Caller => ({
      subject,
      groups,
      clusterAdmin: false,
      tokenId: null,
    });
    const questions = [
      { caller: caller('alice'), namespace: 'project-a' },
      { caller: caller('bob', ['team-b']), namespace: 'project-b' },
      { caller: caller('carol'), namespace: 'project-b' },
      { caller: caller('nobody', ['team-a']), namespace: 'project-b' },
      { caller: caller('alice'), namespace: 'project-b' },
      { caller: { ...caller('root'), clusterAdmin: true }, namespace: 'project-a' },
    ];
    const loader = freshRoleLoader(app.database.db);
    app.statements.length = 0;
    const roles = await Promise.all(questions.map((question) => loader.load(question)));
    expect(roles).toEqual(['editor', 'image-puller', 'admin', null, null, 'admin']);
    expect(app.statements.filter((s) => s.includes('"role_bindings"'))).toHaveLength(2);
    // One caller at a time gives the same answers.
    for (const [i, { caller: who, namespace }] of questions.entries()) {
      expect(await roleIn(app.database.db, who, namespace)).toBe(roles[i]);
    }
  });

  it('a namespace admin grants roles there; namespaces lists only readable ones', async () => {
    const carol = await createToken('carol');
    await app.graphql(
      `mutation { addRoleBinding(input: { namespace: "project-b", role: EDITOR,
        subjectKind: User, subjectName: "dave" }) { __typename } }`,
      {},
      as(carol),
    );
    const bindings = await app.graphql<{ roleBindings: { subjectName: string; role: string }[] }>(
      '{ roleBindings(namespace: "project-b") { subjectName role } }',
      {},
      as(carol),
    );
    expect(bindings.data!.roleBindings).toContainEqual({ subjectName: 'dave', role: 'EDITOR' });
    const listed = await app.graphql<{ namespaces: { nodes: { name: string }[] } }>(
      '{ namespaces { nodes { name } } }',
      {},
      as(tokens.bob!),
    );
    expect(listed.data!.namespaces.nodes.map((n) => n.name)).toEqual(['project-b']);
  });

  it('node(id) and image(digest) do not reach into namespaces the caller cannot read', async () => {
    const { digest } = await pushMapping(
      app,
      'project-b',
      'ruby',
      '2.0',
      'ruby-2.0',
      undefined,
      as(ADMIN),
    );
    const stream = await asAdmin<{ imageStream: { id: string } }>(
      '{ imageStream(namespace: "project-b", name: "ruby") { id } }',
    );
    const viaNode = await app.graphql(
      `query($id: ID!) { node(id: $id) { id } }`,
      { id: stream.imageStream.id },
      as(tokens.alice!),
    );
    expect(viaNode.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const imageByAlice = await app.graphql<{ image: unknown }>(
      `query($d: String!) { image(digest: $d) { digest } }`,
      { d: digest },
      as(tokens.alice!),
    );
    expect(imageByAlice.data!.image).toBeNull();
    const imageByBob = await app.graphql<{ image: { digest: string } }>(
      `query($d: String!) { image(digest: $d) { digest } }`,
      { d: digest },
      as(tokens.bob!),
    );
    expect(imageByBob.data!.image).toEqual({ digest });
  });
});

describe('cross-namespace tag sources', () => {
  const TAG = `mutation { tag(input: { namespace: "project-a", source: "project-b/ruby:2.0",
    destinations: ["ruby:from-b"] }) {
      __typename ... on Error { code message } } }`;

  it("needs image-puller in the source namespace, as in OpenShift's cross-project grant", async () => {
    await pushMapping(app, 'project-b', 'ruby', '2.0', 'ruby-2.0', undefined, as(ADMIN));
    await grant('project-a', 'EDITOR', 'User', 'system:serviceaccount:project-a:default');
    const before = await app.graphql<{ tag: { __typename: string; code?: string } }>(
      TAG,
      {},
      as(tokens.robot!),
    );
    expect(before.data!.tag).toMatchObject({ __typename: 'ForbiddenError', code: 'FORBIDDEN' });
    // oc policy add-role-to-user system:image-puller system:serviceaccount:project-a:default -n project-b
    await grant('project-b', 'IMAGE_PULLER', 'User', 'system:serviceaccount:project-a:default');
    const after = await app.graphql<{ tag: { __typename: string } }>(TAG, {}, as(tokens.robot!));
    expect(after.data!.tag.__typename).toBe('TagPayload');
  });

  it('the group of all service accounts of a namespace counts too', async () => {
    const other = await createToken('system:serviceaccount:project-c:builder');
    await grant('project-a', 'EDITOR', 'Group', 'system:serviceaccounts:project-c');
    const allowed = await app.graphql(
      `mutation { updateImageStream(input: { namespace: "project-a", name: "ruby" }) { __typename } }`,
      {},
      as(other),
    );
    expect(allowed.errors).toBeUndefined();
  });
});

describe('subscriptions', () => {
  const SUB = `subscription { tagChanged(namespace: "project-b") { tag current { digest } } }`;

  it('closes a graphql-ws connection without a token (4401) or with a bad one (4403)', async () => {
    for (const [token, code] of [
      [undefined, 4401],
      ['tgr_bad', 4403],
    ] as const) {
      const closed = new Promise<number>((done) => {
        const sub = subscribeWs(app.url, SUB, {}, { token, onClose: (c) => done(c) });
        void sub.ended.catch(() => {});
      });
      expect(await closed).toBe(code);
    }
  });

  it('checks at subscribe and at delivery: a revoked grant stops the stream', async () => {
    const denied = subscribeWs<{ errors?: { extensions?: { code?: string } }[] }>(
      app.url,
      SUB,
      {},
      { token: tokens.alice },
    );
    await denied.ended;
    expect(denied.results[0]?.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');

    const eve = await createToken('eve');
    await grant('project-b', 'IMAGE_PULLER', 'User', 'eve');
    // A gateway of its own whose idle grant check never comes round during the test: only the
    // re-check at delivery can end the stream.
    const gateway = await buildApp(
      testConfig({
        auth: { mode: 'token', adminTokenHash: hashToken(ADMIN), jwt: null },
        credentialCheckIntervalMs: 3_600_000,
      }),
      { log: pino({ level: 'silent' }), database: app.database },
    );
    const { url } = await gateway.start(0, '127.0.0.1');
    const sub = subscribeWs<{ data?: { tagChanged: { tag: string } }; errors?: unknown[] }>(
      url,
      SUB,
      {},
      { token: eve },
    );
    try {
      await sub.connected;
      await expect.poll(() => gateway.events.subscriberCount).toBe(1);
      await pushMapping(app, 'project-b', 'ruby', 'live', 'live-1', undefined, as(ADMIN));
      const [first] = await sub.waitFor(1);
      expect(first!.data?.tagChanged.tag).toBe('live');
      await asAdmin(
        `mutation { removeRoleBinding(input: { namespace: "project-b", role: IMAGE_PULLER,
          subjectKind: User, subjectName: "eve" }) { __typename } }`,
      );
      // Deliberate: the re-check at delivery runs at most every 2 s (ACCESS_RECHECK_MS in
      // src/schema/events.ts), so the next delivery must come more than 2 s after the first.
      await new Promise((r) => setTimeout(r, 2100));
      expect(sub.results).toHaveLength(1);
      await pushMapping(app, 'project-b', 'ruby', 'live', 'live-2', undefined, as(ADMIN));
      await sub.ended;
      // The event after the revocation is not delivered: an error instead, and the stream ends.
      expect(sub.results).toHaveLength(2);
      expect(sub.results[1]!.data?.tagChanged ?? null).toBeNull();
      expect(JSON.stringify(sub.results[1]!.errors)).toContain('revoked');
    } finally {
      await sub.stop();
      await gateway.stop();
    }
  });
  it('shares a live subscription only between connections of the same credential', async () => {
    const frank = await createToken('frank');
    await grant('project-b', 'IMAGE_PULLER', 'User', 'frank');
    type Next = {
      data?: { tagChanged: { tag: string } };
      errors?: { extensions?: { code?: string } }[];
    };
    const first = subscribeWs<Next>(app.url, SUB, {}, { token: frank });
    await first.connected;
    await expect.poll(() => app.events.subscriberCount).toBeGreaterThan(0);
    const sources = app.events.subscriberCount;
    // The same document from someone without access is refused, not added to frank's group.
    const denied = subscribeWs<Next>(app.url, SUB, {}, { token: tokens.alice });
    await denied.ended;
    expect(denied.results[0]?.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(denied.results[0]?.data?.tagChanged ?? null).toBeNull();
    // Another connection with frank's token joins the running source: no second reader of the hub.
    const second = subscribeWs<Next>(app.url, SUB, {}, { token: frank });
    await expect.poll(() => app.subscriptionGroups.memberCount).toBe(2);
    expect(app.events.subscriberCount).toBe(sources);
    // Another token of frank's has a source of its own: it is revoked on its own.
    const otherToken = subscribeWs<Next>(app.url, SUB, {}, { token: await createToken('frank') });
    // The member joins its group before the group's source reads the hub: wait for both.
    await expect.poll(() => app.subscriptionGroups.memberCount).toBe(3);
    await expect.poll(() => app.events.subscriberCount).toBe(sources + 1);
    try {
      await pushMapping(app, 'project-b', 'ruby', 'shared', 'shared-1', undefined, as(ADMIN));
      for (const sub of [first, second, otherToken]) {
        const [event] = await sub.waitFor(1);
        expect(event!.data?.tagChanged.tag).toBe('shared');
      }
      expect(denied.results).toHaveLength(1);
    } finally {
      await Promise.all([first.stop(), second.stop(), otherToken.stop()]);
    }
  });
});

describe('limits', () => {
  it('refuses deep queries, alias floods and introspection with clear errors', async () => {
    const follows = (n: number): string => (n === 0 ? 'name' : `follows { ${follows(n - 1)} }`);
    const deep = `{ imageStreams(namespace: "project-a") { nodes { tags { nodes { ${follows(14)} } } } } }`;
    const depth = await app.graphql(deep, {}, as(ADMIN));
    expect(depth.errors?.[0]?.message).toMatch(/depth/i);
    const aliases = Array.from({ length: 40 }, (_, i) => `a${i}: me { subject }`).join(' ');
    const flood = await app.graphql(`{ ${aliases} }`, {}, as(ADMIN));
    expect(flood.errors?.[0]?.message).toMatch(/aliases/i);
    const costly = await app.graphql(
      `{ imageStreams(namespace: "project-a", first: 100) { nodes { tags(first: 100) { nodes {
        history(first: 100) { nodes { created generation dockerImageReference } } } } } } }`,
      {},
      as(ADMIN),
    );
    expect(costly.errors?.[0]?.extensions?.code).toBe('QUERY_TOO_COSTLY');
    const introspection = await app.graphql('{ __schema { types { name } } }', {}, as(ADMIN));
    expect(introspection.errors?.[0]?.message).toMatch(/introspection/i);
  });

  it('refuses a request body over the limit with 413', async () => {
    const response = await fetch(`${app.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...as(ADMIN) },
      body: JSON.stringify({ query: '{ me { subject } }', pad: 'x'.repeat(2_000_000) }),
    });
    expect(response.status).toBe(413);
  });

  it('counts a chunked body, which declares no length, against the same limit', async () => {
    // fetch sends a stream body chunked, without Content-Length.
    const chunked = (text: string) =>
      fetch(`${app.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...as(ADMIN) },
        body: new Blob([text]).stream(),
        duplex: 'half',
      } as RequestInit);
    const small = await chunked(JSON.stringify({ query: '{ me { subject } }' }));
    expect(small.status).toBe(200);
    expect(((await small.json()) as { data?: { me?: unknown } }).data?.me).toBeTruthy();
    const large = await chunked(
      JSON.stringify({ query: '{ me { subject } }', pad: 'x'.repeat(2_000_000) }),
    );
    expect(large.status).toBe(413);
    const body = (await large.json()) as { errors?: { extensions?: { code?: string } }[] };
    expect(body.errors?.[0]?.extensions?.code).toBe('REQUEST_ENTITY_TOO_LARGE');
  });
});

describe('rate and subscription limits', () => {
  it('answers 429 with Retry-After once a token has used its requests for the minute', async () => {
    const limited = await startTestApp({
      auth: { mode: 'token', adminTokenHash: hashToken(ADMIN), jwt: null },
      rateLimitPerMinute: 5,
    });
    try {
      const statuses: number[] = [];
      let retryAfter: string | null = null;
      for (let i = 0; i < 7; i++) {
        const response = await fetch(`${limited.url}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...as(ADMIN) },
          body: JSON.stringify({ query: '{ me { subject } }' }),
        });
        statuses.push(response.status);
        if (response.status === 429) retryAfter = response.headers.get('retry-after');
        await response.body?.cancel();
      }
      expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 429]);
      expect(Number(retryAfter)).toBeGreaterThan(0);
    } finally {
      await limited.stop();
    }
  });

  it('refuses more subscriptions on one connection than allowed', async () => {
    const capped = await startTestApp({ maxSubscriptionsPerConnection: 1 });
    const client = createClient({
      url: `${capped.url.replace('http', 'ws')}/graphql`,
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${capped.adminToken}` },
      retryAttempts: 0,
    });
    try {
      const query = 'subscription { tagChanged(namespace: "limits") { tag } }';
      const first = new Promise<unknown>((resolve) => {
        client.subscribe(
          { query },
          { next: () => {}, error: resolve, complete: () => resolve(null) },
        );
      });
      // The first subscription is running on the server before the second is asked for.
      await expect.poll(() => capped.events.subscriberCount).toBe(1);
      const second = await new Promise<unknown>((resolve) => {
        client.subscribe(
          { query },
          { next: () => {}, error: resolve, complete: () => resolve(null) },
        );
      });
      expect(JSON.stringify(second)).toContain('at most 1 subscriptions per connection');
      void first;
    } finally {
      await client.dispose();
      await capped.stop();
    }
  });
});

describe('JWT bearer tokens', () => {
  it('accepts an identity provider JWT by static key or JWKS: sub, groups, admin group', async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
    const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256' };
    const jwks = createServer((_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ keys: [jwk] }));
    });
    await new Promise<void>((done) => jwks.listen(0, '127.0.0.1', done));
    const sign = (claims: Record<string, unknown>, issuer = 'test-idp', expires = '5m') =>
      new SignJWT(claims)
        .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
        .setSubject(String(claims.sub ?? 'jwt-user'))
        .setIssuer(issuer)
        .setAudience('tagraph')
        .setExpirationTime(expires)
        .sign(privateKey);
    const settings = {
      algorithm: 'ES256',
      issuer: 'test-idp',
      audience: 'tagraph',
      groupsClaim: 'groups',
      adminGroup: 'platform-admins',
    };
    const port = (jwks.address() as { port: number }).port;
    const byKey = { ...settings, publicKey: await exportSPKI(publicKey), jwksUrl: null };
    const byJwks = { ...settings, publicKey: null, jwksUrl: `http://127.0.0.1:${port}/jwks.json` };
    try {
      for (const jwt of [byKey, byJwks]) {
        const withJwt = await startTestApp({
          auth: { mode: 'token', adminTokenHash: hashToken(ADMIN), jwt },
        });
        try {
          const ask = (token: string) =>
            withJwt.graphql<{ me: { subject: string; clusterAdmin: boolean } }>(
              '{ me { subject clusterAdmin } }',
              {},
              as(token),
            );
          const member = await ask(await sign({ sub: 'jwt-user', groups: ['team-b'] }));
          expect(member.data?.me).toEqual({ subject: 'jwt-user', clusterAdmin: false });
          const admin = await ask(await sign({ sub: 'root', groups: ['platform-admins'] }));
          expect(admin.data?.me).toEqual({ subject: 'root', clusterAdmin: true });
          for (const bad of [
            await sign({ sub: 'x' }, 'another-idp'),
            await sign({ sub: 'x' }, 'test-idp', '-1m'),
          ]) {
            const response = await fetch(`${withJwt.url}/graphql`, {
              method: 'POST',
              headers: { 'content-type': 'application/json', ...as(bad) },
              body: JSON.stringify({ query: '{ me { subject } }' }),
            });
            expect(response.status).toBe(401);
          }
          // Opaque tokens keep working beside JWTs.
          expect((await ask(ADMIN)).data?.me.clusterAdmin).toBe(true);
        } finally {
          await withJwt.stop();
        }
      }
    } finally {
      await new Promise((done) => jwks.close(done));
    }
  });
});
