// The filters of the stream, tag and tag-history lists, parsed once into typed values: Kubernetes label
// selectors, name matches and tag kinds, each bounded (docs/queries.md).
import { ok, type Result } from '../errors.ts';
import {
  type DomainError,
  failWith,
  type KeyValue,
  type Problem,
  validateLabels,
} from './names.ts';
import { normalizeImageId } from './shortIds.ts';

/** A selector longer than this is refused before it is read. */
export const MAX_SELECTOR_LENGTH = 1024;
/** Requirements (comma-separated terms) in one selector, pairs in `labels` included. */
export const MAX_SELECTOR_TERMS = 20;
/** Values in one `in (…)` / `notin (…)` set. */
export const MAX_SET_VALUES = 20;
/** A name prefix or substring longer than any stream name can match nothing: refused. */
export const MAX_NAME_MATCH_LENGTH = 255;

/**
 * One requirement of a label selector: `in` with one value is `key=value`, `notin` with one value
 * `key!=value` (which, as in Kubernetes, also matches objects without the key).
 */
export type LabelRequirement =
  | { key: string; op: 'in' | 'notin'; values: string[] }
  | { key: string; op: 'exists' | 'notexists' };

type Token =
  | { kind: 'word'; text: string; at: number }
  | { kind: '=' | '!=' | '!' | '(' | ')' | ','; at: number };

const WORD = /[A-Za-z0-9_./-]/;

function tokenize(selector: string): Token[] | string {
  const tokens: Token[] = [];
  let i = 0;
  while (i < selector.length) {
    const c = selector[i]!;
    if (c === ' ' || c === '\t') {
      i++;
    } else if (c === '!' && selector[i + 1] === '=') {
      tokens.push({ kind: '!=', at: i });
      i += 2;
    } else if (c === '=') {
      tokens.push({ kind: '=', at: i });
      i += selector[i + 1] === '=' ? 2 : 1;
    } else if (c === '!' || c === '(' || c === ')' || c === ',') {
      tokens.push({ kind: c, at: i });
      i++;
    } else if (WORD.test(c)) {
      const start = i;
      while (i < selector.length && WORD.test(selector[i]!)) i++;
      tokens.push({ kind: 'word', text: selector.slice(start, i), at: start });
    } else {
      return `unexpected character "${c}" at position ${i + 1}`;
    }
  }
  return tokens;
}

/**
 * Reads `app=web,tier!=db,env in (a,b),!legacy,release` (Kubernetes' label-selector syntax, without
 * the numeric `<`/`>` operators, which labels of image streams have no use for). Keys and values
 * follow the label rules (docs/rules.md#names-and-their-limits). Problems name `field`.
 */
