// tagChanged / imageStreamChanged / tagEvents with real clients: graphql-ws and SSE.
import { sql } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { CLOSE_TOO_SLOW } from '../../src/events/hub.ts';
import { trimEvents } from '../../src/events/retention.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { pushMapping } from '../support/mapping.ts';
import { subscribeSse, subscribeWs, wsUrl } from '../support/subscriptions.ts';
import { until } from '../support/wait.ts';

const NAMESPACES = ['filt', 'grp', 'live', 'poll', 'race', 'resume', 'slow', 'slowgrp'];
NAMESPACES.push('gone', 'slowlog', 'sse', 'streams', 'trim', 'x');
let app: TestApp;
/** Tokens, valid on every app of this file's database: */
let reader: string; // subscribes and polls (IMAGE_PULLER)
let editor: string; // tags and creates streams (EDITOR)
let registry: string; // reports pushes (system:registries)
beforeAll(async () => {
  app = await startTestApp();
  reader = await app.member(NAMESPACES, 'IMAGE_PULLER');
  editor = await app.member(NAMESPACES, 'EDITOR');
  registry = await app.registry();
});
afterAll(async () => {
  await app.stop();
});
// A stopped client's subscription is torn down asynchronously on the server; start each test
// from zero so `subscribers(n)` counts only the test's own.
afterEach(async () => {
  await subscribers(0);
});

/**
 * Waits until the hub has exactly `count` subscribers, so a live-only subscription misses
 * nothing. Exactly: a subscription a test stopped must be gone too (no leaks).
 */
async function subscribers(count: number): Promise<void> {
  await until(() => app.events.subscriberCount === count, `${count} hub subscribers`);
}

/** Waits until `count` graphql-ws subscriptions are served by shared sources. */
async function members(count: number): Promise<void> {
  await until(() => app.subscriptionGroups.memberCount === count, `${count} shared members`);
}

async function push(namespace: string, stream: string, tag: string, seed: string) {
  return (await pushMapping(app.as(registry), namespace, stream, tag, seed)).digest;
}

const TAG_CHANGED = `subscription($namespace: String!, $stream: String, $tag: String, $since: String) {
  tagChanged(namespace: $namespace, stream: $stream, tag: $tag, since: $since) {
    cursor type cause namespace stream tag
    previous { digest } current { digest dockerImageReference }
    imageStreamTag { name }
  }
}`;

type TagChanged = {
  cursor: string;
  type: string;
  cause: string;
  stream: string;
  tag: string;
  previous: { digest: string } | null;
  current: { digest: string; dockerImageReference: string } | null;
  imageStreamTag: { name: string } | null;
};
type Next = {
  data?: { tagChanged: TagChanged };
  errors?: { message: string; extensions?: Record<string, unknown> }[];
};

