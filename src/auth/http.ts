// Authentication at the edge: HTTP and SSE requests to /graphql, and graphql-ws connections.
import { isNull } from 'drizzle-orm';
import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Logger } from 'pino';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import type { Config } from '../config.ts';
import type { Db } from '../db/client.ts';
import { apiTokens } from '../db/schema.ts';
import { limitKey } from './credentials.ts';
import { createJwtVerifier, type JwtVerifier, looksLikeJwt } from './jwt.ts';
import { type Caller, OPEN_CALLER } from './roles.ts';
import { authenticate, bearerToken } from './tokens.ts';

/**
 * graphql-ws close code for a connection without credentials; one with credentials that are not
 * accepted is closed by graphql-ws itself with 4403 when onConnect returns false.
 */
export const CLOSE_UNAUTHENTICATED = 4401;

export type Authentication =
  | { ok: true; caller: Caller }
  | { ok: false; reason: 'missing' | 'invalid' };

/** Who an `Authorization` header value stands for, by the configured mode. */
export async function authenticateHeader(
  db: Db,
  config: Config,
  header: string | null | undefined,
  /** Where a refused JWT's reason is logged (at info). */
  log?: Logger,
): Promise<Authentication> {
  if (config.auth.mode === 'open') return { ok: true, caller: OPEN_CALLER };
  const token = bearerToken(header);
  if (!token) return { ok: false, reason: 'missing' };
  const verifyJwt = jwtVerifierFor(config, log);
  const caller =
    verifyJwt && looksLikeJwt(token)
      ? await verifyJwt(token)
      : await authenticate(db, token, config.auth.adminTokenHash);
  return caller ? { ok: true, caller } : { ok: false, reason: 'invalid' };
}

/** One verifier per configuration (it caches the JWKS it fetched); it logs with the first log. */
const verifiers = new WeakMap<Config, JwtVerifier | null>();
function jwtVerifierFor(config: Config, log?: Logger): JwtVerifier | null {
  if (!verifiers.has(config)) {
    verifiers.set(config, config.auth.jwt ? createJwtVerifier(config.auth.jwt, log) : null);
  }
  return verifiers.get(config)!;
}

/**
 * The per-token operation budget of one process, shared by HTTP requests (SSE included) and
 * graphql-ws operations: with N gateways behind a balancer a token gets up to N times the rate.
 */
export class RateLimit {
  private readonly limiter: RateLimiterMemory | null;

  constructor(config: Config) {
    this.limiter =
      config.auth.mode === 'token' && config.rateLimitPerMinute > 0
        ? new RateLimiterMemory({ points: config.rateLimitPerMinute, duration: 60 })
        : null;
  }

  /** Spends one operation of the caller's minute: null when allowed, else the refusal. */
  async consume(caller: Caller): Promise<RateLimited | null> {
    if (!this.limiter) return null;
    try {
      await this.limiter.consume(limitKey(caller));
      return null;
    } catch (error) {
      if (!(error instanceof RateLimiterRes)) throw error;
      const retryAfterSeconds = Math.max(1, Math.ceil(error.msBeforeNext / 1000));
      return {
        retryAfterSeconds,
        message: `rate limit of ${this.limiter.points} requests a minute reached; retry in ${retryAfterSeconds} s`,
      };
    }
  }
}

export interface RateLimited {
  retryAfterSeconds: number;
  message: string;
}

/** The RATE_LIMITED error of an operation refused by the rate limit. */
export function rateLimitedError(refused: RateLimited): GraphQLError {
  return new GraphQLError(refused.message, {
    extensions: { code: 'RATE_LIMITED', retryAfterSeconds: refused.retryAfterSeconds },
  });
}

/**
 * Refuses GraphQL requests without a valid token with 401 (GraphiQL's page itself is served, so
 * a browser can paste a token into its headers), and over the rate limit with 429. The caller
 * is kept for the context.
 */
export function authenticationPlugin(
  db: Db,
  config: Config,
  graphqlPath: string,
  callers: WeakMap<Request, Caller>,
  rateLimit: RateLimit,
  log?: Logger,
): Plugin {
  return {
    async onRequest({ request, url, endResponse }) {
      if (url.pathname !== graphqlPath) return;
      const wantsPage =
        request.method === 'GET' && (request.headers.get('accept') ?? '').includes('text/html');
      const result = await authenticateHeader(
        db,
        config,
        request.headers.get('authorization'),
        log,
      );
      if (result.ok) {
        callers.set(request, result.caller);
        const refused = await rateLimit.consume(result.caller);
        if (refused) {
          endResponse(
            Response.json(
              { errors: [{ message: refused.message, extensions: { code: 'RATE_LIMITED' } }] },
              { status: 429, headers: { 'retry-after': String(refused.retryAfterSeconds) } },
            ),
          );
        }
      } else if (!wantsPage) {
        const message =
          result.reason === 'missing'
            ? 'authentication required: send Authorization: Bearer <token>'
            : 'the token is not valid (unknown or revoked)';
        endResponse(
          Response.json(
            { errors: [{ message, extensions: { code: 'UNAUTHENTICATED' } }] },
            { status: 401, headers: { 'www-authenticate': 'Bearer realm="tagraph"' } },
          ),
        );
      }
    },
  };
}

/** Says loudly that nothing is protected when the server runs open. */
export function warnIfOpen(config: Config, log: Logger): void {
  if (config.auth.mode !== 'open') return;
  log.warn(
    'AUTHENTICATION IS OFF (TAGRAPH_AUTH=open, embedded development mode): every caller is a cluster admin. Set TAGRAPH_AUTH=token before exposing this server.',
  );
}

/**
 * Says loudly that no request can authenticate: token mode with neither TAGRAPH_ADMIN_TOKEN nor a
 * JWT key, and no live API token in the database to authenticate with either.
 */
export async function warnIfNoOneCanAuthenticate(
  config: Config,
  db: Db,
  log: Logger,
): Promise<void> {
  if (config.auth.mode !== 'token' || config.auth.adminTokenHash || config.auth.jwt) return;
  const [live] = await db
    .select({ id: apiTokens.id })
    .from(apiTokens)
    .where(isNull(apiTokens.revokedAt))
    .limit(1);
  if (live) {
    log.warn(
      'token mode without TAGRAPH_ADMIN_TOKEN or a JWT key: only the API tokens already issued can authenticate',
    );
    return;
  }
  log.warn(
    'NO ONE CAN AUTHENTICATE: token mode with neither TAGRAPH_ADMIN_TOKEN nor a JWT key (TAGRAPH_JWT_JWKS_URL, TAGRAPH_JWT_PUBLIC_KEY_FILE), and no API token issued yet; every request will get 401. Set TAGRAPH_ADMIN_TOKEN (at least 32 characters, e.g. `openssl rand -hex 32`) and restart.',
  );
}
