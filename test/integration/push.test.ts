// Registry push notifications: a real docker-registry reports pushes to the gateway.
// The rules: docs/rules.md#image-stream-mapping.
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { rowsOf } from '../../src/db/client.ts';
import { MAX_EVENT_BYTES } from '../../src/push/notifications.ts';
import { reservePort, startTestApp, type TestApp } from '../support/app.ts';
import { deleteManifest, pushImage, pushIndex } from '../support/images.ts';
import { getTag, tagEvents } from '../support/imports.ts';
import { type RunningRegistry, startRegistry } from '../support/registry.ts';
import { subscribeWs } from '../support/subscriptions.ts';

const TOKEN = 'push-token-0123456789abcdef';

let port: number;
let registry: RunningRegistry;
let app: TestApp;

/** An image puller of `pushed`: it reads what the pushes made (valid across restarts). */
let reader: string | undefined;

/** The gateway, seen by the reader. */
async function startGateway(): Promise<TestApp> {
  const gateway = await startTestApp({
    port,
    importWorker: true,
    pushRegistries: [{ host: registry.host, token: TOKEN, insecure: true }],
  });
  reader ??= await gateway.member('pushed', 'IMAGE_PULLER');
  return gateway.as(reader);
}

beforeAll(async () => {
  // The registry must know the gateway's URL and the gateway the registry's host: fix the port.
  port = await reservePort();
  registry = await startRegistry({
    notifications: { url: `http://127.0.0.1:${port}/registry/events`, token: TOKEN },
  });
  app = await startGateway();
});
afterAll(async () => {
  await app.stop();
  await registry.stop();
});

/** Waits until `check` passes (pushes are delivered and mapped asynchronously). */
function eventually<T>(check: () => Promise<T>, timeout = 15_000): Promise<T> {
  return vi.waitFor(check, { timeout, interval: 100 });
}

/** The registry's failed attempts to deliver events, logged at or after `since` (epoch ms). */
function failedDeliveriesSince(since: number): number {
  return registry
    .logTail()
    .split('\n')
    .filter((line) => line.includes('error writing events'))
    .filter((line) => Date.parse(/time="([^"]+)"/.exec(line)?.[1] ?? '') >= since).length;
}

async function postEvents(body: string, authorization?: string) {
  return fetch(`${app.url}/registry/events`, {
    method: 'POST',
    headers: {
      'content-type': 'application/vnd.docker.distribution.events.v1+json',
      ...(authorization ? { authorization } : {}),
    },
    body,
  });
}

async function metadataSourceOf(digest: string): Promise<string | undefined> {
  const result = await app.graphql<{ image: { metadataSource: string } | null }>(
    'query($d: String!) { image(digest: $d) { metadataSource } }',
    { d: digest },
  );
  expect(result.errors).toBeUndefined();
  return result.data!.image?.metadataSource;
}

