// The list filters' pure parts: the Kubernetes label-selector parser, its bounds, and tag kinds.
import { describe, expect, it } from 'vitest';
import {
  MAX_SELECTOR_TERMS,
  parseLabelSelector,
  parseStreamFilter,
  parseTagFilter,
  tagKindOf,
} from '../../src/domain/listFilters.ts';

const parse = (selector: string) => parseLabelSelector(selector, 'filter.labelSelector');

describe('parseLabelSelector', () => {
  it('reads every form of requirement', () => {
    const result = parse('app=web, tier!=db,env in (a, b),!legacy,release,x==y,e notin (),k=');
    expect(result).toEqual({
      ok: true,
      value: [
        { key: 'app', op: 'in', values: ['web'] },
        { key: 'tier', op: 'notin', values: ['db'] },
        { key: 'env', op: 'in', values: ['a', 'b'] },
        { key: 'legacy', op: 'notexists' },
        { key: 'release', op: 'exists' },
        { key: 'x', op: 'in', values: ['y'] },
        { key: 'e', op: 'notin', values: [''] },
        { key: 'k', op: 'in', values: [''] },
      ],
    });
    expect(parse('example.com/team=core')).toMatchObject({
      ok: true,
      value: [{ key: 'example.com/team', op: 'in', values: ['core'] }],
    });
    expect(parse('')).toEqual({ ok: true, value: [] });
  });

  it('refuses malformed selectors, naming the field', () => {
    for (const selector of [
      'app>1',
      'app in a',
      'app in (a',
      'app in (a b)',
      'app=web,',
      ',app',
      '!',
      'a=b=c',
      'app = "web"',
      'Bad Key=x',
      '-app=x',
      'app=-x',
      `k=${'v'.repeat(64)}`,
    ]) {
      const result = parse(selector);
      expect(result.ok, selector).toBe(false);
      if (!result.ok) {
        expect(result.error).toMatchObject({ code: 'VALIDATION', field: 'filter.labelSelector' });
      }
    }
  });

  it('bounds terms, set sizes and length', () => {
    const terms = (n: number) => Array.from({ length: n }, (_, i) => `k${i}`).join(',');
    expect(parse(terms(MAX_SELECTOR_TERMS)).ok).toBe(true);
    expect(parse(terms(MAX_SELECTOR_TERMS + 1)).ok).toBe(false);
    const set = (n: number) => `k in (${Array.from({ length: n }, (_, i) => `v${i}`).join(',')})`;
    expect(parse(set(20)).ok).toBe(true);
    expect(parse(set(21)).ok).toBe(false);
    expect(parse(`k=${'a,k='.repeat(300)}a`).ok).toBe(false);
  });
});

describe('the filters', () => {
  it('counts labels pairs and selector terms together, and bounds name matches', () => {
    const labels = Array.from({ length: 15 }, (_, i) => ({ key: `k${i}`, value: 'v' }));
    expect(parseStreamFilter({ labels, labelSelector: 'a,b,c,d,e' }).ok).toBe(true);
    expect(parseStreamFilter({ labels, labelSelector: 'a,b,c,d,e,f' })).toMatchObject({
      ok: false,
      error: { field: 'filter.labels' },
    });
    expect(parseTagFilter({ namePrefix: 'x'.repeat(256) })).toMatchObject({
      ok: false,
      error: { field: 'filter.namePrefix' },
    });
    expect(parseStreamFilter({ labels: [{ key: 'bad key', value: 'v' }] })).toMatchObject({
      ok: false,
      error: { field: 'filter.labels.0.key' },
    });
  });

  it('reads a tag kind from its spec columns', () => {
    const spec = { specGeneration: 1, reference: false, importScheduled: false, policy: null };
    expect(tagKindOf({ ...spec, specGeneration: null, fromKind: null })).toBe('STATUS_ONLY');
    expect(tagKindOf({ ...spec, reference: true, fromKind: 'DockerImage' })).toBe('REFERENCE');
    expect(tagKindOf({ ...spec, fromKind: 'ImageStreamTag' })).toBe('TRACKING');
    expect(tagKindOf({ ...spec, fromKind: 'ImageStreamImage' })).toBe('PERMANENT');
    expect(tagKindOf({ ...spec, fromKind: 'DockerImage' })).toBe('EXTERNAL');
    expect(tagKindOf({ ...spec, fromKind: 'DockerImage', importScheduled: true })).toBe(
      'SCHEDULED',
    );
    // A policy tag is POLICY, scheduled or not: never also EXTERNAL or SCHEDULED.
    const policy = { kind: 'semver', range: '^1', includePrerelease: false, exclude: [] };
    expect(tagKindOf({ ...spec, fromKind: 'DockerImage', policy })).toBe('POLICY');
    expect(tagKindOf({ ...spec, fromKind: 'DockerImage', importScheduled: true, policy })).toBe(
      'POLICY',
    );
  });
});
