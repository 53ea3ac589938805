// Unit tests for what import-image imports and refuses: followTagReference, planTagImport,
// planRepositoryImport and the spec.dockerImageRepository check, with oc's texts.
import { describe, expect, it } from 'vitest';
import {
  planRepositoryImport,
  planTagImport,
  validateDockerImageRepository,
} from '../../src/domain/importRules.ts';
import { followTagReference, type StreamTags, type TagSource } from '../../src/domain/tracking.ts';

const docker = (name: string): TagSource => ({ kind: 'DockerImage', name });
const istag = (name: string, namespace?: string): TagSource => ({
  kind: 'ImageStreamTag',
  name,
  namespace: namespace ?? null,
});

//   1.0: registry; latest → 1.0; stable → ruby:latest (two hops); pinned: ImageStreamImage;
//   other: another stream's tag; away: another namespace's; loop-a ⇄ loop-b; bare: no source.
const spec: StreamTags = {
  namespace: 'demo',
  stream: 'ruby',
  tags: new Map<string, TagSource | null>([
    ['1.0', docker('quay.io/x/ruby:1.0')],
    ['latest', istag('1.0')],
    ['stable', istag('ruby:latest')],
    ['pinned', { kind: 'ImageStreamImage', name: 'ruby@sha256:abc' }],
    ['other', istag('python:3')],
    ['away', istag('ruby:1.0', 'elsewhere')],
    ['loop-a', istag('loop-b')],
    ['loop-b', istag('ruby:loop-a')],
    ['bad', istag('ruby:')],
    ['bare', null],
    ['to-missing', istag('gone')],
  ]),
};

describe('followTagReference', () => {
  it('follows same-stream tags to the tag with a source', () => {
    expect(followTagReference(spec, '1.0')).toEqual({
      ok: true,
      value: { tag: '1.0', source: docker('quay.io/x/ruby:1.0'), followed: false },
    });
    expect(followTagReference(spec, 'stable')).toEqual({
      ok: true,
      value: { tag: '1.0', source: docker('quay.io/x/ruby:1.0'), followed: true },
    });
  });

  it('refuses other streams, other namespaces, loops and malformed links', () => {
    const reason = (tag: string) => {
      const r = followTagReference(spec, tag);
      return r.ok ? null : r.error.reason;
    };
    expect(reason('other')).toBe('crossStream');
    expect(reason('away')).toBe('crossStream');
    expect(reason('loop-a')).toBe('circular');
    expect(reason('bad')).toBe('invalid');
    expect(reason('to-missing')).toBe('notFound');
    expect(reason('nothing')).toBe('notFound');
  });
});

describe('planTagImport', () => {
  const message = (tag: string, from: string | null, repository: string | null = null) => {
    const r = planTagImport(spec, tag, from, repository);
    return r.ok ? null : r.error.message;
  };

  it('re-imports a registry tag, and a tracking tag imports the tag it follows', () => {
    expect(planTagImport(spec, '1.0', null, null)).toEqual({
      ok: true,
      value: { tag: '1.0', from: 'quay.io/x/ruby:1.0', writeSpec: false },
    });
    expect(planTagImport(spec, 'latest', null, null)).toEqual({
      ok: true,
      value: { tag: '1.0', from: 'quay.io/x/ruby:1.0', writeSpec: false },
    });
    expect(planTagImport(spec, '1.0', 'quay.io/x/ruby:1.0', null)).toEqual({
      ok: true,
      value: { tag: '1.0', from: 'quay.io/x/ruby:1.0', writeSpec: true },
    });
  });

  it('a new tag needs from, except latest of a stream with a repository', () => {
    expect(planTagImport(spec, 'new', 'quay.io/x/ruby:new', null)).toEqual({
      ok: true,
      value: { tag: 'new', from: 'quay.io/x/ruby:new', writeSpec: true },
    });
    expect(message('new', null, 'quay.io/x/ruby')).toBe(
      `the tag "new" does not exist on the image stream - choose an existing tag to import or use the 'tag' command to create a new tag`,
    );
    const bare = { ...spec, tags: new Map<string, TagSource | null>() };
    expect(planTagImport(bare, 'latest', null, 'quay.io/x/ruby')).toEqual({
      ok: true,
      value: { tag: 'latest', from: 'quay.io/x/ruby', writeSpec: true },
    });
    const missing = planTagImport(bare, 'latest', null, null);
    expect(missing.ok ? null : missing.error.code).toBe('NOT_FOUND');
  });

  it("refuses what oc refuses, in oc's words", () => {
    expect(message('1.0', 'quay.io/y/ruby:2')).toBe(
      `the tag "1.0" points to "quay.io/x/ruby:1.0" - use the 'tag' command if you want to change the source to "quay.io/y/ruby:2"`,
    );
    expect(message('stable', 'quay.io/y/ruby:2')).toBe(
      `the tag "stable" points to the tag "1.0" which points to "quay.io/x/ruby:1.0" - use the 'tag' command if you want to change the source to "quay.io/y/ruby:2"`,
    );
    expect(message('pinned', null)).toBe(
      'tag "pinned" points to existing ImageStreamImage "ruby@sha256:abc", it cannot be re-imported',
    );
    expect(message('other', null)).toBe(
      'tag "other" points to an imagestreamtag from another ImageStream',
    );
    expect(message('loop-a', null)).toBe(
      'tag "loop-a" on the image stream is a reference to same tag',
    );
    expect(message('bad', null)).toBe('tag "bad" points to an invalid imagestreamtag');
    expect(message('bare', 'quay.io/x/ruby:9')).toBe(
      `tag "bare" already exists - you must use the 'tag' command if you want to change the source to "quay.io/x/ruby:9"`,
    );
  });
});

describe('planRepositoryImport', () => {
  it('uses the recorded repository, records a new one only when confirmed', () => {
    expect(planRepositoryImport(null, null, false)).toEqual({ ok: true, value: null });
    expect(planRepositoryImport(null, 'quay.io/x/ruby', false)).toEqual({
      ok: true,
      value: { from: 'quay.io/x/ruby', record: false },
    });
    expect(planRepositoryImport('quay.io/y/ruby', 'quay.io/x/ruby', true)).toEqual({
      ok: true,
      value: { from: 'quay.io/y/ruby', record: true },
    });
    const changed = planRepositoryImport('quay.io/y/ruby', 'quay.io/x/ruby', false);
    expect(changed.ok ? null : changed.error.message).toBe(
      'the image stream has a different import spec "quay.io/x/ruby", pass confirm to update',
    );
    const first = planRepositoryImport('quay.io/y/ruby', null, false);
    expect(first.ok ? null : first.error.message).toBe(
      'the image stream does not currently import an entire Docker repository, pass confirm to update',
    );
  });
});

describe('validateDockerImageRepository', () => {
  it('takes a repository, not a tag or digest', () => {
    expect(validateDockerImageRepository('quay.io/x/ruby')).toBeNull();
    expect(validateDockerImageRepository('quay.io/x/ruby:3')?.[0]?.message).toBe(
      'dockerImageRepository: the repository name may not contain a tag',
    );
    expect(
      validateDockerImageRepository(`quay.io/x/ruby@sha256:${'a'.repeat(64)}`)?.[0]?.message,
    ).toBe('dockerImageRepository: the repository name may not contain an ID');
    expect(validateDockerImageRepository('Quay.io/X/Ruby')).not.toBeNull();
  });
});
