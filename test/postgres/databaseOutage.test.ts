// A database outage is bounded: requests and /readyz answer DATABASE_UNAVAILABLE / 503 within the
// connect and acquire timeouts instead of hanging, and recover when the database is back.
// The app reaches the real Postgres through a TCP relay that, during the "outage", cuts every
// connection and accepts new ones without ever answering.
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postGraphql, startTestApp, type TestApp } from '../support/app.ts';
import { postgresFileDatabase } from '../support/database.ts';

/** A relay to Postgres that can black-hole: connections accepted, never answered. */
class Relay {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  blackHole = false;
  port = 0;

  constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  async start(): Promise<void> {
    this.server = createServer((client) => {
      this.sockets.add(client);
      client.on('close', () => this.sockets.delete(client));
      client.on('error', () => {});
      if (this.blackHole) return;
      const upstream = createConnection(this.targetPort, this.targetHost);
      this.sockets.add(upstream);
      upstream.on('close', () => {
        this.sockets.delete(upstream);
        client.destroy();
      });
      upstream.on('error', () => client.destroy());
      client.on('close', () => upstream.destroy());
      client.pipe(upstream);
      upstream.pipe(client);
    });
    await new Promise<void>((done) => this.server!.listen(0, '127.0.0.1', done));
    this.port = (this.server!.address() as { port: number }).port;
  }

  /** Cuts every open connection; new ones are accepted and left unanswered. */
  outage(): void {
    this.blackHole = true;
    for (const socket of this.sockets) socket.destroy();
  }

  restore(): void {
    this.blackHole = false;
    for (const socket of this.sockets) socket.destroy();
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((done) => this.server?.close(() => done()) ?? done());
  }
}

const CONNECT_TIMEOUT_SECONDS = 1;
const ACQUIRE_TIMEOUT_MS = 2000;
/** The most a request may take during the outage: the acquire timeout and some slack. */
const BOUND_MS = ACQUIRE_TIMEOUT_MS + 1500;

describe('a database outage', () => {
  let relay: Relay;
  let app: TestApp;
  let editor: string;

  beforeAll(async () => {
    const target = postgresFileDatabase();
    const url = new URL(target.url);
    relay = new Relay(url.hostname, Number(url.port || 5432));
    await relay.start();
    url.hostname = '127.0.0.1';
    url.port = String(relay.port);
    app = await startTestApp({
      database: {
        ...target,
        url: url.toString(),
        connectTimeoutSeconds: CONNECT_TIMEOUT_SECONDS,
        acquireTimeoutMs: ACQUIRE_TIMEOUT_MS,
      },
    });
    await app.stream('outage', 'ruby');
    editor = await app.member('outage', 'EDITOR');
  });

  afterAll(async () => {
    relay?.restore();
    await app?.stop();
    await relay?.stop();
  });

  const timed = async <T>(run: () => Promise<T>): Promise<{ value: T; ms: number }> => {
    const started = performance.now();
    const value = await run();
    return { value, ms: performance.now() - started };
  };

  const query = (token: string) =>
    postGraphql(app, token, {
      query: '{ imageStreams(namespace: "outage") { nodes { name } } }',
    });

  it('answers DATABASE_UNAVAILABLE and a 503 /readyz within the bound, then recovers', async () => {
    const before = await (await query(editor)).json();
    expect(before.data.imageStreams.nodes).toEqual([{ name: 'ruby' }]);

    relay.outage();
    // More requests than the pool has connections: the rest wait for one, and must not wait long.
    const attempts = await Promise.all(
      Array.from({ length: 12 }, () =>
        timed(async () => {
          const response = await query(editor);
          return { status: response.status, body: await response.json() };
        }),
      ),
    );
    for (const { value, ms } of attempts) {
      expect(ms).toBeLessThan(BOUND_MS);
      expect(value.status).toBe(503);
      expect(value.body.errors?.[0]?.extensions?.code).toBe('DATABASE_UNAVAILABLE');
    }
    // The bootstrap admin needs no database to authenticate: the statement itself times out.
    const admin = await timed(() => app.call(app.adminToken, '{ namespaces { nodes { name } } }'));
    expect(admin.ms).toBeLessThan(BOUND_MS);
    expect(admin.value.errors?.[0]?.extensions?.code).toBe('DATABASE_UNAVAILABLE');
    const ready = await timed(() => fetch(`${app.url}/readyz`));
    expect(ready.ms).toBeLessThan(BOUND_MS);
    expect(ready.value.status).toBe(503);
    const mutation = await timed(() =>
      app.call(
        editor,
        `mutation { createImageStream(input: { namespace: "outage", name: "python" }) { __typename } }`,
      ),
    );
    expect(mutation.ms).toBeLessThan(BOUND_MS);
    expect(mutation.value.errors?.[0]?.extensions?.code).toBe('DATABASE_UNAVAILABLE');

    console.info(
      `outage: slowest of 12 requests ${Math.round(Math.max(...attempts.map((a) => a.ms)))} ms, admin ${Math.round(admin.ms)} ms, /readyz ${Math.round(ready.ms)} ms, mutation ${Math.round(mutation.ms)} ms (bound ${BOUND_MS} ms)`,
    );
    relay.restore();
    const deadline = Date.now() + 15_000;
    for (;;) {
      const response = await fetch(`${app.url}/readyz`);
      if (response.status === 200) break;
      if (Date.now() > deadline) throw new Error('/readyz did not recover');
      await new Promise((resolveWait) => setTimeout(resolveWait, 200));
    }
    const after = await (await query(editor)).json();
    expect(after.data.imageStreams.nodes).toEqual([{ name: 'ruby' }]);
  });
});
