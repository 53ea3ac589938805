// TAGRAPH_MAX_SUBSCRIPTIONS_PER_CONNECTION counts the operation being started once: with 1, a
// connection's first subscription is served and only the second is refused. (Its own file: on
// PGlite one file's apps share a data directory, so this app runs alone.)
import { describe, expect, it } from 'vitest';
import { startTestApp } from '../support/app.ts';
import { pushMapping } from '../support/mapping.ts';
import { subscribeWs } from '../support/subscriptions.ts';

type Reply = {
  data?: Record<string, unknown> | null;
  errors?: { message: string; extensions?: { code?: string } }[];
};

describe('TAGRAPH_MAX_SUBSCRIPTIONS_PER_CONNECTION', () => {
  it('with 1, the first subscription of a connection is served and the second refused', async () => {
    const capped = await startTestApp({ maxSubscriptionsPerConnection: 1 });
    try {
      await capped.stream('capped-ns', 'ruby');
      const reader = await capped.member('capped-ns', 'IMAGE_PULLER');
      const admin = capped.as(capped.adminToken);
      // A first change, so there is a cursor to subscribe after.
      await pushMapping(admin, 'capped-ns', 'ruby', 'zero', 'capped-0');
      const page = await capped.call<{ tagEvents: { endCursor: string | null } }>(
        reader,
        '{ tagEvents(namespace: "capped-ns") { endCursor } }',
      );
      expect(page.errors).toBeUndefined();
      expect(page.data!.tagEvents.endCursor).not.toBeNull();
      // With `since` the subscription replays what follows, so nothing is missed while it starts.
      const first = subscribeWs<Reply>(
        capped.url,
        'subscription($since: String) { tagChanged(namespace: "capped-ns", since: $since) { tag } }',
        { since: page.data!.tagEvents.endCursor },
        { token: reader },
      );
      try {
        await pushMapping(admin, 'capped-ns', 'ruby', 'one', 'capped-1');
        const [delivered] = await first.waitFor(1);
        expect(delivered).toEqual({ data: { tagChanged: { tag: 'one' } } });

        const second = await new Promise<unknown>((resolve) => {
          first.client.subscribe(
            { query: 'subscription { tagChanged(namespace: "capped-ns") { tag } }' },
            { next: resolve, error: resolve, complete: () => resolve('complete') },
          );
        });
        expect(JSON.stringify(second)).toContain('TOO_MANY_SUBSCRIPTIONS');

        // The first is still served.
        await pushMapping(admin, 'capped-ns', 'ruby', 'two', 'capped-2');
        const results = await first.waitFor(2);
        expect(results[1]).toEqual({ data: { tagChanged: { tag: 'two' } } });
      } finally {
        await first.stop();
      }
    } finally {
      await capped.stop();
    }
  });

  it('counts a subscription over every readable namespace, and imageTagsChanged, against the cap', async () => {
    const capped = await startTestApp({ maxSubscriptionsPerConnection: 1 });
    try {
      const reader = await capped.member(['cap-a', 'cap-b'], 'IMAGE_PULLER');
      const first = subscribeWs<Reply>(
        capped.url,
        'subscription { tagChanged(allNamespaces: true) { namespace tag } }',
        {},
        { token: reader },
      );
      try {
        await expect.poll(() => capped.events.subscriberCount).toBe(1);
        const second = await new Promise<unknown>((resolve) => {
          first.client.subscribe(
            {
              query:
                'subscription { imageTagsChanged(digest: "sha256:0000000000000000000000000000000000000000000000000000000000000000") { pointing } }',
            },
            { next: resolve, error: resolve, complete: () => resolve('complete') },
          );
        });
        expect(JSON.stringify(second)).toContain('TOO_MANY_SUBSCRIPTIONS');
        await pushMapping(capped.as(capped.adminToken), 'cap-b', 'app', 'one', 'cap-1');
        const [delivered] = await first.waitFor(1);
        expect(delivered).toEqual({ data: { tagChanged: { namespace: 'cap-b', tag: 'one' } } });
      } finally {
        await first.stop();
      }
    } finally {
      await capped.stop();
    }
  });
});
