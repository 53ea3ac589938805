// HTTP for the registry client: undici with retries, redirects followed by hand so credentials
// stay on their origin, bounded body reads, and network failures turned into RegistryErrors.
import type { IncomingHttpHeaders } from 'node:http';
import { rootCertificates } from 'node:tls';
import { Agent, buildConnector, type Dispatcher, RetryAgent, request } from 'undici';
import { tracedRegistryRequest } from '../tracing.ts';
import type { RequestBudget } from './budget.ts';
import { EgressBlockedError, type EgressPolicy } from './egress.ts';
import { RegistryError } from './errors.ts';

type Body = Dispatcher.ResponseData['body'];

/**
 * Told of every exchange (all its retries and redirects) once its response headers arrive, or
 * once it failed without a response: its method, seconds taken, and status or `error`.
 */
export type RegistryRequestObserver = (
  method: string,
  seconds: number,
  outcome: number | 'error',
) => void;

export interface TransportOptions {
  /** Refuses private and special-purpose addresses unless allow-listed (SSRF guard). */
  egress?: EgressPolicy;
  ca?: string;
  insecure: boolean;
  timeoutMs: number;
  retries: number;
  /** Told how long each exchange took until its headers, and how it ended. */
  observe?: RegistryRequestObserver;
}

export interface OutgoingRequest {
  method: 'GET' | 'HEAD' | 'POST';
  headers?: Record<string, string>;
  body?: string;
  /** Sent only to `trustedOrigin`, never to a host a redirect points at. */
  authorization?: string | null;
  trustedOrigin: string;
  /** What is being fetched, for messages: `manifest ns/app:v1 from quay.io`. */
  subject: string;
  /** Aborts the exchange, its retries and its body (an import job's deadline). */
  signal?: AbortSignal;
}

export interface Exchange {
  status: number;
  headers: IncomingHttpHeaders;
  body: Body;
  /** Where the response came from, after redirects. */
  url: URL;
}

/**
 * The longest a Retry-After (or a backoff step) may make us wait. Registries ask for up to a
 * minute under load; an import job would rather fail and be rescheduled by the queue's backoff.
 */
export const MAX_RETRY_WAIT_MS = 30_000;
const MAX_REDIRECTS = 5;
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
const USER_AGENT = 'tagraph';

/** Connection-level failures worth retrying (undici's defaults plus timeouts and DNS retries). */
const RETRYABLE_CODES = [
  'ECONNRESET',
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'ENETDOWN',
  'ENETUNREACH',
  'EHOSTDOWN',
  'EHOSTUNREACH',
  'EPIPE',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
];

/**
 * An undici Agent whose every connection passes the SSRF guard (when `egress` is given): names in
 * its connector's lookup, literal addresses (which net.connect never looks up) before connecting.
 * Also used for webhook deliveries.
 */
export function guardedAgent(
  egress: EgressPolicy | undefined,
  connectorOptions: buildConnector.BuildOptions,
  agentOptions: Omit<Agent.Options, 'connect'> = {},
): Agent {
  // One connector per port: its lookup judges the addresses a name resolves to for that port
  // (an allow-list entry opens only the ports it names).
  const connectors = new Map<number, buildConnector.connector>();
  const connectorFor = (port: number) => {
    let connector = connectors.get(port);
    if (!connector) {
      connector = buildConnector({ ...connectorOptions, lookup: egress!.lookupFor(port) });
      connectors.set(port, connector);
    }
    return connector;
  };
  return new Agent({
    ...agentOptions,
    connect: egress
      ? (opts, callback) => {
          const port = Number(opts.port) || (opts.protocol === 'https:' ? 443 : 80);
          try {
            egress.checkLiteral(opts.hostname, port);
          } catch (error) {
            return callback(error as Error, null);
          }
          return connectorFor(port)(opts, callback);
        }
      : buildConnector(connectorOptions),
  });
}

export class Transport {
  private readonly agent: Agent;
  private readonly retrying: Dispatcher;
  /**
   * One exchange (all attempts and redirects) may take at most this long: every attempt may use
   * its full timeout and every wait its cap. 210 s with the defaults (30 s, 3 retries).
   */
  private readonly deadlineMs: number;

  constructor(private readonly options: TransportOptions) {
    const connectorOptions = {
      // `ca` replaces Node's bundled roots, so the extra CA is added to them.
      ...(options.ca ? { ca: [...rootCertificates, options.ca] } : {}),
      rejectUnauthorized: !options.insecure,
      timeout: options.timeoutMs,
    };
    this.agent = guardedAgent(options.egress, connectorOptions, {
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
    });
    // undici's RetryAgent retries GET/HEAD on 429/5xx and network errors, honours Retry-After
    // (capped by maxTimeout) and resumes a broken download with Range; throwOnError: false hands
    // the last failed response back so its status can be reported.
    this.retrying = new RetryAgent(this.agent, {
      maxRetries: options.retries,
      minTimeout: 500,
      maxTimeout: MAX_RETRY_WAIT_MS,
      timeoutFactor: 2,
      methods: ['GET', 'HEAD'],
      statusCodes: [429, 500, 502, 503, 504],
      errorCodes: RETRYABLE_CODES,
      throwOnError: false,
    });
    this.deadlineMs =
      (options.retries + 1) * options.timeoutMs + options.retries * MAX_RETRY_WAIT_MS;
  }

