// Open connections end with their credentials (revoked token, expired JWT), and graphql-ws is
// bounded like HTTP: the per-token rate limit, connections per token, subscriptions per
// connection and concurrent replays.
import { type Client, createClient } from 'graphql-ws';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { Credentials } from '../../src/auth/credentials.ts';
import { hashToken } from '../../src/auth/tokens.ts';
import type { Config } from '../../src/config.ts';
import { decodeCursor } from '../../src/events/cursor.ts';
import { namespaceFilter } from '../../src/events/hub.ts';
import { CLOSE_TOO_MANY_CONNECTIONS } from '../../src/server/graphqlWs.ts';
import { postGraphql, startTestApp, TEST_ADMIN_TOKEN, type TestApp } from '../support/app.ts';
import { testIdentityProvider } from '../support/jwt.ts';
import { pushMapping } from '../support/mapping.ts';
import { subscribeSse, subscribeWs, wsUrl } from '../support/subscriptions.ts';
import { until } from '../support/wait.ts';

/** The namespace of the test running: each test's app gets its own (the database is shared). */
let NS = 'conn-0';
let namespaces = 0;
const ME = '{ me { subject } }';
const TAG_CHANGED = `subscription($ns: String!, $stream: String, $since: String) {
  tagChanged(namespace: $ns, stream: $stream, since: $since) { cursor tag } }`;

type Outcome = {
  data?: Record<string, unknown> | null;
  errors?: { message: string; extensions?: Record<string, unknown> }[];
};

