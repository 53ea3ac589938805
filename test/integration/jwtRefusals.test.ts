// A refused JWT (audience, issuer, expiry, algorithm) is logged with its reason at info for the
// operator, while the caller gets a bare 401. (Its own file: on PGlite one file's apps share a
// data directory, so this app runs alone.)
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { bearer, startTestApp } from '../support/app.ts';
import { type TokenOptions, testIdentityProvider } from '../support/jwt.ts';

describe('refused JWTs', () => {
  it('log why at info for the operator, and tell the caller only 401', async () => {
    const idp = await testIdentityProvider();
    const lines: Record<string, unknown>[] = [];
    const sink = new Writable({
      write(chunk, _encoding, done) {
        for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
        done();
      },
    });
    const withJwt = await startTestApp(
      {
        auth: {
          mode: 'token',
          adminTokenHash: null,
          jwt: idp.settings,
        },
      },
      { log: pino({ level: 'info' }, sink) },
    );
    const sign = (options: TokenOptions = {}) => idp.sign('jwt-alice', options);
    try {
      const good = await withJwt.call<{ me: { subject: string } }>(
        await sign(),
        '{ me { subject } }',
      );
      expect(good.data?.me.subject).toBe('jwt-alice');
      const cases = [
        { token: await sign({ audience: 'another-service' }), expect: { claim: 'aud' } },
        { token: await sign({ issuer: 'another-idp' }), expect: { claim: 'iss' } },
        {
          token: await sign({ expires: '-1m' }),
          expect: { code: 'ERR_JWT_EXPIRED', claim: 'exp' },
        },
        { token: await sign({ alg: 'HS256' }), expect: { code: 'ERR_JOSE_ALG_NOT_ALLOWED' } },
      ];
      for (const { token, expect: logged } of cases) {
        const before = lines.length;
        const response = await fetch(`${withJwt.url}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...bearer(token) },
          body: JSON.stringify({ query: '{ me { subject } }' }),
        });
        expect(response.status).toBe(401);
        const body = await response.text();
        expect(body).not.toMatch(/aud|iss|exp|alg|claim|another/i);
        const refusals = lines.slice(before).filter((l) => l.msg === 'JWT refused');
        expect(refusals).toHaveLength(1);
        expect(refusals[0]).toMatchObject({ level: 30, component: 'auth', jwt: logged });
        expect(JSON.stringify(refusals[0])).not.toContain(token);
      }
    } finally {
      await withJwt.stop();
    }
  });
});
