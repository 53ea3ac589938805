// Parsing what a registry serves — image manifests, indexes and image config blobs — without I/O.
import type { ImageConfig } from '../domain/imageConfig.ts';
import { firstUnstorableText } from '../domain/storableText.ts';
import { RegistryError } from './errors.ts';

export const MEDIA_TYPES = {
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
} as const;

/** Every manifest type the parser understands; without the OCI ones a registry answers 404. */
export const MANIFEST_ACCEPT = [
  MEDIA_TYPES.ociIndex,
  MEDIA_TYPES.ociManifest,
  MEDIA_TYPES.dockerList,
  MEDIA_TYPES.dockerManifest,
].join(', ');

const IMAGE_TYPES = new Set<string>([MEDIA_TYPES.ociManifest, MEDIA_TYPES.dockerManifest]);
const LIST_TYPES = new Set<string>([MEDIA_TYPES.ociIndex, MEDIA_TYPES.dockerList]);
const SCHEMA1_TYPES = new Set([
  'application/vnd.docker.distribution.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v1+prettyjws',
]);
/** Content-Types that say nothing about which manifest this is; the body decides. */
const GENERIC_TYPES = new Set(['', 'application/json', 'text/plain', 'application/octet-stream']);

const DIGEST_PATTERN = /^(?:sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$/;

export type Descriptor = { mediaType: string; digest: string; size: number };
export type ListEntry = Descriptor & {
  os: string | null;
  architecture: string | null;
  variant: string | null;
};
export type ParsedManifest =
  | { kind: 'image'; mediaType: string; config: Descriptor; layers: Descriptor[] }
  | { kind: 'list'; mediaType: string; manifests: ListEntry[] };

/** What an image's config blob says about it, shaped for `ImageInput` and `ImageConfig`. */
export interface ImageMetadata {
  architecture: string | null;
  os: string | null;
  variant: string | null;
  created: Date | null;
  author: string | null;
  config: ImageConfig;
}

/** `sha256:` and 64 lowercase hex digits, or `sha512:` and 128. */
export function isDigest(value: string): boolean {
  return DIGEST_PATTERN.test(value);
}

/** The media type without parameters (`; charset=utf-8`), lowercased; '' when absent. */
export function bareMediaType(contentType: string | null | undefined): string {
  return (contentType ?? '').split(';')[0]!.trim().toLowerCase();
}

/**
 * Parses an image manifest or an index. The media type comes from the body's `mediaType`, else
 * from a specific Content-Type, else from the shape (`manifests` → index, `config` → manifest).
 * A manifest holding a NUL or a lone surrogate anywhere fails as `InvalidImage`.
 * Messages say what is wrong, not where it came from: the client adds the image name.
 */
export function parseManifest(bytes: Uint8Array, contentType: string | null): ParsedManifest {
  const body = parseJsonObject(bytes, 'manifest');
  if (body.schemaVersion === 1) throw schema1Error();
  const declared = body.mediaType;
  if (declared !== undefined && typeof declared !== 'string') {
    throw bad('manifest field mediaType is not a string');
  }
  const header = bareMediaType(contentType);
  const mediaType =
    typeof declared === 'string'
      ? declared
      : GENERIC_TYPES.has(header)
        ? inferMediaType(body)
        : header;
  if (SCHEMA1_TYPES.has(mediaType)) throw schema1Error();
  if (body.schemaVersion !== undefined && body.schemaVersion !== 2) {
    throw bad(`manifest schemaVersion ${JSON.stringify(body.schemaVersion)} is not supported`);
  }

  if (IMAGE_TYPES.has(mediaType)) {
    const layers = arrayField(body, 'layers');
    return {
      kind: 'image',
      mediaType,
      config: parseDescriptor(body.config, 'config'),
      layers: layers.map((layer, i) => parseDescriptor(layer, `layers[${i}]`)),
    };
  }
  if (LIST_TYPES.has(mediaType)) {
    const manifests = arrayField(body, 'manifests');
    return {
      kind: 'list',
      mediaType,
      manifests: manifests.map((entry, i) => parseListEntry(entry, `manifests[${i}]`)),
    };
  }
  throw bad(`manifest media type ${clip(mediaType)} is not supported`);
}

/**
 * Reads an OCI image config / Docker container config; absent or ill-typed fields are left out.
 * A config holding a NUL or a lone surrogate anywhere fails as `InvalidImage`.
 */
export function parseImageConfig(bytes: Uint8Array): ImageMetadata {
  const body = parseJsonObject(bytes, 'image config');
  const inner = isObject(body.config) ? body.config : {};
  const config: ImageConfig = {};
  const cmd = stringArray(inner.Cmd);
  if (cmd) config.cmd = cmd;
  const entrypoint = stringArray(inner.Entrypoint);
  if (entrypoint) config.entrypoint = entrypoint;
  const env = stringArray(inner.Env);
  if (env) config.env = env;
  const labels = stringRecord(inner.Labels);
  if (labels) config.labels = labels;
  if (isObject(inner.ExposedPorts)) config.exposedPorts = Object.keys(inner.ExposedPorts);
  const user = nonEmptyString(inner.User);
  if (user) config.user = user;
  const workingDir = nonEmptyString(inner.WorkingDir);
  if (workingDir) config.workingDir = workingDir;
  if (isObject(inner.Volumes)) config.volumes = Object.keys(inner.Volumes);
  return {
    architecture: nonEmptyString(body.architecture),
    os: nonEmptyString(body.os),
    variant: nonEmptyString(body.variant),
    created: parseCreated(body.created),
    author: nonEmptyString(body.author),
    config,
  };
}

function inferMediaType(body: Record<string, unknown>): string {
  if ('manifests' in body) return MEDIA_TYPES.ociIndex;
  if ('config' in body) return MEDIA_TYPES.ociManifest;
  throw bad('manifest has no mediaType, no config and no manifests');
}

function parseDescriptor(value: unknown, field: string): Descriptor {
  if (!isObject(value)) throw bad(`manifest field ${field} is missing or not an object`);
  const { mediaType, digest, size } = value;
  if (typeof mediaType !== 'string' || mediaType === '') {
    throw bad(`manifest field ${field}.mediaType is missing or not a string`);
  }
  if (typeof digest !== 'string' || !isDigest(digest)) {
    throw bad(
      `manifest field ${field}.digest ${clip(JSON.stringify(digest))} is not a valid digest`,
    );
  }
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) {
    throw bad(`manifest field ${field}.size is missing or not a non-negative integer`);
  }
  return { mediaType, digest, size };
}

