// Storing images: immutable rows keyed by digest, with their layers and manifest-list children.
import type { Tx } from '../db/client.ts';
import { type ImageConfig, imageLayers, imageManifests, images } from '../db/schema.ts';

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

/** Image size as DESIGN.md §1 defines it: the config blob plus each distinct layer once. */
export function imageSize(layers: LayerInput[], configSize = 0): number {
  const seen = new Map<string, number>();
  for (const layer of layers) seen.set(layer.digest, layer.size);
  let total = configSize;
  for (const size of seen.values()) total += size;
  return total;
}

/**
 * Inserts the image if it is new. Images are immutable: a digest already stored keeps what it
 * has, so a second import or push of the same image writes nothing. Returns whether it was new.
 */
export async function saveImage(tx: Tx, image: ImageInput): Promise<boolean> {
  const layers = image.layers ?? [];
  const [inserted] = await tx
    .insert(images)
    .values({
      digest: image.digest,
      mediaType: image.mediaType,
      dockerImageReference: image.dockerImageReference ?? null,
      architecture: image.architecture ?? null,
      os: image.os ?? null,
      variant: image.variant ?? null,
      created: image.created ?? null,
      author: image.author ?? null,
      size: image.size ?? imageSize(layers),
      config: image.config ?? null,
      manifest: image.manifest ?? null,
    })
    .onConflictDoNothing()
    .returning({ digest: images.digest });
  if (!inserted) return false;
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
  return true;
}
