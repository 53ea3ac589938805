// Unit tests for policy tags: parsing policies and picking a repository's winning tag.
// The rules: docs/policy-tags.md.
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_POLICY_EXCLUSIONS,
  describePolicy,
  isExcluded,
  POLICY_LIMITS,
  parseTagSelectionPolicy,
  samePolicy,
  selectWinner,
  type TagSelectionPolicy,
  type TagSelectionPolicyInput,
} from '../../src/domain/policyTags.ts';

const SIG = 'sha256-0d1e2f3a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f6.sig';
const TAGS = [
  '1.0.0',
  '1.2.3',
  'v1.10.0',
  '2.0.0-rc.1',
  'main-99-abc',
  'main-100-def',
  SIG,
  'latest',
];

function policy(input: TagSelectionPolicyInput): TagSelectionPolicy {
  const parsed = parseTagSelectionPolicy(input);
  if (!parsed.ok) throw new Error(parsed.error.message);
  return parsed.value;
}

function refusal(input: TagSelectionPolicyInput): { field?: string; message: string } {
  const parsed = parseTagSelectionPolicy(input);
  if (parsed.ok) throw new Error('expected a refusal');
  expect(parsed.error.code).toBe('VALIDATION');
  return { field: parsed.error.field, message: parsed.error.message };
}

describe('semver policies', () => {
  it('picks the highest release in range, with or without a leading v', () => {
    const result = selectWinner(TAGS, policy({ semver: { range: '^1.2' } }));
    expect(result.winner).toBe('v1.10.0');
    expect(result.top).toEqual([
      { tag: 'v1.10.0', value: '1.10.0' },
      { tag: '1.2.3', value: '1.2.3' },
    ]);
    expect(result).toMatchObject({ listed: 8, excluded: 1, filtered: 5, candidates: 2 });
    expect(result.reason).toBe(
      'v1.10.0 is the highest version (1.10.0) in range ^1.2 of 2 candidates',
    );
  });

  it('leaves pre-releases out unless asked for', () => {
    expect(selectWinner(TAGS, policy({ semver: { range: '*' } })).winner).toBe('v1.10.0');
    expect(selectWinner(TAGS, policy({ semver: { range: '>=1.0.0' } })).winner).toBe('v1.10.0');
    const withPre = policy({ semver: { range: '>=1.0.0', includePrerelease: true } });
    expect(selectWinner(TAGS, withPre).winner).toBe('2.0.0-rc.1');
    // npm's rule: a range naming a pre-release of the same version admits that version's.
    expect(selectWinner(TAGS, policy({ semver: { range: '>=2.0.0-rc.0' } })).winner).toBe(
      '2.0.0-rc.1',
    );
  });

  it('ranks by semver precedence, then build metadata, then the tag name', () => {
    const tags = ['1.2.3', 'v1.2.3', '1.2.3+b2', '1.2.3+b10', '1.2.4-rc.1'];
    const result = selectWinner(tags, policy({ semver: { range: '1.2.x' } }));
    expect(result.top.map((c) => c.tag)).toEqual(['1.2.3+b2', '1.2.3+b10', '1.2.3', 'v1.2.3']);
    // Listing order never decides.
    expect(selectWinner([...tags].reverse(), policy({ semver: { range: '1.2.x' } })).top).toEqual(
      result.top,
    );
  });

  it('reports no winner when nothing is in range', () => {
    const result = selectWinner(TAGS, policy({ semver: { range: '^3' } }));
    expect(result.winner).toBeNull();
    expect(result.top).toEqual([]);
    expect(result.reason).toBe('no listed tag matches the semver:^3 policy');
  });

  it('refuses a bad range, naming the field', () => {
    expect(refusal({ semver: { range: '>=banana' } })).toEqual({
      field: 'policy.semver.range',
      message: '">=banana" is not a semver range (npm range syntax)',
    });
    expect(refusal({ semver: { range: '  ' } }).field).toBe('policy.semver.range');
    expect(refusal({ semver: { range: '1'.repeat(POLICY_LIMITS.rangeLength + 1) } }).field).toBe(
      'policy.semver.range',
    );
  });
});

