// The walk that finds text Postgres cannot store in a parsed registry document.
import { describe, expect, it } from 'vitest';
import {
  firstUnstorableText,
  MAX_DOCUMENT_DEPTH,
  unstorable,
} from '../../src/domain/storableText.ts';

describe('firstUnstorableText', () => {
  it('accepts ordinary text, surrogate pairs and U+FFFD', () => {
    const doc = { config: { Env: ['A=1', 'EMOJI=😀'], Labels: { 'x😀': '\uFFFD' } }, n: 1 };
    expect(firstUnstorableText(doc)).toBeNull();
  });

  it('names the value that holds a NUL by its path', () => {
    const doc = { config: { Env: ['A=1', 'B=\u0000'] } };
    expect(firstUnstorableText(doc)).toBe(`config.Env[1] ${unstorable('\u0000')}`);
  });

  it('names a bad key by its parent, never quoting the key itself', () => {
    const found = firstUnstorableText({ config: { Labels: { '\uD800a': 'b\u0000' } } });
    expect(found).toBe(
      'a key of config.Labels contains a lone UTF-16 surrogate: it is not well-formed Unicode',
    );
    expect(unstorable(found!)).toBeNull();
    expect(firstUnstorableText({ '\uDFFF': 1 })).toMatch(/^a top-level key contains a lone/);
  });

  it('cuts a long path short so a huge key cannot flood the message', () => {
    const found = firstUnstorableText({ ['k'.repeat(100_000)]: '\u0000' });
    expect(found!.length).toBeLessThan(400);
  });

  it('reports a document nested past the limit instead of walking it', () => {
    let deep: unknown = '\u0000';
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(firstUnstorableText(deep)).toMatch(
      new RegExp(`nested more than ${MAX_DOCUMENT_DEPTH} levels deep$`),
    );
  });
});
