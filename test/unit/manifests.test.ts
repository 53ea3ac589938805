// Manifest and image-config parsing, on bytes built the way a registry would serve them.
import { describe, expect, it } from 'vitest';
import { RegistryError } from '../../src/registry/errors.ts';
import { MANIFEST_ACCEPT, parseImageConfig, parseManifest } from '../../src/registry/manifests.ts';
import type { ImageInput } from '../../src/services/images.ts';
import { buildImage, buildIndex, MEDIA_TYPES } from '../support/images.ts';

const json = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
const DIGEST = `sha256:${'a'.repeat(64)}`;

function badManifest(run: () => unknown): RegistryError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(RegistryError);
    expect((error as RegistryError).reason).toBe('BadManifest');
    return error as RegistryError;
  }
  throw new Error('expected a BadManifest error');
}

describe('parseManifest', () => {
  it('parses a Docker schema 2 manifest', () => {
    const image = buildImage({ content: ['one', 'two'] }, 'docker');
    const parsed = parseManifest(image.manifest, MEDIA_TYPES.docker.manifest);
    expect(parsed).toEqual({
      kind: 'image',
      mediaType: MEDIA_TYPES.docker.manifest,
      config: {
        mediaType: MEDIA_TYPES.docker.config,
        digest: image.configDigest,
        size: image.config.length,
      },
      layers: image.layers,
    });
    expect(parsed.kind === 'image' && parsed.layers).toHaveLength(2);
  });

  it('parses an OCI manifest, taking the type from the body over a generic Content-Type', () => {
    const image = buildImage({ content: 'oci' }, 'oci');
    const parsed = parseManifest(image.manifest, 'application/json; charset=utf-8');
    expect(parsed.kind).toBe('image');
    expect(parsed.mediaType).toBe(MEDIA_TYPES.oci.manifest);
    expect(parsed.kind === 'image' && parsed.config.digest).toBe(image.configDigest);
  });

  it('parses an OCI index with platforms', () => {
    const index = buildIndex([
      { platform: { os: 'linux', architecture: 'amd64' } },
      { platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } },
    ]);
    const parsed = parseManifest(index.manifest, null);
    expect(parsed).toEqual({
      kind: 'list',
      mediaType: MEDIA_TYPES.oci.index,
      manifests: [
        {
          mediaType: MEDIA_TYPES.oci.manifest,
          digest: index.children[0]!.digest,
          size: index.children[0]!.size,
          os: 'linux',
          architecture: 'amd64',
          variant: null,
        },
        {
          mediaType: MEDIA_TYPES.oci.manifest,
          digest: index.children[1]!.digest,
          size: index.children[1]!.size,
          os: 'linux',
          architecture: 'arm64',
          variant: 'v8',
        },
      ],
    });
  });

  it('parses a Docker manifest list', () => {
    const list = buildIndex([{ platform: { os: 'windows', architecture: 'amd64' } }], 'docker');
    const parsed = parseManifest(list.manifest, MEDIA_TYPES.docker.index);
    expect(parsed.kind).toBe('list');
    expect(parsed.mediaType).toBe(MEDIA_TYPES.docker.index);
    expect(parsed.kind === 'list' && parsed.manifests[0]).toMatchObject({
      digest: list.children[0]!.digest,
      os: 'windows',
      architecture: 'amd64',
    });
  });

  it('takes the media type from Content-Type when the body has none, else infers it', () => {
    const config = { mediaType: 'x', digest: DIGEST, size: 1 };
    const bare = json({ schemaVersion: 2, config, layers: [] });
    expect(parseManifest(bare, MEDIA_TYPES.docker.manifest).mediaType).toBe(
      MEDIA_TYPES.docker.manifest,
    );
    expect(parseManifest(bare, null).mediaType).toBe(MEDIA_TYPES.oci.manifest);
    expect(parseManifest(json({ manifests: [] }), 'text/plain').mediaType).toBe(
      MEDIA_TYPES.oci.index,
    );
  });

  it('rejects Docker schema 1, by media type or by schemaVersion', () => {
    const signed = json({ schemaVersion: 1, name: 'ns/app', tag: 'v1', fsLayers: [] });
    for (const type of [
      'application/vnd.docker.distribution.manifest.v1+prettyjws',
      'application/vnd.docker.distribution.manifest.v1+json',
      null,
    ]) {
      expect(badManifest(() => parseManifest(signed, type)).message).toMatch(
        /schema 1 manifests are not supported/,
      );
    }
  });

  it('rejects digests that are not sha256 with 64 lowercase hex (or sha512 with 128)', () => {
    const manifest = (digest: string) =>
      json({
        mediaType: MEDIA_TYPES.oci.manifest,
        config: { mediaType: 'c', digest: DIGEST, size: 2 },
        layers: [{ mediaType: 'l', digest, size: 3 }],
      });
    for (const digest of [
      `sha256:${'A'.repeat(64)}`,
      `sha256:${'a'.repeat(63)}`,
      `md5:${'a'.repeat(32)}`,
      `sha512:${'a'.repeat(64)}`,
      'latest',
    ]) {
      expect(badManifest(() => parseManifest(manifest(digest), null)).message).toMatch(
        /layers\[0\]\.digest .* is not a valid digest/,
      );
    }
    const sha512 = parseManifest(manifest(`sha512:${'b'.repeat(128)}`), null);
    expect(sha512.kind === 'image' && sha512.layers[0]!.digest).toBe(`sha512:${'b'.repeat(128)}`);
  });

  it('rejects invalid JSON, unknown types and missing or ill-typed fields', () => {
    expect(badManifest(() => parseManifest(json('x').subarray(1), null)).message).toBe(
      'manifest is not valid JSON',
    );
    expect(badManifest(() => parseManifest(json([1]), null)).message).toBe(
      'manifest is not a JSON object',
    );
    expect(
      badManifest(() => parseManifest(json({ mediaType: 'application/vnd.oci.artifact' }), null))
        .message,
    ).toBe('manifest media type application/vnd.oci.artifact is not supported');
    expect(
      badManifest(() =>
        parseManifest(json({ mediaType: MEDIA_TYPES.oci.manifest, layers: [] }), null),
      ).message,
    ).toBe('manifest field config is missing or not an object');
    expect(
      badManifest(() =>
        parseManifest(
          json({ config: { mediaType: 'c', digest: DIGEST, size: '2' }, layers: [] }),
          null,
        ),
      ).message,
    ).toBe('manifest field config.size is missing or not a non-negative integer');
    expect(
      badManifest(() =>
        parseManifest(json({ config: { mediaType: 'c', digest: DIGEST, size: 2 } }), null),
      ).message,
    ).toBe('manifest field layers is missing or not an array');
    expect(
      badManifest(() =>
        parseManifest(
          json({ manifests: [{ mediaType: 'm', digest: DIGEST, size: 1, platform: { os: 7 } }] }),
          null,
        ),
      ).message,
    ).toBe('manifest field manifests[0].platform.os is not a string');
    expect(badManifest(() => parseManifest(json({ schemaVersion: 2 }), null)).message).toBe(
      'manifest has no mediaType, no config and no manifests',
    );
  });

  it('offers every type it parses in the Accept header', () => {
    expect(MANIFEST_ACCEPT.split(', ').sort()).toEqual(
      [
        MEDIA_TYPES.oci.index,
        MEDIA_TYPES.oci.manifest,
        MEDIA_TYPES.docker.index,
        MEDIA_TYPES.docker.manifest,
      ].sort(),
    );
  });
});

