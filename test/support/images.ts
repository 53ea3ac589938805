// Builds deterministic OCI / Docker schema-2 images in memory and pushes them over the v2 API.
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';

export type ManifestFlavour = 'oci' | 'docker';

export const MEDIA_TYPES = {
  oci: {
    manifest: 'application/vnd.oci.image.manifest.v1+json',
    index: 'application/vnd.oci.image.index.v1+json',
    config: 'application/vnd.oci.image.config.v1+json',
    layer: 'application/vnd.oci.image.layer.v1.tar+gzip',
  },
  docker: {
    manifest: 'application/vnd.docker.distribution.manifest.v2+json',
    index: 'application/vnd.docker.distribution.manifest.list.v2+json',
    config: 'application/vnd.docker.container.image.v1+json',
    layer: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  },
} as const;

/** Without the OCI types the registry answers 404 MANIFEST_UNKNOWN for OCI content. */
export const MANIFEST_ACCEPT = [
  MEDIA_TYPES.oci.index,
  MEDIA_TYPES.oci.manifest,
  MEDIA_TYPES.docker.index,
  MEDIA_TYPES.docker.manifest,
].join(', ');

/** Fixed so identical specs give identical digests. */
const DEFAULT_CREATED = '2024-01-01T00:00:00Z';

export interface ImageSpec {
  /** Contents of `/content.txt`, one layer per string; vary it to get a different digest. */
  content?: string | string[];
  architecture?: string;
  os?: string;
  variant?: string;
  created?: string;
  author?: string;
  config?: {
    Cmd?: string[];
    Entrypoint?: string[];
    Env?: string[];
    Labels?: Record<string, string>;
    ExposedPorts?: Record<string, object>;
    User?: string;
    WorkingDir?: string;
    Volumes?: Record<string, object>;
  };
}

/** An OCI image with a little of everything in its config, for tests that read metadata back. */
export const SAMPLE_OCI_IMAGE: ImageSpec = {
  content: 'oci',
  author: 'tester',
  config: {
    Cmd: ['/hello'],
    Env: ['FOO=bar'],
    Labels: { k: 'v' },
    ExposedPorts: { '80/tcp': {} },
  },
};

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
}

export interface BuiltImage {
  digest: string;
  /** The exact manifest bytes (the digest is computed over these). */
  manifest: Buffer;
  mediaType: string;
  /** Byte length of the manifest, as a descriptor pointing at it states. */
  size: number;
  configDigest: string;
  config: Buffer;
  layers: Descriptor[];
  /** Every blob (config and layers) by digest, for uploading. */
  blobs: Map<string, Buffer>;
}

/** Image size as the server counts it: config blob plus each layer once. */
export const imageSize = (image: BuiltImage): number =>
  image.config.length + image.layers.reduce((sum, layer) => sum + layer.size, 0);

export interface BuiltIndex {
  digest: string;
  manifest: Buffer;
  mediaType: string;
  size: number;
  children: BuiltImage[];
}

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

export interface PushOptions {
  auth?: { user: string; password: string };
  /** Trust this CA (PEM) for an HTTPS registry with a self-signed certificate. */
  ca?: string;
  mediaType?: ManifestFlavour;
}

/** Global fetch, or undici's with an Agent that trusts `options.ca`. */
async function send(options: Pick<PushOptions, 'ca'>, url: string, init: RequestInit) {
  if (!options.ca) return fetch(url, init);
  const undici = await import('undici');
  const dispatcher = new undici.Agent({ connect: { ca: options.ca } });
  try {
    const response = await undici.fetch(url, { ...(init as object), dispatcher });
    const body = await response.arrayBuffer();
    return new Response(response.status === 204 ? null : body, {
      status: response.status,
      headers: Object.fromEntries(response.headers),
    });
  } finally {
    await dispatcher.close();
  }
}

export function sha256(bytes: Uint8Array): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

export function registryAuthHeader(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}

