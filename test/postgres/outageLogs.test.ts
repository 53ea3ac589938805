// A database that becomes unreachable is logged with backoff by the gateway's background loops
// (event hub, import worker, scheduler, events trim), not a stack trace a second.
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.ts';
import { startTestApp } from '../support/app.ts';
import { postgresFileDatabase } from '../support/database.ts';
import { RefusingRelay } from '../support/relay.ts';

describe('a database outage in the log', () => {
  it('is logged with backoff while it lasts', {
    timeout: 60_000,
  }, async () => {
    const target = postgresFileDatabase();
    const url = new URL(target.url);
    const relay = new RefusingRelay(url.hostname, Number(url.port || 5432));
    await relay.up();
    url.hostname = '127.0.0.1';
    url.port = String(relay.port);
    const records: { level: number; msg: string; time: number }[] = [];
    const log = createLogger(
      'info',
      new Writable({
        write(chunk, _encoding, done) {
          records.push(JSON.parse(String(chunk)));
          done();
        },
      }),
    );
    const app = await startTestApp(
      {
        database: {
          kind: 'postgres',
          url: url.toString(),
          poolSize: 4,
          connectTimeoutSeconds: 1,
          acquireTimeoutMs: 1000,
        },
        importWorker: true,
        importIntervalMs: 1000,
      },
      { log },
    );
    try {
      await relay.down();
      const errors = () => records.filter((r) => r.level >= 50);
      // Every loop has said it fails (the hub and the worker poll each second).
      await expect
        .poll(() => errors().map((r) => r.msg), { timeout: 20_000 })
        .toEqual(expect.arrayContaining(['reading events failed', 'claiming import jobs failed']));
      const firstAt = errors()[0]!.time;
      // Watch the outage for 8 s (about 16 failed polls of the hub and the worker): a window of
      // observation, not a wait for something to happen.
      await new Promise((done) => setTimeout(done, Math.max(0, firstAt + 8000 - Date.now())));
      const during = errors().filter((r) => r.time <= firstAt + 8000);
      const perMessage = new Map<string, number>();
      for (const r of during) {
        const key = r.msg.replace(/ (failed|still failing.*)$/, '');
        perMessage.set(key, (perMessage.get(key) ?? 0) + 1);
      }
      // The first failure, and at most one reminder 5 s later, per loop.
      for (const [loop, count] of perMessage) expect(count, loop).toBeLessThanOrEqual(2);
    } finally {
      await app.stop();
      await relay.down();
    }
  });
});
