// Unit tests for the name rules (docs/rules.md#names-and-their-limits).
import { describe, expect, it } from 'vitest';
import {
  ANNOTATIONS_MAX_BYTES,
  domainError,
  failWith,
  isDns1123Subdomain,
  validateAnnotations,
  validateLabels,
  validateNamespace,
  validateStreamName,
  validateTagName,
} from '../../src/domain/names.ts';
import { fail, ok } from '../../src/errors.ts';

describe('validateNamespace', () => {
  it.each(['a', 'demo-project', 'p1', '0', 'a'.repeat(63)])('accepts %s', (ns) => {
    expect(validateNamespace(ns)).toBeNull();
  });

  it.each([
    ['Foo', 'uppercase'],
    ['-a', 'leading dash'],
    ['a-', 'trailing dash'],
    ['a.b', 'dot'],
    ['a_b', 'underscore'],
    ['', 'empty'],
    ['a'.repeat(64), '64 characters'],
  ])('rejects %s (%s)', (ns) => {
    expect(validateNamespace(ns)).toEqual([
      {
        field: 'namespace',
        message: `namespace "${ns}" must be a DNS-1123 label: lowercase letters, digits and '-', starting and ending with a letter or digit, at most 63 characters`,
      },
    ]);
  });

  it('reports against a given field', () => {
    expect(validateNamespace('X', 'from.namespace')?.[0]?.field).toBe('from.namespace');
  });
});

describe('validateStreamName', () => {
  it.each(['ruby', 'my-app.v2', 'a_b', 'a.b-c_d', '0'])('accepts %s', (name) => {
    expect(validateStreamName('ns', name)).toBeNull();
  });

  it.each(['Ruby', 'a..b', 'a-', '.a', 'a--b', 'a/b', '', 'a b', 'a:b'])('rejects %s', (name) => {
    const problems = validateStreamName('ns', name);
    expect(problems).toHaveLength(1);
    expect(problems?.[0]?.field).toBe('name');
    expect(problems?.[0]?.message).toContain(`image stream name "${name}" must be lowercase`);
  });

  it('accepts ns/name of exactly 255 characters and rejects 256', () => {
    const ns = 'n'.repeat(63);
    expect(validateStreamName(ns, 'a'.repeat(255 - 64))).toBeNull();
    expect(validateStreamName(ns, 'a'.repeat(256 - 64))).toEqual([
      {
        field: 'name',
        message: `"${ns}/${'a'.repeat(192)}" is 256 characters; namespace, '/' and image stream name together must be at most 255`,
      },
    ]);
  });

  it('reports a bad name and an overlong total together', () => {
    expect(validateStreamName('n'.repeat(63), 'A'.repeat(200))).toHaveLength(2);
  });
});

describe('validateTagName', () => {
  it.each(['latest', '2.0', 'v1.2.3-rc.1', '_x', 'A', 'a'.repeat(128)])('accepts %s', (tag) => {
    expect(validateTagName(tag)).toBeNull();
  });

  it.each(['', '.x', '-x', 'a:b', 'a/b', 'a@b', 'a+b', 'a'.repeat(129), 'é'])(
    'rejects %s',
    (tag) => {
      expect(validateTagName(tag)).toEqual([
        {
          field: 'tag',
          message: `tag "${tag}" must start with a letter, digit or '_' and contain only letters, digits, '_', '.' and '-', at most 128 characters`,
        },
      ]);
    },
  );
});

describe('isDns1123Subdomain', () => {
  it('accepts dotted labels up to 253 characters', () => {
    expect(isDns1123Subdomain('example.com')).toBe(true);
    expect(isDns1123Subdomain(`${'a'.repeat(63)}.`.repeat(3) + 'a'.repeat(61))).toBe(true);
    expect(isDns1123Subdomain(`${'a'.repeat(63)}.`.repeat(3) + 'a'.repeat(62))).toBe(false);
    expect(isDns1123Subdomain('a..b')).toBe(false);
    expect(isDns1123Subdomain('Example.com')).toBe(false);
  });
});

