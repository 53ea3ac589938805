// The pool's reconnect delay follows postgres.js's growing, jittered curve but never passes 2 s.
import { describe, expect, it } from 'vitest';
import { reconnectDelaySeconds } from '../../src/db/client.ts';

describe('reconnectDelaySeconds', () => {
  it('grows threefold from 30 ms, jittered by half, and stops at 2 s', () => {
    for (let failures = 0; failures <= 30; failures++) {
      const uncapped = Math.min(3 ** failures / 100, 2);
      for (let draw = 0; draw < 50; draw++) {
        const seconds = reconnectDelaySeconds(failures);
        expect(seconds).toBeGreaterThanOrEqual(uncapped / 2);
        expect(seconds).toBeLessThanOrEqual(uncapped);
      }
    }
    // postgres.js's own curve would wait 10 to 20 s here.
    expect(reconnectDelaySeconds(7)).toBeLessThanOrEqual(2);
  });
});
