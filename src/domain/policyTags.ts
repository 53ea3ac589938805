// Policy tags: which tag of a repository a tag follows (semver range, pattern, newest build).
// The rules: docs/policy-tags.md.
import { isDeepStrictEqual } from 'node:util';
import { RE2JS } from 're2js';
import semver from 'semver';
import { fail, ok, type Result } from '../errors.ts';
import { type DomainError, domainError } from './names.ts';

/** Exclusions used when a policy names none: signature, attestation and SBOM tags. */
export const DEFAULT_POLICY_EXCLUSIONS: readonly string[] = ['*.sig', '*.att', '*.sbom'];
export const POLICY_LIMITS = {
  /** Characters of a semver range. */
  rangeLength: 256,
  /** Characters of a pattern or filter regular expression. */
  regexLength: 256,
  /** Characters of an extract template. */
  extractLength: 128,
  /** Exclusion globs, and characters of each. */
  exclusions: 32,
  exclusionLength: 128,
  /** Candidates kept in an evaluation's explanation. */
  topCandidates: 10,
} as const;

export type PatternOrder =
  | 'NUMERICAL_ASCENDING'
  | 'NUMERICAL_DESCENDING'
  | 'ALPHABETICAL_ASCENDING'
  | 'ALPHABETICAL_DESCENDING';

/** A policy as stored on a spec tag (validated, with its defaults filled in). */
export type TagSelectionPolicy =
  | { kind: 'semver'; range: string; includePrerelease: boolean; exclude: string[] }
  | { kind: 'pattern'; regex: string; extract: string; order: PatternOrder; exclude: string[] }
  | { kind: 'newestBuild'; filter: string | null; exclude: string[] };

/** A policy as a caller writes it: exactly one of the three kinds. */
export interface TagSelectionPolicyInput {
  semver?: { range: string; includePrerelease?: boolean | null } | null;
  pattern?: { regex: string; extract?: string | null; order?: PatternOrder | null } | null;
  newestBuild?: { filter?: string | null } | null;
  /** Globs (`*`, `?`) over whole tag names; null or absent: DEFAULT_POLICY_EXCLUSIONS. */
  exclude?: string[] | null;
}

/** One candidate of an evaluation: the tag and the value it was ranked by. */
export interface PolicyCandidate {
  tag: string;
  value: string;
}

/** What an evaluation saw and decided; stored on the tag, shown by `ImageStreamTag.policy`. */
export interface PolicyEvaluation {
  /** Tags the registry listed. */
  listed: number;
  /** Of those, tags an exclusion glob matched. */
  excluded: number;
  /** Of the rest, tags the policy did not accept (outside the range, no match, no number). */
  filtered: number;
  /** Tags left to rank. */
  candidates: number;
  /** The best candidates, best first, at most POLICY_LIMITS.topCandidates. */
  top: PolicyCandidate[];
  winner: string | null;
  reason: string;
}

/** An evaluation as stored on the tag: when it ran, and the digest the winner resolved to. */
export interface StoredPolicyEvaluation extends PolicyEvaluation {
  evaluatedAt: string;
  /** The winner's manifest digest as imported; null before its import succeeded. */
  digest: string | null;
}

/**
 * Whether two stored policies are the same (absent and null are both no policy). Key order does
 * not matter: a policy read back from a jsonb column has its keys in Postgres's order, not the
 * order the parser wrote them in.
 */
export function samePolicy(
  a: TagSelectionPolicy | null | undefined,
  b: TagSelectionPolicy | null | undefined,
): boolean {
  return isDeepStrictEqual(a ?? null, b ?? null);
}

type Field = string;

function invalid(field: Field, message: string): Result<never, DomainError> {
  return fail(domainError('VALIDATION', message, field));
}

/**
 * Checks a policy input and fills in its defaults; a problem is a VALIDATION error naming the
 * input field at fault (`policy.semver.range`, `policy.pattern.regex`, …) under `prefix`.
 */
