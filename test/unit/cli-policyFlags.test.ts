// The CLI's policy flags (`tag --policy …`) and the `tagraph.io/policy` annotation of YAML
// manifests: what each parses to, and the typed usage error of each malformed one.
import { describe, expect, it } from 'vitest';
import { toYaml } from '../../src/cli/context.ts';
import { policyLines } from '../../src/cli/describe.ts';
import { parseManifests, tagInputFor } from '../../src/cli/manifest.ts';
import { imageStreamObject } from '../../src/cli/objects.ts';
import {
  POLICY_ANNOTATION,
  PolicyFlagError,
  type PolicyFlags,
  parsePolicyAnnotation,
  parsePolicyFlags,
} from '../../src/cli/policyFlags.ts';
import { specView, streamView, tagView } from '../support/cliViews.ts';

function refusal(flags: PolicyFlags): PolicyFlagError {
  try {
    parsePolicyFlags(flags);
  } catch (error) {
    expect(error).toBeInstanceOf(PolicyFlagError);
    expect((error as PolicyFlagError).exitCode).toBe(2);
    return error as PolicyFlagError;
  }
  throw new Error('expected a refusal');
}

describe('parsePolicyFlags', () => {
  it('gives nothing without --policy', () => {
    expect(parsePolicyFlags({})).toBeUndefined();
  });

  it('reads semver ranges, with pre-releases and exclusions', () => {
    expect(parsePolicyFlags({ policy: 'semver:^1.2' })).toEqual({
      semver: { range: '^1.2', includePrerelease: false },
    });
    expect(
      parsePolicyFlags({
        policy: 'semver:>=1.0.0 <2',
        includePrerelease: true,
        exclude: ['*.sig', 'bad-*'],
      }),
    ).toEqual({
      semver: { range: '>=1.0.0 <2', includePrerelease: true },
      exclude: ['*.sig', 'bad-*'],
    });
  });

  it('reads patterns, keeping colons in the expression, with extract and order', () => {
    expect(
      parsePolicyFlags({
        policy: 'pattern:^main-(\\d+)-[a-f0-9:]+$',
        extract: '$1',
        order: 'numerical-asc',
      }),
    ).toEqual({
      pattern: { regex: '^main-(\\d+)-[a-f0-9:]+$', extract: '$1', order: 'NUMERICAL_ASCENDING' },
    });
    for (const [flag, order] of [
      ['numerical-desc', 'NUMERICAL_DESCENDING'],
      ['alphabetical-asc', 'ALPHABETICAL_ASCENDING'],
      ['alphabetical-desc', 'ALPHABETICAL_DESCENDING'],
      ['NUMERICAL_DESCENDING', 'NUMERICAL_DESCENDING'],
    ] as const) {
      expect(parsePolicyFlags({ policy: 'pattern:x', order: flag })?.pattern?.order).toBe(order);
    }
    expect(parsePolicyFlags({ policy: 'pattern:^v' })).toEqual({ pattern: { regex: '^v' } });
  });

  it('reads newest-build with and without a filter', () => {
    expect(parsePolicyFlags({ policy: 'newest-build' })).toEqual({ newestBuild: {} });
    expect(parsePolicyFlags({ policy: 'newest-build:^main-', exclude: [] })).toEqual({
      newestBuild: { filter: '^main-' },
      exclude: [],
    });
  });

  it.each<[PolicyFlags, string, RegExp]>([
    [{ policy: 'semver' }, '--policy', /needs a range/],
    [{ policy: 'semver:' }, '--policy', /needs a range/],
    [{ policy: 'pattern:' }, '--policy', /needs an expression/],
    [{ policy: 'newest-build:' }, '--policy', /give an expression/],
    [{ policy: 'latest:1' }, '--policy', /unknown kind "latest"/],
    [{ policy: 'pattern:x', order: 'newest' }, '--order', /numerical-asc/],
    [{ policy: 'semver:^1', extract: '$1' }, '--extract', /semver/],
    [{ policy: 'semver:^1', order: 'numerical-asc' }, '--order', /semver/],
    [{ policy: 'pattern:x', includePrerelease: true }, '--include-prerelease', /pattern/],
    [{ policy: 'newest-build', extract: '$1' }, '--extract', /newest-build/],
    [{ extract: '$1' }, '--extract', /only applies with --policy/],
    [{ exclude: ['*.sig'] }, '--exclude', /only applies with --policy/],
    [{ includePrerelease: true }, '--include-prerelease', /only applies with --policy/],
  ])('refuses %j naming %s', (flags, flag, message) => {
    const error = refusal(flags);
    expect(error.flag).toBe(flag);
    expect(error.message).toMatch(message);
    expect(error.message.startsWith(`${flag}: `)).toBe(true);
  });
});

