// Outgoing webhooks against real HTTP targets: signatures, order, retries, 410, the SSRF guard, redelivery and pings.
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.ts';
import { pushMapping } from '../support/mapping.ts';
import { until } from '../support/wait.ts';
import {
  QUICK_WEBHOOKS,
  startWebhookTarget,
  type WebhookTarget,
} from '../support/webhookTarget.ts';

let app: TestApp;
/** Webhooks are an editor's to manage. */
let editor: TestApp;
let reader: TestApp;
let registry: TestApp;
const targets: WebhookTarget[] = [];
const NAMESPACES = ['hooks', 'order', 'retry', 'gone', 'ssrf', 'replay', 'ping'];

beforeAll(async () => {
  app = await startTestApp({
    webhooks: { ...QUICK_WEBHOOKS, concurrency: 8 },
  });
  editor = app.as(await app.member(NAMESPACES, 'EDITOR'));
  reader = app.as(await app.member(NAMESPACES, 'IMAGE_PULLER'));
  registry = app.as(await app.registry());
});
afterAll(async () => {
  await app.stop();
  await Promise.all(targets.map((t) => t.close()));
});

async function target(respond?: (n: number, body: string) => number) {
  const started = await startWebhookTarget(respond);
  targets.push(started);
  return started;
}

const CREATE = `mutation($input: CreateWebhookInput!) {
  createWebhook(input: $input) {
    __typename
    ... on CreateWebhookPayload { secret webhook { name url format state enabled deliveredThrough } }
    ... on Error { code field message }
  }
}`;

type Created = {
  createWebhook: {
    __typename: string;
    secret?: string | null;
    webhook?: { name: string; state: string; enabled: boolean; deliveredThrough: string };
    code?: string;
    field?: string;
    message?: string;
  };
};

async function createHook(input: Record<string, unknown>) {
  const result = await editor.graphql<Created>(CREATE, { input });
  expect(result.errors).toBeUndefined();
  return result.data!.createWebhook;
}

const push = (namespace: string, stream: string, tag: string, seed: string) =>
  pushMapping(registry, namespace, stream, tag, seed);