describe('tagChanged over graphql-ws', () => {
  it('delivers a push as an event with cause, heads and the tag itself', async () => {
    const sub = subscribeWs<Next>(app.url, TAG_CHANGED, { namespace: 'live' }, { token: reader });
    await subscribers(1);
    const first = await push('live', 'app', 'v1', 'live-1');
    const second = await push('live', 'app', 'v1', 'live-2');
    const [a, b] = (await sub.waitFor(2)).map((r) => r.data!.tagChanged);
    expect(a).toMatchObject({
      type: 'ADDED',
      cause: 'PUSH',
      stream: 'app',
      tag: 'v1',
      previous: null,
      current: { digest: first },
      imageStreamTag: { name: 'v1' },
    });
    expect(b).toMatchObject({
      type: 'UPDATED',
      previous: { digest: first },
      current: { digest: second },
    });
    await sub.stop();
  });

  it('filters by stream and tag, and carries tracking and delete causes', async () => {
    const onlyWeb = subscribeWs<Next>(
      app.url,
      TAG_CHANGED,
      {
        namespace: 'filt',
        stream: 'web',
        tag: 'latest',
      },
      { token: reader },
    );
    await subscribers(1);
    await push('filt', 'db', 'latest', 'filt-db');
    await push('filt', 'web', 'v1', 'filt-web-1');
    await app
      .as(editor)
      .graphql(
        `mutation { tag(input: { namespace: "filt", source: "web:v1", destinations: ["web:latest"], alias: true }) { __typename } }`,
      );
    const moved = await push('filt', 'web', 'v1', 'filt-web-2');
    await app
      .as(editor)
      .graphql(
        `mutation { deleteTag(input: { namespace: "filt", ref: "web:latest" }) { __typename } }`,
      );
    const events = (await onlyWeb.waitFor(3)).map((r) => r.data!.tagChanged);
    expect(events.map((e) => [e.stream, e.tag, e.type, e.cause])).toEqual([
      ['web', 'latest', 'ADDED', 'TAG'],
      ['web', 'latest', 'UPDATED', 'TRACKING'],
      ['web', 'latest', 'DELETED', 'DELETE'],
    ]);
    expect(events[1]!.current!.digest).toBe(moved);
    await onlyWeb.stop();
  });

  it('tells a tag subscriber of its tag deletion when the whole stream is deleted', async () => {
    const v1 = await push('gone', 'web', 'v1', 'gone-web-1');
    await push('gone', 'web', 'v2', 'gone-web-2');
    await push('gone', 'db', 'v1', 'gone-db-1');
    const sub = subscribeWs<Next>(
      app.url,
      TAG_CHANGED,
      { namespace: 'gone', stream: 'web', tag: 'v1' },
      { token: reader },
    );
    await subscribers(1);
    const deleted = await app
      .as(await app.member('gone', 'ADMIN'))
      .graphql<{ deleteImageStream: { __typename: string } }>(
        `mutation { deleteImageStream(input: { namespace: "gone", name: "web" }) { __typename } }`,
      );
    expect(deleted.data?.deleteImageStream.__typename).toBe('DeleteImageStreamPayload');
    const [event] = (await sub.waitFor(1)).map((r) => r.data!.tagChanged);
    expect(event).toMatchObject({
      type: 'DELETED',
      cause: 'DELETE',
      stream: 'web',
      tag: 'v1',
      previous: { digest: v1 },
      current: null,
      imageStreamTag: null,
    });
    await sub.stop();
    // Every tag of the stream got one, and the other stream's tags none.
    const page = await app.as(reader).graphql<{
      tagEvents: { events: { stream: string; tag: string; previous: { digest: string } }[] };
    }>(
      `{ tagEvents(namespace: "gone", filter: { types: [DELETED] }) { events { stream tag previous { digest } } } }`,
    );
    expect(page.data!.tagEvents.events.map((e) => `${e.stream}:${e.tag}`)).toEqual([
      'web:v1',
      'web:v2',
    ]);
  });

  it('resumes after a disconnect with since, missing nothing written meanwhile', async () => {
    const first = subscribeWs<Next>(
      app.url,
      TAG_CHANGED,
      { namespace: 'resume' },
      { token: reader },
    );
    await subscribers(1);
    await push('resume', 'app', 'a', 'resume-1');
    const [seen] = await first.waitFor(1);
    await first.stop();
    const offline = [
      await push('resume', 'app', 'a', 'resume-2'),
      await push('resume', 'app', 'b', 'resume-3'),
    ];
    const again = subscribeWs<Next>(
      app.url,
      TAG_CHANGED,
      {
        namespace: 'resume',
        since: seen!.data!.tagChanged.cursor,
      },
      { token: reader },
    );
    const replayed = await again.waitFor(2);
    const live = await push('resume', 'app', 'a', 'resume-4');
    const all = (await again.waitFor(3)).map((r) => r.data!.tagChanged.current!.digest);
    expect(all).toEqual([...offline, live]);
    expect(replayed).toHaveLength(2);
    // Nothing twice at the seam: the next live event comes right after, with nothing between.
    const next = await push('resume', 'app', 'b', 'resume-5');
    const after = (await again.waitFor(4)).map((r) => r.data!.tagChanged.current!.digest);
    expect(after).toEqual([...offline, live, next]);
    await again.stop();
  });

  it('refuses a cursor from before the retention window with CURSOR_EXPIRED', async () => {
    await push('trim', 'app', 'a', 'trim-0');
    const page = await app
      .as(reader)
      .graphql<{ tagEvents: { endCursor: string } }>(
        '{ tagEvents(namespace: "trim") { endCursor } }',
      );
    const cursor = page.data!.tagEvents.endCursor;
    // One more event, so the trim removes something after the cursor: that is what expires it.
    await push('trim', 'app', 'a', 'trim-1');
    await app.database.db.execute(sql`update events set at = now() - interval '30 days'`);
    expect(await trimEvents(app.database, 7 * 24 * 3_600_000)).toBeGreaterThan(0);
    await push('trim', 'app', 'a', 'trim-2');
    await push('trim', 'app', 'a', 'trim-3');
    const sub = subscribeWs<Next>(
      app.url,
      TAG_CHANGED,
      { namespace: 'trim', since: cursor },
      { token: reader },
    );
    expect(await sub.ended).toEqual({ kind: 'complete' });
    const error = sub.results[0]!.errors![0]!;
    expect(error.extensions?.code).toBe('CURSOR_EXPIRED');
    expect(error.message).toMatch(/retention/);
    await sub.stop();
    const polled = await app
      .as(reader)
      .graphql(
        'query($after: String) { tagEvents(namespace: "trim", after: $after) { endCursor } }',
        { after: cursor },
      );
    const pollError = polled.errors?.[0] as { extensions?: { code: string } } | undefined;
    expect(pollError?.extensions?.code).toBe('CURSOR_EXPIRED');
  });

  it('refuses a cursor it did not issue', async () => {
    const sub = subscribeWs<Next>(
      app.url,
      TAG_CHANGED,
      { namespace: 'x', since: 'bogus' },
      { token: reader },
    );
    await sub.ended;
    expect(sub.results[0]!.errors![0]!.extensions?.code).toBe('BAD_CURSOR');
  });
});

