// A revoked grant ends an idle subscription (graphql-ws and SSE) within the credential check
// interval, without waiting for an event to be delivered.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.ts';
import { subscribeSse, subscribeWs } from '../support/subscriptions.ts';

const CHECK_MS = 300;
/** The bound the README states (the interval), plus time for the read and the close. */
const BOUND_MS = CHECK_MS + 1500;

type Result = {
  data?: { tagChanged: unknown } | null;
  errors?: { extensions?: { code?: string } }[];
};

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({ credentialCheckIntervalMs: CHECK_MS });
});
afterAll(async () => {
  await app.stop();
});

/** Resolves with the time `ended` took, or rejects once it has taken far past the bound. */
async function endedWithin(ended: Promise<unknown>, since: number): Promise<number> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('the stream did not end')), BOUND_MS * 4);
  });
  try {
    await Promise.race([ended, late]);
    return Date.now() - since;
  } finally {
    clearTimeout(timer);
  }
}

describe('an idle subscription whose grant is revoked', () => {
  it('ends over graphql-ws and over SSE within the check interval, with FORBIDDEN and no event', async () => {
    await app.stream('idle', 'app');
    const token = await app.member('idle', 'IMAGE_PULLER', 'idle-reader');
    const query = 'subscription { tagChanged(namespace: "idle") { tag } }';
    const subscribers = app.events.subscriberCount;
    const ws = subscribeWs<Result>(app.url, query, {}, { token });
    const sse = subscribeSse<Result>(app.url, query, {}, { token });
    try {
      // Both are live on the server: each reads the hub.
      await expect.poll(() => app.events.subscriberCount).toBe(subscribers + 2);
      await app.admin(
        `mutation { removeRoleBinding(input: { namespace: "idle", role: IMAGE_PULLER,
          subjectKind: User, subjectName: "idle-reader" }) { __typename } }`,
      );
      const revokedAt = Date.now();
      const [wsMs, sseMs] = await Promise.all([
        endedWithin(ws.ended, revokedAt),
        endedWithin(sse.ended, revokedAt),
      ]);
      expect(wsMs).toBeLessThan(BOUND_MS);
      expect(sseMs).toBeLessThan(BOUND_MS);
      for (const received of [ws.results, sse.results]) {
        expect(received).toHaveLength(1);
        expect(received[0]!.data?.tagChanged ?? null).toBeNull();
        expect(received[0]!.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
      }
      await expect.poll(() => app.events.subscriberCount).toBe(subscribers);
    } finally {
      await ws.stop();
      await sse.stop();
    }
  });
});
