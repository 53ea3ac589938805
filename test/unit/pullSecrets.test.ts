// Unit tests for pull secret documents and credential matching.
// The rules: docs/rules.md#pull-secrets-which-key-serves-an-image.
import { describe, expect, it } from 'vitest';
import {
  matchCredential,
  parseDockerConfig,
  parseRegistryKey,
  rankCredentials,
} from '../../src/domain/pullSecrets.ts';

const b64 = (text: string) => btoa(String.fromCharCode(...new TextEncoder().encode(text)));
const doc = (auths: unknown) => JSON.stringify({ auths });

describe('parseDockerConfig', () => {
  it('reads auth, username/password, email and identitytoken', () => {
    const result = parseDockerConfig(
      JSON.stringify({
        auths: {
          'quay.io': { auth: b64('robot:s3cr:et'), email: 'me@example.com' },
          'https://index.docker.io/v1/': { username: 'hub', password: 'pw' },
          'registry.example.com:5000': { identitytoken: 'tok' },
        },
        credsStore: 'desktop',
      }),
    );
    expect(result).toEqual({
      ok: true,
      value: [
        { key: 'quay.io', username: 'robot', password: 's3cr:et', email: 'me@example.com' },
        { key: 'https://index.docker.io/v1/', username: 'hub', password: 'pw' },
        { key: 'registry.example.com:5000', username: '', password: '', identityToken: 'tok' },
      ],
    });
  });

  it('lets auth win over username/password, as docker does', () => {
    const result = parseDockerConfig(
      doc({ 'quay.io': { auth: b64('a:b'), username: 'x', password: 'y' } }),
    );
    expect(result).toMatchObject({ ok: true, value: [{ username: 'a', password: 'b' }] });
  });

  it('decodes UTF-8 credentials and tolerates whitespace in auth', () => {
    const encoded = b64('jörg:pässword');
    const spaced = `${encoded.slice(0, 4)}\n${encoded.slice(4)}`;
    expect(parseDockerConfig(doc({ 'quay.io': { auth: spaced } }))).toMatchObject({
      ok: true,
      value: [{ username: 'jörg', password: 'pässword' }],
    });
  });

  it.each([
    ['{not json', /^pull secret is not valid JSON: /],
    ['[]', /^pull secret must be a JSON object with an "auths" object/],
    ['{"quay.io":{"auth":"eDp5"}}', /^pull secret must be a JSON object with an "auths" object/],
    ['{"auths":[]}', /^pull secret must be a JSON object with an "auths" object/],
    ['{"auths":{}}', /^pull secret has no registries in "auths"$/],
    [doc({ 'quay.io': 'x' }), /^auths\["quay.io"\] must be an object$/],
    [doc({ 'quay.io': { auth: 5 } }), /^auths\["quay.io"\].auth must be a string$/],
    [doc({ 'quay.io': { username: 'a', password: ['b'] } }), /\.password must be a string$/],
    [doc({ 'quay.io': { auth: '!!!' } }), /^auths\["quay.io"\].auth is not valid base64 text$/],
    [doc({ 'quay.io': { auth: btoa('\xff\xfe:x') } }), /auth is not valid base64 text$/],
    [
      doc({ 'quay.io': { auth: b64('nocolon') } }),
      /^auths\["quay.io"\].auth must be base64 of "username:password" \(no ':' found\)$/,
    ],
    [doc({ 'quay.io': {} }), /^auths\["quay.io"\] has no credentials: give "auth"/],
    [doc({ 'quay.io': { username: 'a' } }), /has no credentials/],
    [doc({ 'quay.io': { auth: '' } }), /has no credentials/],
    [doc({ 'bad host!': { auth: b64('a:b') } }), /^registry "bad host!" must be a host name/],
    [doc({ 'ftp://x.io': { auth: b64('a:b') } }), /has a scheme other than http/],
  ])('rejects %s', (text, message) => {
    const result = parseDockerConfig(text);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error.code).toBe('VALIDATION');
      expect(result.error.message).toMatch(message);
    }
  });

  it('never echoes a password in an error', () => {
    const result = parseDockerConfig(doc({ 'quay.io': { auth: b64('hunter2') } }));
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.message).not.toContain('hunter2');
  });
});

describe('parseRegistryKey', () => {
  it.each([
    ['quay.io', { host: 'quay.io', port: '', path: [] }],
    ['Quay.IO', { host: 'quay.io', port: '', path: [] }],
    ['https://index.docker.io/v1/', { host: 'index.docker.io', port: '', path: [] }],
    ['http://r.example.com:5000/v2/', { host: 'r.example.com', port: '5000', path: [] }],
    ['quay.io/repository-main', { host: 'quay.io', port: '', path: ['repository-main'] }],
    ['https://quay.io/org/team/', { host: 'quay.io', port: '', path: ['org', 'team'] }],
    ['*.example.com:443/x', { host: '*.example.com', port: '443', path: ['x'] }],
    ['[::1]:5000', { host: '[::1]', port: '5000', path: [] }],
    ['localhost', { host: 'localhost', port: '', path: [] }],
  ])('%s', (key, expected) => {
    expect(parseRegistryKey(key)).toEqual({ ok: true, value: expected });
  });

  it.each(['', ':5000', 'quay.io:abc', 'a b', 'x.io:5000:1'])('rejects %j', (key) => {
    expect(parseRegistryKey(key)).toMatchObject({ ok: false, error: { code: 'VALIDATION' } });
  });
});