describe('identical live subscriptions', () => {
  it('share one source, each gets every event, and one leaving does not end the others', async () => {
    const subs = [1, 2, 3].map(() =>
      subscribeWs<Next>(app.url, TAG_CHANGED, { namespace: 'grp' }, { token: reader }),
    );
    await members(3);
    // One hub subscriber for three identical subscriptions: the event runs once for all.
    await subscribers(1);
    const first = await push('grp', 'app', 'v1', 'grp-1');
    for (const sub of subs) {
      const [result] = await sub.waitFor(1);
      expect(result!.data!.tagChanged.current!.digest).toBe(first);
    }
    await subs[0]!.stop();
    await members(2);
    const second = await push('grp', 'app', 'v1', 'grp-2');
    for (const sub of subs.slice(1)) {
      const results = await sub.waitFor(2);
      expect(results.map((r) => r.data!.tagChanged.current!.digest)).toEqual([first, second]);
    }
    expect(subs[0]!.results).toHaveLength(1);
    await subscribers(1);
    // Different variables, or a replay from a cursor, run on their own.
    const other = subscribeWs<Next>(
      app.url,
      TAG_CHANGED,
      { namespace: 'grp', tag: 'v1' },
      { token: reader },
    );
    await members(3);
    await subscribers(2);
    const cursor = subs[1]!.results[0]!.data!.tagChanged.cursor;
    const replay = subscribeWs<Next>(
      app.url,
      TAG_CHANGED,
      { namespace: 'grp', since: cursor },
      { token: reader },
    );
    const [replayed] = await replay.waitFor(1);
    expect(replayed!.data!.tagChanged.current!.digest).toBe(second);
    await subscribers(3);
    await Promise.all([...subs.slice(1), other, replay].map((s) => s.stop()));
  });
});

describe('tagChanged over SSE', () => {
  it('delivers events on text/event-stream', async () => {
    const sub = subscribeSse<Next>(app.url, TAG_CHANGED, { namespace: 'sse' }, { token: reader });
    await sub.opened;
    await subscribers(1);
    const digest = await push('sse', 'app', 'v1', 'sse-1');
    const [event] = await sub.waitFor(1);
    expect(event!.data!.tagChanged).toMatchObject({
      type: 'ADDED',
      cause: 'PUSH',
      current: { digest },
    });
    await sub.stop();
  });
});

describe('imageStreamChanged', () => {
  it('delivers stream-level changes only', async () => {
    const sub = subscribeWs<{ data: { imageStreamChanged: Record<string, unknown> } }>(
      app.url,
      `subscription { imageStreamChanged(namespace: "streams") { type cause name imageStream { name } } }`,
      {},
      { token: reader },
    );
    await subscribers(1);
    await app
      .as(editor)
      .graphql(
        `mutation { createImageStream(input: { namespace: "streams", name: "web" }) { __typename } }`,
      );
    await push('streams', 'web', 'v1', 'streams-1');
    await app
      .as(editor)
      .graphql(
        `mutation { updateImageStream(input: { namespace: "streams", name: "web", lookupPolicy: { local: true } }) { __typename } }`,
      );
    // Fields resolve when an event is delivered: let the update arrive while the stream exists.
    await sub.waitFor(2);
    await app
      .as(await app.member('streams', 'ADMIN'))
      .graphql(
        `mutation { deleteImageStream(input: { namespace: "streams", name: "web" }) { __typename } }`,
      );
    const events = (await sub.waitFor(3)).map((r) => r.data.imageStreamChanged);
    expect(events).toEqual([
      { type: 'ADDED', cause: 'CREATE', name: 'web', imageStream: { name: 'web' } },
      { type: 'UPDATED', cause: 'UPDATE', name: 'web', imageStream: { name: 'web' } },
      { type: 'DELETED', cause: 'DELETE', name: 'web', imageStream: null },
    ]);
    await sub.stop();
  });
});

