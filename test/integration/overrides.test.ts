// Guards for the places tagraph overrides its libraries for speed (docs/overrides.md): each test
// fails if the override stops applying after an upgrade, or stops matching what it replaces.
// The Postgres-only guard of `preparing` is in test/postgres/overrides.test.ts.
import { request } from 'node:http';
import {
  GRAPHQL_TRANSPORT_WS_PROTOCOL,
  MessageType,
  parseMessage,
  stringifyMessage,
} from 'graphql-ws';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { hashToken } from '../../src/auth/tokens.ts';
import { buildApp } from '../../src/server.ts';
import {
  bearer,
  startTestApp,
  TEST_ADMIN_TOKEN,
  type TestApp,
  testConfig,
} from '../support/app.ts';
import { pushMapping } from '../support/mapping.ts';
import { subscribeWs, wsUrl } from '../support/subscriptions.ts';

/** The body limit of this file's gateway: far below yoga's own default (25 MB). */
const BODY_LIMIT = 4096;
/** yoga's default maxRequestBodySize, which tagraph switches off for its own limit. */
const YOGA_DEFAULT_BODY_LIMIT = 25_000_000;

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({
    maxBodyBytes: BODY_LIMIT,
    // The idle grant check never comes round during a test: only deliveries re-check access.
    credentialCheckIntervalMs: 3_600_000,
  });
});
afterAll(async () => {
  await app.stop();
});

