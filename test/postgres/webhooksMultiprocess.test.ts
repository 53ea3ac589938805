// Two gateway processes delivering webhooks from one Postgres: every attempt is made once, every event accepted once, in order per target.
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rowsOf } from '../../src/db/client.ts';
import {
  type SpawnedServer,
  spawnServer,
  startTestApp,
  type TestApp,
  testConfig,
} from '../support/app.ts';
import { pushMapping } from '../support/mapping.ts';
import { until } from '../support/wait.ts';
import { startWebhookTarget, type WebhookTarget } from '../support/webhookTarget.ts';

const TARGETS = 8;
const CHANGES = 15;

/** This process only writes (as an editor and a registry); the two spawned gateways deliver. */
let app: TestApp;
let editor: TestApp;
let registry: TestApp;
const servers: SpawnedServer[] = [];
const targets: WebhookTarget[] = [];

beforeAll(async () => {
  app = await startTestApp({
    webhooks: { ...testConfig().webhooks, deliver: false },
  });
  editor = app.as(await app.member('multi-hooks', 'EDITOR'));
  registry = app.as(await app.registry());
  const env = {
    TAGRAPH_IMPORT_WORKER: 'false',
    TAGRAPH_WEBHOOK_POLL_MS: '20',
    TAGRAPH_WEBHOOK_BACKOFF_MIN_MS: '10',
    TAGRAPH_WEBHOOK_BACKOFF_MAX_MS: '80',
    // Few targets at once per process, so both processes have work to take.
    TAGRAPH_WEBHOOK_CONCURRENCY: '2',
  };
  servers.push(...(await Promise.all([spawnServer(env), spawnServer(env)])));
});

afterAll(async () => {
  for (const server of servers) server.process.kill('SIGTERM');
  await Promise.all(servers.map((s) => s.exited));
  await app.stop();
  await Promise.all(targets.map((t) => t.close()));
});

describe('webhook delivery across processes', () => {
  it('makes each attempt once and delivers every event once, in order, per target', async () => {
    for (let i = 0; i < TARGETS; i++) {
      // Every fourth request is refused, so retries happen on both processes.
      const target = await startWebhookTarget((n) => (n % 4 === 1 ? 500 : 200));
      targets.push(target);
      const created = await editor.graphql<{ createWebhook: { __typename: string } }>(
        `mutation($input: CreateWebhookInput!) { createWebhook(input: $input) { __typename } }`,
        { input: { namespace: 'multi-hooks', name: `t${i}`, url: target.url, format: 'JSON' } },
      );
      expect(created.data?.createWebhook.__typename).toBe('CreateWebhookPayload');
    }
    const tags = Array.from({ length: CHANGES }, (_, i) => `c${i}`);
    for (const tag of tags) await pushMapping(registry, 'multi-hooks', 'app', tag, `multi-${tag}`);

    const accepted = (target: WebhookTarget) =>
      target.received.filter((r) => r.status === 200).map((r) => JSON.parse(r.body).tag as string);
    await until(
      () => targets.every((t) => accepted(t).length >= CHANGES),
      'every target accepted every change',
      60_000,
      20,
    );
    const recorded = async () =>
      rowsOf<{ name: string; attempts: number; sending: number }>(
        await app.database.db.execute(sql`
          select w.name, count(d.id)::int as attempts,
            count(d.id) filter (where d.outcome = 'SENDING')::int as sending
          from webhooks w join webhook_deliveries d on d.webhook_id = w.id
          where w.namespace = 'multi-hooks' group by w.name order by w.name`),
      );
    await until(
      async () => (await recorded()).every((r) => r.sending === 0),
      'every outcome recorded',
      10_000,
    );
    const rows = await recorded();
    for (let i = 0; i < TARGETS; i++) {
      const target = targets[i]!;
      // Each change accepted exactly once, in order.
      expect(accepted(target)).toEqual(tags);
      // Each recorded attempt reached the target once: no attempt was sent by both processes.
      expect(rows.find((r) => r.name === `t${i}`)?.attempts).toBe(target.received.length);
    }
    // Both processes delivered.
    const holders = rowsOf<{ n: number }>(
      await app.database.db.execute(sql`
        select count(distinct split_part(d.lease_id, '/', 1))::int as n from webhook_deliveries d
        join webhooks w on w.id = d.webhook_id where w.namespace = 'multi-hooks'`),
    );
    expect(holders[0]!.n).toBe(2);
  });
});
