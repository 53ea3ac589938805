// Name rules of the object model: namespaces, streams, tags, labels, annotations.
// The rules: docs/rules.md#names-and-their-limits.
import { fail, type Result } from '../errors.ts';

/** One thing wrong with an input, aimed at the input field that caused it. */
export interface Problem {
  field: string;
  message: string;
}

/**
 * Codes match the service layer's error classes (src/errors.ts) so a service can map a domain
 * failure to a typed GraphQL error without a lookup table.
 */
export type DomainErrorCode = 'VALIDATION' | 'NOT_FOUND' | 'CONFLICT';

export interface DomainError {
  code: DomainErrorCode;
  message: string;
  field?: string;
  /** For ambiguous short image ids: every digest that matched, sorted. */
  candidates?: string[];
}

/** A pure rule's failure; `field` names the input at fault when one is. */
export function domainError(code: DomainErrorCode, message: string, field?: string): DomainError {
  return field === undefined ? { code, message } : { code, message, field };
}

/** Folds problems into one VALIDATION error: every message, aimed at the first field. */
export function failWith<T = never>(problems: Problem[]): Result<T, DomainError> {
  return fail(
    domainError('VALIDATION', problems.map((p) => p.message).join('; '), problems[0]?.field),
  );
}

const DNS1123_LABEL = /^[a-z0-9](?:[-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9](?:[-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9](?:[-a-z0-9]*[a-z0-9])?)*$/;
// Kubernetes' qualified-name part; also the charset of a non-empty label value.
const QUALIFIED_NAME = /^(?:[A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
// The repository path component of docker/distribution with OpenShift's simpler separators.
const STREAM_NAME = /^[a-z0-9]+(?:[._-][a-z0-9]+)*$/;
const TAG_NAME = /^\w[\w.-]{0,127}$/;

const LABEL_MAX = 63;
const SUBDOMAIN_MAX = 253;
const FULL_NAME_MAX = 255;
/** Kubernetes' TotalAnnotationSizeLimitB: keys plus values, in bytes. */
export const ANNOTATIONS_MAX_BYTES = 256 * 1024;

const LABEL_RULE =
  "lowercase letters, digits and '-', starting and ending with a letter or digit, " +
  'at most 63 characters';
const SUBDOMAIN_RULE =
  "lowercase letters, digits, '-' and '.', starting and ending with a letter or digit, " +
  'at most 253 characters';
const QUALIFIED_RULE =
  "at most 63 characters of letters, digits, '-', '_' and '.', " +
  'starting and ending with a letter or digit';

export function isDns1123Label(value: string): boolean {
  return value.length <= LABEL_MAX && DNS1123_LABEL.test(value);
}

export function isDns1123Subdomain(value: string): boolean {
  return value.length <= SUBDOMAIN_MAX && DNS1123_SUBDOMAIN.test(value);
}

function single(field: string, message: string): Problem[] {
  return [{ field, message }];
}

/** A namespace (project) name: a DNS-1123 label. */
export function validateNamespace(value: string, field = 'namespace'): Problem[] | null {
  if (isDns1123Label(value)) return null;
  return single(field, `namespace "${value}" must be a DNS-1123 label: ${LABEL_RULE}`);
}

/**
 * An image stream name, and the whole `<ns>/<name>` within the 255 characters a registry
 * repository name may have (the stream's pull spec path is exactly that).
 */
export function validateStreamName(
  namespace: string,
  name: string,
  field = 'name',
): Problem[] | null {
  const problems: Problem[] = [];
  if (!STREAM_NAME.test(name)) {
    problems.push({
      field,
      message:
        `image stream name "${name}" must be lowercase letters and digits, optionally ` +
        "separated by single '.', '_' or '-' (e.g. \"ruby\", \"my-app.v2\")",
    });
  }
  const full = `${namespace}/${name}`;
  if (full.length > FULL_NAME_MAX) {
    problems.push({
      field,
      message: `"${full}" is ${full.length} characters; namespace, '/' and image stream name together must be at most ${FULL_NAME_MAX}`,
    });
  }
  return problems.length > 0 ? problems : null;
}

export function validateTagName(name: string, field = 'tag'): Problem[] | null {
  if (TAG_NAME.test(name)) return null;
  return single(
    field,
    `tag "${name}" must start with a letter, digit or '_' and contain only letters, digits, ` +
      "'_', '.' and '-', at most 128 characters",
  );
}

/**
 * Kubernetes IsQualifiedName: `[prefix/]name`; `what` names the thing in messages. With
 * `foldCase` the key is checked lowercased but quoted as written.
 */
function qualifiedNameProblems(key: string, what: string, foldCase = false): string[] {
  if (key === '') return [`${what} must not be empty`];
  const parts = (foldCase ? key.toLowerCase() : key).split('/');
  const shown = key.split('/');
  if (parts.length > 2) {
    return [
      `${what} "${key}" may contain at most one '/' (an optional DNS-1123 subdomain prefix, then a name)`,
    ];
  }
  const messages: string[] = [];
  const name = parts.length === 2 ? parts[1]! : parts[0]!;
  const shownName = shown.length === 2 ? shown[1]! : shown[0]!;
  if (parts.length === 2) {
    const prefix = parts[0]!;
    if (prefix === '') {
      messages.push(`${what} "${key}" has an empty prefix before '/'`);
    } else if (!isDns1123Subdomain(prefix)) {
      messages.push(
        `${what} "${key}": prefix "${shown[0]}" must be a DNS-1123 subdomain: ${SUBDOMAIN_RULE}`,
      );
    }
  }
  if (name === '') {
    messages.push(`${what} "${key}" has an empty name after '/'`);
  } else if (name.length > LABEL_MAX || !QUALIFIED_NAME.test(name)) {
    messages.push(`${what} "${key}": name "${shownName}" must be ${QUALIFIED_RULE}`);
  }
  return messages;
}

export interface KeyValue {
  key: string;
  value: string;
}

/**
 * Records report problems against the whole field (`labels`); lists of `{key, value}` against
 * the entry (`labels.2.key`), which is what a GraphQL input looks like.
 */
export type Entries = Record<string, string> | readonly KeyValue[];

function entriesOf(input: Entries, field: string): { key: string; value: string; at: string }[] {
  if (Array.isArray(input)) {
    return input.map((e: KeyValue, i) => ({ key: e.key, value: e.value, at: `${field}.${i}` }));
  }
  return Object.entries(input).map(([key, value]) => ({ key, value, at: field }));
}

function sub(at: string, base: string, part: 'key' | 'value'): string {
  return at === base ? base : `${at}.${part}`;
}

export function validateLabels(labels: Entries, field = 'labels'): Problem[] | null {
  const problems: Problem[] = [];
  for (const { key, value, at } of entriesOf(labels, field)) {
    for (const message of qualifiedNameProblems(key, 'label key')) {
      problems.push({ field: sub(at, field, 'key'), message });
    }
    if (value !== '' && (value.length > LABEL_MAX || !QUALIFIED_NAME.test(value))) {
      problems.push({
        field: sub(at, field, 'value'),
        message: `label value "${value}" for key "${key}" must be empty or ${QUALIFIED_RULE}`,
      });
    }
  }
  return problems.length > 0 ? problems : null;
}

const encoder = new TextEncoder();

/**
 * Keys are checked like Kubernetes does it: lowercased first, so `Example.com/Key` is fine for
 * an annotation (not for a label). Values are free text; only the total size is capped.
 */
export function validateAnnotations(annotations: Entries, field = 'annotations'): Problem[] | null {
  const problems: Problem[] = [];
  let bytes = 0;
  for (const { key, value, at } of entriesOf(annotations, field)) {
    for (const message of qualifiedNameProblems(key, 'annotation key', true)) {
      problems.push({ field: sub(at, field, 'key'), message });
    }
    bytes += encoder.encode(key).length + encoder.encode(value).length;
  }
  if (bytes > ANNOTATIONS_MAX_BYTES) {
    problems.push({
      field,
      message: `annotations total ${bytes} bytes (keys plus values); they must be at most ${ANNOTATIONS_MAX_BYTES} bytes (256 KiB)`,
    });
  }
  return problems.length > 0 ? problems : null;
}