export function parseTagSelectionPolicy(
  input: TagSelectionPolicyInput,
  prefix = 'policy',
): Result<TagSelectionPolicy, DomainError> {
  const kinds = [input.semver, input.pattern, input.newestBuild].filter((k) => k != null);
  if (kinds.length !== 1) {
    return invalid(prefix, 'a policy needs exactly one of semver, pattern or newestBuild');
  }
  const exclude = parseExclusions(input.exclude, `${prefix}.exclude`);
  if (!exclude.ok) return exclude;
  if (input.semver) {
    const field = `${prefix}.semver.range`;
    const range = input.semver.range.trim();
    if (range.length === 0) return invalid(field, 'a semver range must not be empty');
    if (range.length > POLICY_LIMITS.rangeLength) {
      return invalid(field, `a semver range is at most ${POLICY_LIMITS.rangeLength} characters`);
    }
    if (semver.validRange(range) === null) {
      return invalid(field, `${JSON.stringify(range)} is not a semver range (npm range syntax)`);
    }
    return ok({
      kind: 'semver',
      range,
      includePrerelease: input.semver.includePrerelease ?? false,
      exclude: exclude.value,
    });
  }
  if (input.pattern) {
    const compiled = compileRegex(input.pattern.regex, `${prefix}.pattern.regex`);
    if (!compiled.ok) return compiled;
    const extract = input.pattern.extract ?? '$0';
    const template = parseExtract(extract, compiled.value, `${prefix}.pattern.extract`);
    if (!template.ok) return template;
    return ok({
      kind: 'pattern',
      regex: input.pattern.regex,
      extract,
      order: input.pattern.order ?? 'ALPHABETICAL_ASCENDING',
      exclude: exclude.value,
    });
  }
  const filter = input.newestBuild?.filter ?? null;
  if (filter !== null) {
    const compiled = compileRegex(filter, `${prefix}.newestBuild.filter`);
    if (!compiled.ok) return compiled;
  }
  return ok({ kind: 'newestBuild', filter, exclude: exclude.value });
}

function parseExclusions(
  exclude: string[] | null | undefined,
  field: Field,
): Result<string[], DomainError> {
  if (exclude == null) return ok([...DEFAULT_POLICY_EXCLUSIONS]);
  if (exclude.length > POLICY_LIMITS.exclusions) {
    return invalid(field, `at most ${POLICY_LIMITS.exclusions} exclusions`);
  }
  for (const [index, glob] of exclude.entries()) {
    if (glob.length === 0 || glob.length > POLICY_LIMITS.exclusionLength) {
      return invalid(
        `${field}.${index}`,
        `an exclusion is 1 to ${POLICY_LIMITS.exclusionLength} characters`,
      );
    }
    if (/[^\w.\-*?]/.test(glob)) {
      return invalid(
        `${field}.${index}`,
        `exclusion ${JSON.stringify(glob)} may hold only tag characters and the globs * and ?`,
      );
    }
  }
  return ok([...exclude]);
}

