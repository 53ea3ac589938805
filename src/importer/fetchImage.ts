// Reading one tag's source from its registry: manifest (or list), config blob, into ImageInputs.
import {
  chooseManifestListChild,
  type ImportMode,
  type Platform,
  type PlatformPreference,
} from '../domain/platforms.ts';
import { type DockerReference, pinnedReference } from '../domain/references.ts';
import type { RequestBudget } from '../registry/budget.ts';
import type { RegistryClient } from '../registry/client.ts';
import { RegistryError } from '../registry/errors.ts';
import { type ListEntry, type ParsedManifest, parseImageConfig } from '../registry/manifests.ts';
import type { FetchedSource } from '../services/images.ts';
import { type ImageInput, imageSize, type ManifestChildInput } from '../services/images.ts';

export type { FetchedSource };

export interface FetchOptions {
  mode: ImportMode;
  preference: PlatformPreference;
  serverPlatform: Platform;
  /** The job's deadline and byte allowance, shared by every request. */
  budget?: RequestBudget;
  /** A preserved list with more children than this fails as `TooLarge` before any is read. */
  maxChildren?: number;
  /**
   * Stores one child of a preserved list as soon as it is read, so a list's children are never
   * all in memory at once. Without it they are collected into `children`.
   */
  saveChild?: (child: ImageInput) => Promise<void>;
}

/**
 * Fetches the source of a tag and everything needed to store it, manifest lists included
 * (docs/rules.md#importing).
 */
export async function fetchSource(
  client: RegistryClient,
  source: DockerReference,
  options: FetchOptions,
): Promise<FetchedSource> {
  const reference = source.digest ?? source.tag ?? 'latest';
  const { budget } = options;
  const top = await client.getManifest(source.repository, reference, budget);
  if (top.manifest.kind === 'image') {
    const image = await readImage(client, source, top.digest, top.bytes, top.manifest, budget);
    return { sourceDigest: top.digest, image, children: [] };
  }

  const entries = top.manifest.manifests;
  if (options.mode === 'Legacy') {
    const choice = chooseManifestListChild(entries, options.preference, options.serverPlatform);
    if (!choice) {
      throw new RegistryError(
        'BadManifest',
        `manifest list ${source.repository}@${top.digest} has no manifests`,
      );
    }
    const image = await readChild(client, source, choice.child.digest, budget);
    return { sourceDigest: top.digest, image, children: [], listEntries: listEntries(entries) };
  }

  if (options.maxChildren !== undefined && entries.length > options.maxChildren) {
    throw new RegistryError(
      'TooLarge',
      `manifest list ${source.repository}@${top.digest} has ${entries.length} manifests, over the limit of ${options.maxChildren} per list`,
    );
  }
  // Fails before reading any child when the manifests alone, as the list declares their sizes,
  // cannot fit in what the job has left to read.
  const declared = entries.reduce((sum, entry) => sum + Math.max(0, entry.size), 0);
  if (budget && declared > budget.bytesLeft) {
    throw budget.exceeded(
      `the ${entries.length} manifests of ${source.repository}@${top.digest} (${declared} bytes declared)`,
    );
  }
  const children: ImageInput[] = [];
  for (const entry of entries) {
    const child = await readChild(client, source, entry.digest, budget);
    if (options.saveChild) await options.saveChild(child);
    else children.push(child);
  }
  const list: ImageInput = {
    digest: top.digest,
    mediaType: top.mediaType,
    dockerImageReference: pinnedReference(source, top.digest),
    manifest: new TextDecoder().decode(top.bytes),
    size: entries.reduce((sum, entry) => sum + entry.size, 0),
    manifests: listEntries(entries),
  };
  return { sourceDigest: top.digest, image: list, children, listEntries: list.manifests };
}

function listEntries(entries: ListEntry[]): ManifestChildInput[] {
  return entries.map((entry) => ({
    digest: entry.digest,
    mediaType: entry.mediaType,
    size: entry.size,
    os: entry.os,
    architecture: entry.architecture,
    variant: entry.variant,
  }));
}

/** A child of a manifest list, fetched by digest; nested lists are not images and fail. */
async function readChild(
  client: RegistryClient,
  source: DockerReference,
  digest: string,
  budget: RequestBudget | undefined,
): Promise<ImageInput> {
  const child = await client.getManifest(source.repository, digest, budget);
  if (child.manifest.kind !== 'image') {
    throw new RegistryError(
      'BadManifest',
      `manifest ${source.repository}@${digest} is a nested manifest list, which is not supported`,
    );
  }
  return readImage(client, source, child.digest, child.bytes, child.manifest, budget);
}

async function readImage(
  client: RegistryClient,
  source: DockerReference,
  digest: string,
  bytes: Uint8Array,
  manifest: Extract<ParsedManifest, { kind: 'image' }>,
  budget: RequestBudget | undefined,
): Promise<ImageInput> {
  const configBytes = await client.getBlob(
    source.repository,
    manifest.config.digest,
    undefined,
    budget,
  );
  let metadata: ReturnType<typeof parseImageConfig>;
  try {
    metadata = parseImageConfig(configBytes);
  } catch (error) {
    if (!(error instanceof RegistryError)) throw error;
    throw new RegistryError(
      error.reason,
      `image config ${source.repository}@${manifest.config.digest} of ${source.repository}@${digest}: ${error.message}`,
    );
  }
  const layers = manifest.layers.map((layer) => ({
    digest: layer.digest,
    size: layer.size,
    mediaType: layer.mediaType,
  }));
  return {
    digest,
    mediaType: manifest.mediaType,
    dockerImageReference: pinnedReference(source, digest),
    architecture: metadata.architecture,
    os: metadata.os,
    variant: metadata.variant,
    created: metadata.created,
    author: metadata.author,
    size: imageSize(layers, manifest.config.size),
    config: metadata.config,
    manifest: new TextDecoder().decode(bytes),
    layers,
  };
}
