// Sends one webhook request through the SSRF guard: no redirects followed, a bounded time, at most 4 KiB of the answer read.
import { type Agent, request } from 'undici';
import { EgressBlockedError, EgressPolicy } from '../registry/egress.ts';

/** Where webhook URLs may go: the registry client's egress rules, shared by both. */
export { EgressPolicy };

import { guardedAgent } from '../registry/transport.ts';

/** How much of a target's answer is read (and kept in the delivery log as its error). */
export const RESPONSE_BODY_LIMIT = 4096;

export interface SendOutcome {
  /** The HTTP status, or null when no answer came. */
  statusCode: number | null;
  durationMs: number;
  /** Why the attempt failed (no answer, or a non-2xx answer); null on success. */
  error: string | null;
}

/** Whether `url` is an http(s) URL a webhook may target, else why not (literal private addresses included). */
export function urlProblem(url: string, egress: EgressPolicy): string | null {
  if (!URL.canParse(url)) return 'the url must be an absolute http:// or https:// URL';
  const parsed = new URL(url);
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    return 'the url must be an absolute http:// or https:// URL';
  }
  if (parsed.username || parsed.password) return 'the url must not carry credentials';
  if (url.length > 2048) return 'the url must be at most 2048 characters';
  const port = Number(parsed.port) || (parsed.protocol === 'https:' ? 443 : 80);
  try {
    egress.checkLiteral(parsed.hostname, port);
  } catch (error) {
    if (error instanceof EgressBlockedError) return error.message;
    throw error;
  }
  return null;
}

export class WebhookSender {
  private readonly agent: Agent;

  constructor(
    egress: EgressPolicy,
    private readonly timeoutMs: number,
  ) {
    this.agent = guardedAgent(
      egress,
      { timeout: timeoutMs },
      { headersTimeout: timeoutMs, bodyTimeout: timeoutMs, connections: 8 },
    );
  }

  /** POSTs `body`; a redirect is an answer like any other (a failure), never followed. */
  async send(url: string, headers: Record<string, string>, body: string): Promise<SendOutcome> {
    const started = performance.now();
    const signal = AbortSignal.timeout(this.timeoutMs);
    const elapsed = () => Math.round(performance.now() - started);
    try {
      const response = await request(url, {
        method: 'POST',
        headers,
        body,
        dispatcher: this.agent,
        signal,
      });
      const answer = await readPrefix(response.body, RESPONSE_BODY_LIMIT);
      const statusCode = response.statusCode;
      const success = statusCode >= 200 && statusCode < 300;
      return {
        statusCode,
        durationMs: elapsed(),
        error: success ? null : `HTTP ${statusCode}${answer ? `: ${answer}` : ''}`,
      };
    } catch (error) {
      return { statusCode: null, durationMs: elapsed(), error: describe(error, signal) };
    }
  }

  async close(): Promise<void> {
    await this.agent.close();
  }
}

/** At most `limit` bytes of a body as text; the rest is dropped unread (the connection closes). */
async function readPrefix(
  body: AsyncIterable<Buffer> & { destroy(): void; on(e: string, f: () => void): unknown },
  limit: number,
): Promise<string> {
  const chunks: Buffer[] = [];
  let received = 0;
  for await (const chunk of body) {
    const room = limit - received;
    chunks.push(chunk.length > room ? chunk.subarray(0, room) : chunk);
    received += Math.min(chunk.length, room);
    if (chunk.length >= room) {
      body.on('error', () => {});
      body.destroy();
      break;
    }
  }
  return Buffer.concat(chunks).toString('utf8').replace(/\s+/g, ' ').trim();
}

/** What went wrong, without addresses: refused by the guard, timed out, or could not connect. */
function describe(error: unknown, signal: AbortSignal): string {
  let cause: unknown = error;
  for (let depth = 0; cause && depth < 5; depth++) {
    if (cause instanceof EgressBlockedError) return cause.message;
    cause = (cause as { cause?: unknown }).cause;
  }
  if (signal.aborted) return 'no answer within the delivery timeout';
  const code = (error as { code?: string }).code;
  return `could not reach the target${code ? ` (${code})` : ''}`;
}
