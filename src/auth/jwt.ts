// Optional JWT bearer tokens (an identity provider's), verified with jose against a JWKS URL or a
// static public key. `sub` is the subject, a groups claim the groups; a configured admin group
// makes a cluster admin. Opaque tagraph tokens keep working beside them.
import {
  type CryptoKey,
  createRemoteJWKSet,
  errors,
  importSPKI,
  type JWTVerifyGetKey,
  jwtVerify,
} from 'jose';
import type { Logger } from 'pino';
import type { Caller } from './roles.ts';

export interface JwtSettings {
  /** `https://issuer/.well-known/jwks.json`; or */
  jwksUrl: string | null;
  /** a PEM SPKI public key. */
  publicKey: string | null;
  /** The `alg` of the static key (`RS256`, `ES256`, …). */
  algorithm: string;
  issuer: string | null;
  audience: string | null;
  groupsClaim: string;
  adminGroup: string | null;
}

export type JwtVerifier = (token: string) => Promise<Caller | null>;

/** Three base64url parts: a JWT rather than an opaque token. */
export function looksLikeJwt(token: string): boolean {
  return /^[\w-]+\.[\w-]+\.[\w-]+$/.test(token);
}

/**
 * Why a JWT was refused, for the operator's log (the caller only gets 401): jose's error code,
 * and for a claim check (made after the signature verified, so the claims are the issuer's) the
 * claim, the reason and the token's subject, issuer and audience. Never the token.
 */
export function refusalDetails(error: unknown): Record<string, unknown> {
  if (error instanceof errors.JWTClaimValidationFailed || error instanceof errors.JWTExpired) {
    const { sub, iss, aud } = error.payload;
    return {
      code: error.code,
      claim: error.claim,
      reason: error.reason,
      subject: sub,
      issuer: iss,
      audience: aud,
    };
  }
  if (error instanceof errors.JOSEError) return { code: error.code, reason: error.message };
  return { reason: error instanceof Error ? error.message : String(error) };
}

export function createJwtVerifier(settings: JwtSettings, log?: Logger): JwtVerifier | null {
  let key: JWTVerifyGetKey | Promise<CryptoKey> | null = null;
  if (settings.jwksUrl) key = createRemoteJWKSet(new URL(settings.jwksUrl));
  else if (settings.publicKey) key = importSPKI(settings.publicKey, settings.algorithm);
  if (!key) return null;
  const options = {
    ...(settings.issuer ? { issuer: settings.issuer } : {}),
    ...(settings.audience ? { audience: settings.audience } : {}),
    // A token without an expiry is refused: a leaked one would work forever.
    requiredClaims: ['exp', 'sub'],
    // The static key's algorithm only: another is refused as such (ERR_JOSE_ALG_NOT_ALLOWED).
    ...(settings.jwksUrl ? {} : { algorithms: [settings.algorithm] }),
  };
  return async (token) => {
    try {
      const verified =
        typeof key === 'function'
          ? await jwtVerify(token, key, options)
          : await jwtVerify(token, await key!, options);
      const claim = verified.payload[settings.groupsClaim];
      const groups = Array.isArray(claim) ? claim.filter((g) => typeof g === 'string') : [];
      return {
        subject: String(verified.payload.sub),
        groups,
        clusterAdmin: settings.adminGroup !== null && groups.includes(settings.adminGroup),
        tokenId: null,
        // Connections and streams opened with this JWT end when it expires (credentials.ts).
        expiresAt: Number(verified.payload.exp) * 1000,
      };
    } catch (error) {
      log?.info({ jwt: refusalDetails(error) }, 'JWT refused');
      return null;
    }
  };
}