/** Builds an image in memory; nothing depends on the clock, so equal specs give equal digests. */
export function buildImage(spec: ImageSpec = {}, flavour: ManifestFlavour = 'oci'): BuiltImage {
  const types = MEDIA_TYPES[flavour];
  const created = spec.created ?? DEFAULT_CREATED;
  const contents =
    typeof spec.content === 'string' ? [spec.content] : (spec.content ?? ['tagraph']);
  const blobs = new Map<string, Buffer>();
  const diffIds: string[] = [];
  const layers: Descriptor[] = contents.map((text) => {
    const tar = tarWithOneFile('content.txt', Buffer.from(text));
    diffIds.push(sha256(tar));
    // Fixed level and no file name: gzip's header then carries mtime 0 and is reproducible.
    const gz = gzipSync(tar, { level: 6 });
    const digest = sha256(gz);
    blobs.set(digest, gz);
    return { mediaType: types.layer, digest, size: gz.length };
  });

  const config = Buffer.from(
    JSON.stringify({
      architecture: spec.architecture ?? 'amd64',
      os: spec.os ?? 'linux',
      ...(spec.variant ? { variant: spec.variant } : {}),
      created,
      ...(spec.author ? { author: spec.author } : {}),
      config: spec.config ?? {},
      rootfs: { type: 'layers', diff_ids: diffIds },
      history: diffIds.map(() => ({ created, created_by: 'tagraph test harness' })),
    }),
  );
  const configDigest = sha256(config);
  blobs.set(configDigest, config);

  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: types.manifest,
      config: { mediaType: types.config, digest: configDigest, size: config.length },
      layers,
    }),
  );
  return {
    digest: sha256(manifest),
    manifest,
    mediaType: types.manifest,
    size: manifest.length,
    configDigest,
    config,
    layers,
    blobs,
  };
}

/** Builds an OCI index / Docker manifest list whose children take their platform's os/arch. */
export function buildIndex(
  children: { platform: Platform; spec?: ImageSpec }[],
  flavour: ManifestFlavour = 'oci',
): BuiltIndex {
  const built = children.map(({ platform, spec }) => buildImage({ ...spec, ...platform }, flavour));
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MEDIA_TYPES[flavour].index,
      manifests: built.map((child, i) => ({
        mediaType: child.mediaType,
        digest: child.digest,
        size: child.size,
        platform: children[i]!.platform,
      })),
    }),
  );
  return {
    digest: sha256(manifest),
    manifest,
    mediaType: MEDIA_TYPES[flavour].index,
    size: manifest.length,
    children: built,
  };
}

/** Pushes the blobs and the manifest; by digest when `tag` is null. */
export async function pushImage(
  registryUrl: string,
  repository: string,
  tag: string | null,
  spec: ImageSpec = {},
  options: PushOptions = {},
): Promise<BuiltImage> {
  const image = buildImage(spec, options.mediaType ?? 'oci');
  for (const [digest, bytes] of image.blobs) {
    await uploadBlob(registryUrl, repository, digest, bytes, options);
  }
  await putManifest(registryUrl, repository, tag ?? image.digest, image, options);
  return image;
}

/** Pushes each child by digest, then the index under `tag`. */
export async function pushIndex(
  registryUrl: string,
  repository: string,
  tag: string | null,
  children: { platform: Platform; spec?: ImageSpec }[],
  options: PushOptions = {},
): Promise<BuiltIndex> {
  const index = buildIndex(children, options.mediaType ?? 'oci');
  for (const child of index.children) {
    for (const [digest, bytes] of child.blobs) {
      await uploadBlob(registryUrl, repository, digest, bytes, options);
    }
    await putManifest(registryUrl, repository, child.digest, child, options);
  }
  await putManifest(registryUrl, repository, tag ?? index.digest, index, options);
  return index;
}

