// Property-based fuzzing (fast-check) of the reference parsers: any input gives a result, never
// an exception, and what parses formats back to a reference that parses to the same thing.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  formatReference,
  parseDockerReference,
  parseImageStreamImageRef,
  parseImageStreamTagRef,
} from '../../src/domain/references.ts';

const referenceChars = fc.constantFrom(
  ...'abcxyz019-._:/@ABZ'.split(''),
  'sha256:',
  'localhost',
  ':5000',
  '[::1]',
  '/library/',
);
const referenceLike = fc.array(referenceChars, { maxLength: 40 }).map((parts) => parts.join(''));

const component = fc.stringMatching(/^[a-z0-9]{1,8}(?:[._-][a-z0-9]{1,8}){0,2}$/);
const validReference = fc
  .record({
    registry: fc.constantFrom('docker.io', 'quay.io', 'localhost:5000', '127.0.0.1:8080'),
    path: fc.array(component, { minLength: 1, maxLength: 3 }),
    tag: fc.option(fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,20}$/), { nil: undefined }),
    digest: fc.option(fc.stringMatching(/^[0-9a-f]{64}$/), { nil: undefined }),
  })
  .map(({ registry, path, tag, digest }) => ({
    text: `${registry}/${path.join('/')}${tag ? `:${tag}` : ''}${digest ? `@sha256:${digest}` : ''}`,
  }));

describe('reference parsers under fuzzing', () => {
  it('never throw, and every refusal carries a message', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 80 }), referenceLike), (input) => {
        for (const result of [
          parseDockerReference(input, 'from'),
          parseImageStreamTagRef(input, 'ns', undefined, 'ref'),
          parseImageStreamImageRef(input, 'ns', undefined, 'ref'),
        ]) {
          if (!result.ok) expect(result.error.message.length).toBeGreaterThan(0);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('round-trips valid pull specs through formatReference', () => {
    fc.assert(
      fc.property(validReference, ({ text }) => {
        const parsed = parseDockerReference(text);
        expect(parsed.ok, text).toBe(true);
        if (!parsed.ok) return;
        const again = parseDockerReference(formatReference(parsed.value));
        expect(again).toEqual(parsed);
      }),
      { numRuns: 1000 },
    );
  });
});
