// Unit tests for comparing two images (docs/images.md#comparing-two-images) and for the
// references imageDiff accepts.
import { describe, expect, it } from 'vitest';
import {
  type DiffableImage,
  diffImages,
  diffKeyValues,
  diffLayers,
  diffPlatforms,
  envMap,
  MAX_DIFF_ENTRIES,
} from '../../src/domain/imageDiff.ts';
import { parseStreamImageReference } from '../../src/domain/references.ts';

const digest = (n: number) => `sha256:${n.toString(16).padStart(64, '0')}`;
const layer = (n: number, size = n * 10) => ({
  digest: digest(n),
  size,
  mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
});

function image(overrides: Partial<DiffableImage> = {}): DiffableImage {
  return {
    digest: digest(1000),
    size: 100,
    os: 'linux',
    architecture: 'amd64',
    variant: null,
    config: null,
    layers: [],
    manifests: [],
    ...overrides,
  };
}

describe('parseStreamImageReference', () => {
  it('reads ns/stream:tag and ns/stream@id into typed references', () => {
    expect(parseStreamImageReference('team/app:v1', 'from')).toEqual({
      ok: true,
      value: { kind: 'ImageStreamTag', namespace: 'team', stream: 'app', tag: 'v1' },
    });
    expect(parseStreamImageReference('team/app@SHA256:3A33', 'to')).toEqual({
      ok: true,
      value: { kind: 'ImageStreamImage', namespace: 'team', stream: 'app', id: '3a33' },
    });
  });

  it.each([
    ['app:v1', 'no namespace'],
    ['app@3a33', 'no namespace'],
    ['team/app', 'neither tag nor id'],
    ['', 'empty'],
    ['a/b/c:v1', 'two slashes'],
    ['team/app:', 'empty tag'],
    ['team/app@', 'empty id'],
    ['team/app@xyz', 'not hex'],
    ['Team/app:v1', 'bad namespace'],
    ['team/app:v1@3a33', 'tag and id'],
    ['quay.io/team/app:v1', 'a pull spec'],
  ])('refuses %j (%s) as VALIDATION on the field', (input) => {
    const result = parseStreamImageReference(input, 'from');
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error.code).toBe('VALIDATION');
      expect(result.error.field).toBe('from');
    }
  });
});

describe('envMap', () => {
  it('splits at the first =, lets a later entry win, and reads a bare name as empty', () => {
    expect([...envMap(['A=1', 'B=x=y', 'A=2', 'C'])]).toEqual([
      ['A', '2'],
      ['B', 'x=y'],
      ['C', ''],
    ]);
  });
});

describe('diffKeyValues', () => {
  it('reports added, removed and changed keys, sorted by key', () => {
    const diff = diffKeyValues(
      new Map([
        ['PATH', '/bin'],
        ['Z', '1'],
        ['GONE', 'x'],
      ]),
      new Map([
        ['Z', '2'],
        ['PATH', '/bin'],
        ['NEW', 'y'],
        ['A', 'z'],
      ]),
    );
    expect(diff.added).toEqual({
      items: [
        { key: 'A', value: 'z' },
        { key: 'NEW', value: 'y' },
      ],
      total: 2,
    });
    expect(diff.removed).toEqual({ items: [{ key: 'GONE', value: 'x' }], total: 1 });
    expect(diff.changed).toEqual({
      items: [{ key: 'Z', before: '1', after: '2' }],
      total: 1,
    });
  });

  it(`returns at most ${MAX_DIFF_ENTRIES} entries of a list, with the complete count`, () => {
    const many = new Map(
      Array.from({ length: MAX_DIFF_ENTRIES + 5 }, (_, i) => [`K${i}`, `${i}`] as const),
    );
    const diff = diffKeyValues(new Map(), many);
    expect(diff.added.items).toHaveLength(MAX_DIFF_ENTRIES);
    expect(diff.added.total).toBe(MAX_DIFF_ENTRIES + 5);
  });
});

