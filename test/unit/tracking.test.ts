// Unit tests for tracking tags and dangling trackers (docs/rules.md#tracking-tags).
import { describe, expect, it } from 'vitest';
import {
  followers,
  follows,
  isDangling,
  propagationOrder,
  type StreamTags,
  sameStreamSource,
  type TagSource,
  validateTrackingSource,
  wouldCreateCycle,
} from '../../src/domain/tracking.ts';

const istag = (name: string, namespace?: string): TagSource => ({
  kind: 'ImageStreamTag',
  name,
  namespace: namespace ?? null,
});

function stream(tags: Record<string, TagSource | null>): StreamTags {
  return { namespace: 'demo', stream: 'ruby', tags };
}

//   latest (pushed, no spec)
//   ├── stable      (tracks "latest")
//   │   ├── prod    (tracks "ruby:stable")
//   │   └── canary  (tracks "stable", explicit same namespace)
//   └── edge        (tracks "ruby:latest")
//   pinned: ImageStreamImage; external: DockerImage; other: tracks another stream
const chain = stream({
  latest: null,
  stable: istag('latest'),
  prod: istag('ruby:stable'),
  canary: istag('stable', 'demo'),
  edge: istag('ruby:latest'),
  pinned: { kind: 'ImageStreamImage', name: 'ruby@sha256:abc' },
  external: { kind: 'DockerImage', name: 'quay.io/a/b:1' },
  other: istag('python:3'),
  elsewhere: istag('ruby:latest', 'prod-ns'),
});

describe('sameStreamSource', () => {
  const here = { namespace: 'demo', stream: 'ruby' };

  it.each<[TagSource | null, string | null]>([
    [istag('2.0'), '2.0'],
    [istag('ruby:2.0'), '2.0'],
    [istag('ruby:2.0', 'demo'), '2.0'],
    [istag('ruby:2.0', ''), '2.0'],
    [istag('python:2.0'), null],
    [istag('ruby:2.0', 'other'), null],
    [{ kind: 'DockerImage', name: 'ruby:2.0' }, null],
    [{ kind: 'ImageStreamImage', name: 'ruby@abc' }, null],
    [null, null],
  ])('%j → %s', (from, expected) => {
    expect(sameStreamSource(here, from)).toBe(expected);
  });
});

describe('follows / followers / propagationOrder', () => {
  it('follows gives the tracked tag in this stream, or null', () => {
    expect(follows(chain, 'stable')).toBe('latest');
    expect(follows(chain, 'prod')).toBe('stable');
    expect(follows(chain, 'latest')).toBeNull();
    expect(follows(chain, 'pinned')).toBeNull();
    expect(follows(chain, 'other')).toBeNull();
    expect(follows(chain, 'elsewhere')).toBeNull();
    expect(follows(chain, 'missing')).toBeNull();
  });

  it('direct followers, sorted', () => {
    expect(followers(chain, 'latest')).toEqual(['edge', 'stable']);
    expect(followers(chain, 'stable', { transitive: false })).toEqual(['canary', 'prod']);
    expect(followers(chain, 'prod')).toEqual([]);
  });

  it('transitive followers in BFS order, each once', () => {
    expect(followers(chain, 'latest', { transitive: true })).toEqual([
      'edge',
      'stable',
      'canary',
      'prod',
    ]);
    expect(propagationOrder(chain, 'latest')).toEqual(['edge', 'stable', 'canary', 'prod']);
    expect(propagationOrder(chain, 'stable')).toEqual(['canary', 'prod']);
    expect(propagationOrder(chain, 'external')).toEqual([]);
  });

  it('is level by level, not depth first', () => {
    const deep = stream({ a: null, b: istag('a'), c: istag('a'), bb: istag('b'), ccc: istag('c') });
    expect(propagationOrder(deep, 'a')).toEqual(['b', 'c', 'bb', 'ccc']);
  });

  it('terminates on a cycle already in the data and never lists the changed tag', () => {
    const looped = stream({ a: istag('c'), b: istag('a'), c: istag('b'), d: istag('c') });
    expect(propagationOrder(looped, 'a')).toEqual(['b', 'c', 'd']);
    const self = stream({ a: istag('a'), b: istag('a') });
    expect(propagationOrder(self, 'a')).toEqual(['b']);
    expect(followers(self, 'a')).toEqual(['b']);
  });

  it('accepts a Map, so tag names like "constructor" are safe', () => {
    const spec: StreamTags = {
      namespace: 'demo',
      stream: 'ruby',
      tags: new Map([
        ['constructor', null],
        ['toString', istag('constructor')],
      ]),
    };
    expect(propagationOrder(spec, 'constructor')).toEqual(['toString']);
    expect(follows(spec, 'hasOwnProperty')).toBeNull();
  });
});

