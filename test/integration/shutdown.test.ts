// A spawned server shuts down cleanly on SIGTERM: open websockets get 1001 and the exit code is 0.
import { request } from 'node:http';
import { createClient } from 'graphql-ws';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { ADMIN_HEADERS, spawnServer } from '../support/app.ts';

describe('graceful shutdown', () => {
  it('closes an open websocket with 1001 and exits 0 on SIGTERM', async () => {
    const server = await spawnServer();
    const closed = new Promise<{ code: number; reason: string }>((resolveClose) => {
      const client = createClient({
        url: `${server.url.replace('http', 'ws')}/graphql`,
        webSocketImpl: WebSocket,
        connectionParams: ADMIN_HEADERS,
        lazy: false,
        retryAttempts: 0,
        on: {
          closed: (event) => {
            const e = event as { code: number; reason: string };
            resolveClose({ code: e.code, reason: e.reason });
          },
          connected: () => {
            server.process.kill('SIGTERM');
          },
        },
        onNonLazyError: () => {},
      });
      void client;
    });
    const started = Date.now();
    const close = await closed;
    const exit = await server.exited;
    expect(close.code).toBe(1001);
    expect(exit).toEqual({ code: 0, signal: null });
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(server.logs()).toContain('tagraph stopped');
  });

  it('finishes a request that is still arriving when SIGTERM comes, then exits 0', async () => {
    // At debug level the server logs each request as it starts: the signal that it is in flight.
    const server = await spawnServer({ TAGRAPH_LOG_LEVEL: 'debug' });
    const body = JSON.stringify({ query: '{ imageStream(namespace: "a", name: "b") { name } }' });
    const half = Math.floor(body.length / 2);
    let req: ReturnType<typeof request> | undefined;
    const answer = new Promise<{ status: number; text: string }>((resolveAnswer, reject) => {
      req = request(
        `${server.url}/graphql`,
        {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'content-length': body.length,
            ...ADMIN_HEADERS,
          },
        },
        (res) => {
          let text = '';
          res.on('data', (chunk) => (text += chunk));
          res.on('end', () => resolveAnswer({ status: res.statusCode ?? 0, text }));
        },
      );
      req.on('error', reject);
      req.write(body.slice(0, half));
    });
    // The server has the request and half its body: stop it, wait until it says so, and only
    // then send the rest.
    await server.waitForLog('"msg":"request started"');
    server.process.kill('SIGTERM');
    await server.waitForLog('"msg":"shutting down"');
    req!.end(body.slice(half));
    const { status, text } = await answer;
    expect(status).toBe(200);
    expect(JSON.parse(text)).toEqual({ data: { imageStream: null } });
    expect(await server.exited).toEqual({ code: 0, signal: null });
  });

  it('also exits 0 on SIGINT with no clients', async () => {
    const server = await spawnServer();
    const ready = await fetch(`${server.url}/readyz`);
    expect(ready.status).toBe(200);
    server.process.kill('SIGINT');
    expect(await server.exited).toEqual({ code: 0, signal: null });
  });

  it('refuses to start with a bad variable and names it', async () => {
    await expect(spawnServer({ TAGRAPH_PORT: 'eighty' })).rejects.toThrow(/TAGRAPH_PORT/);
  });
});