describe('parseImageConfig', () => {
  it('reads platform, provenance and the runtime config', () => {
    const image = buildImage({
      architecture: 'arm64',
      os: 'linux',
      variant: 'v8',
      created: '2024-05-06T07:08:09Z',
      author: 'Jane <jane@example.com>',
      config: {
        Cmd: ['/hello', '--loud'],
        Entrypoint: ['/init'],
        Env: ['PATH=/bin', 'FOO=bar'],
        Labels: { 'org.opencontainers.image.title': 'hello' },
        ExposedPorts: { '8080/tcp': {}, '53/udp': {} },
        User: '1001',
        WorkingDir: '/srv',
        Volumes: { '/data': {} },
      },
    });
    expect(parseImageConfig(image.config)).toEqual({
      architecture: 'arm64',
      os: 'linux',
      variant: 'v8',
      created: new Date('2024-05-06T07:08:09Z'),
      author: 'Jane <jane@example.com>',
      config: {
        cmd: ['/hello', '--loud'],
        entrypoint: ['/init'],
        env: ['PATH=/bin', 'FOO=bar'],
        labels: { 'org.opencontainers.image.title': 'hello' },
        exposedPorts: ['8080/tcp', '53/udp'],
        user: '1001',
        workingDir: '/srv',
        volumes: ['/data'],
      },
    });
  });

  it('leaves out what is missing, null, empty or of the wrong type', () => {
    const parsed = parseImageConfig(
      json({
        architecture: 'amd64',
        os: '',
        created: '0001-01-01T00:00:00Z',
        config: {
          Cmd: null,
          Entrypoint: ['/x', 1],
          Env: 'FOO=bar',
          Labels: { ok: 'yes', bad: 3 },
          User: '',
        },
      }),
    );
    expect(parsed).toEqual({
      architecture: 'amd64',
      os: null,
      variant: null,
      created: null,
      author: null,
      config: { labels: { ok: 'yes' } },
    });
    expect(parseImageConfig(json({}))).toEqual({
      architecture: null,
      os: null,
      variant: null,
      created: null,
      author: null,
      config: {},
    });
    expect(parseImageConfig(json({ created: 'yesterday' })).created).toBeNull();
  });

  it('fits ImageInput as it is', () => {
    const metadata = parseImageConfig(buildImage({ config: { Cmd: ['/x'] } }).config);
    // A compile-time check as much as a runtime one: no mapping is needed to store it.
    const input: ImageInput = { digest: DIGEST, mediaType: MEDIA_TYPES.oci.manifest, ...metadata };
    expect(input.config).toEqual({ cmd: ['/x'] });
  });

  it('rejects a config blob that is not a JSON object', () => {
    expect(badManifest(() => parseImageConfig(new TextEncoder().encode('{'))).message).toBe(
      'image config is not valid JSON',
    );
    expect(badManifest(() => parseImageConfig(json('text'))).message).toBe(
      'image config is not a JSON object',
    );
  });
});
