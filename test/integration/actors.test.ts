// Who made each change: events and history items name a robot token, a JWT user, the scheduler or a push.
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startTestApp, type TestApp, testConfig } from '../support/app.ts';
import { pushImage } from '../support/images.ts';
import { drainImports } from '../support/imports.ts';
import { testIdentityProvider } from '../support/jwt.ts';

const registryUrl = inject('registryUrl');
const registryHost = new URL(registryUrl).host;
const unique = `${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
const PUSH_TOKEN = 'actors-push-token-0123456789abcdef';
const NS = 'actors';

let app: TestApp;
let admin: TestApp;
let reader: TestApp;
let idp: Awaited<ReturnType<typeof testIdentityProvider>>;

beforeAll(async () => {
  idp = await testIdentityProvider();
  app = await startTestApp({
    auth: { ...testConfig().auth, jwt: idp.settings },
    importIntervalMs: 3_600_000,
    pushRegistries: [{ host: registryHost, token: PUSH_TOKEN, insecure: true }],
  });
  admin = app.as(await app.member(NS, 'ADMIN'));
  reader = app.as(await app.member(NS, 'IMAGE_PULLER'));
});
afterAll(async () => {
  await app.stop();
});

interface ActorView {
  kind: string;
  subject: string;
  tokenId: string | null;
  source: string;
  requestId: string | null;
}

const ACTOR = 'actor { kind subject tokenId source requestId }';

/** The namespace's tag events (narrowed to `actors` when given), oldest first. */
async function events(actors?: string[]) {
  const result = await reader.graphql<{
    tagEvents: { events: { cause: string; tag: string; actor: ActorView | null }[] };
  }>(
    `query($ns: String!, $filter: TagEventFilter) {
      tagEvents(namespace: $ns, first: 100, filter: $filter) { events { cause tag ${ACTOR} } } }`,
    { ns: NS, filter: actors ? { actors } : null },
  );
  expect(result.errors).toBeUndefined();
  return result.data!.tagEvents.events;
}

/** The actor of item 0 of `stream:tag`'s history. */
async function historyActor(ref: string): Promise<ActorView | null> {
  const result = await reader.graphql<{
    imageStreamTag: { history: { nodes: { actor: ActorView | null }[] } };
  }>(
    `query($ns: String!, $ref: String!) {
      imageStreamTag(namespace: $ns, ref: $ref) {
        ... on ImageStreamTag { history(first: 1) { nodes { ${ACTOR} } } } } }`,
    { ns: NS, ref },
  );
  expect(result.errors).toBeUndefined();
  return result.data!.imageStreamTag.history.nodes[0]?.actor ?? null;
}

/** Sends a GraphQL operation as the caller of `token`; returns the body and the request id. */
async function post(token: string, query: string, variables: Record<string, unknown>) {
  const response = await fetch(`${app.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as {
    data?: Record<string, { __typename: string }>;
    errors?: unknown;
  };
  expect(body.errors).toBeUndefined();
  return { body, requestId: response.headers.get('x-request-id') };
}

const TAG = `mutation($input: TagInput!) { tag(input: $input) { __typename } }`;
const IMPORT = `mutation($input: ImportImageInput!) { importImage(input: $input) { __typename } }`;