describe('push notifications', () => {
  it('a push creates the stream and tag at once, and a subscriber sees it with cause PUSH', async () => {
    const subscription = subscribeWs<{
      data: { tagChanged: { cause: string; tag: string; current: { digest: string } | null } };
    }>(
      app.url,
      `subscription { tagChanged(namespace: "pushed") { cause tag current { digest } } }`,
      {},
      { token: reader },
    );
    await subscription.connected;
    // The subscription is live on the server once its source reads the event hub.
    await expect.poll(() => app.events.subscriberCount).toBe(1);
    try {
      const image = await pushImage(registry.url, 'pushed/app', 'v1', { content: 'pushed v1' });
      const [event] = await subscription.waitFor(1, 15_000);
      expect(event!.data.tagChanged).toEqual({
        cause: 'PUSH',
        tag: 'v1',
        current: { digest: image.digest },
      });
      const tag = await getTag(app, 'pushed', 'app:v1');
      expect(tag.image).toMatchObject({ digest: image.digest, architecture: 'amd64' });
      expect(tag.image!.dockerImageReference).toBe(`${registry.host}/pushed/app@${image.digest}`);
      expect(tag.spec).toBeNull();
      // The importer read the pushed image from the registry: its metadata is verified.
      expect(await metadataSourceOf(image.digest)).toBe('REGISTRY_VERIFIED');
      // ...and counted it as a push import from that registry.
      await eventually(async () => {
        const { values } = await app.metrics.getSingleMetric('tagraph_imports_total')!.get();
        const pushed = values.find(
          (v) =>
            v.labels.cause === 'push' &&
            v.labels.result === 'success' &&
            v.labels.registry === registry.host,
        );
        expect(pushed?.value).toBeGreaterThanOrEqual(1);
      });
    } finally {
      await subscription.stop();
    }
  });

  it('a multi-arch index push maps the index; its untagged children create no tags', async () => {
    const index = await pushIndex(registry.url, 'pushed/multi', 'v1', [
      { platform: { os: 'linux', architecture: 'amd64' }, spec: { content: 'm amd' } },
      { platform: { os: 'linux', architecture: 'arm64' }, spec: { content: 'm arm' } },
    ]);
    const tag = await eventually(async () => {
      const found = await getTag(app, 'pushed', 'multi:v1');
      expect(found.image?.digest).toBe(index.digest);
      return found;
    });
    expect(tag.image!.manifests.map((m) => m.digest)).toEqual(index.children.map((c) => c.digest));
    for (const digest of [index.digest, ...index.children.map((c) => c.digest)]) {
      expect(await metadataSourceOf(digest)).toBe('REGISTRY_VERIFIED');
    }
    const stream = await app.graphql<{ imageStream: { tags: { nodes: { name: string }[] } } }>(
      `{ imageStream(namespace: "pushed", name: "multi") { tags { nodes { name } } } }`,
    );
    expect(stream.data!.imageStream.tags.nodes).toEqual([{ name: 'v1' }]);
  });

  it('a repeated delivery changes nothing twice; a delete in the registry keeps the tag', async () => {
    const image = await pushImage(registry.url, 'pushed/again', 'v1', { content: 'again' });
    await eventually(async () => {
      expect((await getTag(app, 'pushed', 'again:v1')).image?.digest).toBe(image.digest);
    });
    const envelope = JSON.stringify({
      events: [
        {
          id: 'replayed-event-1',
          action: 'push',
          target: {
            mediaType: image.mediaType,
            digest: image.digest,
            repository: 'pushed/again',
            tag: 'v2',
          },
        },
      ],
    });
    const first = await postEvents(envelope, `Bearer ${TOKEN}`);
    expect(await first.json()).toEqual({ queued: 1, ignored: 0, duplicates: 0, skipped: 0 });
    const second = await postEvents(envelope, `Bearer ${TOKEN}`);
    expect(await second.json()).toEqual({ queued: 0, ignored: 0, duplicates: 1, skipped: 0 });
    await eventually(async () => {
      expect((await getTag(app, 'pushed', 'again:v2')).history.nodes).toHaveLength(1);
    });
    const events = (await tagEvents(app, 'pushed')).filter((e) => e.tag === 'v2');
    expect(events).toHaveLength(1);

    const eventsOf = async (tag: string) =>
      (await tagEvents(app, 'pushed')).filter((e) => e.tag === tag).length;
    const v1Events = await eventsOf('v1');
    await deleteManifest(registry.url, 'pushed/again', image.digest);
    // The registry's delete event arrived and was recorded as handled, mapping nothing.
    await eventually(async () => {
      const deletes = rowsOf<{ processed: boolean; error: string | null }>(
        await app.database.db.execute(
          sql`select processed_at is not null as processed, error from registry_notifications
              where action = 'delete' and payload->'target'->>'repository' = 'pushed/again'`,
        ),
      );
      expect(deletes.length).toBeGreaterThan(0);
      for (const row of deletes)
        expect(row).toEqual({ processed: true, error: expect.any(String) });
    });
    const tag = await getTag(app, 'pushed', 'again:v1');
    expect(tag.image?.digest).toBe(image.digest);
    expect(tag.history.nodes).toHaveLength(1);
    expect(await eventsOf('v1')).toBe(v1Events);
  });

  it('stores the good events of an envelope and skips the ones that cannot be stored', async () => {
    const image = await pushImage(registry.url, 'pushed/mixed', 'v1', { content: 'mixed' });
    await eventually(async () => {
      expect((await getTag(app, 'pushed', 'mixed:v1')).image?.digest).toBe(image.digest);
    });
    // The registry's own event for that push, as it sent it: the template of the crafted ones.
    const [stored] = rowsOf<{ payload: Record<string, unknown> & { target: object } }>(
      await app.database.db.execute(
        sql`select payload from registry_notifications
            where payload->'target'->>'repository' = 'pushed/mixed' and action = 'push'`,
      ),
    );
    expect(stored!.payload).toMatchObject({ request: {}, source: {}, target: { tag: 'v1' } });
    const real = stored!.payload;
    const event = (id: string, tag: string, extra: Record<string, unknown> = {}) => ({
      ...real,
      id,
      target: { ...real.target, tag },
      ...extra,
    });
    const envelope = JSON.stringify({
      events: [
        event('mixed-good', 'v2'),
        event('mixed-nul-useragent', 'v3', {
          request: { ...(real.request as object), useragent: 'docker/\u0000evil' },
        }),
        event('mixed-nul-\u0000-id', 'v4'),
        event('mixed-oversized', 'v5', { padding: 'x'.repeat(MAX_EVENT_BYTES) }),
        { id: 'mixed-no-action', target: real.target },
        event('mixed-pull', 'v6', { action: 'pull' }),
        // A lone surrogate passes JSON.parse but not Postgres's jsonb: refused by the database.
        event('mixed-lone-surrogate', 'v7', {
          request: { ...(real.request as object), useragent: 'docker/\ud800' },
        }),
      ],
    });
    const first = await postEvents(envelope, `Bearer ${TOKEN}`);
    expect(first.status).toBe(200);
    expect(await first.json()).toEqual({ queued: 1, ignored: 1, duplicates: 0, skipped: 5 });
    await eventually(async () => {
      expect((await getTag(app, 'pushed', 'mixed:v2')).image?.digest).toBe(image.digest);
    });
    // The registry redelivers: every event with a usable id is recognised.
    const retry = await postEvents(envelope, `Bearer ${TOKEN}`);
    expect(retry.status).toBe(200);
    expect(await retry.json()).toEqual({ queued: 0, ignored: 0, duplicates: 6, skipped: 1 });
    const stream = await app.graphql<{ imageStream: { tags: { nodes: { name: string }[] } } }>(
      `{ imageStream(namespace: "pushed", name: "mixed") { tags { nodes { name } } } }`,
    );
    expect(stream.data!.imageStream.tags.nodes.map((t) => t.name).sort()).toEqual(['v1', 'v2']);
  });

  it('answers 503 when the database is down, so the registry retries', async () => {
    const down = await startTestApp({
      pushRegistries: [{ host: registry.host, token: TOKEN, insecure: true }],
    });
    try {
      await down.database.close();
      const response = await fetch(`${down.url}/registry/events`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}` },
        body: JSON.stringify({ events: [{ id: 'while-down', action: 'pull' }] }),
      });
      expect(response.status).toBe(503);
    } finally {
      await down.stop();
    }
  });

  it('refuses a wrong or missing token with 401, bad bodies with 400 and 413', async () => {
    const body = JSON.stringify({ events: [] });
    expect((await postEvents(body, 'Bearer wrong-token-wrong-token')).status).toBe(401);
    expect((await postEvents(body)).status).toBe(401);
    expect((await postEvents('{not json', `Bearer ${TOKEN}`)).status).toBe(400);
    const notEnvelope = await postEvents('{"events": "x"}', `Bearer ${TOKEN}`);
    expect(notEnvelope.status).toBe(400);
    expect((await notEnvelope.json()).error).toContain('events');
    const huge = JSON.stringify({ events: [], padding: 'x'.repeat(2 * 1024 * 1024) });
    expect((await postEvents(huge, `Bearer ${TOKEN}`)).status).toBe(413);
    const get = await fetch(`${app.url}/registry/events`);
    expect(get.status).toBe(405);
  });

  it('pushes made while the gateway is down arrive when it is back (the registry retries)', async () => {
    await app.stop();
    const stoppedAt = Date.now();
    const image = await pushImage(registry.url, 'pushed/late', 'v1', { content: 'late' });
    // The registry has tried to deliver the push and failed (it logs each failed attempt).
    await expect
      .poll(() => failedDeliveriesSince(stoppedAt), { timeout: 15_000 })
      .toBeGreaterThan(0);
    app = await startGateway();
    await eventually(async () => {
      expect((await getTag(app, 'pushed', 'late:v1')).image?.digest).toBe(image.digest);
    }, 20_000);
  });
});