describe('webhooks', () => {
  it('signs each delivery so that Standard Webhooks verification accepts it', async () => {
    const hook = await target();
    const created = await createHook({ namespace: 'hooks', name: 'ci', url: hook.url });
    expect(created.__typename).toBe('CreateWebhookPayload');
    const secret = created.secret!;
    expect(secret).toMatch(/^whsec_/);
    const { digest } = await push('hooks', 'web', 'v1', 'hooks-web-1');
    const [request] = await hook.waitFor(1);
    const headers = request!.headers as Record<string, string>;
    // The documented procedure: verify the raw body with the three webhook-* headers.
    const verified = new Webhook(secret).verify(request!.body, headers) as Record<string, unknown>;
    expect(headers['content-type']).toContain('application/cloudevents+json');
    expect(verified).toMatchObject({
      specversion: '1.0',
      type: 'io.tagraph.tag.added',
      source: '/namespaces/hooks/imagestreams/web',
      subject: 'v1',
      datacontenttype: 'application/json',
      data: {
        type: 'ADDED',
        cause: 'PUSH',
        namespace: 'hooks',
        stream: 'web',
        tag: 'v1',
        current: { digest },
      },
    });
    expect(verified.id).toBe((verified.data as { cursor: string }).cursor);
    // A tampered body or a wrong secret does not verify.
    expect(() => new Webhook(secret).verify(`${request!.body} `, headers)).toThrow();
    const other = `whsec_${Buffer.alloc(32, 1).toString('base64')}`;
    expect(() => new Webhook(other).verify(request!.body, headers)).toThrow();
  });

  it('never lets anyone read the secret, and lets only editors see webhooks', async () => {
    const listed = await editor.graphql('{ webhooks(namespace: "hooks") { name url state } }');
    expect(listed.data).toEqual({
      webhooks: [{ name: 'ci', url: expect.stringContaining('/hook'), state: 'ACTIVE' }],
    });
    const introspected = await editor.graphql('{ webhooks(namespace: "hooks") { secret } }');
    expect(introspected.errors?.[0]?.message).toMatch(/Cannot query field "secret"/);
    const refused = await reader.graphql('{ webhooks(namespace: "hooks") { name } }');
    expect(refused.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const created = await reader.graphql<Created>(CREATE, {
      input: { namespace: 'hooks', name: 'sneaky', url: 'http://127.0.0.1:9/' },
    });
    expect(JSON.stringify(created)).toMatch(/FORBIDDEN/);
  });

  it('delivers in cursor order per target, in plain JSON when asked', async () => {
    const hook = await target();
    await createHook({ namespace: 'order', name: 'seq', url: hook.url, format: 'JSON' });
    for (let i = 0; i < 6; i++) await push('order', 'app', `t${i}`, `order-${i}`);
    const requests = await hook.waitFor(6);
    const bodies = requests.map((r) => JSON.parse(r.body) as { tag: string; cursor: string });
    expect(bodies.map((b) => b.tag)).toEqual(['t0', 't1', 't2', 't3', 't4', 't5']);
    expect(requests[0]!.headers['content-type']).toBe('application/json');
    expect(new Set(bodies.map((b) => b.cursor)).size).toBe(6);
  });

  it('retries a target that fails twice, then delivers every event once, in order', async () => {
    const hook = await target((n) => (n < 2 ? 503 : 200));
    await createHook({
      namespace: 'retry',
      name: 'flaky',
      url: hook.url,
      filter: { streams: ['app'], types: ['ADDED'] },
    });
    await push('retry', 'other', 'x', 'retry-other');
    for (let i = 0; i < 3; i++) await push('retry', 'app', `r${i}`, `retry-${i}`);
    const requests = await hook.waitFor(5);
    const subjects = requests.map((r) => (JSON.parse(r.body) as { subject: string }).subject);
    // The first event twice refused, then each event accepted once, in order.
    expect(subjects).toEqual(['r0', 'r0', 'r0', 'r1', 'r2']);
    expect(requests.map((r) => r.status)).toEqual([503, 503, 200, 200, 200]);
    // Retries keep the message id, so a receiver can tell a retry from a new event.
    expect(requests[0]!.headers['webhook-id']).toBe(requests[2]!.headers['webhook-id']);
    type Log = Awaited<ReturnType<typeof readLog>>;
    const readLog = () =>
      editor.graphql<{
        webhookDeliveries: {
          deliveries: {
            attempt: number;
            statusCode: number;
            outcome: string;
            error: string | null;
            nextRetryAt: string | null;
            eventCursor: string;
          }[];
          endCursor: string;
          hasNextPage: boolean;
        };
      }>(
        `{ webhookDeliveries(namespace: "retry", webhook: "flaky", first: 3) {
          deliveries { attempt statusCode outcome error nextRetryAt eventCursor durationMs }
          endCursor hasNextPage } }`,
      );
    // The target answered before the dispatcher wrote the outcome: wait for the log to show it.
    let log: Log | undefined;
    await until(async () => {
      log = await readLog();
      return log.data!.webhookDeliveries.deliveries[0]?.outcome === 'SUCCEEDED';
    }, 'the last delivery recorded');
    const page = log!.data!.webhookDeliveries;
    expect(page.hasNextPage).toBe(true);
    expect(page.deliveries.map((d) => [d.attempt, d.statusCode, d.outcome])).toEqual([
      [1, 200, 'SUCCEEDED'],
      [1, 200, 'SUCCEEDED'],
      [3, 200, 'SUCCEEDED'],
    ]);
    const older = await editor.graphql<{
      webhookDeliveries: {
        deliveries: {
          attempt: number;
          statusCode: number;
          error: string;
          nextRetryAt: string | null;
        }[];
      };
    }>(
      `query($after: String) { webhookDeliveries(namespace: "retry", webhook: "flaky", first: 5, after: $after) {
          deliveries { attempt statusCode error nextRetryAt } } }`,
      { after: page.endCursor },
    );
    expect(older.data!.webhookDeliveries.deliveries).toEqual([
      {
        attempt: 2,
        statusCode: 503,
        error: 'HTTP 503: refused with 503',
        nextRetryAt: expect.any(String),
      },
      {
        attempt: 1,
        statusCode: 503,
        error: 'HTTP 503: refused with 503',
        nextRetryAt: expect.any(String),
      },
    ]);
    const bad = await editor.graphql(
      `{ webhookDeliveries(namespace: "retry", webhook: "flaky", after: "nonsense") { hasNextPage } }`,
    );
    expect(bad.errors?.[0]?.extensions?.code).toBe('BAD_CURSOR');
  });

  it('disables a webhook whose target answers 410 Gone', async () => {
    const hook = await target(() => 410);
    await createHook({ namespace: 'gone', name: 'old', url: hook.url });
    await push('gone', 'app', 'v1', 'gone-1');
    await hook.waitFor(1);
    const QUERY =
      '{ webhook(namespace: "gone", name: "old") { enabled state condition { reason } } }';
    await until(async () => {
      const read = await editor.graphql<{ webhook: { enabled: boolean } }>(QUERY);
      return read.data?.webhook.enabled === false;
    }, 'the webhook disabled');
    expect((await editor.graphql(QUERY)).data).toEqual({
      webhook: { enabled: false, state: 'GONE', condition: { reason: 'Gone' } },
    });
    await push('gone', 'app', 'v2', 'gone-2');
    // Another target's delivery proves the dispatcher ran after the second push.
    const witness = await target();
    await createHook({ namespace: 'gone', name: 'witness', url: witness.url });
    await push('gone', 'app', 'v3', 'gone-3');
    await witness.waitFor(1);
    expect(hook.received).toHaveLength(1);
  });

  it('refuses private addresses that are not allow-listed', async () => {
    for (const url of [
      'http://169.254.169.254/latest/meta-data',
      'http://[::1]:8080/',
      'http://10.1.2.3/',
    ]) {
      const created = await editor.graphql<Created>(CREATE, {
        input: { namespace: 'ssrf', name: 'metadata', url },
      });
      expect(created.data!.createWebhook).toMatchObject({ code: 'VALIDATION', field: 'url' });
      expect(created.data!.createWebhook.message).toMatch(/not an allowed address/);
    }
    const scheme = await editor.graphql<Created>(CREATE, {
      input: { namespace: 'ssrf', name: 'files', url: 'file:///etc/passwd' },
    });
    expect(scheme.data!.createWebhook).toMatchObject({ code: 'VALIDATION', field: 'url' });
  });

  it('redelivers every matching event after a cursor, and types bad cursors', async () => {
    const hook = await target();
    await createHook({ namespace: 'replay', name: 'again', url: hook.url, format: 'JSON' });
    for (let i = 0; i < 4; i++) await push('replay', 'app', `p${i}`, `replay-${i}`);
    const first = (await hook.waitFor(4)).map(
      (r) => JSON.parse(r.body) as { tag: string; cursor: string },
    );
    const REDELIVER = `mutation($input: RedeliverWebhookInput!) {
      redeliverWebhook(input: $input) { __typename ... on WebhookPayload { webhook { state } } }
    }`;
    const again = await editor.graphql(REDELIVER, {
      input: { namespace: 'replay', name: 'again', since: first[1]!.cursor },
    });
    expect(again.errors).toBeUndefined();
    const all = await hook.waitFor(6);
    expect(all.slice(4).map((r) => (JSON.parse(r.body) as { tag: string }).tag)).toEqual([
      'p2',
      'p3',
    ]);
    const bad = await editor.graphql(REDELIVER, {
      input: { namespace: 'replay', name: 'again', since: 'not-a-cursor' },
    });
    expect(bad.errors?.[0]?.extensions?.code).toBe('BAD_CURSOR');
  });

  it('sends a signed ping with testWebhook', async () => {
    const hook = await target();
    const created = await createHook({
      namespace: 'ping',
      name: 'p',
      url: hook.url,
      format: 'JSON',
    });
    const result = await editor.graphql<{
      testWebhook: { succeeded: boolean; statusCode: number };
    }>(
      `mutation { testWebhook(input: { namespace: "ping", name: "p" }) {
          ... on TestWebhookPayload { succeeded statusCode } } }`,
    );
    expect(result.data!.testWebhook).toEqual({ succeeded: true, statusCode: 204 });
    const [ping] = hook.received;
    const body = new Webhook(created.secret!).verify(
      ping!.body,
      ping!.headers as Record<string, string>,
    );
    expect(body).toMatchObject({ kind: 'Ping', namespace: 'ping', webhook: 'p' });
  });
});
