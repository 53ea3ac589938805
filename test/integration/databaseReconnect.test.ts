// After an outage in which Postgres refuses connections for longer than the pool's reconnect
// backoff grows to, the pool reconnects: requests and /readyz succeed again within seconds.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { fileDatabase } from '../support/database.ts';
import { type RefusingRelay, relayedUrl } from '../support/relay.ts';
import { startTenantApp, type TenantApp } from '../support/tenants.ts';

const ACQUIRE_TIMEOUT_MS = 1000;
/** Long enough for postgres.js's default reconnect backoff to pass 10 s and for many statements to time out. */
const OUTAGE_MS = 9000;
/** Requests arrive this often during the outage (each waits for a connection, then times out). */
const REQUEST_EVERY_MS = 200;
/** The most recovery may take once the database accepts connections again. */
const RECOVERY_BOUND_MS = 5000;

describe.runIf(inject('dbKind') === 'postgres')('the pool after connections were refused', () => {
  let relay: RefusingRelay;
  let app: TenantApp;
  let puller: string;

  beforeAll(async () => {
    const target = fileDatabase();
    if (target.kind !== 'postgres') throw new Error('postgres only');
    const relayed = await relayedUrl(target.url);
    relay = relayed.relay;
    app = await startTenantApp({
      database: {
        ...target,
        url: relayed.url,
        connectTimeoutSeconds: 1,
        acquireTimeoutMs: ACQUIRE_TIMEOUT_MS,
      },
    });
    await app.stream('reconnect', 'ruby');
    puller = await app.member('reconnect', 'IMAGE_PULLER');
  });

  afterAll(async () => {
    await app?.stop();
    await relay?.down();
  });

  const streams = async () => {
    const response = await fetch(`${app.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...app.as(puller) },
      body: JSON.stringify({
        query: '{ imageStreams(namespace: "reconnect") { nodes { name } } }',
      }),
    });
    return { status: response.status, body: await response.json() };
  };

  it('serves requests and /readyz again within seconds of the database coming back', {
    timeout: 60_000,
  }, async () => {
    expect((await streams()).body.data.imageStreams.nodes).toEqual([{ name: 'ruby' }]);

    await relay.down();
    const downAt = Date.now();
    // The outage is a span of time, not an event: requests keep arriving while it lasts, each
    // queueing a statement that times out and, before, left a connection that could never be used.
    const during: Promise<{
      status: number;
      body: { errors?: { extensions?: { code?: string } }[] };
    }>[] = [];
    while (Date.now() - downAt < OUTAGE_MS) {
      during.push(streams());
      await new Promise((done) => setTimeout(done, REQUEST_EVERY_MS));
    }
    const failed = await Promise.all(during);
    for (const { status, body } of failed) {
      expect(status).toBe(503);
      expect(body.errors?.[0]?.extensions?.code).toBe('DATABASE_UNAVAILABLE');
    }

    await relay.up();
    const backAt = Date.now();
    await expect
      .poll(async () => (await streams()).body.data?.imageStreams?.nodes, {
        timeout: RECOVERY_BOUND_MS,
        interval: 100,
      })
      .toEqual([{ name: 'ruby' }]);
    const queryRecoveredMs = Date.now() - backAt;
    await expect
      .poll(async () => (await fetch(`${app.url}/readyz`)).status, {
        timeout: RECOVERY_BOUND_MS,
        interval: 100,
      })
      .toBe(200);
    const readyMs = Date.now() - backAt;
    console.info(
      `reconnect: ${failed.length} requests failed during a ${OUTAGE_MS} ms refusal; query succeeded ${queryRecoveredMs} ms and /readyz 200 ${readyMs} ms after the database was back (bound ${RECOVERY_BOUND_MS} ms)`,
    );
    expect(readyMs).toBeLessThan(RECOVERY_BOUND_MS);
  });
});