describe('isDangling', () => {
  it('is true when the tracked tag no longer exists', () => {
    const spec = stream({ stable: istag('latest'), prod: istag('stable') });
    expect(isDangling(spec, 'stable')).toBe(true);
    expect(isDangling(spec, 'prod')).toBe(false);
  });

  it('a tag with status only (null source) is not deleted', () => {
    expect(isDangling(chain, 'stable')).toBe(false);
    expect(isDangling(chain, 'latest')).toBe(false);
    expect(isDangling(chain, 'external')).toBe(false);
  });
});

describe('wouldCreateCycle', () => {
  it('detects self-tracking', () => {
    expect(wouldCreateCycle(chain, 'latest', 'latest')).toBe(true);
  });

  it('detects a loop through a chain', () => {
    // latest ← stable ← prod: making latest follow prod closes the loop.
    expect(wouldCreateCycle(chain, 'latest', 'prod')).toBe(true);
    expect(wouldCreateCycle(chain, 'stable', 'canary')).toBe(true);
  });

  it('allows a new edge that does not close a loop', () => {
    expect(wouldCreateCycle(chain, 'prod', 'edge')).toBe(false);
    expect(wouldCreateCycle(chain, 'newtag', 'prod')).toBe(false);
    expect(wouldCreateCycle(chain, 'edge', 'missing')).toBe(false);
  });

  it('terminates when the source is already in a loop that excludes dest', () => {
    const looped = stream({ a: istag('b'), b: istag('a') });
    expect(wouldCreateCycle(looped, 'x', 'a')).toBe(false);
  });
});

describe('validateTrackingSource', () => {
  /** The refusal validateTrackingSource returns, naming `field`. */
  const refusal = (message: string, field = 'from') => ({
    ok: false,
    error: { code: 'VALIDATION', field, message },
  });

  it('returns the tag to follow for both name forms', () => {
    expect(validateTrackingSource(chain, 'beta', istag('stable'))).toEqual({
      ok: true,
      value: 'stable',
    });
    expect(validateTrackingSource(chain, 'beta', istag('ruby:prod', 'demo'))).toEqual({
      ok: true,
      value: 'prod',
    });
  });

  it.each([
    [
      'refuses another stream',
      'beta',
      'python:3',
      'cannot track "python:3": a tracking tag (alias) can only follow a tag of its own image stream (demo/ruby); tag it without tracking to copy the image instead',
    ],
    ['refuses tracking itself', 'stable', 'ruby:stable', 'tag "stable" cannot track itself'],
    [
      'refuses a cycle and shows the loop',
      'latest',
      'prod',
      'tag "latest" cannot track "prod": that would make a cycle (latest → prod → stable → latest)',
    ],
  ])('%s', (_, tag, source, message) => {
    expect(validateTrackingSource(chain, tag, istag(source))).toEqual(refusal(message));
  });

  it('refuses another namespace, naming it', () => {
    expect(validateTrackingSource(chain, 'beta', istag('ruby:3', 'prod'))).toMatchObject({
      ok: false,
      error: { message: expect.stringContaining('cannot track "prod/ruby:3"') },
    });
  });

  it('refuses non-ImageStreamTag sources', () => {
    expect(
      validateTrackingSource(
        chain,
        'beta',
        { kind: 'DockerImage', name: 'quay.io/a:1' },
        'input.from',
      ),
    ).toEqual(
      refusal(
        'a tracking tag must follow an ImageStreamTag of demo/ruby, not a DockerImage',
        'input.from',
      ),
    );
  });

  it('refuses an invalid tag name', () => {
    expect(validateTrackingSource(chain, 'beta', istag('ruby:-x'))).toMatchObject({
      ok: false,
      error: { code: 'VALIDATION', message: expect.stringContaining('tag "-x" must start') },
    });
  });

  it('allows re-pointing a tracker to a different, non-looping source', () => {
    expect(validateTrackingSource(chain, 'prod', istag('edge'))).toEqual({
      ok: true,
      value: 'edge',
    });
  });
});
