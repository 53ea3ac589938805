// Registry authentication: answers Basic and Bearer challenges, and caches Bearer tokens per scope.
import { type Challenge, parseChallenges } from './challenge.ts';
import { RegistryError } from './errors.ts';
import { readBody, type Transport } from './transport.ts';

export interface RegistryCredential {
  username: string;
  password: string;
  /** An OAuth2 refresh token (`docker login` with an identity provider); used instead of the password. */
  identityToken?: string;
}

/** Distribution's token spec: "if expires_in is absent, assume 60 seconds". */
const DEFAULT_TOKEN_SECONDS = 60;
/** Tokens are dropped this long before they expire so one never lapses in flight. */
const TOKEN_EXPIRY_MARGIN_MS = 5_000;
const MAX_TOKEN_RESPONSE_BYTES = 1024 * 1024;
const CLIENT_ID = 'tagraph';

interface BearerRealm {
  realm: string;
  service: string | null;
}

interface CachedToken {
  header: string;
  expiresAt: number;
}

export class Authorizer {
  /** What the registry asked for last; lets later requests carry credentials up front. */
  private scheme: 'basic' | 'bearer' | null = null;
  private bearer: BearerRealm | null = null;
  private readonly tokens = new Map<string, CachedToken>();
  private readonly pending = new Map<string, Promise<CachedToken>>();

  constructor(
    private readonly transport: Transport,
    private readonly credential: RegistryCredential | null,
    /** The registry's name as the user wrote it, for messages. */
    private readonly registry: string,
  ) {}

  /** The Authorization header to send before any challenge, from what earlier ones taught. */
  upFront(scope: string | null): string | null {
    if (this.scheme === 'basic') return this.basicHeader();
    if (this.scheme === 'bearer' && this.bearer) {
      return this.cached(tokenKey(this.bearer, scope))?.header ?? null;
    }
    return null;
  }

  /**
   * Answers a 401: the Authorization header to retry with, or null when retrying cannot help
   * (no credentials for Basic, or the same header was just refused). `scope` is the one the
   * client computed; the challenge's own scope wins when it has one.
   */
  async answer(
    header: string | string[] | undefined,
    scope: string | null,
    refused: string | null,
    subject: string,
  ): Promise<string | null> {
    const challenges = parseChallenges(header);
    const bearer = challenges.find((c) => c.scheme === 'bearer');
    if (bearer) return this.answerBearer(bearer, scope, refused, subject);
    if (challenges.some((c) => c.scheme === 'basic')) {
      this.scheme = 'basic';
      const basic = this.basicHeader();
      return basic !== null && basic !== refused ? basic : null;
    }
    return null;
  }

  private async answerBearer(
    challenge: Challenge,
    computedScope: string | null,
    refused: string | null,
    subject: string,
  ): Promise<string> {
    const { realm, service, scope } = challenge.params;
    if (!realm || !URL.canParse(realm) || !/^https?:$/.test(new URL(realm).protocol)) {
      throw new RegistryError(
        'Unauthorized',
        `${this.registry} asked for a Bearer token without a usable realm URL`,
        { status: 401 },
      );
    }
    this.scheme = 'bearer';
    this.bearer = { realm, service: service ?? null };
    const key = tokenKey(this.bearer, scope ?? computedScope);
    const cached = this.cached(key);
    if (cached && cached.header !== refused) return cached.header;
    this.tokens.delete(key);
    // Requests in parallel (an index's children) share one token request per scope.
    let pending = this.pending.get(key);
    if (!pending) {
      pending = this.fetchToken(this.bearer, scope ?? computedScope, subject)
        .then((fresh) => {
          this.tokens.set(key, fresh);
          return fresh;
        })
        .finally(() => this.pending.delete(key));
      this.pending.set(key, pending);
    }
    return (await pending).header;
  }

  /**
   * Distribution's token flow: GET realm?service=&scope= with Basic credentials (or none, for
   * anonymous pulls), or with an identity token the OAuth2 POST (grant_type=refresh_token).
   * The realm is often another origin (auth.docker.io); sending the credentials there is the
   * protocol, and redirects from it still do not carry them further.
   */
  private async fetchToken(
    { realm, service }: BearerRealm,
    scope: string | null,
    subject: string,
  ): Promise<CachedToken> {
    const url = new URL(realm);
    const scopes = scope ? scope.split(' ').filter(Boolean) : [];
    const identityToken = this.credential?.identityToken;
    let outgoing: Parameters<Transport['send']>[1];
    if (identityToken) {
      const form = new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: identityToken,
        client_id: CLIENT_ID,
      });
      if (service) form.set('service', service);
      if (scopes.length > 0) form.set('scope', scopes.join(' '));
      outgoing = {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: form.toString(),
        trustedOrigin: url.origin,
        subject: `a token for ${subject}`,
      };
    } else {
      if (service) url.searchParams.set('service', service);
      for (const s of scopes) url.searchParams.append('scope', s);
      if (this.credential) url.searchParams.set('account', this.credential.username);
      outgoing = {
        method: 'GET',
        authorization: this.basicHeader(),
        trustedOrigin: url.origin,
        subject: `a token for ${subject}`,
      };
    }
    const response = await this.transport.send(url, outgoing);
    if (response.status === 401 || response.status === 403) {
      await response.body.dump();
      throw new RegistryError(
        'Unauthorized',
        this.credential
          ? `the token service of ${this.registry} rejected the credentials for ${subject}`
          : `the token service of ${this.registry} requires credentials for ${subject}, and none were configured`,
        { status: response.status },
      );
    }
    if (response.status !== 200) {
      await response.body.dump();
      const retryable = response.status === 429 || response.status >= 500;
      throw new RegistryError(
        retryable ? 'Unavailable' : 'InternalError',
        `the token service of ${this.registry} answered HTTP ${response.status} for ${subject}`,
        { status: response.status, retryable },
      );
    }
    const bytes = await readBody(response, MAX_TOKEN_RESPONSE_BYTES, `the token for ${subject}`);
    let body: { token?: unknown; access_token?: unknown; expires_in?: unknown };
    try {
      body = JSON.parse(bytes.toString('utf8'));
    } catch {
      body = {};
    }
    const token = typeof body.token === 'string' && body.token ? body.token : body.access_token;
    if (typeof token !== 'string' || token === '') {
      throw new RegistryError(
        'Unauthorized',
        `the token service of ${this.registry} sent no token for ${subject}`,
      );
    }
    const seconds =
      typeof body.expires_in === 'number' && body.expires_in > 0
        ? body.expires_in
        : DEFAULT_TOKEN_SECONDS;
    return {
      header: `Bearer ${token}`,
      expiresAt: Date.now() + seconds * 1000 - TOKEN_EXPIRY_MARGIN_MS,
    };
  }

  private cached(key: string): CachedToken | undefined {
    const token = this.tokens.get(key);
    if (token && token.expiresAt <= Date.now()) {
      this.tokens.delete(key);
      return undefined;
    }
    return token;
  }

  private basicHeader(): string | null {
    if (!this.credential) return null;
    const { username, password } = this.credential;
    return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
  }
}

/** `repository:<name>:pull`, the scope a read of a repository needs. */
export function pullScope(repository: string): string {
  return `repository:${repository}:pull`;
}

function tokenKey({ realm, service }: BearerRealm, scope: string | null): string {
  return JSON.stringify([realm, service, scope]);
}
