// `tagraph tag --policy=… --extract … --order … --exclude … --include-prerelease` as a
// TagPolicyInput, and the `tagraph.io/policy` tag annotation that carries a policy in YAML.
import type { TAG } from './documents.ts';
import { UsageError } from './errors.ts';
import type { VariablesOf } from './graphql.ts';

export type PolicyInput = NonNullable<VariablesOf<typeof TAG>['input']['policy']>;
type PatternOrder = NonNullable<NonNullable<PolicyInput['pattern']>['order']>;

/** A policy flag that does not parse, or a combination of them that means nothing; exit 2. */
export class PolicyFlagError extends UsageError {
  /** The flag at fault, as written on the command line (`--policy`, `--order`, …). */
  readonly flag: string;

  constructor(flag: string, message: string) {
    super(`${flag}: ${message}`);
    this.flag = flag;
  }
}

export interface PolicyFlags {
  policy?: string;
  extract?: string;
  order?: string;
  exclude?: string[];
  includePrerelease?: boolean;
}

export const POLICY_FLAG_HELP =
  'semver:<range> (npm range, e.g. semver:^1.2), pattern:<regex> (RE2) or newest-build[:<regex>]';

/** `--order` spellings: the short flag forms, and the schema's enum names. */
const ORDERS: Record<string, PatternOrder> = {
  'numerical-asc': 'NUMERICAL_ASCENDING',
  'numerical-desc': 'NUMERICAL_DESCENDING',
  'alphabetical-asc': 'ALPHABETICAL_ASCENDING',
  'alphabetical-desc': 'ALPHABETICAL_DESCENDING',
};

export function parseOrder(value: string): PatternOrder {
  const order =
    ORDERS[value.toLowerCase()] ??
    Object.values(ORDERS).find((name) => name === value.toUpperCase());
  if (!order) {
    throw new PolicyFlagError('--order', `use one of ${Object.keys(ORDERS).join(', ')}`);
  }
  return order;
}

/**
 * The policy the flags describe, or undefined when `--policy` is absent (then no other policy
 * flag may be given). The server checks ranges and expressions; this checks the flags' shape.
 */
export function parsePolicyFlags(flags: PolicyFlags): PolicyInput | undefined {
  const given = (['extract', 'order', 'exclude', 'includePrerelease'] as const).filter(
    (name) => flags[name] !== undefined,
  );
  if (flags.policy === undefined) {
    if (given.length > 0) {
      throw new PolicyFlagError(flagName(given[0]!), 'only applies with --policy');
    }
    return undefined;
  }
  const text = flags.policy;
  const colon = text.indexOf(':');
  const kind = (colon < 0 ? text : text.slice(0, colon)).toLowerCase();
  const argument = colon < 0 ? null : text.slice(colon + 1);
  const exclude = flags.exclude ? { exclude: flags.exclude } : {};
  const refuse = (names: (typeof given)[number][], what: string) => {
    const wrong = given.find((name) => names.includes(name));
    if (wrong) throw new PolicyFlagError(flagName(wrong), `does not apply to ${what} policies`);
  };
  switch (kind) {
    case 'semver': {
      if (!argument) throw new PolicyFlagError('--policy', 'semver needs a range: semver:^1.2');
      refuse(['extract', 'order'], 'semver');
      const includePrerelease = flags.includePrerelease ?? false;
      return { semver: { range: argument, includePrerelease }, ...exclude };
    }
    case 'pattern': {
      if (!argument) {
        throw new PolicyFlagError('--policy', 'pattern needs an expression: pattern:^main-(\\d+)');
      }
      refuse(['includePrerelease'], 'pattern');
      return {
        pattern: {
          regex: argument,
          ...(flags.extract !== undefined ? { extract: flags.extract } : {}),
          ...(flags.order !== undefined ? { order: parseOrder(flags.order) } : {}),
        },
        ...exclude,
      };
    }
    case 'newest-build':
    case 'newestbuild': {
      refuse(['extract', 'order', 'includePrerelease'], 'newest-build');
      if (argument === '') {
        throw new PolicyFlagError('--policy', 'give an expression after newest-build:, or none');
      }
      return { newestBuild: argument ? { filter: argument } : {}, ...exclude };
    }
    default:
      throw new PolicyFlagError(
        '--policy',
        `unknown kind ${JSON.stringify(kind)}: use ${POLICY_FLAG_HELP}`,
      );
  }
}

