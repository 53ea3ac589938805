// Unit tests for short image ids (docs/rules.md#short-image-ids).
import { describe, expect, it } from 'vitest';
import { normalizeImageId, resolveImageId } from '../../src/domain/shortIds.ts';

const A = `sha256:3a335d7d8a452970c5b4054ad7118ff134b3a6b50a2bb6d0c07c746e8986b28e`;
const B = `sha256:3a3${'0'.repeat(61)}`;
const C = `sha256:909de62d1f609a717ec433cc25ca5cf00941545c83a01fb31527771e1fab3fc5`;

describe('normalizeImageId', () => {
  it.each([
    ['3a335d7', '3a335d7'],
    ['sha256:3a335d7', '3a335d7'],
    ['SHA256:3A335D7', '3a335d7'],
    [' 3a3 ', '3a3'],
    ['a', 'a'],
    [A, A.slice(7)],
  ])('%s → %s', (input, hex) => {
    expect(normalizeImageId(input)).toEqual({ ok: true, value: hex });
  });

  it.each(['', 'sha256:', '   '])('rejects the empty id %j', (input) => {
    const result = normalizeImageId(input);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error.code).toBe('VALIDATION');
      expect(result.error.message).toBe(
        `image id "${input}" is empty; give a prefix of the digest's hex`,
      );
    }
  });

  it.each(['xyz', 'sha512:abc', 'sha2', '3a3-5', `${A}0`])('rejects %s', (input) => {
    const result = normalizeImageId(input);
    expect(result).toEqual({
      ok: false,
      error: {
        code: 'VALIDATION',
        message: `image id "${input}" must be a prefix of a sha256 digest: up to 64 hex digits, optionally after 'sha256:'`,
      },
    });
  });
});

describe('resolveImageId', () => {
  it('resolves a unique prefix, with or without sha256:', () => {
    expect(resolveImageId('3a335d7', [A, C])).toEqual({ ok: true, value: A });
    expect(resolveImageId('sha256:909d', [A, C])).toEqual({ ok: true, value: C });
    expect(resolveImageId('9', [A, C])).toEqual({ ok: true, value: C });
  });

  it('resolves a full digest', () => {
    expect(resolveImageId(A, [A, B, C])).toEqual({ ok: true, value: A });
  });

  it('counts the same digest seen in several histories once', () => {
    expect(resolveImageId('3a335', [A, C, A, A])).toEqual({ ok: true, value: A });
  });

  it('is not found when nothing matches', () => {
    expect(resolveImageId('ffff', [A, C])).toEqual({
      ok: false,
      error: { code: 'NOT_FOUND', message: 'no image in this image stream matches the id "ffff"' },
    });
    expect(resolveImageId('3a3', [])).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
  });

  it('is a conflict listing sorted candidates when several distinct images match', () => {
    expect(resolveImageId('3a3', [A, C, B, A])).toEqual({
      ok: false,
      error: {
        code: 'CONFLICT',
        message: `the id "3a3" is ambiguous: 2 images match (${B}, ${A}); use a longer prefix`,
        candidates: [B, A],
      },
    });
  });

  it('passes validation errors through', () => {
    expect(resolveImageId('zz', [A])).toMatchObject({ ok: false, error: { code: 'VALIDATION' } });
  });

  it('only matches the hex, never the text sha256: itself', () => {
    // OpenShift's plain string prefix would let "sha" match every image.
    expect(resolveImageId('sha', [A, C])).toMatchObject({
      ok: false,
      error: { code: 'VALIDATION' },
    });
  });
});
