// A real HTTP server standing in for a webhook target: records every request, answers as scripted, signals each arrival.
import { EventEmitter } from 'node:events';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { WebhookSettings } from '../../src/config.ts';

/**
 * Delivery on, four targets at once, and retries quick enough for a test (20 ms doubling to 200 ms
 * apart, polled every 50 ms) for an hour.
 */
export const QUICK_WEBHOOKS: WebhookSettings = {
  deliver: true,
  concurrency: 4,
  timeoutMs: 5000,
  retryForMs: 3_600_000,
  backoffMinMs: 20,
  backoffMaxMs: 200,
  pollMs: 50,
};

export interface ReceivedRequest {
  headers: IncomingHttpHeaders;
  body: string;
  /** The status this server answered. */
  status: number;
}

export interface WebhookTarget {
  url: string;
  received: ReceivedRequest[];
  /** The status for the next request; `respond` returns it for the n-th (0-based) request. */
  respond: (n: number, body: string) => number;
  /** Resolves once `count` requests have arrived (or fails after `ms`). */
  waitFor(count: number, ms?: number): Promise<ReceivedRequest[]>;
  close(): Promise<void>;
}

export async function startWebhookTarget(
  respond: (n: number, body: string) => number = () => 204,
): Promise<WebhookTarget> {
  const arrivals = new EventEmitter();
  const received: ReceivedRequest[] = [];
  const target: Partial<WebhookTarget> = { received, respond };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const status = target.respond!(received.length, body);
      received.push({ headers: req.headers, body, status });
      res.writeHead(status, { 'content-type': 'text/plain' });
      res.end(status >= 300 ? `refused with ${status}` : '');
      arrivals.emit('request');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(target, {
    url: `http://127.0.0.1:${port}/hook`,
    waitFor(count: number, ms = 15_000) {
      return new Promise<ReceivedRequest[]>((resolve, reject) => {
        const check = () => {
          if (received.length >= count) {
            arrivals.off('request', check);
            clearTimeout(timer);
            resolve(received.slice());
          }
        };
        const timer = setTimeout(() => {
          arrivals.off('request', check);
          reject(new Error(`${count} webhook requests: only ${received.length} within ${ms} ms`));
        }, ms);
        arrivals.on('request', check);
        check();
      });
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  }) as WebhookTarget;
}
