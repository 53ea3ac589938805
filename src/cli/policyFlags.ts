// `tagraph tag --policy=… --extract … --order … --exclude … --include-prerelease` as a
// TagPolicyInput, and the `tagraph.io/policy` tag annotation that carries a policy in YAML.
import { z } from 'zod';
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

const ORDER_NAMES = Object.values(ORDERS) as [PatternOrder, ...PatternOrder[]];

/** The annotation's JSON: a TagPolicyInput, its unknown keys refused. */
const PolicyAnnotation = z.strictObject({
  semver: z.strictObject({ range: z.string(), includePrerelease: z.boolean().nullish() }).nullish(),
  pattern: z
    .strictObject({
      regex: z.string(),
      extract: z.string().nullish(),
      order: z.enum(ORDER_NAMES).nullish(),
    })
    .nullish(),
  newestBuild: z.strictObject({ filter: z.string().nullish() }).nullish(),
  exclude: z.array(z.string()).nullish(),
});

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
  const parsed = PolicyAnnotation.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const at = issue.path.length > 0 ? ` at ${issue.path.join('.')}` : '';
    return { ok: false, message: `is not a policy${at}: ${issue.message}` };
  }
  return { ok: true, policy: parsed.data as PolicyInput };
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