describe('diffLayers', () => {
  it('compares layers as multisets of digests, keeping each image’s order', () => {
    const diff = diffLayers([layer(1), layer(2), layer(3)], [layer(1), layer(2), layer(4)]);
    expect(diff.common).toBe(2);
    expect(diff.added.items).toEqual([{ ...layer(4), position: 2 }]);
    expect(diff.removed.items).toEqual([{ ...layer(3), position: 2 }]);
  });

  it('counts a repeated digest once per copy', () => {
    const diff = diffLayers([layer(7), layer(7)], [layer(7)]);
    expect(diff.common).toBe(1);
    expect(diff.removed.items).toEqual([{ ...layer(7), position: 1 }]);
    expect(diff.added.total).toBe(0);
  });
});

describe('diffPlatforms', () => {
  const entry = (os: string, architecture: string, n: number, variant: string | null = null) => ({
    os,
    architecture,
    variant,
    digest: digest(n),
  });

  it('pairs entries by os, architecture and variant', () => {
    const diff = diffPlatforms(
      [entry('linux', 'amd64', 1), entry('linux', 'arm', 2, 'v7'), entry('linux', 's390x', 3)],
      [entry('linux', 'amd64', 1), entry('linux', 'arm', 4, 'v7'), entry('linux', 'arm64', 5)],
    );
    expect(diff.unchanged).toBe(1);
    expect(diff.changed.items).toEqual([
      {
        os: 'linux',
        architecture: 'arm',
        variant: 'v7',
        fromDigest: digest(2),
        toDigest: digest(4),
      },
    ]);
    expect(diff.added.items).toEqual([entry('linux', 'arm64', 5)]);
    expect(diff.removed.items).toEqual([entry('linux', 's390x', 3)]);
  });

  it('pairs repeated platforms (attestations) in list order', () => {
    const diff = diffPlatforms(
      [entry('unknown', 'unknown', 1), entry('unknown', 'unknown', 2)],
      [entry('unknown', 'unknown', 1)],
    );
    expect(diff.unchanged).toBe(1);
    expect(diff.removed.items).toEqual([entry('unknown', 'unknown', 2)]);
  });
});

describe('diffImages', () => {
  it('compares config fields, reporting list and value changes only when they differ', () => {
    const from = image({
      digest: digest(1),
      size: 500,
      config: {
        env: ['A=1'],
        entrypoint: ['/a'],
        cmd: ['run'],
        user: 'root',
        exposedPorts: ['80/tcp'],
      },
      layers: [layer(1)],
    });
    const to = image({
      digest: digest(2),
      size: 420,
      config: {
        env: ['A=1'],
        entrypoint: ['/b'],
        cmd: ['run'],
        workingDir: '/srv',
        exposedPorts: ['8080/tcp'],
      },
      layers: [layer(1)],
    });
    const diff = diffImages(from, to);
    expect(diff.identical).toBe(false);
    expect(diff.config.env.added.total + diff.config.env.changed.total).toBe(0);
    expect(diff.config.entrypoint).toEqual({ before: ['/a'], after: ['/b'] });
    expect(diff.config.cmd).toBeNull();
    expect(diff.config.user).toEqual({ before: 'root', after: null });
    expect(diff.config.workingDir).toEqual({ before: null, after: '/srv' });
    expect(diff.config.exposedPorts.added.items).toEqual(['8080/tcp']);
    expect(diff.config.exposedPorts.removed.items).toEqual(['80/tcp']);
    expect(diff.size).toEqual({ from: 500, to: 420, delta: -80 });
    expect(diff.platforms.changed.items).toEqual([
      {
        os: 'linux',
        architecture: 'amd64',
        variant: null,
        fromDigest: digest(1),
        toDigest: digest(2),
      },
    ]);
  });

  it('tells an unset list from an empty one', () => {
    const diff = diffImages(image({ config: {} }), image({ config: { cmd: [] } }));
    expect(diff.config.cmd).toEqual({ before: null, after: [] });
  });

  it('finds nothing between an image and itself', () => {
    const one = image({ config: { env: ['A=1'], labels: { a: 'b' } }, layers: [layer(1)] });
    const diff = diffImages(one, one);
    expect(diff.identical).toBe(true);
    expect(diff.layers.common).toBe(1);
    expect(diff.platforms.unchanged).toBe(1);
    expect(diff.config.labels.changed.total + diff.config.labels.added.total).toBe(0);
  });
});