export function parseLabelSelector(
  selector: string,
  field: string,
): Result<LabelRequirement[], DomainError> {
  const problem = (message: string) => failWith<LabelRequirement[]>([{ field, message }]);
  if (selector.length > MAX_SELECTOR_LENGTH) {
    return problem(`label selector is longer than ${MAX_SELECTOR_LENGTH} characters`);
  }
  const tokens = tokenize(selector);
  if (typeof tokens === 'string') return problem(`label selector: ${tokens}`);
  const requirements: LabelRequirement[] = [];
  let i = 0;
  const peek = () => tokens[i];
  const where = () => {
    const token = peek();
    return token ? `at position ${token.at + 1}` : 'at the end';
  };
  const word = (): string | null => {
    const token = peek();
    if (token?.kind !== 'word') return null;
    i++;
    return token.text;
  };
  while (i < tokens.length) {
    let requirement: LabelRequirement;
    if (peek()?.kind === '!') {
      i++;
      const key = word();
      if (key === null) return problem(`label selector: a key was expected after "!" ${where()}`);
      requirement = { key, op: 'notexists' };
    } else {
      const key = word();
      if (key === null) return problem(`label selector: a key was expected ${where()}`);
      const next = peek();
      if (next === undefined || next.kind === ',') {
        requirement = { key, op: 'exists' };
      } else if (next.kind === '=' || next.kind === '!=') {
        i++;
        // `key=` selects the empty value.
        const value = word() ?? '';
        requirement = { key, op: next.kind === '=' ? 'in' : 'notin', values: [value] };
      } else if (next.kind === 'word' && (next.text === 'in' || next.text === 'notin')) {
        i++;
        if (peek()?.kind !== '(') {
          return problem(`label selector: "(" was expected after "${next.text}" ${where()}`);
        }
        i++;
        const values: string[] = [];
        for (;;) {
          const value = peek();
          if (value?.kind === 'word') {
            values.push(value.text);
            i++;
          } else if (value?.kind === ',' || value?.kind === ')') {
            // An empty member: the empty value.
            values.push('');
          } else {
            return problem(`label selector: a value or ")" was expected ${where()}`);
          }
          const separator = peek();
          if (separator?.kind === ')') {
            i++;
            break;
          }
          if (separator?.kind !== ',') {
            return problem(`label selector: "," or ")" was expected ${where()}`);
          }
          i++;
        }
        if (values.length > MAX_SET_VALUES) {
          return problem(
            `label selector: the set of "${key}" has ${values.length} values; at most ${MAX_SET_VALUES}`,
          );
        }
        requirement = { key, op: next.text, values };
      } else {
        return problem(
          `label selector: "=", "!=", "in", "notin" or "," was expected after "${key}" ${where()}`,
        );
      }
    }
    requirements.push(requirement);
    if (requirements.length > MAX_SELECTOR_TERMS) {
      return problem(`label selector has more than ${MAX_SELECTOR_TERMS} requirements`);
    }
    if (i < tokens.length) {
      if (peek()?.kind !== ',') {
        return problem(`label selector: "," was expected ${where()}`);
      }
      i++;
      if (i === tokens.length) return problem('label selector ends with ","');
    }
  }
  const labelProblems = requirements.flatMap((r) =>
    (r.op === 'in' || r.op === 'notin' ? r.values : ['']).flatMap(
      (value) => validateLabels([{ key: r.key, value }], field) ?? [],
    ),
  );
  if (labelProblems.length > 0) {
    return failWith(labelProblems.map((p) => ({ field, message: `label selector: ${p.message}` })));
  }
  return ok(requirements);
}

/** The kinds of tag a list can be narrowed to; each tag has exactly one (docs/queries.md). */
export const TAG_KINDS = [
  'PERMANENT',
  'TRACKING',
  'REFERENCE',
  'EXTERNAL',
  'SCHEDULED',
  'POLICY',
  'STATUS_ONLY',
] as const;
export type TagKind = (typeof TAG_KINDS)[number];

/** The spec columns a tag's kind is read from. */
export interface TagKindColumns {
  specGeneration: number | null;
  reference: boolean;
  fromKind: 'DockerImage' | 'ImageStreamTag' | 'ImageStreamImage' | null;
  importScheduled: boolean;
  /** A policy tag's policy (docs/policy-tags.md); only whether there is one matters here. */
  policy: unknown;
}

/**
 * What `tag` made of a tag (docs/rules.md#tag-kinds): a reference, a tracking tag (`from` another
 * tag of the stream), a permanent one (pinned to an image), a policy tag (a repository and a
 * policy that picks its tag, scheduled or not), an external one (a pull spec, scheduled or not);
 * or status only, made by a push. Null for a spec with no source.
 */
export function tagKindOf(tag: TagKindColumns): TagKind | null {
  if (tag.specGeneration === null) return 'STATUS_ONLY';
  if (tag.reference) return 'REFERENCE';
  switch (tag.fromKind) {
    case 'ImageStreamTag':
      return 'TRACKING';
    case 'ImageStreamImage':
      return 'PERMANENT';
    case 'DockerImage':
      // A policy tag is a policy tag whether or not it is scheduled: never EXTERNAL or SCHEDULED.
      if (tag.policy != null) return 'POLICY';
      return tag.importScheduled ? 'SCHEDULED' : 'EXTERNAL';
    default:
      return null;
  }
}

export interface NameMatch {
  prefix: string | null;
  contains: string | null;
}

export interface StreamFilter extends NameMatch {
  labels: LabelRequirement[];
}

export interface TagFilter extends NameMatch {
  kinds: TagKind[] | null;
  importFailing: boolean | null;
  hasImage: boolean | null;
  updatedAfter: Date | null;
  updatedBefore: Date | null;
}

