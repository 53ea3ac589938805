// What text Postgres can store: text and jsonb refuse U+0000, jsonb refuses a lone UTF-16
// surrogate. One test for a string, and one walk of a parsed JSON document for the first string
// or object key that fails it.

const NUL = '\u0000';
/** With the `u` flag a surrogate pair is one code point: only an unpaired half matches. */
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

/** Deeper than any manifest or image config nests; a deeper document is refused as such. */
export const MAX_DOCUMENT_DEPTH = 64;

/** A path longer than this is cut short, so a huge key cannot blow up a message. */
const MAX_PATH_LENGTH = 200;

/** What makes `text` unstorable, or null. */
export function unstorable(text: string): string | null {
  if (text.includes(NUL)) return 'contains a NUL character (U+0000), which no stored text may hold';
  if (LONE_SURROGATE.test(text)) {
    return 'contains a lone UTF-16 surrogate: it is not well-formed Unicode';
  }
  return null;
}

/**
 * The first string or object key of `value` (a parsed JSON document) that cannot be stored, as
 * `Env[1] contains a NUL character …` or `a key of Labels contains …`; null when every one can.
 * The path names keys only when they are themselves storable, so the sentence always is.
 * A document nested deeper than MAX_DOCUMENT_DEPTH is reported rather than walked.
 */
export function firstUnstorableText(value: unknown): string | null {
  return walk(value, '', 0);
}

function walk(value: unknown, path: string, depth: number): string | null {
  if (typeof value === 'string') {
    const wrong = unstorable(value);
    return wrong ? `${shown(path)} ${wrong}` : null;
  }
  if (typeof value !== 'object' || value === null) return null;
  if (depth >= MAX_DOCUMENT_DEPTH) {
    return `${shown(path)} is nested more than ${MAX_DOCUMENT_DEPTH} levels deep`;
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = walk(value[i], `${path}[${i}]`, depth + 1);
      if (found) return found;
    }
    return null;
  }
  for (const [key, item] of Object.entries(value)) {
    const wrongKey = unstorable(key);
    if (wrongKey)
      return path === '' ? `a top-level key ${wrongKey}` : `a key of ${shown(path)} ${wrongKey}`;
    const found = walk(item, path === '' ? key : `${path}.${key}`, depth + 1);
    if (found) return found;
  }
  return null;
}

function shown(path: string): string {
  if (path === '') return 'the document';
  return path.length > MAX_PATH_LENGTH ? `${path.slice(0, MAX_PATH_LENGTH - 3)}...` : path;
}
