// Image (global, by digest) with layers and manifest-list children; `image` and `imageStreamImage`.

import { sql } from 'drizzle-orm';
import { canSeeImage } from '../auth/images.ts';
import { builder } from '../builder.ts';
import type { imageManifests } from '../db/schema.ts';
import type { ImageConfig } from '../domain/imageConfig.ts';
import { ConflictError, ForbiddenError, unwrap, ValidationError } from '../errors.ts';
import { findStreamImage, type StreamImage } from '../services/queries.ts';
import { readRef } from './access.ts';
import { entriesOf, KeyValueRef } from './common.ts';
import { refLookupArgs } from './shapes.ts';

export const ImageConfigRef = builder.objectRef<ImageConfig>('ImageConfig').implement({
  description: "The runtime parts of the image's config blob; absent lists were not set.",
  fields: (t) => ({
    cmd: t.exposeStringList('cmd', { nullable: true }),
    entrypoint: t.exposeStringList('entrypoint', { nullable: true }),
    env: t.exposeStringList('env', { nullable: true }),
    labels: t.field({ type: [KeyValueRef], resolve: (c) => entriesOf(c.labels ?? {}) }),
    exposedPorts: t.exposeStringList('exposedPorts', { nullable: true }),
    user: t.exposeString('user', { nullable: true }),
    workingDir: t.exposeString('workingDir', { nullable: true }),
    volumes: t.exposeStringList('volumes', { nullable: true }),
  }),
});

builder.drizzleObject('imageLayers', {
  name: 'ImageLayer',
  select: {},
  fields: (t) => ({
    digest: t.exposeString('digest'),
    size: t.exposeFloat('size', { description: 'Bytes (a Float: layers can exceed 2³¹).' }),
    mediaType: t.exposeString('mediaType'),
  }),
});

/**
 * Whether a list's child was imported as an Image of its own (PreserveOriginal does; Legacy
 * imports one child and keeps only its descriptor here). A constant, so equal selections merge.
 */
const childImported = {
  imported: (m: typeof imageManifests) =>
    sql<boolean>`exists (select 1 from images i where i.digest = ${m.digest})`,
};

/** Whether the list holding the entry has verified metadata, so its entries are authentic. */
const listVerified = {
  listVerified: (m: typeof imageManifests) =>
    sql<boolean>`exists (select 1 from images list where list.digest = ${m.parentDigest}
      and list.metadata_source = 'registry-verified')`,
};

const ImageManifest = builder.drizzleObject('imageManifests', {
  name: 'ImageManifest',
  description: 'One entry of a manifest list / OCI index.',
  select: {},
  fields: (t) => ({
    digest: t.exposeString('digest'),
    mediaType: t.exposeString('mediaType'),
    size: t.exposeFloat('size'),
    os: t.exposeString('os', { nullable: true }),
    architecture: t.exposeString('architecture', { nullable: true }),
    variant: t.exposeString('variant', { nullable: true }),
  }),
});

export const ImageMetadataSourceEnum = builder.enumType('ImageMetadataSource', {
  description: "Where an image's metadata (config, layers, entries, reference) came from.",
  values: {
    REGISTRY_VERIFIED: {
      value: 'registry-verified',
      description:
        'Read from a registry by an import or a reported push; the manifest and config blob ' +
        'matched their digests. Nothing replaces it.',
    },
    DECLARED: {
      value: 'declared',
      description:
        'Given by a registry through createImageStreamMapping and not checked; a verified ' +
        'import of the digest replaces it.',
    },
  } as const,
});

