// Optional JWT bearer tokens (an identity provider's), verified with jose against a JWKS URL or a
// static public key. `sub` is the subject, a groups claim the groups; a configured admin group
// makes a cluster admin. Opaque tagraph tokens keep working beside them.
import {
  type CryptoKey,
  createRemoteJWKSet,
  importSPKI,
  type JWTVerifyGetKey,
  jwtVerify,
} from 'jose';
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

export function createJwtVerifier(settings: JwtSettings): JwtVerifier | null {
  let key: JWTVerifyGetKey | Promise<CryptoKey> | null = null;
  if (settings.jwksUrl) key = createRemoteJWKSet(new URL(settings.jwksUrl));
  else if (settings.publicKey) key = importSPKI(settings.publicKey, settings.algorithm);
  if (!key) return null;
  const options = {
    ...(settings.issuer ? { issuer: settings.issuer } : {}),
    ...(settings.audience ? { audience: settings.audience } : {}),
    // A token without an expiry is refused: a leaked one would work forever.
    requiredClaims: ['exp', 'sub'],
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
    } catch {
      return null;
    }
  };
}