describe('pattern policies', () => {
  it('extracts a numbered capture and orders it numerically', () => {
    const main = policy({
      pattern: { regex: '^main-(\\d+)-[a-f0-9]+$', extract: '$1', order: 'NUMERICAL_ASCENDING' },
    });
    const result = selectWinner(TAGS, main);
    expect(result.winner).toBe('main-100-def');
    expect(result.top).toEqual([
      { tag: 'main-100-def', value: '100' },
      { tag: 'main-99-abc', value: '99' },
    ]);
    expect(result.reason).toBe(
      'main-100-def has the highest extracted value (100) numerically of 2 candidates',
    );
  });

  it('alphabetical order would pick 99 over 100; descending picks the lowest', () => {
    const alpha = policy({
      pattern: { regex: '^main-(\\d+)-', extract: '$1', order: 'ALPHABETICAL_ASCENDING' },
    });
    expect(selectWinner(TAGS, alpha).winner).toBe('main-99-abc');
    const lowest = policy({
      pattern: { regex: '^main-(\\d+)-', extract: '$1', order: 'NUMERICAL_DESCENDING' },
    });
    expect(selectWinner(TAGS, lowest).winner).toBe('main-99-abc');
  });

  it('extracts named captures in braced and bare forms, with literal text', () => {
    const named = policy({
      pattern: {
        regex: '^main-(?P<build>\\d+)-(?P<sha>[a-f0-9]+)$',
        extract: `\${sha}@$build`,
        order: 'ALPHABETICAL_ASCENDING',
      },
    });
    expect(selectWinner(TAGS, named).top).toEqual([
      { tag: 'main-100-def', value: 'def@100' },
      { tag: 'main-99-abc', value: 'abc@99' },
    ]);
  });

  it('compares numbers of any length exactly, and filters values that are not numbers', () => {
    const tags = [
      'build-12345678901234567890',
      'build-12345678901234567891',
      'build-x',
      'build-1.5',
    ];
    const result = selectWinner(
      tags,
      policy({ pattern: { regex: '^build-(.+)$', extract: '$1', order: 'NUMERICAL_ASCENDING' } }),
    );
    expect(result.top.map((c) => c.tag)).toEqual([
      'build-12345678901234567891',
      'build-12345678901234567890',
      'build-1.5',
    ]);
    expect(result.filtered).toBe(1);
  });

  it('defaults to the whole match and alphabetical ascending order', () => {
    const result = selectWinner(['a1', 'a3', 'b2'], policy({ pattern: { regex: 'a\\d' } }));
    expect(result.winner).toBe('a3');
  });

  it('refuses a regex that does not compile, naming the field', () => {
    const bad = refusal({ pattern: { regex: '(unclosed' } });
    expect(bad.field).toBe('policy.pattern.regex');
    expect(bad.message).toMatch(/does not compile \(RE2 syntax\)/);
  });

  it('refuses lookaround and backreferences', () => {
    for (const regex of ['^(?!main)', 'x(?=y)', '(?<=a)b', '(?<!a)b', '(a)\\1']) {
      const bad = refusal({ pattern: { regex } });
      expect(bad.field).toBe('policy.pattern.regex');
      expect(bad.message).toMatch(/not supported: the expression must run in linear time/);
    }
  });

  it('runs a catastrophic pattern in linear time', () => {
    const evil = policy({ pattern: { regex: '^(a+)+$' } });
    const started = performance.now();
    const result = selectWinner([`${'a'.repeat(120)}!`, 'aaa'], evil);
    expect(result.winner).toBe('aaa');
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('refuses extract templates naming missing groups', () => {
    expect(refusal({ pattern: { regex: '^main-(\\d+)', extract: '$2' } })).toEqual({
      field: 'policy.pattern.extract',
      message: '$2 names no capture group: the expression has 1',
    });
    expect(refusal({ pattern: { regex: '^main-(\\d+)', extract: `\${build}` } }).field).toBe(
      'policy.pattern.extract',
    );
    expect(refusal({ pattern: { regex: 'x', extract: 'cost $' } }).field).toBe(
      'policy.pattern.extract',
    );
    expect(policy({ pattern: { regex: 'x', extract: 'cost $$' } }).kind).toBe('pattern');
  });

  it('bounds the regex length', () => {
    expect(refusal({ pattern: { regex: 'a'.repeat(POLICY_LIMITS.regexLength + 1) } }).field).toBe(
      'policy.pattern.regex',
    );
  });
});

describe('newestBuild policies', () => {
  it('picks the newest created time among the filtered tags', () => {
    const created = new Map([
      ['main-99-abc', new Date('2026-01-02T00:00:00Z')],
      ['main-100-def', new Date('2026-01-01T00:00:00Z')],
      ['1.0.0', new Date('2027-01-01T00:00:00Z')],
    ]);
    const result = selectWinner(TAGS, policy({ newestBuild: { filter: '^main-' } }), created);
    expect(result.winner).toBe('main-99-abc');
    expect(result.top).toEqual([
      { tag: 'main-99-abc', value: '2026-01-02T00:00:00.000Z' },
      { tag: 'main-100-def', value: '2026-01-01T00:00:00.000Z' },
    ]);
    expect(result).toMatchObject({ listed: 8, excluded: 1, filtered: 5 });
  });

  it('without a filter considers every tag not excluded; a tag without a time is filtered', () => {
    const created = new Map([['latest', new Date('2026-05-01T00:00:00Z')]]);
    const result = selectWinner(TAGS, policy({ newestBuild: {} }), created);
    expect(result).toMatchObject({ winner: 'latest', excluded: 1, filtered: 6, candidates: 1 });
  });

  it('refuses a bad filter, naming the field', () => {
    expect(refusal({ newestBuild: { filter: '[' } }).field).toBe('policy.newestBuild.filter');
  });
});

describe('exclusions', () => {
  it('default to signature, attestation and SBOM tags', () => {
    expect(policy({ semver: { range: '*' } }).exclude).toEqual(DEFAULT_POLICY_EXCLUSIONS);
    expect(isExcluded(SIG, DEFAULT_POLICY_EXCLUSIONS)).toBe(true);
    expect(isExcluded('sha256-abc.att', DEFAULT_POLICY_EXCLUSIONS)).toBe(true);
    expect(isExcluded('sha256-abc.sbom', DEFAULT_POLICY_EXCLUSIONS)).toBe(true);
    expect(isExcluded('1.0.0', DEFAULT_POLICY_EXCLUSIONS)).toBe(false);
  });

  it('replace the defaults when given, as whole-name globs', () => {
    const p = policy({ pattern: { regex: '.' }, exclude: ['main-?9-*'] });
    const result = selectWinner(['main-99-abc', 'main-100-def', 'x.sig'], p);
    expect(result.excluded).toBe(1);
    expect(result.top.map((c) => c.tag)).toEqual(['x.sig', 'main-100-def']);
    expect(isExcluded('xmain-99-abc', ['main-*'])).toBe(false);
  });

  it('are bounded and hold only tag characters and globs', () => {
    expect(refusal({ semver: { range: '*' }, exclude: ['a/b'] }).field).toBe('policy.exclude.0');
    expect(refusal({ semver: { range: '*' }, exclude: ['ok', ''] }).field).toBe('policy.exclude.1');
    const many = Array.from({ length: POLICY_LIMITS.exclusions + 1 }, (_, i) => `t${i}`);
    expect(refusal({ semver: { range: '*' }, exclude: many }).field).toBe('policy.exclude');
  });
});

describe('policy inputs', () => {
  it('need exactly one kind', () => {
    expect(refusal({}).field).toBe('policy');
    expect(refusal({ semver: { range: '*' }, newestBuild: {} }).field).toBe('policy');
  });

  it('name fields under the given prefix', () => {
    const parsed = parseTagSelectionPolicy({ semver: { range: 'x y z' } }, 'input.policy');
    expect(parsed.ok ? null : parsed.error.field).toBe('input.policy.semver.range');
  });

  it('describe themselves briefly', () => {
    expect(describePolicy(policy({ semver: { range: '^1.2' } }))).toBe('semver:^1.2');
    expect(describePolicy(policy({ newestBuild: {} }))).toBe('newestBuild');
  });

  it('keep at most ten candidates in the explanation', () => {
    const tags = Array.from({ length: 30 }, (_, i) => `1.0.${i}`);
    const result = selectWinner(tags, policy({ semver: { range: '1.x' } }));
    expect(result.top).toHaveLength(POLICY_LIMITS.topCandidates);
    expect(result.top[0]).toEqual({ tag: '1.0.29', value: '1.0.29' });
    expect(result.candidates).toBe(30);
  });
});

describe('samePolicy', () => {
  it('ignores key order, as a policy read back from a jsonb column has its own', () => {
    const written = policy({ pattern: { regex: '^main-(\\d+)', extract: '$1' } });
    // Postgres orders jsonb keys by length, then bytes: not the order the parser wrote.
    const readBack = JSON.parse(
      JSON.stringify({
        kind: written.kind,
        order: (written as { order: string }).order,
        regex: (written as { regex: string }).regex,
        exclude: written.exclude,
        extract: (written as { extract: string }).extract,
      }),
    ) as TagSelectionPolicy;
    expect(Object.keys(readBack)).not.toEqual(Object.keys(written));
    expect(samePolicy(written, readBack)).toBe(true);
  });

  it('tells different policies apart, and treats null and absent alike', () => {
    const a = policy({ semver: { range: '^1.2' } });
    expect(samePolicy(a, policy({ semver: { range: '^1.3' } }))).toBe(false);
    expect(samePolicy(a, { ...a, exclude: ['*.sig'] })).toBe(false);
    expect(samePolicy(null, undefined)).toBe(true);
    expect(samePolicy(a, null)).toBe(false);
  });
});
