// Gateways on one Postgres database: a change committed through one reaches a subscriber of another.
import { describe, expect, it } from 'vitest';
import { spawnServer, TEST_ADMIN_TOKEN } from '../support/app.ts';
import {
  currentCursor,
  type TagChangedNext as Next,
  pushTo,
  tagChangedIn,
} from '../support/spawnedGateway.ts';
import { subscribeWs } from '../support/subscriptions.ts';

const SUB = tagChangedIn('multi');

describe('across processes', () => {
  it('a change committed through one gateway reaches a subscriber of another', async () => {
    const [a, b] = await Promise.all([spawnServer(), spawnServer()]);
    try {
      const since = await currentCursor(b, 'multi');
      const sub = subscribeWs<Next>(b.url, SUB, { since }, { token: TEST_ADMIN_TOKEN });
      await sub.connected;
      const digest = await pushTo(a, 'multi', 'from-a');
      const [event] = await sub.waitFor(1);
      expect(event!.data.tagChanged).toMatchObject({ tag: 'from-a', current: { digest } });
      await sub.stop();
    } finally {
      a.process.kill('SIGTERM');
      b.process.kill('SIGTERM');
      await Promise.all([a.exited, b.exited]);
    }
  });
});
