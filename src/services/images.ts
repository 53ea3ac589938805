// Storing images: rows keyed by digest, with their layers, manifest-list children and provenance.
import { and, eq } from 'drizzle-orm';
import type { Tx } from '../db/client.ts';
import { type ImageMetadataSource, imageLayers, imageManifests, images } from '../db/schema.ts';
import type { ImageConfig } from '../domain/imageConfig.ts';

export interface LayerInput {
  digest: string;
  size: number;
  mediaType: string;
}

export interface ManifestChildInput {
  digest: string;
  mediaType: string;
  size: number;
  os?: string | null;
  architecture?: string | null;
  variant?: string | null;
}

export interface ImageInput {
  digest: string;
  mediaType: string;
  dockerImageReference?: string | null;
  architecture?: string | null;
  os?: string | null;
  variant?: string | null;
  created?: Date | null;
  author?: string | null;
  /** Config blob plus unique layers; computed from the layers when absent. */
  size?: number | null;
  config?: ImageConfig | null;
  manifest?: string | null;
  layers?: LayerInput[];
  manifests?: ManifestChildInput[];
}

/** Image size (docs/model.md, "Images"): the config blob plus each distinct layer once. */
export function imageSize(layers: LayerInput[], configSize = 0): number {
  const seen = new Map<string, number>();
  for (const layer of layers) seen.set(layer.digest, layer.size);
  let total = configSize;
  for (const size of seen.values()) total += size;
  return total;
}

/** What an image's config says of its platform and making, each null when unknown. */
export function configMetadata(image: ImageInput) {
  return {
    os: image.os ?? null,
    architecture: image.architecture ?? null,
    variant: image.variant ?? null,
    created: image.created ?? null,
    author: image.author ?? null,
  };
}

/**
 * Stores an image's metadata, recording where it came from (`source`). A digest names one image,
 * so metadata a registry served and the digests verified is the truth about it, and what a
 * mapping declared is only a claim:
 * - a new digest is inserted as given;
 * - a stored digest with verified metadata keeps what it has (a second import or push writes
 *   nothing, and a declared mapping can never overwrite it);
 * - a stored digest with only declared metadata keeps it against another declaration, and is
 *   replaced whole (row, layers, manifest-list entries) by verified metadata.
 * Returns whether the digest was new.
 */
export async function saveImage(
  tx: Tx,
  image: ImageInput,
  source: ImageMetadataSource,
): Promise<boolean> {
  const layers = image.layers ?? [];
  const metadata = {
    mediaType: image.mediaType,
    dockerImageReference: image.dockerImageReference ?? null,
    ...configMetadata(image),
    size: image.size ?? imageSize(layers),
    config: image.config ?? null,
    manifest: image.manifest ?? null,
    metadataSource: source,
  };
  const [inserted] = await tx
    .insert(images)
    .values({ digest: image.digest, ...metadata })
    .onConflictDoNothing()
    .returning({ digest: images.digest });
  if (inserted) {
    await insertParts(tx, image);
    return true;
  }
  if (source !== 'registry-verified') return false;
  // The row lock taken here orders concurrent upgrades: the second re-reads the row once the
  // first commits, finds it verified, and updates nothing.
  const [replaced] = await tx
    .update(images)
    .set(metadata)
    .where(and(eq(images.digest, image.digest), eq(images.metadataSource, 'declared')))
    .returning({ digest: images.digest });
  if (replaced) {
    await tx.delete(imageLayers).where(eq(imageLayers.imageDigest, image.digest));
    await tx.delete(imageManifests).where(eq(imageManifests.parentDigest, image.digest));
    await insertParts(tx, image);
  }
  return false;
}

/** The layers and manifest-list entries of an image whose row was just written. */
async function insertParts(tx: Tx, image: ImageInput): Promise<void> {
  const layers = image.layers ?? [];
  if (layers.length > 0) {
    await tx
      .insert(imageLayers)
      .values(layers.map((layer, position) => ({ ...layer, imageDigest: image.digest, position })));
  }
  const children = image.manifests ?? [];
  if (children.length > 0) {
    await tx.insert(imageManifests).values(
      children.map((child, position) => ({
        parentDigest: image.digest,
        position,
        digest: child.digest,
        mediaType: child.mediaType,
        size: child.size,
        os: child.os ?? null,
        architecture: child.architecture ?? null,
        variant: child.variant ?? null,
      })),
    );
  }
}

/** What reading a tag's source from its registry yields (the importer fills it). */
export interface FetchedSource {
  /** What the source reference resolved to at the registry (the list itself for a list). */
  sourceDigest: string;
  /** The image history records: the chosen child (Legacy) or the list (PreserveOriginal). */
  image: ImageInput;
  /**
   * Further images to store first: the children of a preserved list. Empty when `saveChild`
   * was given, which has stored each of them already.
   */
  children: ImageInput[];
  /** A manifest list's entries (platform and digest), whatever the mode; absent for an image. */
  listEntries?: ManifestChildInput[];
}