describe('matchCredential', () => {
  it('longest key wins: a path beats the bare host', () => {
    const keys = ['quay.io', 'quay.io/repository-main'];
    expect(matchCredential(keys, 'quay.io', 'repository-main/app')).toBe('quay.io/repository-main');
    expect(matchCredential(keys, 'quay.io', 'other/app')).toBe('quay.io');
  });

  it('matches paths by whole segments', () => {
    expect(matchCredential(['quay.io/repo'], 'quay.io', 'repository-main/app')).toBeNull();
    expect(matchCredential(['quay.io/repo'], 'quay.io', 'repo/app')).toBe('quay.io/repo');
    expect(matchCredential(['quay.io/repo/app'], 'quay.io', 'repo/app')).toBe('quay.io/repo/app');
    expect(matchCredential(['quay.io/repo/app/x'], 'quay.io', 'repo/app')).toBeNull();
  });

  it('prefers the deepest path', () => {
    const keys = ['quay.io/a', 'quay.io/a/b', 'quay.io'];
    expect(rankCredentials(keys, 'quay.io', 'a/b/c')).toEqual([
      'quay.io/a/b',
      'quay.io/a',
      'quay.io',
    ]);
  });

  it('matches hosts part by part with globs', () => {
    expect(matchCredential(['*.example.com'], 'registry.example.com', 'x')).toBe('*.example.com');
    expect(matchCredential(['*.example.com'], 'example.com', 'x')).toBeNull();
    expect(matchCredential(['*.example.com'], 'a.b.example.com', 'x')).toBeNull();
    expect(matchCredential(['*.*.example.com'], 'a.b.example.com', 'x')).toBe('*.*.example.com');
    expect(matchCredential(['reg*.example.com'], 'registry.example.com', 'x')).toBe(
      'reg*.example.com',
    );
    expect(matchCredential(['example.*'], 'example.org', 'x')).toBe('example.*');
    expect(matchCredential(['r?g.io'], 'reg.io', 'x')).toBe('r?g.io');
  });

  it('prefers an exact host over a glob at the same depth', () => {
    const keys = ['*.example.com', 'registry.example.com'];
    expect(rankCredentials(keys, 'registry.example.com', 'x')).toEqual([
      'registry.example.com',
      '*.example.com',
    ]);
  });

  it('but a deeper path with a glob beats a bare exact host', () => {
    expect(
      matchCredential(
        ['registry.example.com', '*.example.com/team'],
        'registry.example.com',
        'team/x',
      ),
    ).toBe('*.example.com/team');
  });

  it('requires equal ports', () => {
    expect(matchCredential(['r.io:5000'], 'r.io:5000', 'x')).toBe('r.io:5000');
    expect(matchCredential(['r.io:5000'], 'r.io', 'x')).toBeNull();
    expect(matchCredential(['r.io'], 'r.io:5000', 'x')).toBeNull();
    expect(matchCredential(['r.io:5000'], 'r.io:5001', 'x')).toBeNull();
    expect(matchCredential(['localhost:5000'], 'localhost:5000', 'x')).toBe('localhost:5000');
    expect(matchCredential(['[::1]:5000'], '[::1]:5000', 'x')).toBe('[::1]:5000');
  });

  it('strips schemes and compares hosts case-insensitively', () => {
    expect(matchCredential(['https://Quay.io/'], 'quay.io', 'a/b')).toBe('https://Quay.io/');
    expect(matchCredential(['http://quay.io/a'], 'QUAY.IO', 'a/b')).toBe('http://quay.io/a');
  });

  it.each(['docker.io', 'index.docker.io', 'registry-1.docker.io', 'https://index.docker.io/v1/'])(
    'uses %s for Docker Hub images',
    (key) => {
      expect(matchCredential([key, 'quay.io'], 'docker.io', 'library/ruby')).toBe(key);
      expect(matchCredential([key], 'index.docker.io', 'library/ruby')).toBe(key);
    },
  );

  it('matches Docker Hub paths against the normalised library/ path', () => {
    const keys = ['docker.io', 'docker.io/library'];
    expect(matchCredential(keys, 'docker.io', 'library/ruby')).toBe('docker.io/library');
    expect(matchCredential(keys, 'docker.io', 'openshift/origin')).toBe('docker.io');
  });

  it('does not use Docker Hub keys for other registries', () => {
    expect(
      matchCredential(['docker.io', 'https://index.docker.io/v1/'], 'quay.io', 'a'),
    ).toBeNull();
    expect(matchCredential(['docker.io'], 'docker.io:5000', 'a')).toBeNull();
  });

  it('skips keys that do not parse and returns null without keys', () => {
    expect(matchCredential(['bad host!', 'quay.io'], 'quay.io', 'a')).toBe('quay.io');
    expect(matchCredential([], 'quay.io', 'a')).toBeNull();
    expect(matchCredential(['quay.io'], 'not a host', 'a')).toBeNull();
  });

  it('orders equally specific keys stably', () => {
    expect(rankCredentials(['https://quay.io', 'quay.io'], 'quay.io', 'a')).toEqual([
      'https://quay.io',
      'quay.io',
    ]);
  });
});
