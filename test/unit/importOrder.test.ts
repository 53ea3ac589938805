// Unit tests for the order of `import-image --all`.
// The rules: docs/rules.md#importing-every-tag-of-a-repository.
import { describe, expect, it } from 'vitest';
import { orderTagsForImport } from '../../src/domain/importOrder.ts';

function order(tags: string[]): string[] {
  return orderTagsForImport(tags, Number.POSITIVE_INFINITY).selected;
}

describe('orderTagsForImport', () => {
  it('orders latest, minor versions, full semver, then the rest', () => {
    const tags = ['alpine', '1.2.3', '5.1', 'latest', 'v5.10', 'v1.10.0', '2.0', 'edge', '1.2'];
    expect(order(tags)).toEqual([
      'latest',
      'v5.10',
      '5.1',
      '2.0',
      '1.2',
      'v1.10.0',
      '1.2.3',
      'alpine',
      'edge',
    ]);
  });

  it('compares numerically, not as text', () => {
    expect(order(['1.9', '1.10', '1.100', '10.0', '9.99'])).toEqual([
      '10.0',
      '9.99',
      '1.100',
      '1.10',
      '1.9',
    ]);
    expect(order(['1.2.9', '1.2.10', '1.10.0', '2.0.0'])).toEqual([
      '2.0.0',
      '1.10.0',
      '1.2.10',
      '1.2.9',
    ]);
  });

  it('compares numbers beyond 2^53 exactly', () => {
    expect(order(['1.9007199254740993', '1.9007199254740992'])).toEqual([
      '1.9007199254740993',
      '1.9007199254740992',
    ]);
  });

  it('puts a release above its pre-releases and orders pre-releases by semver precedence', () => {
    const tags = [
      '1.0.0-alpha',
      '1.0.0',
      '1.0.0-rc.1',
      '1.0.0-beta.11',
      '1.0.0-alpha.1',
      '1.0.0-beta',
      '1.0.0-alpha.beta',
      '1.0.0-beta.2',
    ];
    expect(order(tags)).toEqual([
      '1.0.0',
      '1.0.0-rc.1',
      '1.0.0-beta.11',
      '1.0.0-beta.2',
      '1.0.0-beta',
      '1.0.0-alpha.beta',
      '1.0.0-alpha.1',
      '1.0.0-alpha',
    ]);
  });

  it('numeric pre-release identifiers sort below alphanumeric ones', () => {
    expect(order(['1.0.0-1', '1.0.0-a', '1.0.0-2'])).toEqual(['1.0.0-a', '1.0.0-2', '1.0.0-1']);
  });

  it('ignores build metadata for precedence, breaking ties by text', () => {
    expect(order(['1.0.0+b', '1.0.0+a', '0.9.0+z'])).toEqual(['1.0.0+a', '1.0.0+b', '0.9.0+z']);
  });

  it('treats v-prefixed versions like unprefixed ones, breaking ties by text', () => {
    expect(order(['v5.1', '5.1', 'v1.0.0', '1.0.0'])).toEqual(['5.1', 'v5.1', '1.0.0', 'v1.0.0']);
  });

  it('sends non-versions to the lexicographic rest', () => {
    const odd = [
      '1',
      'v1',
      '5.1.2.3',
      '05.1',
      '1.02.3',
      '1.2-rc',
      'V1.2',
      'vv1.2',
      '1.2.3-',
      '1.2.3-01',
    ];
    const rest = [...odd].sort();
    expect(order([...odd, '1.2'])).toEqual(['1.2', ...rest]);
  });

  it('sorts the rest by code point (uppercase before lowercase)', () => {
    expect(order(['b', 'B', 'a', '_x', 'A-1'])).toEqual(['A-1', 'B', '_x', 'a', 'b']);
  });

  it('selects at most max and reports the rest as additional, in order', () => {
    const result = orderTagsForImport(['z', 'latest', '1.0', '2.0.0', 'a'], 3);
    expect(result).toEqual({ selected: ['latest', '1.0', '2.0.0'], additional: ['a', 'z'] });
  });

  it('handles max = 0, fractional and negative max, and an empty list', () => {
    expect(orderTagsForImport(['a', 'b'], 0)).toEqual({ selected: [], additional: ['a', 'b'] });
    expect(orderTagsForImport(['a', 'b'], 1.9)).toEqual({ selected: ['a'], additional: ['b'] });
    expect(orderTagsForImport(['a'], -1)).toEqual({ selected: [], additional: ['a'] });
    expect(orderTagsForImport(['a'], Number.NaN)).toEqual({ selected: [], additional: ['a'] });
    expect(orderTagsForImport([], 50)).toEqual({ selected: [], additional: [] });
  });

  it('drops duplicates', () => {
    expect(orderTagsForImport(['a', 'latest', 'a', 'latest'], 50)).toEqual({
      selected: ['latest', 'a'],
      additional: [],
    });
  });

  it('defaults to the 50-tag cap cleanly', () => {
    const tags = Array.from({ length: 60 }, (_, i) => `1.${i}`);
    const result = orderTagsForImport(tags, 50);
    expect(result.selected).toHaveLength(50);
    expect(result.selected[0]).toBe('1.59');
    expect(result.additional).toEqual([
      '1.9',
      '1.8',
      '1.7',
      '1.6',
      '1.5',
      '1.4',
      '1.3',
      '1.2',
      '1.1',
      '1.0',
    ]);
  });
});