describe('tagEvents (polling)', () => {
  it('pages through the same log in commit order', async () => {
    const digests = [];
    for (let i = 0; i < 5; i++) digests.push(await push('poll', 'app', `t${i}`, `poll-${i}`));
    const seen: string[] = [];
    let after: string | null = null;
    for (let page = 0; page < 5; page++) {
      const result: {
        data?: {
          tagEvents: {
            events: { current: { digest: string } }[];
            hasNextPage: boolean;
            endCursor: string;
          };
        };
      } = await app.as(reader).graphql(
        `query($after: String) { tagEvents(namespace: "poll", first: 2, after: $after) {
            events { current { digest } } hasNextPage endCursor } }`,
        { after },
      );
      const p = result.data!.tagEvents;
      seen.push(...p.events.map((e) => e.current.digest));
      after = p.endCursor;
      if (!p.hasNextPage) break;
    }
    expect(seen).toEqual(digests);
  });
});

describe('ordering under concurrency', () => {
  it('delivers every event of concurrent writers exactly once, in position order', async () => {
    const sub = subscribeWs<Next>(app.url, TAG_CHANGED, { namespace: 'race' }, { token: reader });
    await subscribers(1);
    const writes = Array.from({ length: 30 }, (_, i) =>
      push('race', `s${i % 5}`, `t${i}`, `race-${i}`),
    );
    const digests = await Promise.all(writes);
    const received = await sub.waitFor(30, 20_000);
    const ids = received.map((r) => Buffer.from(r.data!.tagChanged.cursor, 'base64url').toString());
    const numbers = ids.map((s) => Number(s.split(':')[1]));
    expect([...numbers].sort((a, b) => a - b)).toEqual(numbers);
    expect(new Set(received.map((r) => r.data!.tagChanged.current!.digest))).toEqual(
      new Set(digests),
    );
    await sub.stop();
  });
});

/**
 * A graphql-ws subscription on a bare socket whose reading can be paused, so the kernel buffers
 * fill and the server's sends stall: what a client that stops reading looks like.
 */