export interface StreamFilterInput {
  namePrefix?: string | null;
  nameContains?: string | null;
  labels?: readonly KeyValue[] | null;
  labelSelector?: string | null;
}

export interface TagFilterInput {
  namePrefix?: string | null;
  nameContains?: string | null;
  kinds?: readonly TagKind[] | null;
  importFailing?: boolean | null;
  hasImage?: boolean | null;
  updatedAfter?: Date | null;
  updatedBefore?: Date | null;
}

function nameMatch(
  input: { namePrefix?: string | null; nameContains?: string | null },
  field: string,
  problems: Problem[],
): NameMatch {
  for (const name of ['namePrefix', 'nameContains'] as const) {
    const value = input[name];
    if (value != null && value.length > MAX_NAME_MATCH_LENGTH) {
      problems.push({
        field: `${field}.${name}`,
        message: `${name} is longer than ${MAX_NAME_MATCH_LENGTH} characters`,
      });
    }
  }
  return { prefix: input.namePrefix || null, contains: input.nameContains || null };
}

/** `parse`'s value, or a VALIDATION error naming every problem it reported. */
function collecting<T>(parse: (problems: Problem[]) => T): Result<T, DomainError> {
  const problems: Problem[] = [];
  const value = parse(problems);
  return problems.length > 0 ? failWith(problems) : ok(value);
}

/** A stream or tag filter: its name match, and what `parse` reads of the rest. */
function withNameMatch<T>(
  input: { namePrefix?: string | null; nameContains?: string | null } | null | undefined,
  field: string,
  parse: (problems: Problem[]) => T,
): Result<NameMatch & T, DomainError> {
  return collecting((problems) => ({
    ...nameMatch(input ?? {}, field, problems),
    ...parse(problems),
  }));
}

/** The stream filter: `labels` pairs and the selector's requirements all must hold. */
export function parseStreamFilter(
  input: StreamFilterInput | null | undefined,
  field = 'filter',
): Result<StreamFilter, DomainError> {
  return withNameMatch(input, field, (problems) => {
    const labels: LabelRequirement[] = [];
    const pairs = input?.labels ?? [];
    problems.push(...(validateLabels(pairs, `${field}.labels`) ?? []));
    for (const pair of pairs) labels.push({ key: pair.key, op: 'in', values: [pair.value] });
    if (input?.labelSelector != null) {
      const parsed = parseLabelSelector(input.labelSelector, `${field}.labelSelector`);
      if (parsed.ok) labels.push(...parsed.value);
      else problems.push({ field: parsed.error.field ?? field, message: parsed.error.message });
    }
    if (labels.length > MAX_SELECTOR_TERMS && problems.length === 0) {
      problems.push({
        field: `${field}.labels`,
        message: `labels and labelSelector together have ${labels.length} requirements; at most ${MAX_SELECTOR_TERMS}`,
      });
    }
    return { labels };
  });
}

export function parseTagFilter(
  input: TagFilterInput | null | undefined,
  field = 'filter',
): Result<TagFilter, DomainError> {
  return withNameMatch(input, field, (problems) => {
    const after = input?.updatedAfter ?? null;
    const before = input?.updatedBefore ?? null;
    validTimes({ updatedAfter: after, updatedBefore: before }, field, problems);
    return {
      kinds: input?.kinds ? [...new Set(input.kinds)] : null,
      importFailing: input?.importFailing ?? null,
      hasImage: input?.hasImage ?? null,
      updatedAfter: after,
      updatedBefore: before,
    };
  });
}

export interface HistoryFilter {
  createdAfter: Date | null;
  createdBefore: Date | null;
  hasImage: boolean | null;
  /** `sha256:` and a lowercase hex prefix (docs/rules.md#short-image-ids). */
  digestPrefix: string | null;
}

/** A filter as the API takes it: every part optional, and absent or null alike for "any". */
type FilterInput<F> = { [K in keyof F]?: F[K] | null };

export type HistoryFilterInput = FilterInput<HistoryFilter>;

function validTimes(
  input: Record<string, Date | null | undefined>,
  field: string,
  problems: Problem[],
): void {
  for (const [name, date] of Object.entries(input)) {
    if (date != null && Number.isNaN(date.getTime())) {
      problems.push({ field: `${field}.${name}`, message: `${name} is not a valid time` });
    }
  }
}

