// A webhook whose target keeps failing for the whole retry period becomes FAILING with a condition, and resumes the same event when enabled again.
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
let editor: TestApp;
let target: WebhookTarget;
/** The target's answer, switched by the test. */
let answer = 500;

beforeAll(async () => {
  app = await startTestApp({
    // A retry period of several attempts (20, 40, 80, 160, 200 ms apart) on a loaded machine.
    webhooks: { ...QUICK_WEBHOOKS, retryForMs: 1500 },
  });
  editor = app.as(await app.member('failing', 'EDITOR'));
  target = await startWebhookTarget(() => answer);
});
afterAll(async () => {
  await app.stop();
  await target.close();
});

const STATE = `{ webhook(namespace: "failing", name: "down") {
  state enabled condition { reason message } } }`;
type State = {
  webhook: {
    state: string;
    enabled: boolean;
    condition: { reason: string; message: string } | null;
  };
};

describe('retries exhausted', () => {
  it('marks the webhook FAILING, and enabling it delivers the same event again', async () => {
    const created = await editor.graphql<{ createWebhook: { __typename: string } }>(
      `mutation($input: CreateWebhookInput!) { createWebhook(input: $input) { __typename } }`,
      { input: { namespace: 'failing', name: 'down', url: target.url, format: 'JSON' } },
    );
    expect(created.data?.createWebhook.__typename).toBe('CreateWebhookPayload');
    const registry = app.as(await app.registry());
    await pushMapping(registry, 'failing', 'app', 'v1', 'failing-1');
    let state: State | undefined;
    await until(async () => {
      state = (await editor.graphql<State>(STATE)).data;
      return state?.webhook.state === 'FAILING';
    }, 'the webhook FAILING');
    expect(state!.webhook.enabled).toBe(true);
    expect(state!.webhook.condition?.reason).toBe('RetriesExhausted');
    expect(state!.webhook.condition?.message).toMatch(/HTTP 500/);
    const refusals = target.received.length;
    expect(refusals).toBeGreaterThanOrEqual(2);
    expect(target.received.every((r) => JSON.parse(r.body).tag === 'v1')).toBe(true);

    answer = 200;
    const enabled = await editor.graphql(
      `mutation { enableWebhook(input: { namespace: "failing", name: "down" }) {
          ... on WebhookPayload { webhook { state condition { reason } } } } }`,
    );
    expect(enabled.data).toEqual({
      enableWebhook: { webhook: { state: 'ACTIVE', condition: null } },
    });
    const all = await target.waitFor(refusals + 1);
    expect(JSON.parse(all.at(-1)!.body)).toMatchObject({ tag: 'v1' });
    expect(all.at(-1)!.status).toBe(200);
  });
});