async function rawSubscription(query: string) {
  const socket = new WebSocket(wsUrl(app.url), 'graphql-transport-ws');
  const closed = new Promise<{ code: number; reason: string }>((done) =>
    socket.on('close', (code, reason) => done({ code, reason: reason.toString() })),
  );
  const messages: string[] = [];
  socket.on('message', (m) => messages.push(m.toString()));
  await new Promise((r) => socket.once('open', r));
  socket.send(
    JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${reader}` } }),
  );
  await new Promise((r) => socket.once('message', r));
  socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query } }));
  const stream = (socket as unknown as { _socket: { pause(): void; resume(): void } })._socket;
  return {
    closed,
    messages,
    pause: () => stream.pause(),
    resume: () => stream.resume(),
  };
}

/** tagraph_slow_consumer_cutoffs_total as /metrics reports it. */
async function cutOffsCounted(): Promise<number> {
  const text = await (await fetch(`${app.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('tagraph_slow_consumer_cutoffs_total '));
  return Number(line?.split(' ')[1]);
}

interface SlowPayload {
  data?: { tagChanged: { cursor: string } };
  errors?: { extensions: { code: string; cursor?: string } }[];
}

/**
 * Runs `body` against an app whose subscriber queue is 20 (the default is 1,000), with a stream
 * `<namespace>/big` whose 200 KB annotation makes each event message big, so an unread socket
 * backs up quickly. The suite's app is restored afterwards.
 */
async function withSmallQueue(namespace: string, body: () => Promise<void>): Promise<void> {
  const main = app;
  app = await startTestApp({ subscriberQueue: 20 });
  try {
    await app.as(editor).graphql(
      `mutation($ns: String!, $a: String!) { createImageStream(input: { namespace: $ns,
      name: "big", annotations: [{ key: "blob", value: $a }] }) { __typename } }`,
      { ns: namespace, a: 'x'.repeat(200_000) },
    );
    await body();
  } finally {
    await app.stop();
    app = main;
  }
}

/** A subscription whose every message carries the big annotation. */
const bigEvents = (namespace: string, since?: string) =>
  `subscription { tagChanged(namespace: "${namespace}"${since ? `, since: "${since}"` : ''}) { cursor imageStreamTag { stream { annotations { value } } } } }`;

describe('slow consumers', () => {
  it(
    'cuts off a subscriber that stops reading, without hurting one that keeps up',
    () =>
      withSmallQueue('slow', async () => {
        const fast = subscribeWs<Next>(
          app.url,
          TAG_CHANGED,
          { namespace: 'slow' },
          { token: reader },
        );
        const raw = await rawSubscription(bigEvents('slow'));
        await subscribers(2);
        // Stop reading: the kernel buffers fill, the server's sends stall, its queue overflows.
        raw.pause();
        const total = 80;
        for (let i = 0; i < total; i++) await push('slow', 'big', `t${i}`, `slow-${i}`);
        const fastResults = await fast.waitFor(total, 30_000);
        expect(fastResults).toHaveLength(total);
        raw.resume();
        const close = await raw.closed;
        expect(close.code).toBe(CLOSE_TOO_SLOW);
        expect(close.reason).toMatch(/too slow/);
        const received = raw.messages.filter((m) => m.includes('"next"')).length;
        expect(received).toBeLessThan(total);
        expect(await cutOffsCounted()).toBe(1);
        await fast.stop();
      }),
    60_000,
  );

  it(
    'cuts off a replaying subscriber (it reads the event log alone) that stops reading',
    () =>
      withSmallQueue('slowlog', async () => {
        await push('slowlog', 'big', 'first', 'slowlog-first');
        const page = await app
          .as(reader)
          .graphql<{ tagEvents: { endCursor: string } }>(
            `{ tagEvents(namespace: "slowlog") { endCursor } }`,
          );
        // With \`since\` it replays from the log and never joins a shared group: the hub's own
        // per-reader queue is what overflows.
        const raw = await rawSubscription(bigEvents('slowlog', page.data!.tagEvents.endCursor));
        await subscribers(1);
        expect(app.subscriptionGroups.memberCount).toBe(0);
        raw.pause();
        const total = 80;
        for (let i = 0; i < total; i++) await push('slowlog', 'big', `t${i}`, `slowlog-${i}`);
        raw.resume();
        const close = await raw.closed;
        expect(close.code).toBe(CLOSE_TOO_SLOW);
        expect(raw.messages.filter((m) => m.includes('"next"')).length).toBeLessThan(total);
        expect(await cutOffsCounted()).toBe(1);
      }),
    60_000,
  );

  it(
    'cuts off a too-slow member of a shared subscription with its resume cursor',
    () =>
      withSmallQueue('slowgrp', async () => {
        // Both ask the same big query, so they share one execution; only the reader keeps up.
        const query = bigEvents('slowgrp');
        const fast = subscribeWs<Next>(app.url, query, {}, { token: reader });
        const raw = await rawSubscription(query);
        await members(2);
        await subscribers(1);
        raw.pause();
        // Paced by the reader, so the shared source never falls behind: only the member's own
        // queue can overflow.
        const total = 80;
        for (let i = 0; i < total; i++) {
          await push('slowgrp', 'big', `t${i}`, `slowgrp-${i}`);
          await fast.waitFor(i + 1, 30_000);
        }
        raw.resume();
        const close = await raw.closed;
        expect(close.code).toBe(CLOSE_TOO_SLOW);
        expect(close.reason).toMatch(/too slow/);
        const nexts = raw.messages
          .map((m) => JSON.parse(m) as { type: string; payload?: SlowPayload })
          .filter((m) => m.type === 'next')
          .map((m) => m.payload!);
        const events = nexts.filter((p) => p.data);
        expect(events.length).toBeGreaterThan(0);
        expect(events.length).toBeLessThan(total);
        // Last comes the SLOW_CONSUMER error, whose cursor is that of the last event it received:
        // resuming from it loses nothing and repeats nothing.
        const last = nexts.at(-1)!;
        expect(last.errors?.[0]?.extensions.code).toBe('SLOW_CONSUMER');
        expect(last.errors?.[0]?.extensions.cursor).toBe(events.at(-1)!.data!.tagChanged.cursor);
        expect(await cutOffsCounted()).toBe(1);
        await fast.stop();
      }),
    60_000,
  );
});
