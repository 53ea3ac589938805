// Unit tests for reference policies, generations and pending imports, and scheduled imports
// (docs/rules.md).
import { describe, expect, it } from 'vitest';
import {
  isImportPending,
  needsNewGeneration,
  pullSpecFor,
  type SpecTagIdentity,
  staysScheduled,
} from '../../src/domain/tagPolicy.ts';

const D = `sha256:${'a'.repeat(64)}`;
const STREAM = 'registry.example.com/demo/ruby';

describe('pullSpecFor', () => {
  const imported = { dockerImageReference: `quay.io/a/ruby@${D}`, image: D };
  const reference = { dockerImageReference: 'quay.io/a/ruby:2.0', image: null };

  it('Source: the reference as imported', () => {
    expect(pullSpecFor('Source', imported, STREAM)).toBe(`quay.io/a/ruby@${D}`);
  });

  it('Local: the stream pull spec pinned by digest', () => {
    expect(pullSpecFor('Local', imported, STREAM)).toBe(`${STREAM}@${D}`);
  });

  it('Local without a digest falls back to the source reference', () => {
    expect(pullSpecFor('Local', reference, STREAM)).toBe('quay.io/a/ruby:2.0');
    expect(pullSpecFor('Source', reference, STREAM)).toBe('quay.io/a/ruby:2.0');
  });
});

describe('isImportPending', () => {
  it.each<
    [number | null | undefined, number | null | undefined, number | null | undefined, boolean]
  >([
    // spec, item 0, condition, pending
    [1, undefined, undefined, true], // never imported, never failed
    [2, 1, undefined, true], // spec moved on since the last import
    [2, 2, undefined, false], // imported at this generation
    [3, 2, 1, true],
    [3, 2, 3, false], // the import for generation 3 failed and said so
    [3, undefined, 3, false],
    [3, 3, 1, false],
    [3, 4, undefined, false], // history newer than spec (e.g. a push)
    [null, undefined, undefined, false], // status-only tag
    [undefined, 1, 1, false],
  ])('spec %s, item0 %s, condition %s → %s', (spec, item0, condition, pending) => {
    expect(isImportPending(spec, item0, condition)).toBe(pending);
  });
});

describe('needsNewGeneration', () => {
  const base: SpecTagIdentity = {
    from: { kind: 'DockerImage', name: 'quay.io/a/ruby:2.0' },
    reference: false,
    importMode: 'Legacy',
  };

  it('on creation', () => {
    expect(needsNewGeneration(null, base)).toBe(true);
    expect(needsNewGeneration(undefined, base)).toBe(true);
  });

  it('not when nothing that matters changed', () => {
    expect(needsNewGeneration(base, { ...base, from: { ...base.from! } })).toBe(false);
  });

  it('not when the same policy comes back from the database with its keys reordered', () => {
    const policy = { kind: 'semver', range: '^1.2', includePrerelease: false, exclude: ['*.sig'] };
    const stored = { kind: 'semver', range: '^1.2', exclude: ['*.sig'], includePrerelease: false };
    expect(
      needsNewGeneration(
        { ...base, policy: stored as SpecTagIdentity['policy'] },
        { ...base, policy: policy as SpecTagIdentity['policy'] },
      ),
    ).toBe(false);
  });

  it.each<[string, SpecTagIdentity]>([
    ['from.name', { ...base, from: { kind: 'DockerImage', name: 'quay.io/a/ruby:2.1' } }],
    ['from.kind', { ...base, from: { kind: 'ImageStreamTag', name: 'quay.io/a/ruby:2.0' } }],
    ['from.namespace', { ...base, from: { ...base.from!, namespace: 'other' } }],
    ['from removed', { ...base, from: null }],
    ['reference', { ...base, reference: true }],
    ['importMode', { ...base, importMode: 'PreserveOriginal' }],
  ])('when %s changes', (_, next) => {
    expect(needsNewGeneration(base, next)).toBe(true);
  });

  it('treats an absent and an empty from.namespace alike', () => {
    const a: SpecTagIdentity = {
      ...base,
      from: { kind: 'ImageStreamTag', name: 'x:1', namespace: null },
    };
    const b: SpecTagIdentity = {
      ...base,
      from: { kind: 'ImageStreamTag', name: 'x:1', namespace: '' },
    };
    const c: SpecTagIdentity = { ...base, from: { kind: 'ImageStreamTag', name: 'x:1' } };
    expect(needsNewGeneration(a, b)).toBe(false);
    expect(needsNewGeneration(b, c)).toBe(false);
  });

  it('a tag with no source gaining one', () => {
    expect(needsNewGeneration({ ...base, from: null }, base)).toBe(true);
    expect(needsNewGeneration({ ...base, from: null }, { ...base, from: null })).toBe(false);
  });
});

describe('staysScheduled', () => {
  const docker = (name: string) => ({ kind: 'DockerImage' as const, name });

  it('keeps a scheduled tag-based DockerImage source', () => {
    expect(
      staysScheduled({ from: docker('quay.io/a:1'), reference: false, scheduled: true }, true),
    ).toBe(true);
  });

  it('keeps a digest-pinned source until its first successful import', () => {
    const tag = { from: docker(`quay.io/a@${D}`), reference: false, scheduled: true };
    expect(staysScheduled(tag, false)).toBe(true);
    expect(staysScheduled(tag, true)).toBe(false);
  });

  it('never schedules unscheduled, reference or non-DockerImage tags', () => {
    expect(
      staysScheduled({ from: docker('quay.io/a:1'), reference: false, scheduled: false }, false),
    ).toBe(false);
    expect(
      staysScheduled({ from: docker('quay.io/a:1'), reference: true, scheduled: true }, false),
    ).toBe(false);
    expect(
      staysScheduled(
        { from: { kind: 'ImageStreamTag', name: 'a:1' }, reference: false, scheduled: true },
        false,
      ),
    ).toBe(false);
    expect(staysScheduled({ from: null, reference: false, scheduled: true }, false)).toBe(false);
  });
});