describe('actors', () => {
  let robot: string;
  let robotSubject: string;
  let robotTokenId: string;

  it('a robot token: its import job and its tag write name the token, the request and the path', async () => {
    const created = await admin.graphql<{ createRobotToken: { token: string } }>(
      `mutation($input: CreateRobotTokenInput!) { createRobotToken(input: $input) {
        ... on RobotTokenPayload { token } } }`,
      { input: { namespace: NS, name: 'ci', role: 'EDITOR' } },
    );
    robot = created.data!.createRobotToken.token;
    const me = await app.call<{ me: { subject: string; tokenId: string } }>(
      robot,
      '{ me { subject tokenId } }',
    );
    robotSubject = me.data!.me.subject;
    robotTokenId = me.data!.me.tokenId;
    expect(robotTokenId).toMatch(/^\d+$/);

    const repository = `actors-${unique}/robot`;
    await pushImage(registryUrl, repository, 'v1', { content: 'robot-1' });
    const imported = await post(robot, IMPORT, {
      input: {
        namespace: NS,
        image: 'app:v1',
        from: `${registryHost}/${repository}:v1`,
        confirm: true,
        insecure: true,
        scheduled: true,
      },
    });
    expect(imported.body.data!.importImage!.__typename).toBe('ImportImagePayload');
    expect(await drainImports(app)).toBe(1);
    const byImport = {
      kind: 'TOKEN',
      subject: robotSubject,
      tokenId: robotTokenId,
      source: 'import-job',
      requestId: imported.requestId,
    };
    // importImage's own spec write is the request's; what the job imported, the job's.
    expect((await events()).filter((e) => e.tag === 'v1').map((e) => e.actor)).toEqual([
      { ...byImport, source: 'api' },
      byImport,
    ]);
    expect(await historyActor('app:v1')).toEqual(byImport);

    const tagged = await post(robot, TAG, {
      input: { namespace: NS, source: 'app:v1', destinations: ['app:prod'] },
    });
    expect(tagged.body.data!.tag!.__typename).toBe('TagPayload');
    const byTag = { ...byImport, source: 'api', requestId: tagged.requestId };
    expect((await events()).find((e) => e.tag === 'prod')?.actor).toEqual(byTag);
    expect(await historyActor('app:prod')).toEqual(byTag);
  });

  it('a JWT user: kind USER, no token id', async () => {
    await app.grant(NS, 'EDITOR', 'jwt-alice');
    const jwt = await idp.sign('jwt-alice');
    const tagged = await post(jwt, TAG, {
      input: { namespace: NS, source: 'app:v1', destinations: ['app:staging'] },
    });
    expect(tagged.body.data!.tag!.__typename).toBe('TagPayload');
    const expected = {
      kind: 'USER',
      subject: 'jwt-alice',
      tokenId: null,
      source: 'api',
      requestId: tagged.requestId,
    };
    expect((await events()).find((e) => e.tag === 'staging')?.actor).toEqual(expected);
    expect(await historyActor('app:staging')).toEqual(expected);
  });

  it('the scheduler: a scheduled re-import is the system’s', async () => {
    const repository = `actors-${unique}/robot`;
    await pushImage(registryUrl, repository, 'v1', { content: 'robot-2' });
    await app.database.db.execute(sql`
      update tags set next_import_at = now() - interval '1 second'
      from image_streams s where s.id = tags.stream_id and s.namespace = ${NS}
        and tags.next_import_at is not null`);
    expect(await app.importer.scheduler.runOnce()).toMatchObject({ queued: 1 });
    expect(await drainImports(app)).toBe(1);
    const scheduled = (await events()).filter((e) => e.cause === 'SCHEDULED_IMPORT');
    const expected = {
      kind: 'SYSTEM',
      subject: 'system:scheduler',
      tokenId: null,
      source: 'scheduler',
      requestId: null,
    };
    expect(scheduled.map((e) => e.actor)).toEqual([expected]);
    expect(await historyActor('app:v1')).toEqual(expected);
  });

  it('a push from a registry: the registry is the actor', async () => {
    const pushed = await pushImage(registryUrl, `${NS}/pushed`, 'v1', { content: 'pushed-1' });
    const response = await fetch(`${app.url}/registry/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${PUSH_TOKEN}` },
      body: JSON.stringify({
        events: [
          {
            id: `actors-${unique}`,
            action: 'push',
            target: {
              mediaType: pushed.mediaType,
              digest: pushed.digest,
              repository: `${NS}/pushed`,
              tag: 'v1',
            },
          },
        ],
      }),
    });
    expect(response.status).toBe(200);
    expect(await drainImports(app)).toBe(1);
    const push = (await events()).filter((e) => e.cause === 'PUSH');
    const expected = {
      kind: 'SYSTEM',
      subject: `system:registry:${registryHost}`,
      tokenId: null,
      source: `push:${registryHost}`,
      requestId: null,
    };
    expect(push.map((e) => e.actor)).toEqual([expected]);
    expect(await historyActor('pushed:v1')).toEqual(expected);
  });

  it('tagEvents narrows to actor subjects', async () => {
    const byRobot = await events([robotSubject]);
    expect(byRobot.map((e) => e.tag)).toEqual(['v1', 'v1', 'prod']);
    expect(new Set(byRobot.map((e) => e.actor?.subject))).toEqual(new Set([robotSubject]));
    const bySystem = await events(['system:scheduler', 'jwt-alice']);
    expect(bySystem.map((e) => e.tag)).toEqual(['staging', 'v1']);
    expect(await events(['nobody'])).toEqual([]);
  });

  it('tagChanged narrows to actor subjects, live', async () => {
    const subscription = reader.subscribe<{
      data?: { tagChanged: { tag: string; actor: ActorView | null } };
    }>(
      `subscription($ns: String!, $actors: [String!]) {
        tagChanged(namespace: $ns, actors: $actors) { tag ${ACTOR} } }`,
      { ns: NS, actors: [robotSubject] },
    );
    await subscription.connected;
    const jwt = await idp.sign('jwt-alice');
    await post(jwt, TAG, {
      input: { namespace: NS, source: 'app:v1', destinations: ['app:by-alice'] },
    });
    await post(robot, TAG, {
      input: { namespace: NS, source: 'app:v1', destinations: ['app:by-robot'] },
    });
    const [first] = await subscription.waitFor(1);
    expect(first!.data!.tagChanged).toMatchObject({
      tag: 'by-robot',
      actor: { subject: robotSubject, tokenId: robotTokenId },
    });
    await subscription.stop();
  });
});