export const Image = builder.drizzleNode('images', {
  name: 'Image',
  description: 'An image or manifest list, immutable and global, keyed by digest.',
  id: { column: (i) => i.digest },
  // Nothing by default: the stored manifest bytes are only read when a field needs them.
  select: {},
  fields: (t) => ({
    digest: t.exposeString('digest'),
    mediaType: t.exposeString('mediaType'),
    dockerImageReference: t.exposeString('dockerImageReference', {
      nullable: true,
      description: 'Where the image was first seen (`registry/repo@digest`).',
    }),
    architecture: t.exposeString('architecture', { nullable: true }),
    os: t.exposeString('os', { nullable: true }),
    variant: t.exposeString('variant', { nullable: true }),
    created: t.expose('created', { type: 'DateTime', nullable: true }),
    author: t.exposeString('author', { nullable: true }),
    metadataSource: t.expose('metadataSource', { type: ImageMetadataSourceEnum }),
    size: t.exposeFloat('size', {
      description:
        'Config blob plus each distinct layer once, in bytes (a Float: it can pass 2³¹).',
    }),
    config: t.field({
      type: ImageConfigRef,
      nullable: true,
      select: { columns: { config: true } },
      resolve: (image) => image.config,
    }),
    layers: t.relation('layers', {
      description: 'Base layer first.',
      query: { orderBy: { position: 'asc' } },
    }),
    manifests: t.relation('manifests', {
      description: 'The children of a manifest list; empty for a single image.',
      query: { orderBy: { position: 'asc' } },
    }),
  }),
});

builder.drizzleObjectField(ImageManifest, 'image', (t) =>
  t.field({
    type: Image,
    nullable: true,
    description:
      'The child as an Image, when it was imported. The entries of a list whose metadata was ' +
      'only declared are claims: through one, the child is shown only to callers who may see it ' +
      'by itself.',
    select: { columns: { digest: true }, extras: { ...childImported, ...listVerified } },
    // Only the key: Image's fields are loaded for every child of the page in one batched query.
    resolve: async (m, _args, ctx) => {
      if (!m.imported) return null;
      if (!m.listVerified && !(await canSeeImage(ctx.access, m.digest))) return null;
      return { digest: m.digest } as never;
    },
  }),
);

const StreamImageRef = builder.objectRef<StreamImage>('ImageStreamImage').implement({
  description: '`<stream>@<id>`: an image as found through the tag histories of one stream.',
  authScopes: (s) => ({ read: s.namespace }),
  fields: (t) => ({
    name: t.string({
      description: '`<stream>@<digest>`.',
      resolve: (s) => `${s.stream}@${s.digest}`,
    }),
    namespace: t.exposeString('namespace'),
    digest: t.exposeString('digest'),
    dockerImageReference: t.exposeString('dockerImageReference', {
      description:
        "The history item's reference, or `<repo>@<digest>` for a manifest list's child.",
    }),
    stream: t.drizzleField({
      type: 'imageStreams',
      resolve: (query, s, _args, ctx) =>
        ctx.database.db.query.imageStreams
          .findFirst(query({ where: { id: s.streamId } }))
          .then((row) => row!),
    }),
    image: t.drizzleField({
      type: 'images',
      nullable: true,
      description: 'Null for a manifest-list child that was not imported.',
      resolve: (query, s, _args, ctx) =>
        ctx.database.db.query.images.findFirst(query({ where: { digest: s.digest } })),
    }),
  }),
});

builder.queryFields((t) => ({
  image: t.drizzleField({
    type: 'images',
    nullable: true,
    description: 'Null when no tag of a namespace the caller may read names the image.',
    args: { digest: t.arg.string({ required: true, description: '`sha256:<64 hex>`' }) },
    resolve: async (query, _root, args, ctx) =>
      (await canSeeImage(ctx.access, args.digest))
        ? ctx.database.db.query.images.findFirst(query({ where: { digest: args.digest } }))
        : null,
  }),
  imageStreamImage: t.field({
    authScopes: readRef,
    type: StreamImageRef,
    nullable: true,
    description:
      '`<stream>@<id>`: id is a digest or a prefix of its hex. Null when nothing ' +
      'matches; ConflictError with the candidates when several images do.',
    args: refLookupArgs(t.arg, '`[ns/]stream@id`'),
    errors: { types: [ConflictError, ValidationError, ForbiddenError] },
    resolve: async (_root, args, ctx) =>
      unwrap(await findStreamImage(ctx.database.db, ctx.access, args.namespace, args.ref)),
  }),
}));
