// tagraph's own graphql-ws close codes are ones graphql-ws's client retries: a too-slow
// subscriber reconnects (and resumes from its cursor), as does a connection over its token's cap.
import type { AddressInfo } from 'node:net';
import { CloseCode, createClient, MessageType } from 'graphql-ws';
import { afterEach, describe, expect, it, vi } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { CLOSE_TOO_SLOW } from '../../src/events/hub.ts';
import { CLOSE_TOO_MANY_CONNECTIONS } from '../../src/server/graphqlWs.ts';

const servers: WebSocketServer[] = [];

afterEach(async () => {
  await Promise.all(
    servers.splice(0).map(
      (server) =>
        new Promise<void>((done) => {
          for (const client of server.clients) client.terminate();
          server.close(() => done());
        }),
    ),
  );
});

/** A graphql-ws server stand-in: acknowledges every connection, closes the first with `code`. */
async function closingFirstWith(code: number) {
  const server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  servers.push(server);
  await new Promise<void>((done) => server.once('listening', () => done()));
  const state = { connections: 0 };
  server.on('connection', (socket) => {
    state.connections += 1;
    const number = state.connections;
    socket.on('message', (raw) => {
      const message = JSON.parse(String(raw)) as { type: string };
      if (message.type !== MessageType.ConnectionInit) return;
      socket.send(JSON.stringify({ type: MessageType.ConnectionAck }));
      if (number === 1) socket.close(code, 'closed by the test server');
    });
  });
  const { port } = server.address() as AddressInfo;
  return { url: `ws://127.0.0.1:${port}`, state };
}

/** A real graphql-ws client that retries once, at once; its fatal errors are collected. */
function retryingClient(url: string) {
  const fatal: unknown[] = [];
  const client = createClient({
    url,
    webSocketImpl: WebSocket,
    lazy: false,
    retryAttempts: 1,
    retryWait: async () => {},
    onNonLazyError: (error) => fatal.push(error),
  });
  return { client, fatal };
}

describe('graphql-ws close codes', () => {
  it('are none that graphql-ws reserves', () => {
    const reserved = Object.values(CloseCode).filter((v) => typeof v === 'number');
    expect(reserved).toContain(4429);
    expect(reserved).not.toContain(CLOSE_TOO_SLOW);
    expect(reserved).not.toContain(CLOSE_TOO_MANY_CONNECTIONS);
    expect(CLOSE_TOO_SLOW).not.toBe(CLOSE_TOO_MANY_CONNECTIONS);
    for (const code of [CLOSE_TOO_SLOW, CLOSE_TOO_MANY_CONNECTIONS]) {
      expect(code).toBeGreaterThanOrEqual(4000);
      expect(code).toBeLessThan(5000);
    }
  });

  for (const [name, code] of [
    ['too slow', CLOSE_TOO_SLOW],
    ['too many connections', CLOSE_TOO_MANY_CONNECTIONS],
  ] as const) {
    it(`the client reconnects after "${name}" (${code})`, async () => {
      const server = await closingFirstWith(code);
      const { client, fatal } = retryingClient(server.url);
      try {
        await vi.waitFor(() => expect(server.state.connections).toBe(2), { timeout: 5000 });
        expect(fatal).toEqual([]);
      } finally {
        await client.dispose();
      }
    });
  }

  it('the client gives up at once after 4429, the code these used to be', async () => {
    const server = await closingFirstWith(4429);
    const { client, fatal } = retryingClient(server.url);
    try {
      await vi.waitFor(() => expect(fatal).toHaveLength(1), { timeout: 5000 });
      expect((fatal[0] as { code: number }).code).toBe(4429);
      expect(server.state.connections).toBe(1);
    } finally {
      await client.dispose();
    }
  });
});