function flagName(option: keyof PolicyFlags): string {
  return `--${option.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

/** The tag annotation that carries a policy tag's policy through `get -o yaml` and `apply -f`. */
export const POLICY_ANNOTATION = 'tagraph.io/policy';

const ORDER_NAMES = new Set<string>(Object.values(ORDERS));

type FieldKind = 'string' | 'boolean' | 'order';
/** The annotation's JSON: a TagPolicyInput. Each kind's fields, and their types. */
const KIND_FIELDS: Record<string, Record<string, FieldKind>> = {
  semver: { range: 'string', includePrerelease: 'boolean' },
  pattern: { regex: 'string', extract: 'string', order: 'order' },
  newestBuild: { filter: 'string' },
};
const REQUIRED: Record<string, string | undefined> = { semver: 'range', pattern: 'regex' };

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Where the JSON is not a TagPolicyInput, and why; null when it is one. Checked by hand rather
 * than with a schema library, which would add its load time to every run of the command line;
 * the server checks the values themselves.
 */
function annotationProblem(json: unknown): string | null {
  if (!isObject(json)) return 'must be an object';
  for (const [key, value] of Object.entries(json)) {
    if (value === null) continue;
    if (key === 'exclude') {
      if (!Array.isArray(value) || value.some((glob) => typeof glob !== 'string')) {
        return 'at exclude: must be a list of strings';
      }
      continue;
    }
    const fields = KIND_FIELDS[key];
    if (!fields) return `unknown key ${JSON.stringify(key)}`;
    if (!isObject(value)) return `at ${key}: must be an object`;
    const required = REQUIRED[key];
    if (required && typeof value[required] !== 'string') {
      return `at ${key}.${required}: must be a string`;
    }
    for (const [field, fieldValue] of Object.entries(value)) {
      const kind = fields[field];
      if (!kind) return `at ${key}: unknown key ${JSON.stringify(field)}`;
      if (fieldValue === null) continue;
      const fits =
        kind === 'order'
          ? typeof fieldValue === 'string' && ORDER_NAMES.has(fieldValue)
          : typeof fieldValue === kind;
      if (!fits) {
        return `at ${key}.${field}: must be ${kind === 'order' ? [...ORDER_NAMES].join(', ') : `a ${kind}`}`;
      }
    }
  }
  return null;
}

/** Reads the annotation's value; a message saying what is wrong when it is no policy. */
export function parsePolicyAnnotation(
  value: string,
): { ok: true; policy: PolicyInput } | { ok: false; message: string } {
  let json: unknown;
  try {
    json = JSON.parse(value);
  } catch {
    return { ok: false, message: 'is not JSON' };
  }
  const problem = annotationProblem(json);
  if (problem) return { ok: false, message: `is not a policy: ${problem}` };
  return { ok: true, policy: json as PolicyInput };
}

/** The policy a tag shows (ImageStreamTag.policy) as the annotation's JSON, defaults included. */
export function policyAnnotationValue(policy: {
  kind: 'SEMVER' | 'PATTERN' | 'NEWEST_BUILD';
  range: string | null;
  includePrerelease: boolean | null;
  regex: string | null;
  extract: string | null;
  order: PatternOrder | null;
  filter: string | null;
  exclude: string[];
}): string {
  const kind =
    policy.kind === 'SEMVER'
      ? { semver: { range: policy.range, includePrerelease: policy.includePrerelease ?? false } }
      : policy.kind === 'PATTERN'
        ? { pattern: { regex: policy.regex, extract: policy.extract, order: policy.order } }
        : { newestBuild: policy.filter ? { filter: policy.filter } : {} };
  return JSON.stringify({ ...kind, exclude: policy.exclude });
}