describe('validateLabels', () => {
  it('accepts valid keys and values, including empty values and prefixes', () => {
    expect(
      validateLabels({
        app: 'ruby',
        'app.kubernetes.io/name': 'Ruby_2.0-x',
        'example.com/Key_1': '',
        A: 'a'.repeat(63),
      }),
    ).toBeNull();
  });

  it('rejects an empty key', () => {
    expect(validateLabels({ '': 'x' })).toEqual([
      { field: 'labels', message: 'label key must not be empty' },
    ]);
  });

  it('rejects more than one slash', () => {
    expect(validateLabels({ 'a/b/c': 'x' })?.[0]?.message).toBe(
      `label key "a/b/c" may contain at most one '/' (an optional DNS-1123 subdomain prefix, then a name)`,
    );
  });

  it('rejects an empty prefix and an empty name', () => {
    expect(validateLabels({ '/x': '' })?.[0]?.message).toBe(
      `label key "/x" has an empty prefix before '/'`,
    );
    expect(validateLabels({ 'example.com/': '' })?.[0]?.message).toBe(
      `label key "example.com/" has an empty name after '/'`,
    );
  });

  it('rejects an uppercase or overlong prefix', () => {
    expect(validateLabels({ 'Example.com/x': '' })?.[0]?.message).toBe(
      `label key "Example.com/x": prefix "Example.com" must be a DNS-1123 subdomain: lowercase letters, digits, '-' and '.', starting and ending with a letter or digit, at most 253 characters`,
    );
    expect(validateLabels({ [`${'a'.repeat(254)}/x`]: '' })).toHaveLength(1);
  });

  it.each(['-x', 'x-', 'a b', 'a'.repeat(64), 'x!'])('rejects the name part %s', (name) => {
    expect(validateLabels({ [name]: '' })?.[0]?.message).toBe(
      `label key "${name}": name "${name}" must be at most 63 characters of letters, digits, '-', '_' and '.', starting and ending with a letter or digit`,
    );
  });

  it.each(['-x', 'x.', 'a b', 'a'.repeat(64), 'a/b'])('rejects the value %s', (value) => {
    expect(validateLabels({ k: value })).toEqual([
      {
        field: 'labels',
        message: `label value "${value}" for key "k" must be empty or at most 63 characters of letters, digits, '-', '_' and '.', starting and ending with a letter or digit`,
      },
    ]);
  });

  it('reports list entries against their index', () => {
    const problems = validateLabels([
      { key: 'ok', value: 'ok' },
      { key: 'bad key', value: 'bad value' },
    ]);
    expect(problems?.map((p) => p.field)).toEqual(['labels.1.key', 'labels.1.value']);
  });

  it('handles keys that are Object.prototype names', () => {
    expect(validateLabels(JSON.parse('{"constructor":"x","toString":"y"}'))).toBeNull();
    expect(validateLabels(JSON.parse('{"__proto__":"y"}'))).toHaveLength(1);
  });
});

describe('validateAnnotations', () => {
  it('accepts any value and uppercase prefixes (keys are checked lowercased)', () => {
    expect(
      validateAnnotations({
        'Example.COM/Key': 'any text: with spaces / slashes\nand newlines',
        'openshift.io/image.insecureRepository': 'true',
      }),
    ).toBeNull();
  });

  it('rejects a bad key, quoting it as written', () => {
    expect(validateAnnotations({ 'Bad_Prefix.com/x': 'v' })).toEqual([
      {
        field: 'annotations',
        message: `annotation key "Bad_Prefix.com/x": prefix "Bad_Prefix.com" must be a DNS-1123 subdomain: lowercase letters, digits, '-' and '.', starting and ending with a letter or digit, at most 253 characters`,
      },
    ]);
  });

  it('allows exactly 256 KiB of keys plus values and rejects one byte more', () => {
    const key = 'k';
    expect(validateAnnotations({ [key]: 'v'.repeat(ANNOTATIONS_MAX_BYTES - 1) })).toBeNull();
    expect(validateAnnotations({ [key]: 'v'.repeat(ANNOTATIONS_MAX_BYTES) })).toEqual([
      {
        field: 'annotations',
        message:
          'annotations total 262145 bytes (keys plus values); they must be at most 262144 bytes (256 KiB)',
      },
    ]);
  });

  it('counts bytes, not characters', () => {
    // 'é' is two bytes in UTF-8: 131072 of them plus the key exceed the limit.
    expect(validateAnnotations({ k: 'é'.repeat(ANNOTATIONS_MAX_BYTES / 2) })).toHaveLength(1);
    expect(validateAnnotations({ k: 'é'.repeat(ANNOTATIONS_MAX_BYTES / 2 - 1) })).toBeNull();
  });

  it('reports list entries against their index', () => {
    expect(validateAnnotations([{ key: 'a//b', value: '' }])?.[0]?.field).toBe('annotations.0.key');
  });
});

describe('result helpers', () => {
  it('build the discriminated shapes', () => {
    expect(ok(1)).toEqual({ ok: true, value: 1 });
    expect(fail(domainError('NOT_FOUND', 'gone'))).toEqual({
      ok: false,
      error: { code: 'NOT_FOUND', message: 'gone' },
    });
    expect(fail(domainError('CONFLICT', 'x', 'f'))).toEqual({
      ok: false,
      error: { code: 'CONFLICT', message: 'x', field: 'f' },
    });
    expect(
      failWith([
        { field: 'a', message: 'one' },
        { field: 'b', message: 'two' },
      ]),
    ).toEqual({ ok: false, error: { code: 'VALIDATION', message: 'one; two', field: 'a' } });
  });
});
