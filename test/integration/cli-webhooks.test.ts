// The tagraph CLI's webhook commands against a real server and a real HTTP target: create, get, describe with deliveries.
import { Webhook } from 'standardwebhooks';
import { beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.ts';
import { afterCliTests, type CliOptions, runCli } from '../support/cli.ts';
import { pushMapping } from '../support/mapping.ts';
import { until } from '../support/wait.ts';
import {
  QUICK_WEBHOOKS,
  startWebhookTarget,
  type WebhookTarget,
} from '../support/webhookTarget.ts';

let app: TestApp;
/** The CLI's user: an editor of the namespace. */
let editor: string;
let target: WebhookTarget;

beforeAll(async () => {
  app = await startTestApp({ webhooks: QUICK_WEBHOOKS });
  editor = await app.member('cli-hooks', 'EDITOR');
  target = await startWebhookTarget();
});

afterCliTests(
  () => app.stop(),
  () => target.close(),
);

const cli = (args: string[], options: CliOptions = {}) =>
  runCli(['-n', 'cli-hooks', ...args], { url: app.url, token: editor, ...options });

describe('tagraph webhooks', () => {
  it('creates a webhook, lists it, and describes it with its deliveries', async () => {
    const created = await cli([
      'create',
      'webhook',
      'deploys',
      '--url',
      target.url,
      '--stream',
      'web',
      '--type',
      'added',
      '--cause',
      'push',
      '--format',
      'json',
    ]);
    expect(created.stderr).toBe('');
    expect(created.code).toBe(0);
    const secret = /secret \(shown once\): (whsec_\S+)/.exec(created.stdout)?.[1];
    expect(created.stdout).toContain('webhook/deploys created');
    expect(secret).toBeDefined();

    const listed = await cli(['get', 'webhooks']);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(/^NAME\s+URL\s+FORMAT\s+STATE\s+FILTER\s+AGE/);
    expect(listed.stdout).toMatch(
      new RegExp(
        `deploys\\s+${target.url.replace(/[.]/g, '\\.')}\\s+JSON\\s+ACTIVE\\s+streams=web types=ADDED causes=PUSH`,
      ),
    );
    expect(listed.stdout).not.toContain('whsec_');

    const registry = app.as(await app.registry());
    await pushMapping(registry, 'cli-hooks', 'web', 'v1', 'cli-hooks-1');
    const [request] = await target.waitFor(1);
    expect(
      new Webhook(secret!).verify(request!.body, request!.headers as Record<string, string>),
    ).toMatchObject({ stream: 'web', tag: 'v1', type: 'ADDED', cause: 'PUSH' });

    let described = '';
    await until(async () => {
      described = (await cli(['describe', 'webhook/deploys'])).stdout;
      return described.includes('SUCCEEDED');
    }, 'the delivery in describe');
    expect(described).toMatch(/Name:\s+deploys/);
    expect(described).toMatch(/State:\s+ACTIVE/);
    expect(described).toContain('Recent deliveries:');
    expect(described).toMatch(/\s1\s+SUCCEEDED\s+204\s+\d+ms/);
    expect(described).not.toContain('whsec_');

    const missing = await cli(['describe', 'webhook/nope']);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain('webhook cli-hooks/nope not found');
  });
});
