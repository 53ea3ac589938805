// Inserts image-stream rows straight through drizzle, for tests of the read side.
import { createHash } from 'node:crypto';
import { eq } from 'drizzle-orm';
import type { Db } from '../../src/db/client.ts';
import {
  type ImageMetadataSource,
  imageLayers,
  imageManifests,
  imageStreams,
  images,
  namespaces,
  tagConditions,
  tagHistory,
  tags,
} from '../../src/db/schema.ts';
import type { ImageConfig } from '../../src/domain/imageConfig.ts';
import type { TagSelectionPolicy } from '../../src/domain/policyTags.ts';

export type StreamRow = typeof imageStreams.$inferSelect;
export type TagRow = typeof tags.$inferSelect;

export const MEDIA = {
  manifest: 'application/vnd.oci.image.manifest.v1+json',
  index: 'application/vnd.oci.image.index.v1+json',
  layer: 'application/vnd.oci.image.layer.v1.tar+gzip',
} as const;

/** A valid, deterministic digest: `sha256:` + `hexPrefix` + the rest of sha256(seed). */
export function digestOf(seed: string, hexPrefix = ''): string {
  const hex = createHash('sha256').update(seed).digest('hex');
  return `sha256:${hexPrefix}${hex.slice(hexPrefix.length)}`;
}

export async function seedNamespace(db: Db, name: string): Promise<void> {
  await db.insert(namespaces).values({ name }).onConflictDoNothing();
}

export async function seedStream(
  db: Db,
  stream: { namespace: string; name: string; generation?: number },
): Promise<StreamRow> {
  await seedNamespace(db, stream.namespace);
  const [row] = await db.insert(imageStreams).values(stream).returning();
  return row!;
}

export interface SeedImage {
  digest: string;
  mediaType?: string;
  dockerImageReference?: string | null;
  architecture?: string | null;
  os?: string | null;
  variant?: string | null;
  created?: Date | null;
  author?: string | null;
  size?: number;
  config?: ImageConfig | null;
  /** Seeded images stand for imported ones: verified unless a test says otherwise. */
  metadataSource?: ImageMetadataSource;
  /** Base first. */
  layers?: { digest: string; size: number; mediaType?: string }[];
  /** Children of a manifest list, in list order. */
  manifests?: {
    digest: string;
    mediaType?: string;
    size: number;
    os?: string | null;
    architecture?: string | null;
    variant?: string | null;
  }[];
}

/**
 * An image's rows of a list (layers, list children): `defaults`, the list position, then the item.
 * Last position first, so a read that forgets to order by position shows it.
 */
function byPosition<Item extends object, Defaults extends object>(
  items: Item[],
  defaults: Defaults,
) {
  return items.map((item, position) => ({ ...defaults, position, ...item })).reverse();
}

/** Inserts an image with its layers and list children; returns its digest. */
export async function seedImage(db: Db, image: SeedImage): Promise<string> {
  const { layers = [], manifests = [], ...row } = image;
  await db.insert(images).values({
    mediaType: manifests.length > 0 ? MEDIA.index : MEDIA.manifest,
    metadataSource: 'registry-verified',
    ...row,
    size: row.size ?? layers.reduce((sum, layer) => sum + layer.size, 0),
  });
  if (layers.length > 0) {
    await db
      .insert(imageLayers)
      .values(byPosition(layers, { imageDigest: image.digest, mediaType: MEDIA.layer }));
  }
  if (manifests.length > 0) {
    await db
      .insert(imageManifests)
      .values(byPosition(manifests, { parentDigest: image.digest, mediaType: MEDIA.manifest }));
  }
  return image.digest;
}

export interface SeedEvent {
  dockerImageReference: string;
  /** Null for a reference tag's event. */
  image: string | null;
  generation: number;
  created?: Date;
}

export interface SeedTag {
  name: string;
  from?: { kind: 'DockerImage' | 'ImageStreamTag' | 'ImageStreamImage'; name: string };
  fromNamespace?: string | null;
  reference?: boolean;
  referencePolicy?: 'Source' | 'Local';
  importInsecure?: boolean;
  importScheduled?: boolean;
  importMode?: 'Legacy' | 'PreserveOriginal';
  /** A policy tag's policy (`from` is then a DockerImage repository). */
  policy?: TagSelectionPolicy | null;
  /** Null: a status-only tag, as a push creates it. */
  specGeneration?: number | null;
  annotations?: Record<string, string>;
  /** Oldest first: the last one becomes item 0. */
  history?: SeedEvent[];
  conditions?: {
    status: 'True' | 'False' | 'Unknown';
    reason?: string;
    message?: string;
    generation: number;
    lastTransitionTime?: Date;
  }[];
  /** The tag's updated time (the tag lists' order), set after its history and conditions. */
  updatedAt?: Date;
}

const EPOCH = Date.parse('2024-03-01T00:00:00Z');

/** Inserts a tag, its history (seq ascending = older) and its ImportSuccess condition. */
export async function seedTag(db: Db, streamId: number, tag: SeedTag): Promise<TagRow> {
  const [row] = await db
    .insert(tags)
    .values({
      streamId,
      name: tag.name,
      annotations: tag.annotations ?? {},
      fromKind: tag.from?.kind ?? null,
      fromName: tag.from?.name ?? null,
      fromNamespace: tag.fromNamespace ?? null,
      reference: tag.reference ?? false,
      referencePolicy: tag.referencePolicy ?? 'Source',
      importInsecure: tag.importInsecure ?? false,
      importScheduled: tag.importScheduled ?? false,
      importMode: tag.importMode ?? 'Legacy',
      policy: tag.policy ?? null,
      specGeneration: tag.specGeneration === undefined ? 1 : tag.specGeneration,
    })
    .returning();
  const history = tag.history ?? [];
  if (history.length > 0) {
    await db.insert(tagHistory).values(
      history.map((event, index) => ({
        tagId: row!.id,
        seq: index + 1,
        created: event.created ?? new Date(EPOCH + index * 60_000),
        dockerImageReference: event.dockerImageReference,
        imageDigest: event.image,
        generation: event.generation,
      })),
    );
  }
  for (const condition of tag.conditions ?? []) {
    await db.insert(tagConditions).values({ tagId: row!.id, type: 'ImportSuccess', ...condition });
  }
  if (tag.updatedAt) {
    // After the history and conditions, whose writes move it (a trigger).
    await db.update(tags).set({ updatedAt: tag.updatedAt }).where(eq(tags.id, row!.id));
    row!.updatedAt = tag.updatedAt;
  }
  return row!;
}

/**
 * Tag `name` of stream `streamId` with `items` history items (generation 1 oldest), each its own
 * image `<repository>@<digest of digestSeed-generation>`, all a week old but the newest: what
 * history pruning and retention policies work on.
 */
export async function seedAgedHistory(
  db: Db,
  streamId: number,
  name: string,
  { items, repository, digestSeed }: { items: number; repository: string; digestSeed: string },
): Promise<TagRow> {
  const old = new Date(Date.now() - 7 * 86_400_000);
  const history: SeedEvent[] = [];
  for (let generation = 1; generation <= items; generation++) {
    const digest = digestOf(`${digestSeed}-${generation}`);
    const dockerImageReference = `${repository}@${digest}`;
    await seedImage(db, { digest, dockerImageReference });
    history.push({
      dockerImageReference,
      image: digest,
      generation,
      created: generation === items ? new Date() : old,
    });
  }
  return seedTag(db, streamId, { name, history });
}
