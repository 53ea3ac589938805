// A test identity provider: an ES256 key pair, the gateway's JWT settings that trust it, and the
// tokens it signs.
import { exportSPKI, generateKeyPair, SignJWT } from 'jose';
import type { JwtSettings } from '../../src/auth/jwt.ts';

export const TEST_ISSUER = 'test-idp';
export const TEST_AUDIENCE = 'tagraph';

export interface TokenOptions {
  groups?: string[];
  issuer?: string;
  audience?: string;
  /** A jose time span (`5m`, `-1m`) or epoch seconds; five minutes from now when not given. */
  expires?: string | number;
  /** `HS256` signs with a shared secret the gateway was never given instead of the provider's key. */
  alg?: 'ES256' | 'HS256';
}

export interface TestIdentityProvider {
  /** Gateway settings that trust the provider's public key (no admin group). */
  settings: JwtSettings;
  /** A token for `subject`, with a `groups` claim. */
  sign(subject: string, options?: TokenOptions): Promise<string>;
}

export async function testIdentityProvider(): Promise<TestIdentityProvider> {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  return {
    settings: {
      algorithm: 'ES256',
      publicKey: await exportSPKI(publicKey),
      jwksUrl: null,
      issuer: TEST_ISSUER,
      audience: TEST_AUDIENCE,
      groupsClaim: 'groups',
      adminGroup: null,
    },
    sign: (subject, options = {}) => {
      const alg = options.alg ?? 'ES256';
      return new SignJWT({ groups: options.groups ?? [] })
        .setProtectedHeader({ alg })
        .setSubject(subject)
        .setIssuer(options.issuer ?? TEST_ISSUER)
        .setAudience(options.audience ?? TEST_AUDIENCE)
        .setExpirationTime(options.expires ?? '5m')
        .sign(alg === 'HS256' ? new TextEncoder().encode('k'.repeat(32)) : privateKey);
    },
  };
}