/** A graphql-ws connection as `token`: runs operations, and tells how the server closed it. */
function connect(app: TestApp, token: string) {
  let markClosed: (event: { code: number; reason: string }) => void = () => {};
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    markClosed = resolve;
  });
  let markConnected: () => void = () => {};
  const connected = new Promise<void>((resolve) => {
    markConnected = resolve;
  });
  const client: Client = createClient({
    url: wsUrl(app.url),
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${token}` },
    retryAttempts: 0,
    lazy: false,
    onNonLazyError: () => {},
    on: {
      connected: () => markConnected(),
      closed: (event) => markClosed(event as { code: number; reason: string }),
    },
  });
  /** One operation's result: its last `next`, or its errors (an error message or a close). */
  const run = (query: string, variables: Record<string, unknown> = {}) =>
    new Promise<Outcome>((resolve) => {
      let last: Outcome = {};
      client.subscribe<Record<string, unknown>>(
        { query, variables },
        {
          next: (value) => {
            last = value as Outcome;
          },
          error: (error) =>
            resolve({ errors: Array.isArray(error) ? error : [{ message: String(error) }] }),
          complete: () => resolve(last),
        },
      );
    });
  return { client, closed, connected, run, stop: () => client.dispose() as Promise<void> };
}

/** Resolves with `promise`, or rejects after `ms` naming what did not happen. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([
    promise,
    new Promise<T>((_, reject) =>
      setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms),
    ),
  ]);
}

/** The open graphql-ws connections the server counts (its `tagraph_websocket_connections`). */
async function openWebSockets(app: TestApp): Promise<number> {
  const gauge = app.metrics.getSingleMetric('tagraph_websocket_connections');
  const { values } = await gauge!.get();
  return values[0]?.value ?? 0;
}

const apps: TestApp[] = [];
async function tenantApp(overrides: Partial<Config> = {}): Promise<TestApp> {
  const app = await startTestApp(overrides);
  apps.push(app);
  namespaces += 1;
  NS = `conn-${namespaces}`;
  await app.stream(NS, 'ruby');
  return app;
}
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.stop()));
});

/** A puller of NS with an API token: its token and token id. */
async function puller(app: TestApp, subject: string) {
  const issued = await app.user(subject);
  await app.grant(NS, 'IMAGE_PULLER', subject);
  return issued;
}

const revoke = (app: TestApp, id: string) =>
  app.admin(`mutation($id: ID!) { revokeToken(id: $id) { __typename } }`, { id });

const push = (app: TestApp, tag: string, seed: string) =>
  pushMapping(app.as(app.adminToken), NS, 'ruby', tag, seed);

describe('a revoked API token ends what it opened', () => {
  it("fails the open connection's next operation and closes it with 4403", async () => {
    // The periodic re-check is out of the way: the operation itself must notice.
    const app = await tenantApp({ credentialCheckIntervalMs: 3_600_000 });
    const { token, id } = await puller(app, 'rita');
    const ws = connect(app, token);
    try {
      expect((await ws.run(ME)).data).toEqual({ me: { subject: 'rita' } });
      await revoke(app, id);
      const after = await ws.run(ME);
      expect(after.data ?? null).toBeNull();
      expect(after.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
      expect((await within(ws.closed, 5000, 'close')).code).toBe(4403);
    } finally {
      await ws.stop();
    }
  });

  it('ends idle graphql-ws and SSE subscriptions within the re-check interval', async () => {
    const app = await tenantApp({ credentialCheckIntervalMs: 200 });
    const { token, id } = await puller(app, 'ida');
    const closeCode = new Promise<number>((resolve) => {
      const ws = subscribeWs(app.url, TAG_CHANGED, { ns: NS }, { token, onClose: resolve });
      void ws.ended.catch(() => {});
    });
    const sse = subscribeSse<Outcome>(app.url, TAG_CHANGED, { ns: NS }, { token });
    try {
      await sse.opened;
      await until(() => app.events.subscriberCount === 2, 'both subscriptions registered');
      await revoke(app, id);
      expect(await within(closeCode, 5000, 'graphql-ws close')).toBe(4403);
      expect((await within(sse.ended, 5000, 'SSE end')).kind).toBe('complete');
      expect(sse.results).toHaveLength(1);
      expect(sse.results[0]!.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
      await until(() => app.events.subscriberCount === 0, 'the hub released both');
    } finally {
      await sse.stop();
    }
  });

  it('ends streams at the next delivery, every member of a shared subscription included', async () => {
    const app = await tenantApp({ credentialCheckIntervalMs: 3_600_000 });
    const { token, id } = await puller(app, 'dora');
    type Next = { data?: { tagChanged: { tag: string } } | null; errors?: Outcome['errors'] };
    const codes: Promise<number>[] = [];
    const members = [0, 1].map(() => {
      let onClose: (code: number) => void = () => {};
      codes.push(new Promise<number>((resolve) => (onClose = resolve)));
      const sub = subscribeWs<Next>(app.url, TAG_CHANGED, { ns: NS }, { token, onClose });
      void sub.ended.catch(() => {});
      return sub;
    });
    const sse = subscribeSse<Next>(app.url, TAG_CHANGED, { ns: NS }, { token });
    try {
      await sse.opened;
      await until(() => app.subscriptionGroups.memberCount === 2, 'both members joined');
      await until(() => app.events.subscriberCount === 2, 'one shared source and the SSE stream');
      await push(app, 'before', 'before-1');
      for (const stream of [...members, sse]) {
        expect((await stream.waitFor(1))[0]!.data?.tagChanged.tag).toBe('before');
      }
      await revoke(app, id);
      // Deliveries re-read the token every few seconds: write until the streams end.
      const ended = Promise.all([...codes, sse.ended]);
      let settled = false;
      void ended.finally(() => {
        settled = true;
      });
      for (let i = 0; !settled; i++) {
        if (i > 40) throw new Error('the streams did not end after the revocation');
        await push(app, `after-${i}`, `after-${i}`);
        await Promise.race([ended, new Promise((resolve) => setTimeout(resolve, 250))]);
      }
      expect(await Promise.all(codes)).toEqual([4403, 4403]);
      expect((await sse.ended).kind).toBe('complete');
      const last = sse.results[sse.results.length - 1]!;
      expect(last.data?.tagChanged ?? null).toBeNull();
      expect(last.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
      for (const stream of [...members, sse]) {
        expect(stream.results.filter((r) => r.data?.tagChanged).length).toBeLessThanOrEqual(
          1 + Math.ceil(2000 / 250) + 1,
        );
      }
      await until(() => app.subscriptionGroups.memberCount === 0, 'the group ended');
    } finally {
      await Promise.all([...members.map((m) => m.stop()), sse.stop()]);
    }
  });
});

describe('credential checks', () => {
  it("answers many callers' checks asked together with one statement, read fresh", async () => {
    const app = await tenantApp();
    const issued = await Promise.all(['c1', 'c2', 'c3', 'c4', 'c5'].map((s) => app.user(s)));
    const callers = issued.map(({ id }, i) => ({
      subject: `c${i + 1}`,
      groups: [],
      clusterAdmin: false,
      tokenId: Number(id),
    }));
    const credentials = new Credentials(app.database.db, 3_600_000);
    try {
      const ask = async () => {
        app.statements.length = 0;
        const answers = await Promise.all(callers.map((caller) => credentials.valid(caller)));
        expect(app.statements.filter((s) => s.includes('"api_tokens"'))).toHaveLength(1);
        return answers;
      };
      expect(await ask()).toEqual([true, true, true, true, true]);
      await revoke(app, issued[2]!.id);
      expect(await ask()).toEqual([true, true, false, true, true]);
      // A JWT's expiry is compared locally.
      app.statements.length = 0;
      const jwtCaller = { ...callers[0]!, tokenId: null, expiresAt: Date.now() - 1 };
      expect(await credentials.valid(jwtCaller)).toBe(false);
      expect(await credentials.valid({ ...jwtCaller, expiresAt: Date.now() + 60_000 })).toBe(true);
      expect(app.statements).toHaveLength(0);
    } finally {
      credentials.stop();
    }
  });
});

describe('an expired JWT ends what it opened', () => {
  it('closes the connection and ends SSE streams at exp, with no event delivered', async () => {
    const idp = await testIdentityProvider();
    const app = await tenantApp({
      credentialCheckIntervalMs: 3_600_000,
      auth: {
        mode: 'token',
        adminTokenHash: hashToken(TEST_ADMIN_TOKEN),
        jwt: idp.settings,
      },
    });
    await app.grant(NS, 'IMAGE_PULLER', 'jwt-watcher');
    const exp = Math.floor(Date.now() / 1000) + 3;
    const jwt = await idp.sign('jwt-watcher', { expires: exp });
    const ws = connect(app, jwt);
    const live = subscribeWs(app.url, TAG_CHANGED, { ns: NS }, { token: jwt });
    void live.ended.catch(() => {});
    const sse = subscribeSse<Outcome>(app.url, TAG_CHANGED, { ns: NS }, { token: jwt });
    try {
      expect((await ws.run(ME)).data).toEqual({ me: { subject: 'jwt-watcher' } });
      await sse.opened;
      await until(() => app.events.subscriberCount === 2, 'subscriptions registered');
      const closed = await within(ws.closed, 10_000, 'close at exp');
      expect(closed.code).toBe(4403);
      expect(Date.now()).toBeGreaterThanOrEqual(exp * 1000);
      expect((await within(sse.ended, 10_000, 'SSE end at exp')).kind).toBe('complete');
      expect(sse.results).toHaveLength(1);
      expect(sse.results[0]!.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
      expect(live.results).toHaveLength(0);
    } finally {
      await Promise.all([ws.stop(), live.stop(), sse.stop()]);
    }
  });
});

describe('bounds on graphql-ws', () => {
  it('spends the per-token rate limit, shared with HTTP, and refuses over it with RATE_LIMITED', async () => {
    const app = await tenantApp({ rateLimitPerMinute: 10 });
    const { token } = await puller(app, 'rate');
    const ws = connect(app, token);
    try {
      const outcomes: Outcome[] = [];
      for (let i = 0; i < 8; i++) outcomes.push(await ws.run(ME));
      const http = await postGraphql(app, token, { query: ME });
      expect(http.status).toBe(200);
      await http.body?.cancel();
      for (let i = 0; i < 3; i++) outcomes.push(await ws.run(ME));
      const codes = outcomes.map((o) => (o.data ? 'ok' : o.errors?.[0]?.extensions?.code));
      expect(codes).toEqual([...Array(9).fill('ok'), 'RATE_LIMITED', 'RATE_LIMITED']);
      // A subscription is an operation too.
      const refused = await ws.run(TAG_CHANGED, { ns: NS });
      expect(refused.errors?.[0]?.extensions?.code).toBe('RATE_LIMITED');
      const overHttp = await postGraphql(app, token, { query: ME });
      expect(overHttp.status).toBe(429);
      await overHttp.body?.cancel();
      // The connection stays usable: refusals are results, not a close.
      expect(ws.client).toBeTruthy();
    } finally {
      await ws.stop();
    }
  });

  it('caps open connections per token with CLOSE_TOO_MANY_CONNECTIONS, and frees a place when one closes', async () => {
    const app = await tenantApp({ maxConnectionsPerToken: 2 });
    const { token } = await puller(app, 'many');
    const other = await puller(app, 'other');
    const first = connect(app, token);
    const second = connect(app, token);
    await Promise.all([first.connected, second.connected]);
    const third = connect(app, token);
    const elsewhere = connect(app, other.token);
    try {
      const closed = await within(third.closed, 5000, 'third connection refused');
      expect(closed.code).toBe(CLOSE_TOO_MANY_CONNECTIONS);
      expect(closed.reason).toMatch(/at most 2 per token/);
      await elsewhere.connected;
      expect((await first.run(ME)).data).toEqual({ me: { subject: 'many' } });
      await first.stop();
      await first.closed;
      // The client hears the close before the server has seen it: wait until the server no
      // longer counts the first (nor the refused third); the per-token count drops in that same
      // close, before the server reads anything else.
      await until(async () => (await openWebSockets(app)) === 2, 'the server saw the closes');
      const fourth = connect(app, token);
      await within(fourth.connected, 5000, 'a place freed after a connection closed');
      expect((await fourth.run(ME)).data).toEqual({ me: { subject: 'many' } });
      await fourth.stop();
    } finally {
      await Promise.all([first, second, third, elsewhere].map((c) => c.stop()));
    }
  });

  it('holds the first N subscriptions of a connection and refuses the next one', async () => {
    const app = await tenantApp({ maxSubscriptionsPerConnection: 2 });
    await app.stream(NS, 'python');
    const { token } = await puller(app, 'subs');
    const ws = connect(app, token);
    type Next = { data?: { tagChanged: { tag: string } } };
    const received: Record<string, Next[]> = { ruby: [], python: [] };
    const ends: Record<string, Promise<unknown>> = {};
    try {
      await ws.connected;
      for (const stream of ['ruby', 'python']) {
        ends[stream] = new Promise((resolve) => {
          ws.client.subscribe<Next['data']>(
            { query: TAG_CHANGED, variables: { ns: NS, stream } },
            {
              next: (value) => received[stream]!.push(value as Next),
              error: resolve,
              complete: () => resolve('complete'),
            },
          );
        });
      }
      await until(() => app.events.subscriberCount === 2, 'two subscriptions running');
      const third = await ws.run(TAG_CHANGED, { ns: NS, stream: 'go' });
      expect(third.errors?.[0]?.extensions?.code).toBe('TOO_MANY_SUBSCRIPTIONS');
      expect(third.errors?.[0]?.message).toContain('at most 2 subscriptions per connection');
      await pushMapping(app.as(app.adminToken), NS, 'ruby', 'r', 'r-1');
      await pushMapping(app.as(app.adminToken), NS, 'python', 'p', 'p-1');
      await until(
        () => received.ruby!.length === 1 && received.python!.length === 1,
        'both subscriptions delivered',
      );
      expect(received.ruby![0]!.data?.tagChanged.tag).toBe('r');
      expect(received.python![0]!.data?.tagChanged.tag).toBe('p');
    } finally {
      await ws.stop();
    }
  });

  it('caps replaying subscriptions per token and per process with TOO_MANY_REPLAYS', async () => {
    const app = await tenantApp({ maxReplaysPerToken: 1, maxReplays: 2 });
    const ann = await puller(app, 'ann');
    const ben = await puller(app, 'ben');
    const cat = await puller(app, 'cat');
    await push(app, 'old', 'old-1');
    const { cursor } = (
      await app.call<{ tagEvents: { events: { cursor: string }[] } }>(
        ann.token,
        `query($ns: String!) { tagEvents(namespace: $ns) { events { cursor } } }`,
        { ns: NS },
      )
    ).data!.tagEvents.events[0]!;
    await push(app, 'old', 'old-2');
    const { endCursor } = (
      await app.call<{ tagEvents: { endCursor: string } }>(
        ann.token,
        `query($ns: String!) { tagEvents(namespace: $ns) { endCursor } }`,
        { ns: NS },
      )
    ).data!.tagEvents;
    // A replay is a subscription whose `since` is behind what this process has read.
    await until(() => app.events.position >= decodeCursor(endCursor)!, 'the hub read old-2');
    const since = { ns: NS, since: cursor };
    /** A replay from `since` as `token` over graphql-ws, once it delivered the old tag. */
    const replaysOld = async (token: string) => {
      const sub = subscribeWs<{ data?: { tagChanged: { tag: string } } }>(
        app.url,
        TAG_CHANGED,
        since,
        { token },
      );
      expect((await sub.waitFor(1))[0]!.data?.tagChanged.tag).toBe('old');
      return sub;
    };
    // A replay held mid-way: read from the hub directly and not consumed, it keeps its slot.
    const held = app.events.subscribe(namespaceFilter(NS), decodeCursor(cursor), {
      replayer: `token:${ann.id}`,
    });
    try {
      const annWs = connect(app, ann.token);
      const refused = await annWs.run(TAG_CHANGED, since);
      expect(refused.errors?.[0]?.extensions?.code).toBe('TOO_MANY_REPLAYS');
      expect(app.events.replayCount).toBe(1);
      const metrics = await (await fetch(`${app.url}/metrics`)).text();
      expect(metrics).toMatch(/^tagraph_replays 1$/m);
      const refusedSse = subscribeSse<Outcome>(app.url, TAG_CHANGED, since, { token: ann.token });
      expect((await within(refusedSse.ended, 5000, 'SSE refusal')).kind).toBe('complete');
      expect(refusedSse.results[0]?.errors?.[0]?.extensions?.code).toBe('TOO_MANY_REPLAYS');
      // Another token replays; once it has caught up it gives its slot back.
      const benSub = await replaysOld(ben.token);
      await until(() => app.events.replayCount === 1, 'ben caught up');
      // The process cap: two replays held, a third token is refused too.
      const second = app.events.subscribe(namespaceFilter(NS), decodeCursor(cursor), {
        replayer: `token:${ben.id}`,
      });
      const catWs = connect(app, cat.token);
      const full = await catWs.run(TAG_CHANGED, since);
      expect(full.errors?.[0]?.extensions?.code).toBe('TOO_MANY_REPLAYS');
      expect(full.errors?.[0]?.extensions?.scope).toBe('process');
      await second.return?.();
      await held.return?.();
      expect(app.events.replayCount).toBe(0);
      const annAgain = await replaysOld(ann.token);
      await Promise.all([annWs.stop(), benSub.stop(), catWs.stop(), annAgain.stop()]);
    } finally {
      await held.return?.();
    }
  });
});