type TimesAndDigest = Pick<HistoryFilter, 'createdAfter' | 'createdBefore' | 'digestPrefix'>;

/**
 * A filter made of the parts tag history and stream image filters share (a created-time window and
 * a digest prefix) and `rest`, the parts that need no check.
 */
function parseTimesAndDigest<R>(
  input: FilterInput<TimesAndDigest> | null | undefined,
  field: string,
  rest: R,
): Result<TimesAndDigest & R, DomainError> {
  const given = input ?? {};
  return collecting((problems) => {
    validTimes(
      { createdAfter: given.createdAfter, createdBefore: given.createdBefore },
      field,
      problems,
    );
    let digestPrefix: string | null = null;
    if (given.digestPrefix != null) {
      const hex = normalizeImageId(given.digestPrefix);
      if (hex.ok) digestPrefix = `sha256:${hex.value}`;
      else problems.push({ field: `${field}.digestPrefix`, message: hex.error.message });
    }
    return {
      createdAfter: given.createdAfter ?? null,
      createdBefore: given.createdBefore ?? null,
      digestPrefix,
      ...rest,
    };
  });
}

/** A tag history's filter: times, item with an image, and a digest prefix as a short id. */
export function parseHistoryFilter(
  input: HistoryFilterInput | null | undefined,
  field = 'filter',
): Result<HistoryFilter, DomainError> {
  return parseTimesAndDigest(input, field, { hasImage: input?.hasImage ?? null });
}

export interface StreamImageFilter {
  /** `sha256:` and a lowercase hex prefix (docs/rules.md#short-image-ids). */
  digestPrefix: string | null;
  createdAfter: Date | null;
  createdBefore: Date | null;
  isManifestList: boolean | null;
}

export type StreamImageFilterInput = FilterInput<StreamImageFilter>;

/** A stream's image list's filter: the image's created time, a digest prefix, lists or images. */
export function parseStreamImageFilter(
  input: StreamImageFilterInput | null | undefined,
  field = 'filter',
): Result<StreamImageFilter, DomainError> {
  return parseTimesAndDigest(input, field, { isManifestList: input?.isManifestList ?? null });
}

/** Names (or types, causes) in one list of the event log's filter. */
export const MAX_EVENT_FILTER_VALUES = 20;

export interface EventFilter {
  streams: string[] | null;
  tags: string[] | null;
  types: string[] | null;
  causes: string[] | null;
  /** Actor subjects (docs/model.md, "Actors"). */
  actors: string[] | null;
  occurredAfter: Date | null;
  occurredBefore: Date | null;
}

export interface EventFilterInput {
  streams?: readonly string[] | null;
  tags?: readonly string[] | null;
  types?: readonly string[] | null;
  causes?: readonly string[] | null;
  actors?: readonly string[] | null;
  occurredAfter?: Date | null;
  occurredBefore?: Date | null;
}

/** The event log's filter: each list bounded and its names bounded like a name match. */
export function parseEventFilter(
  input: EventFilterInput | null | undefined,
  field = 'filter',
): Result<EventFilter, DomainError> {
  return collecting((problems) => {
    validTimes(
      { occurredAfter: input?.occurredAfter, occurredBefore: input?.occurredBefore },
      field,
      problems,
    );
    const list = (name: 'streams' | 'tags' | 'types' | 'causes' | 'actors') => {
      const values = input?.[name];
      if (values == null) return null;
      if (values.length > MAX_EVENT_FILTER_VALUES) {
        problems.push({
          field: `${field}.${name}`,
          message: `${name} has ${values.length} values; at most ${MAX_EVENT_FILTER_VALUES}`,
        });
      }
      if (values.some((v) => v.length > MAX_NAME_MATCH_LENGTH)) {
        problems.push({
          field: `${field}.${name}`,
          message: `a value of ${name} is longer than ${MAX_NAME_MATCH_LENGTH} characters`,
        });
      }
      return [...new Set(values)];
    };
    return {
      streams: list('streams'),
      tags: list('tags'),
      types: list('types'),
      causes: list('causes'),
      actors: list('actors'),
      occurredAfter: input?.occurredAfter ?? null,
      occurredBefore: input?.occurredBefore ?? null,
    };
  });
}
