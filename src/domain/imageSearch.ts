// What findImage looks for, parsed once: a digest prefix or a pull spec (docs/queries.md,
// "Finding an image").
import { fail, ok, type Result } from '../errors.ts';
import { type DomainError, domainError } from './names.ts';
import { formatReference, parseDockerReference } from './references.ts';

/** Hex digits a digest prefix needs at least: what `oc` and docker print as a short id. */
export const MIN_DIGEST_PREFIX_HEX = 7;
const SHA256_HEX_LENGTH = 64;
/** Longer than any valid pull spec (a 255-character name, a 128-character tag, a digest). */
export const MAX_PULL_SPEC_LENGTH = 1024;

/**
 * A search: `digest` finds history items whose image digest starts with `prefix` (`sha256:` and
 * 7 to 64 lowercase hex digits; a whole digest is the longest prefix); `reference` finds items
 * recorded under exactly this canonical pull spec.
 */
export type ImageSearch =
  | { kind: 'digest'; prefix: string }
  | { kind: 'reference'; reference: string };

function invalid(message: string, field: string): Result<never, DomainError> {
  return fail(domainError('VALIDATION', message, field));
}

/**
 * `sha256:<hex>` or bare `<hex>`, either case, with 7 to 64 hex digits: the lowercase
 * `sha256:<hex>` prefix. A shorter prefix would match much of a large registry's images.
 */
export function parseDigestPrefix(input: string, field: string): Result<string, DomainError> {
  const lowered = input.toLowerCase();
  const hex = lowered.startsWith('sha256:') ? lowered.slice('sha256:'.length) : lowered;
  if (!/^[0-9a-f]*$/.test(hex) || hex.length > SHA256_HEX_LENGTH) {
    return invalid(
      `"${input.slice(0, 80)}" is not a digest prefix: give 'sha256:' and hex digits, or hex ` +
        `digits alone (${MIN_DIGEST_PREFIX_HEX} to ${SHA256_HEX_LENGTH})`,
      field,
    );
  }
  if (hex.length < MIN_DIGEST_PREFIX_HEX) {
    return invalid(
      `a digest prefix needs at least ${MIN_DIGEST_PREFIX_HEX} hex digits, "${input}" has ${hex.length}`,
      field,
    );
  }
  return ok(`sha256:${hex}`);
}

/**
 * Exactly one of a digest prefix and a pull spec. A pull spec with a digest
 * (`quay.io/x/y@sha256:…`, tagged or not) searches by that digest, wherever the image was
 * pulled from; one with a tag only searches by the canonical pull spec
 * (`ruby:3` → `docker.io/library/ruby:3`).
 */
export function parseImageSearch(args: {
  digest?: string | null;
  pullSpec?: string | null;
}): Result<ImageSearch, DomainError> {
  const { digest, pullSpec } = args;
  if ((digest == null) === (pullSpec == null)) {
    return invalid(
      'give exactly one of "digest" and "pullSpec"',
      digest == null ? 'digest' : 'pullSpec',
    );
  }
  if (digest != null) {
    const prefix = parseDigestPrefix(digest, 'digest');
    return prefix.ok ? ok({ kind: 'digest', prefix: prefix.value }) : prefix;
  }
  const spec = pullSpec!;
  if (spec.length > MAX_PULL_SPEC_LENGTH) {
    return invalid(`a pull spec has at most ${MAX_PULL_SPEC_LENGTH} characters`, 'pullSpec');
  }
  const parsed = parseDockerReference(spec, 'pullSpec');
  if (!parsed.ok) return parsed;
  if (parsed.value.digest !== undefined) return ok({ kind: 'digest', prefix: parsed.value.digest });
  return ok({ kind: 'reference', reference: formatReference(parsed.value) });
}
