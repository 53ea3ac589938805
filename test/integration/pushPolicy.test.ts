// A push to a registry that notifies the gateway re-evaluates the policy tags following the pushed
// repository, against a real docker-registry: a new matching tag moves the policy tag with cause
// POLICY, and a push that does not change the winner moves nothing.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { reservePort, startTestApp, type TestApp } from '../support/app.ts';
import { pushImage } from '../support/images.ts';
import { getTag, tagEvents } from '../support/imports.ts';
import { type RunningRegistry, startRegistry } from '../support/registry.ts';

const TOKEN = 'push-policy-token-0123456789abcdef';
const NS = 'pol-push';
/** Three path components: no stream of the registry's own, a repository policy tags follow. */
const REPO = 'vendor/tools/app';

let registry: RunningRegistry;
let app: TestApp;
let editor: TestApp;

beforeAll(async () => {
  const port = await reservePort();
  registry = await startRegistry({
    notifications: { url: `http://127.0.0.1:${port}/registry/events`, token: TOKEN },
  });
  app = await startTestApp({
    port,
    importWorker: true,
    pushRegistries: [{ host: registry.host, token: TOKEN, insecure: true }],
  });
  editor = app.as(await app.member([NS], 'EDITOR'));
}, 120_000);
afterAll(async () => {
  await app.stop();
  await registry.stop();
});

const headOf = async (ref: string) =>
  (await getTag(editor, NS, ref)).history.nodes[0]?.image?.digest ?? null;

async function policyJobs(): Promise<{ status: string }[]> {
  const result = await editor.graphql<{ importJobs: { status: string; cause: string }[] }>(
    'query($ns: String!) { importJobs(namespace: $ns, first: 100) { status cause } }',
    { ns: NS },
  );
  expect(result.errors).toBeUndefined();
  return result.data!.importJobs.filter((job) => job.cause === 'policy');
}

describe('a push re-evaluates policy tags', () => {
  it('moves a policy tag to a newly pushed matching tag, and not for a tag outside its range', async () => {
    await pushImage(registry.url, REPO, '1.0.0', { content: 'push policy 1.0.0' });
    const first = await pushImage(registry.url, REPO, '1.2.0', { content: 'push policy 1.2.0' });
    const set = await editor.graphql<{ tag: { __typename: string } }>(
      `mutation($input: TagInput!) { tag(input: $input) { __typename } }`,
      {
        input: {
          namespace: NS,
          source: `${registry.host}/${REPO}`,
          destinations: ['app:v1'],
          insecure: true,
          policy: { semver: { range: '^1' } },
        },
      },
    );
    expect(set.data!.tag.__typename).toBe('TagPayload');
    // Not scheduled: only the tag's own import and pushes evaluate it.
    await vi.waitFor(async () => expect(await headOf('app:v1')).toBe(first.digest), {
      timeout: 30_000,
      interval: 100,
    });

    const newer = await pushImage(registry.url, REPO, '1.3.0', { content: 'push policy 1.3.0' });
    await vi.waitFor(async () => expect(await headOf('app:v1')).toBe(newer.digest), {
      timeout: 30_000,
      interval: 100,
    });
    const events = await tagEvents(editor, NS);
    expect(events.at(-1)).toMatchObject({
      cause: 'POLICY',
      tag: 'v1',
      current: { digest: newer.digest },
    });

    // 2.0.0 is outside ^1: the push queues an evaluation, which finds the same winner.
    const jobsBefore = (await policyJobs()).length;
    await pushImage(registry.url, REPO, '2.0.0', { content: 'push policy 2.0.0' });
    await vi.waitFor(
      async () => {
        const jobs = await policyJobs();
        expect(jobs.length).toBe(jobsBefore + 1);
        expect(jobs.every((job) => job.status === 'succeeded')).toBe(true);
      },
      { timeout: 30_000, interval: 100 },
    );
    expect(await headOf('app:v1')).toBe(newer.digest);
    expect((await getTag(editor, NS, 'app:v1')).history.nodes).toHaveLength(2);
    expect(await tagEvents(editor, NS)).toHaveLength(events.length);
  }, 120_000);
});