function parseListEntry(value: unknown, field: string): ListEntry {
  const descriptor = parseDescriptor(value, field);
  const platform = (value as Record<string, unknown>).platform;
  if (platform !== undefined && !isObject(platform)) {
    throw bad(`manifest field ${field}.platform is not an object`);
  }
  const read = (key: string): string | null => {
    const v = platform?.[key];
    if (v === undefined || v === null) return null;
    if (typeof v !== 'string') throw bad(`manifest field ${field}.platform.${key} is not a string`);
    return v === '' ? null : v;
  };
  return {
    ...descriptor,
    os: read('os'),
    architecture: read('architecture'),
    variant: read('variant'),
  };
}

function parseJsonObject(bytes: Uint8Array, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    throw bad(`${what} is not valid JSON`);
  }
  if (!isObject(value)) throw bad(`${what} is not a JSON object`);
  // Every string and key, stored or not: what is kept of a document must be exactly what its
  // digest covers, so a document with unstorable text is refused whole rather than cleaned.
  const unstorable = firstUnstorableText(value);
  if (unstorable)
    throw new RegistryError(
      'InvalidImage',
      `${what} holds text that cannot be stored: ${unstorable}`,
    );
  return value;
}

/** Go's zero time (`0001-01-01T00:00:00Z`) is how Docker writes "unknown". */
function parseCreated(value: unknown): Date | null {
  if (typeof value !== 'string') return null;
  const date = new Date(value);
  if (Number.isNaN(date.getTime()) || date.getUTCFullYear() <= 1) return null;
  return date;
}

function stringArray(value: unknown): string[] | undefined {
  return Array.isArray(value) && value.every((v) => typeof v === 'string') ? value : undefined;
}

function stringRecord(value: unknown): Record<string, string> | undefined {
  if (!isObject(value)) return undefined;
  const entries = Object.entries(value).filter(
    (entry): entry is [string, string] => typeof entry[1] === 'string',
  );
  return Object.fromEntries(entries);
}

function nonEmptyString(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}

/** The manifest's field `name`, which must be an array. */
function arrayField(body: Record<string, unknown>, name: string): unknown[] {
  const value = body[name];
  if (!Array.isArray(value)) throw bad(`manifest field ${name} is missing or not an array`);
  return value;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Registry-controlled text in messages is cut short so a hostile body cannot flood them. */
function clip(text: string): string {
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

function schema1Error(): RegistryError {
  return bad(
    'Docker schema 1 manifests are not supported; push the image again with a current client',
  );
}

function bad(message: string): RegistryError {
  return new RegistryError('BadManifest', message);
}
