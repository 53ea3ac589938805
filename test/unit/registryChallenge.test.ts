// WWW-Authenticate parsing as registries send it.
import { describe, expect, it } from 'vitest';
import { parseChallenges } from '../../src/registry/challenge.ts';

describe('parseChallenges', () => {
  it('reads a Bearer challenge with quoted values holding commas and colons', () => {
    expect(
      parseChallenges(
        'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:a/b:pull,push",error="insufficient_scope"',
      ),
    ).toEqual([
      {
        scheme: 'bearer',
        params: {
          realm: 'https://auth.docker.io/token',
          service: 'registry.docker.io',
          scope: 'repository:a/b:pull,push',
          error: 'insufficient_scope',
        },
      },
    ]);
  });

  it('reads unquoted values, spaces, escapes and several challenges', () => {
    expect(parseChallenges('Basic realm=test , Bearer  Realm = "a \\"q\\" b", x=1')).toEqual([
      { scheme: 'basic', params: { realm: 'test' } },
      { scheme: 'bearer', params: { realm: 'a "q" b', x: '1' } },
    ]);
  });

  it('merges repeated headers and tolerates empty or malformed input', () => {
    expect(parseChallenges(['Basic realm="r"', 'Bearer realm="t"']).map((c) => c.scheme)).toEqual([
      'basic',
      'bearer',
    ]);
    expect(parseChallenges(undefined)).toEqual([]);
    expect(parseChallenges('')).toEqual([]);
    expect(parseChallenges('Bearer')).toEqual([{ scheme: 'bearer', params: {} }]);
    expect(parseChallenges('Bearer realm="unterminated')).toEqual([
      { scheme: 'bearer', params: { realm: 'unterminated' } },
    ]);
  });
});