/** Sends a POST to the gateway over a raw socket; resolves with the status and body. */
function post(
  headers: Record<string, string>,
  write: (req: ReturnType<typeof request>) => void,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${app.url}/graphql`, { method: 'POST', headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    // The server may answer and close before the body is sent.
    req.on('error', (error) => (req.writableEnded ? reject(error) : undefined));
    write(req);
  });
}

describe("the request body limit (requestBodyLimit, src/limits.ts) in place of yoga's", () => {
  it('refuses a declared length over the limit before reading any of the body', async () => {
    const { token } = await app.user('body-limit-caller');
    // The headers promise more than the limit and no byte of the body is ever sent: only a
    // check of the declared length can answer this.
    const refused = await post(
      {
        'content-type': 'application/json',
        'content-length': String(BODY_LIMIT + 1),
        authorization: `Bearer ${token}`,
      },
      (req) => req.flushHeaders(),
    );
    expect(refused.status).toBe(413);
    expect(JSON.parse(refused.body).errors[0].extensions).toMatchObject({
      code: 'REQUEST_ENTITY_TOO_LARGE',
    });
  });

  it('counts a chunked body, which declares no length, as it streams', async () => {
    const { token } = await app.user('chunked-caller');
    const refused = await post(
      { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      (req) => {
        req.write(`{"query":"{ __typename }","variables":{"pad":"`);
        req.write('x'.repeat(BODY_LIMIT));
        req.end('"}}');
      },
    );
    expect(refused.status).toBe(413);
    expect(JSON.parse(refused.body).errors[0].extensions.code).toBe('REQUEST_ENTITY_TOO_LARGE');
  });

  it("answers with tagraph's limit, not yoga's: yoga's own is switched off", async () => {
    // A second gateway on this file's database, with a limit above yoga's default.
    const big = await buildApp(
      testConfig({
        auth: { mode: 'token', adminTokenHash: hashToken(TEST_ADMIN_TOKEN), jwt: null },
        maxBodyBytes: YOGA_DEFAULT_BODY_LIMIT + 2_000_000,
      }),
      { log: pino({ level: 'silent' }), database: app.database },
    );
    const { url } = await big.start(0, '127.0.0.1');
    try {
      const { token } = await app.user('big-body-caller');
      // Over yoga's default and under tagraph's limit: accepted, so yoga's limit is not running.
      // (Padded with whitespace, which JSON allows and nothing after the parse looks at.)
      const body = `{"query":"{ __typename }"${' '.repeat(YOGA_DEFAULT_BODY_LIMIT + 1_000)}}`;
      const response = await fetch(`${url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body,
      });
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ data: { __typename: 'Query' } });
    } finally {
      await big.stop();
    }
  });
});

/** A graphql-ws connection over a bare socket, keeping every frame's text as received. */
async function rawSubscription(token: string, query: string) {
  const socket = new WebSocket(wsUrl(app.url), GRAPHQL_TRANSPORT_WS_PROTOCOL);
  const frames: string[] = [];
  socket.on('message', (data) => frames.push(data.toString()));
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  socket.send(
    stringifyMessage({
      type: MessageType.ConnectionInit,
      payload: { authorization: `Bearer ${token}` },
    }),
  );
  await expect.poll(() => frames.length).toBe(1);
  expect(parseMessage(frames.shift()!).type).toBe(MessageType.ConnectionAck);
  socket.send(stringifyMessage({ id: 'guard-1', type: MessageType.Subscribe, payload: { query } }));
  return {
    frames,
    close: async () => {
      socket.close();
      await new Promise((resolve) => socket.once('close', resolve));
    },
  };
}

/**
 * The `next` message graphql-ws itself sends for the result a frame carries: its server
 * (graphql-ws/src/server.ts, emit.next) spreads the result without `errors`, puts `errors`
 * last, and stringifies the message `{ id, type, payload }`.
 */
function asGraphqlWsSends(frame: string): string {
  const message = parseMessage(frame);
  if (message.type !== MessageType.Next) throw new Error(`not a next message: ${frame}`);
  const { errors, ...rest } = message.payload as { errors?: unknown[] };
  return stringifyMessage({
    id: message.id,
    type: MessageType.Next,
    payload: { ...rest, ...(errors ? { errors } : {}) },
  } as never);
}

describe('graphql-ws next frames written by a subscription group (nextMessageDelivery, src/server/graphqlWs.ts)', () => {
  it('are byte for byte what graphql-ws would send, data and errors alike, through the group', async () => {
    const namespace = 'frames';
    await app.stream(namespace, 'app');
    const subject = 'frame-reader';
    const { token } = await app.user(subject);
    await app.grant(namespace, 'IMAGE_PULLER', subject);
    const query = `subscription { tagChanged(namespace: "${namespace}") { tag cause current { digest } } }`;
    const raw = await rawSubscription(token, query);
    // A real graphql-ws client on the same subscription: it reads the same frames.
    const client = subscribeWs<{ data?: { tagChanged: { tag: string } }; errors?: unknown[] }>(
      app.url,
      query,
      {},
      { token },
    );
    try {
      // Both joined one group: their results are written by nextMessageDelivery, not graphql-ws.
      await expect.poll(() => app.subscriptionGroups.memberCount).toBe(2);
      await expect.poll(() => app.events.subscriberCount).toBe(1);
      const { digest } = await pushMapping(
        app,
        namespace,
        'app',
        'v1',
        'frames-v1',
        undefined,
        bearer(app.adminToken),
      );
      await expect.poll(() => raw.frames.length).toBe(1);
      const [dataFrame] = raw.frames;
      expect(dataFrame).toBe(asGraphqlWsSends(dataFrame!));
      expect(JSON.parse(dataFrame!)).toEqual({
        id: 'guard-1',
        type: 'next',
        payload: { data: { tagChanged: { tag: 'v1', cause: 'PUSH', current: { digest } } } },
      });
      expect((await client.waitFor(1))[0]).toEqual(JSON.parse(dataFrame!).payload);

      // An error result: the reader's grant is revoked, and the next delivery re-checks it.
      await app.admin(
        `mutation { removeRoleBinding(input: { namespace: "${namespace}", role: IMAGE_PULLER,
          subjectKind: User, subjectName: "${subject}" }) { __typename } }`,
      );
      // Deliberate: deliveries re-check access at most every 2 s (ACCESS_RECHECK_MS).
      await new Promise((resolve) => setTimeout(resolve, 2100));
      await pushMapping(
        app,
        namespace,
        'app',
        'v2',
        'frames-v2',
        undefined,
        bearer(app.adminToken),
      );
      await expect.poll(() => raw.frames.length).toBeGreaterThanOrEqual(2);
      const errorFrame = raw.frames[1]!;
      expect(JSON.parse(errorFrame).payload.errors).toBeDefined();
      expect(errorFrame).toBe(asGraphqlWsSends(errorFrame));
    } finally {
      await Promise.all([raw.close(), client.stop()]);
    }
  });
});