  /**
   * Sends a request, following up to 5 redirects itself (undici would carry Authorization along).
   * Authorization goes only where the URL's origin (scheme, host, port) is `trustedOrigin`.
   */
  send(url: URL, outgoing: OutgoingRequest): Promise<Exchange> {
    return tracedRegistryRequest(outgoing.method, url, () => this.observed(url, outgoing));
  }

  private async observed(url: URL, outgoing: OutgoingRequest): Promise<Exchange> {
    const { observe } = this.options;
    if (!observe) return this.exchange(url, outgoing);
    const started = performance.now();
    try {
      const exchange = await this.exchange(url, outgoing);
      observe(outgoing.method, (performance.now() - started) / 1000, exchange.status);
      return exchange;
    } catch (error) {
      observe(outgoing.method, (performance.now() - started) / 1000, 'error');
      throw error;
    }
  }

  private async exchange(url: URL, outgoing: OutgoingRequest): Promise<Exchange> {
    outgoing.signal?.throwIfAborted();
    const own = AbortSignal.timeout(this.deadlineMs);
    const signal = outgoing.signal ? AbortSignal.any([own, outgoing.signal]) : own;
    let target = url;
    for (let hop = 0; ; hop++) {
      const headers: Record<string, string> = { 'user-agent': USER_AGENT, ...outgoing.headers };
      if (outgoing.authorization && target.origin === outgoing.trustedOrigin) {
        headers.authorization = outgoing.authorization;
      }
      const response = await request(target, {
        dispatcher: this.retrying,
        method: outgoing.method,
        headers,
        body: outgoing.body ?? null,
        signal,
        // undici closes the connection after every HEAD unless told otherwise (against servers
        // that wrongly send a body), so each scheduled check would open a new connection: a
        // large share of a check's CPU, client and registry together.
        // The connection only ever serves this origin, and what it returns is digest-checked.
        reset: false,
      });
      const location = firstHeader(response.headers.location);
      const follow =
        REDIRECT_STATUSES.has(response.statusCode) &&
        location !== undefined &&
        outgoing.method !== 'POST';
      if (!follow) {
        return {
          status: response.statusCode,
          headers: response.headers,
          body: response.body,
          url: target,
        };
      }
      await response.body.dump();
      if (hop === MAX_REDIRECTS) {
        throw new RegistryError(
          'InternalError',
          `${outgoing.subject} was redirected more than ${MAX_REDIRECTS} times`,
        );
      }
      const next = new URL(location, target);
      if (next.protocol !== 'https:' && next.protocol !== 'http:') {
        throw new RegistryError(
          'InternalError',
          `${outgoing.subject} was redirected to an unsupported ${next.protocol} URL`,
        );
      }
      target = next;
    }
  }

  /**
   * One GET of `url` without credentials: does anything answer HTTP there? `retry` as for
   * requests; without it one failure is the answer (probing HTTPS on a plain-HTTP port fails
   * the same way every time, and retrying it would only add the backoff to every new client).
   */
  async probe(url: URL, retry: boolean): Promise<void> {
    const response = await request(url, {
      dispatcher: retry ? this.retrying : this.agent,
      method: 'GET',
      headers: { 'user-agent': USER_AGENT },
      signal: AbortSignal.timeout(retry ? this.deadlineMs : this.options.timeoutMs),
    });
    await response.body.dump();
  }

  close(): Promise<void> {
    return this.retrying.close();
  }
}

/**
 * Reads a body into memory, refusing more than `limit` bytes: first by Content-Length, then by
 * counting while streaming (a registry may omit or understate the length). With a `budget`,
 * every chunk is charged to it as it arrives, so the job's allowance caps the read as well.
 */
export async function readBody(
  exchange: Exchange,
  limit: number,
  subject: string,
  budget?: RequestBudget,
): Promise<Buffer> {
  const tooLarge = (size: string) =>
    new RegistryError('TooLarge', `${subject} is ${size}, over the limit of ${limit} bytes`);
  const declared = Number(firstHeader(exchange.headers['content-length']));
  if (Number.isFinite(declared) && declared > limit) {
    abandon(exchange.body);
    throw tooLarge(`${declared} bytes`);
  }
  if (budget && Number.isFinite(declared) && declared > budget.bytesLeft) {
    abandon(exchange.body);
    throw budget.exceeded(subject);
  }
  const chunks: Buffer[] = [];
  let received = 0;
  for await (const chunk of exchange.body as AsyncIterable<Buffer>) {
    received += chunk.length;
    if (received > limit) {
      abandon(exchange.body);
      throw tooLarge(`more than ${limit} bytes`);
    }
    charge(exchange, budget, chunk.length, subject);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, received);
}