describe('the tagraph.io/policy annotation', () => {
  it('reads a policy input and refuses anything else', () => {
    expect(parsePolicyAnnotation('{"semver":{"range":"^1.2"}}')).toEqual({
      ok: true,
      policy: { semver: { range: '^1.2' } },
    });
    expect(parsePolicyAnnotation('semver:^1.2')).toEqual({ ok: false, message: 'is not JSON' });
    const unknown = parsePolicyAnnotation('{"semver":{"range":"^1","newest":true}}');
    expect(unknown.ok).toBe(false);
    const order = parsePolicyAnnotation('{"pattern":{"regex":"x","order":"UP"}}');
    expect(order.ok ? '' : order.message).toContain('pattern.order');
    const messageOf = (text: string) => {
      const parsed = parsePolicyAnnotation(text);
      return parsed.ok ? 'accepted' : parsed.message;
    };
    expect(messageOf('[]')).toBe('is not a policy: must be an object');
    expect(messageOf('{"latest":{}}')).toBe('is not a policy: unknown key "latest"');
    expect(messageOf('{"semver":{}}')).toBe('is not a policy: at semver.range: must be a string');
    expect(messageOf('{"semver":{"range":"^1","includePrerelease":"yes"}}')).toBe(
      'is not a policy: at semver.includePrerelease: must be a boolean',
    );
    expect(messageOf('{"newestBuild":{},"exclude":"*.sig"}')).toBe(
      'is not a policy: at exclude: must be a list of strings',
    );
    expect(messageOf('{"newestBuild":{"filter":null},"exclude":[]}')).toBe('accepted');
  });

  const policyTag = tagView('stable', {
    policy: {
      kind: 'PATTERN',
      range: null,
      includePrerelease: null,
      regex: '^main-(\\d+)-',
      extract: '$1',
      order: 'NUMERICAL_ASCENDING',
      filter: null,
      exclude: ['*.sig'],
      lastEvaluation: {
        evaluatedAt: '2025-01-01T00:00:00.000Z',
        listed: 7,
        excluded: 1,
        filtered: 4,
        candidates: 2,
        winner: 'main-100-def',
        digest: 'sha256:bbb',
        reason: 'main-100-def has the highest extracted value (100) numerically of 2 candidates',
      },
    },
    spec: specView(
      { kind: 'DockerImage', name: 'quay.io/r' },
      {
        annotations: [{ key: 'owner', value: 'web' }],
        importPolicy: { importMode: 'Legacy', insecure: false, scheduled: true },
      },
    ),
  });

  it('carries a policy tag through get -o yaml and back to the tag input apply sends', async () => {
    const stream = streamView('app', { tags: [policyTag] });
    const yaml = await toYaml(imageStreamObject(stream));
    expect(yaml).toContain(`${POLICY_ANNOTATION}: '{"pattern":`);
    const [manifest] = await parseManifests(yaml, 'app.yaml');
    const tag = manifest!.tags[0]!;
    expect(tag.annotations).toEqual({ owner: 'web' });
    const input = tagInputFor({ name: 'app', namespace: 'demo' }, tag, []);
    expect(input).toMatchObject({
      source: 'quay.io/r',
      sourceKind: 'DockerImage',
      scheduled: true,
      policy: {
        pattern: { regex: '^main-(\\d+)-', extract: '$1', order: 'NUMERICAL_ASCENDING' },
        exclude: ['*.sig'],
      },
    });
  });

  it('a malformed annotation fails the manifest, naming the tag', async () => {
    const yaml = `apiVersion: image.openshift.io/v1
kind: ImageStream
metadata: { name: app }
spec:
  tags:
    - name: stable
      from: { kind: DockerImage, name: quay.io/r }
      annotations:
        ${POLICY_ANNOTATION}: 'semver:^1'
`;
    await expect(parseManifests(yaml, 'app.yaml')).rejects.toThrow(/stable.*is not JSON/s);
  });

  it('describe prints the policy, its last evaluation, the winner and why', () => {
    const lines = policyLines(policyTag.policy!, '  ', Date.parse('2025-01-01T00:05:00Z'));
    expect(lines).toEqual([
      '  Policy:\tpattern:^main-(\\d+)- extract $1 order NUMERICAL_ASCENDING; excludes *.sig\n',
      '  Last Evaluation:\t5 minutes ago: 7 listed, 1 excluded, 4 filtered, 2 candidates\n',
      '  Winner:\tmain-100-def\tsha256:bbb\n',
      '  Why:\tmain-100-def has the highest extracted value (100) numerically of 2 candidates\n',
    ]);
  });
});
