// Short image ids in `<stream>@<id>`: normalising a prefix, resolving it.
// The rules: docs/rules.md#short-image-ids.
import { fail, ok, type Result } from '../errors.ts';
import { type DomainError, domainError } from './names.ts';

const HEX = /^[0-9a-f]+$/;
const SHA256_PREFIX = 'sha256:';
const SHA256_HEX_LENGTH = 64;

/**
 * Turns `3a335d7`, `sha256:3a335d7` or `SHA256:3A33…` into the lowercase hex prefix `3a335d7`.
 *
 * Minimum length: one hex digit. OpenShift accepts any prefix (its docs show 7 characters,
 * `ruby@3a335d7`); a prefix that is too short cannot resolve to a wrong image, only to the
 * ambiguity error below, so a longer minimum would only refuse ids that work. The empty id and
 * a bare `sha256:` are refused because they would match every image. Unlike OpenShift, which
 * also matches a prefix of the text `sha256:` itself (so `sha` matched every image), only the
 * hex part is a prefix here.
 */
export function normalizeImageId(id: string): Result<string, DomainError> {
  const lowered = id.trim().toLowerCase();
  const hex = lowered.startsWith(SHA256_PREFIX) ? lowered.slice(SHA256_PREFIX.length) : lowered;
  if (hex === '') {
    return fail(
      domainError('VALIDATION', `image id "${id}" is empty; give a prefix of the digest's hex`),
    );
  }
  if (!HEX.test(hex) || hex.length > SHA256_HEX_LENGTH) {
    return fail(
      domainError(
        'VALIDATION',
        `image id "${id}" must be a prefix of a sha256 digest: up to 64 hex digits, ` +
          "optionally after 'sha256:'",
      ),
    );
  }
  return ok(hex);
}

/**
 * Finds the one digest among `candidateDigests` (every history item of the stream, manifest
 * list children included; duplicates welcome) that the id is a prefix of.
 */
export function resolveImageId(
  id: string,
  candidateDigests: readonly string[],
): Result<string, DomainError> {
  const normalized = normalizeImageId(id);
  if (!normalized.ok) return normalized;
  const prefix = SHA256_PREFIX + normalized.value;
  const matches = [...new Set(candidateDigests.filter((d) => d.startsWith(prefix)))].sort();
  if (matches.length === 0) {
    return fail(domainError('NOT_FOUND', `no image in this image stream matches the id "${id}"`));
  }
  if (matches.length > 1) {
    return {
      ok: false,
      error: {
        code: 'CONFLICT',
        message: `the id "${id}" is ambiguous: ${matches.length} images match (${matches.join(', ')}); use a longer prefix`,
        candidates: matches,
      },
    };
  }
  return ok(matches[0]!);
}