/**
 * Reads at most `limit` bytes of a body and drops the rest unread (closing the connection):
 * the prefix of a listing too long to take whole. `cut` says whether anything was left.
 */
export async function readBodyPrefix(
  exchange: Exchange,
  limit: number,
  subject: string,
  budget?: RequestBudget,
): Promise<{ bytes: Buffer; cut: boolean }> {
  const chunks: Buffer[] = [];
  let received = 0;
  for await (const chunk of exchange.body as AsyncIterable<Buffer>) {
    const room = limit - received;
    const kept = chunk.length > room ? chunk.subarray(0, room) : chunk;
    charge(exchange, budget, kept.length, subject);
    chunks.push(kept);
    received += kept.length;
    if (chunk.length > room) {
      abandon(exchange.body);
      return { bytes: Buffer.concat(chunks, received), cut: true };
    }
  }
  return { bytes: Buffer.concat(chunks, received), cut: false };
}

/** Charges `bytes` read to the budget; over it, the body is dropped before the error goes up. */
function charge(
  exchange: Exchange,
  budget: RequestBudget | undefined,
  bytes: number,
  subject: string,
): void {
  try {
    budget?.charge(bytes, subject);
  } catch (error) {
    abandon(exchange.body);
    throw error;
  }
}

/** Drops a body unread, closing its connection; the abort error it emits is expected. */
function abandon(body: Body): void {
  body.on('error', () => {});
  body.destroy();
}

export function firstHeader(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** Whether the error is a failure to reach a server, as opposed to a bad answer from one. */
export function isConnectionFailure(error: unknown): boolean {
  return !(error instanceof RegistryError) && errorCodes(error).length > 0;
}

/**
 * Turns a thrown network error into a RegistryError naming `registry`. Certificate problems are
 * 'TLS' (with a hint); every failure to connect or to get an answer in time is the same
 * 'Unavailable' "could not reach" (retryable): which of refused, reset, unresolvable or timed out
 * is not said, nor any address, so that error messages cannot map a network's hosts and ports.
 * The underlying error stays the cause, for the server's log.
 */
export function networkError(error: unknown, registry: string, subject: string): RegistryError {
  if (error instanceof RegistryError) return error;
  const blocked = findCause(error, (e) => e instanceof EgressBlockedError);
  if (blocked) {
    return new RegistryError('Blocked', `${subject}: ${blocked.message}`, { cause: error });
  }
  const codes = errorCodes(error);
  const tls = codes.find((code) =>
    /^(ERR_TLS_|ERR_SSL_|CERT_|UNABLE_TO_|DEPTH_ZERO|SELF_SIGNED|EPROTO)/.test(code),
  );
  if (tls) {
    // A plain-HTTP server answering a TLS handshake: wrong version number, or a bare protocol error.
    const plainHttp = /WRONG_VERSION_NUMBER|^EPROTO$|HTTP_REQUEST/.test(tls);
    const hint = plainHttp
      ? 'it does not seem to speak TLS; mark the registry insecure to allow plain HTTP'
      : "give the registry's CA certificate, or mark the registry insecure to skip verification";
    return new RegistryError(
      'TLS',
      `TLS connection to ${registry} for ${subject} failed: ${hint}`,
      {
        cause: error,
      },
    );
  }
  const name = error instanceof Error ? error.name : '';
  if (name === 'TimeoutError' || name === 'AbortError' || codes.length > 0) {
    return new RegistryError('Unavailable', `could not reach ${registry} for ${subject}`, {
      cause: error,
      retryable: true,
    });
  }
  return new RegistryError('InternalError', `request to ${registry} for ${subject} failed`, {
    cause: error,
  });
}

/** Error codes along the cause chain (and inside an AggregateError from happy-eyeballs). */
function errorCodes(error: unknown, depth = 0): string[] {
  if (typeof error !== 'object' || error === null || depth > 5) return [];
  const { code, cause, errors } = error as { code?: unknown; cause?: unknown; errors?: unknown };
  const own = typeof code === 'string' && code !== 'UND_ERR_ABORTED' ? [code] : [];
  const nested = Array.isArray(errors) ? errors.flatMap((e) => errorCodes(e, depth + 1)) : [];
  return [...own, ...errorCodes(cause, depth + 1), ...nested];
}

/** The first error in `error`'s cause chain that matches. */
function findCause(error: unknown, match: (e: unknown) => boolean): Error | undefined {
  for (let e = error, depth = 0; e && depth < 10; e = (e as Error).cause, depth++) {
    if (match(e)) return e as Error;
  }
  return undefined;
}