export async function deleteManifest(
  registryUrl: string,
  repository: string,
  digest: string,
  options: Pick<PushOptions, 'auth'> = {},
): Promise<void> {
  const response = await fetch(`${registryUrl}/v2/${repository}/manifests/${digest}`, {
    method: 'DELETE',
    headers: authHeaders(options),
  });
  await expectStatus(response, 202, `DELETE manifest ${repository}@${digest}`);
}

async function uploadBlob(
  registryUrl: string,
  repository: string,
  digest: string,
  bytes: Buffer,
  options: PushOptions,
): Promise<void> {
  const headers = authHeaders(options);
  const start = await send(options, `${registryUrl}/v2/${repository}/blobs/uploads/`, {
    method: 'POST',
    headers,
  });
  await expectStatus(start, 202, `start upload to ${repository}`);
  // A monolithic POST with ?digest= does not create the blob on 2.8, hence POST then PUT.
  const location = start.headers.get('location');
  if (!location) throw new Error(`upload to ${repository}: 202 without Location`);
  // Location may be relative and already carries the upload state in its query.
  const target = new URL(location, registryUrl).href;
  const separator = target.includes('?') ? '&' : '?';
  const put = await send(options, `${target}${separator}digest=${encodeURIComponent(digest)}`, {
    method: 'PUT',
    headers: { ...headers, 'content-type': 'application/octet-stream' },
    body: asBody(bytes),
  });
  await expectStatus(put, 201, `upload ${digest} to ${repository}`);
}

async function putManifest(
  registryUrl: string,
  repository: string,
  reference: string,
  built: { digest: string; manifest: Buffer; mediaType: string },
  options: PushOptions,
): Promise<void> {
  const response = await send(options, `${registryUrl}/v2/${repository}/manifests/${reference}`, {
    method: 'PUT',
    headers: { ...authHeaders(options), 'content-type': built.mediaType },
    body: asBody(built.manifest),
  });
  await expectStatus(response, 201, `PUT manifest ${repository}:${reference}`);
  const stored = response.headers.get('docker-content-digest');
  if (stored !== built.digest) {
    throw new Error(`registry stored ${repository}:${reference} as ${stored}, not ${built.digest}`);
  }
}

/** Node's Buffer type admits SharedArrayBuffer, which fetch's BodyInit type rejects. */
function asBody(bytes: Buffer): Uint8Array<ArrayBuffer> {
  return new Uint8Array(bytes);
}

function authHeaders(options: Pick<PushOptions, 'auth'>): Record<string, string> {
  return options.auth
    ? { authorization: registryAuthHeader(options.auth.user, options.auth.password) }
    : {};
}

async function expectStatus(response: Response, status: number, what: string): Promise<void> {
  if (response.status === status) {
    await response.arrayBuffer();
    return;
  }
  throw new Error(`${what}: HTTP ${response.status} ${await response.text()}`);
}

/** A ustar archive holding one regular file; mode, owner and mtime are fixed. */
function tarWithOneFile(name: string, data: Buffer): Buffer {
  const header = Buffer.alloc(512);
  const field = (offset: number, length: number, value: string) =>
    header.write(value, offset, length, 'ascii');
  const octal = (offset: number, length: number, value: number) =>
    field(offset, length, `${value.toString(8).padStart(length - 1, '0')}\0`);
  field(0, 100, name);
  octal(100, 8, 0o644);
  octal(108, 8, 0);
  octal(116, 8, 0);
  octal(124, 12, data.length);
  octal(136, 12, 0);
  field(148, 8, ' '.repeat(8)); // the checksum is computed with its own field as spaces
  field(156, 1, '0');
  field(257, 6, 'ustar\0');
  field(263, 2, '00');
  let checksum = 0;
  for (const byte of header) checksum += byte;
  field(148, 8, `${checksum.toString(8).padStart(6, '0')}\0 `);
  const padding = Buffer.alloc((512 - (data.length % 512)) % 512);
  // Two zero blocks mark the end of the archive.
  return Buffer.concat([header, data, padding, Buffer.alloc(1024)]);
}
