// findImage's search arguments: digest prefixes and pull specs parsed into one typed search.
import { describe, expect, it } from 'vitest';
import { parseDigestPrefix, parseImageSearch } from '../../src/domain/imageSearch.ts';

const DIGEST = `sha256:${'ab'.repeat(32)}`;

describe('parseDigestPrefix', () => {
  it.each([
    ['sha256:abcdef0', 'sha256:abcdef0'],
    ['abcdef0', 'sha256:abcdef0'],
    ['SHA256:ABCDEF0', 'sha256:abcdef0'],
    [DIGEST, DIGEST],
  ])('reads %s as %s', (input, prefix) => {
    expect(parseDigestPrefix(input, 'digest')).toEqual({ ok: true, value: prefix });
  });

  it.each([
    ['abcdef', /at least 7/],
    ['sha256:', /at least 7/],
    ['', /at least 7/],
    ['sha256:abcdefg', /not a digest prefix/],
    ['sha512:abcdef0', /not a digest prefix/],
    [' abcdef0', /not a digest prefix/],
    [`${DIGEST}0`, /not a digest prefix/],
  ])('refuses %j', (input, message) => {
    const parsed = parseDigestPrefix(input, 'digest');
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) {
      expect(parsed.error.message).toMatch(message);
      expect(parsed.error.field).toBe('digest');
    }
  });
});

describe('parseImageSearch', () => {
  it('searches a pull spec with a digest by the digest, tagged or not', () => {
    for (const pullSpec of [`quay.io/x/app@${DIGEST}`, `quay.io/x/app:1@${DIGEST}`]) {
      expect(parseImageSearch({ pullSpec })).toEqual({
        ok: true,
        value: { kind: 'digest', prefix: DIGEST },
      });
    }
  });

  it('searches a tagged pull spec by its canonical form', () => {
    expect(parseImageSearch({ pullSpec: 'ruby' })).toEqual({
      ok: true,
      value: { kind: 'reference', reference: 'docker.io/library/ruby:latest' },
    });
  });

  it('takes exactly one of the two, naming the argument at fault', () => {
    const both = parseImageSearch({ digest: DIGEST, pullSpec: 'ruby' });
    const neither = parseImageSearch({ digest: null });
    expect(both.ok || both.error.field).toBe('pullSpec');
    expect(neither.ok || neither.error.field).toBe('digest');
  });

  it('refuses an overlong pull spec before parsing it', () => {
    const parsed = parseImageSearch({ pullSpec: `quay.io/${'a/'.repeat(600)}x` });
    expect(parsed.ok || parsed.error.message).toMatch(/at most 1024/);
  });
});