// What RE2 cannot run in linear time, named so the error says what to change.
const UNSUPPORTED: { pattern: RegExp; what: string }[] = [
  { pattern: /\(\?<?[=!]/, what: 'lookaround ((?=, (?!, (?<=, (?<!)' },
  { pattern: /\\[1-9]|\\k</, what: 'backreferences (\\1, \\k<name>)' },
];

/** Compiles with RE2 (linear time in the input: no catastrophic backtracking). */
function compileRegex(regex: string, field: Field): Result<RE2JS, DomainError> {
  if (regex.length === 0) return invalid(field, 'a regular expression must not be empty');
  if (regex.length > POLICY_LIMITS.regexLength) {
    return invalid(
      field,
      `a regular expression is at most ${POLICY_LIMITS.regexLength} characters`,
    );
  }
  for (const { pattern, what } of UNSUPPORTED) {
    if (pattern.test(regex)) {
      return invalid(field, `${what} are not supported: the expression must run in linear time`);
    }
  }
  try {
    return ok(RE2JS.compile(regex));
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    return invalid(field, `${JSON.stringify(regex)} does not compile (RE2 syntax): ${detail}`);
  }
}

/** A template part: literal text, or a capture group by number or name. */
type TemplatePart = { text: string } | { group: number | string };

/**
 * `$1`, `${1}`, `$name`, `${name}` name captures (`$0`: the whole match); `$$` is a dollar.
 * Every group named must exist in the expression.
 */
function parseExtract(
  extract: string,
  regex: RE2JS,
  field: Field,
): Result<TemplatePart[], DomainError> {
  if (extract.length > POLICY_LIMITS.extractLength) {
    return invalid(
      field,
      `an extract template is at most ${POLICY_LIMITS.extractLength} characters`,
    );
  }
  const parts: TemplatePart[] = [];
  const token = /\$(?:\$|(\d+)|([A-Za-z_]\w*)|\{(\d+|[A-Za-z_]\w*)\})/g;
  let last = 0;
  for (const match of extract.matchAll(token)) {
    if (match.index > last) parts.push({ text: extract.slice(last, match.index) });
    last = match.index + match[0].length;
    if (match[0] === '$$') {
      parts.push({ text: '$' });
      continue;
    }
    const name = match[1] ?? match[2] ?? match[3]!;
    const group = /^\d+$/.test(name) ? Number(name) : name;
    if (typeof group === 'number' && group > regex.groupCount()) {
      return invalid(
        field,
        `$${group} names no capture group: the expression has ${regex.groupCount()}`,
      );
    }
    if (typeof group === 'string' && !(group in regex.namedGroups())) {
      return invalid(field, `\${${group}} names no capture group of the expression`);
    }
    parts.push({ group });
  }
  if (last < extract.length) parts.push({ text: extract.slice(last) });
  if (extract.includes('$') && parts.every((p) => 'text' in p) && !extract.includes('$$')) {
    return invalid(field, 'a lone $ must be written $$');
  }
  return ok(parts);
}

function globToRegExp(glob: string): RegExp {
  const body = glob.replace(/[.]/g, '\\.').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`);
}

/** A tag filter from an RE2 expression (searched in the name); a bad one names `field`. */
export function compileTagFilter(
  regex: string,
  field: Field,
): Result<(tag: string) => boolean, DomainError> {
  const compiled = compileRegex(regex, field);
  if (!compiled.ok) return compiled;
  return ok((tag) => compiled.value.matcher(tag).find());
}

/** Whether an exclusion glob matches the tag. */
export function isExcluded(tag: string, exclude: readonly string[]): boolean {
  return exclude.some((glob) => globToRegExp(glob).test(tag));
}

/** What a tag ranks by, or null when the policy does not accept it. */
type Ranker = (tag: string) => { value: string; key: unknown } | null;

function rankerFor(policy: Exclude<TagSelectionPolicy, { kind: 'newestBuild' }>): {
  rank: Ranker;
  /** Negative when a ranks above b. */
  compare: (a: unknown, b: unknown) => number;
} {
  if (policy.kind === 'semver') {
    const range = new semver.Range(policy.range, { includePrerelease: policy.includePrerelease });
    return {
      rank: (tag) => {
        if (!/^v?\d/.test(tag)) return null;
        const version = semver.parse(tag);
        if (!version || !range.test(version)) return null;
        return { value: version.version, key: version };
      },
      compare: (a, b) => semver.compareBuild(b as semver.SemVer, a as semver.SemVer),
    };
  }
  const regex = RE2JS.compile(policy.regex);
  const parts = parseExtract(policy.extract, regex, 'extract');
  if (!parts.ok) throw new Error(parts.error.message);
  const numerical = policy.order.startsWith('NUMERICAL');
  const ascending = policy.order.endsWith('_ASCENDING');
  return {
    rank: (tag) => {
      const matcher = regex.matcher(tag);
      if (!matcher.find()) return null;
      const value = parts.value
        .map((part) => ('text' in part ? part.text : (matcher.group(part.group) ?? '')))
        .join('');
      if (numerical) {
        const number = parseDecimal(value);
        return number ? { value, key: number } : null;
      }
      return { value, key: value };
    },
    compare: (a, b) => {
      const order = numerical
        ? compareDecimals(a as Decimal, b as Decimal)
        : compareCodePoints(a as string, b as string);
      // Ascending: the highest value wins, as the last of the ascending order.
      return ascending ? -order : order;
    },
  };
}

interface Decimal {
  negative: boolean;
  /** Without leading zeros ('' for zero). */
  integer: string;
  /** Without trailing zeros. */
  fraction: string;
}

/** A decimal number of any length: `42`, `-3`, `1.50`; nothing else (no exponent, no `+`). */
function parseDecimal(value: string): Decimal | null {
  const match = /^(-?)(\d+)(?:\.(\d+))?$/.exec(value);
  if (!match) return null;
  const integer = match[2]!.replace(/^0+/, '');
  const fraction = (match[3] ?? '').replace(/0+$/, '');
  return { negative: match[1] === '-' && (integer !== '' || fraction !== ''), integer, fraction };
}

function compareDecimals(a: Decimal, b: Decimal): number {
  if (a.negative !== b.negative) return a.negative ? -1 : 1;
  const sign = a.negative ? -1 : 1;
  if (a.integer.length !== b.integer.length) {
    return sign * (a.integer.length - b.integer.length);
  }
  const integer = compareCodePoints(a.integer, b.integer);
  if (integer !== 0) return sign * integer;
  return sign * compareCodePoints(a.fraction, b.fraction);
}

function compareCodePoints(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The tags a policy considers, in listing order: not excluded and passing its filter. */
export function policyCandidates(
  tags: readonly string[],
  policy: TagSelectionPolicy,
): { candidates: string[]; excluded: number; filtered: number } {
  const filter =
    policy.kind === 'newestBuild' && policy.filter ? RE2JS.compile(policy.filter) : null;
  const candidates: string[] = [];
  let excluded = 0;
  let filtered = 0;
  for (const tag of tags) {
    if (isExcluded(tag, policy.exclude)) excluded++;
    else if (filter && !filter.matcher(tag).find()) filtered++;
    else candidates.push(tag);
  }
  return { candidates, excluded, filtered };
}

/**
 * Picks the tag a policy follows among a repository's listed tags. `created` gives each
 * candidate's build time for `newestBuild` (a candidate without one is filtered). Ties rank by
 * tag name, code-point order, so the choice never depends on the registry's listing order.
 */
export function selectWinner(
  tags: readonly string[],
  policy: TagSelectionPolicy,
  created: ReadonlyMap<string, Date | null> = new Map(),
): PolicyEvaluation {
  const unique = [...new Set(tags)];
  const { candidates, excluded, filtered } = policyCandidates(unique, policy);
  let rejected = filtered;
  const ranked: { tag: string; value: string; key: unknown }[] = [];
  let compare: (a: unknown, b: unknown) => number;
  if (policy.kind === 'newestBuild') {
    for (const tag of candidates) {
      const time = created.get(tag);
      if (time) ranked.push({ tag, value: time.toISOString(), key: time.getTime() });
      else rejected++;
    }
    compare = (a, b) => (b as number) - (a as number);
  } else {
    const ranker = rankerFor(policy);
    for (const tag of candidates) {
      const rank = ranker.rank(tag);
      if (rank) ranked.push({ tag, ...rank });
      else rejected++;
    }
    compare = ranker.compare;
  }
  ranked.sort((a, b) => compare(a.key, b.key) || compareCodePoints(a.tag, b.tag));
  const top = ranked
    .slice(0, POLICY_LIMITS.topCandidates)
    .map(({ tag, value }) => ({ tag, value }));
  const winner = ranked[0]?.tag ?? null;
  return {
    listed: unique.length,
    excluded,
    filtered: rejected,
    candidates: ranked.length,
    top,
    winner,
    reason: explain(policy, winner, ranked[0]?.value ?? null, ranked.length),
  };
}

function explain(
  policy: TagSelectionPolicy,
  winner: string | null,
  value: string | null,
  candidates: number,
): string {
  if (winner === null) return `no listed tag matches the ${describePolicy(policy)} policy`;
  const of = `of ${candidates} candidate${candidates === 1 ? '' : 's'}`;
  switch (policy.kind) {
    case 'semver':
      return `${winner} is the highest version (${value}) in range ${policy.range} ${of}`;
    case 'pattern': {
      const which = policy.order.endsWith('_ASCENDING') ? 'highest' : 'lowest';
      const how = policy.order.startsWith('NUMERICAL') ? 'numerically' : 'alphabetically';
      return `${winner} has the ${which} extracted value (${value}) ${how} ${of}`;
    }
    case 'newestBuild':
      return `${winner} has the newest build (created ${value}) ${of}`;
  }
}

/** A short form of a policy: `semver:^1.2`, `pattern:<regex>`, `newestBuild`. */
export function describePolicy(policy: TagSelectionPolicy): string {
  switch (policy.kind) {
    case 'semver':
      return `semver:${policy.range}`;
    case 'pattern':
      return `pattern:${policy.regex}`;
    case 'newestBuild':
      return policy.filter ? `newestBuild:${policy.filter}` : 'newestBuild';
  }
}
