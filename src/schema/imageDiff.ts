// `imageDiff(from, to)`: what changed between two images named through image streams.
import { builder } from '../builder.ts';
import {
  type Change,
  type ConfigDiff,
  type KeyValue,
  type KeyValueChange,
  type KeyValueDiff,
  type LayerEntry,
  type LayersDiff,
  MAX_DIFF_ENTRIES,
  type PlatformChange,
  type PlatformEntry,
  type PlatformKey,
  type PlatformsDiff,
  type SizeDiff,
  type ValuesDiff,
} from '../domain/imageDiff.ts';
import { unwrap } from '../errors.ts';
import { diffStreamImages, type ImageDiffSide, type ImageDiffView } from '../services/imageDiff.ts';
import { KeyValueRef } from './common.ts';
import { EDIT_ERRORS } from './errors.ts';
import { ImageMetadataSourceEnum } from './images.ts';
import type { Types } from './shapes.ts';

const CUT = `At most ${MAX_DIFF_ENTRIES}; the count is complete.`;

const ImageDiffSideRef = builder.objectRef<ImageDiffSide>('ImageDiffSide').implement({
  description: 'One side of an image diff: the reference as resolved and the image it names.',
  authScopes: (side) => ({ read: side.namespace }),
  fields: (t) => ({
    namespace: t.exposeString('namespace'),
    name: t.exposeString('name', {
      description: '`<stream>:<tag>`, or `<stream>@<digest>` (a short id resolved).',
    }),
    digest: t.exposeString('digest'),
    mediaType: t.exposeString('mediaType'),
    metadataSource: t.expose('metadataSource', { type: ImageMetadataSourceEnum }),
  }),
});

const KeyValueChangeRef = builder.objectRef<KeyValueChange>('ImageDiffKeyValueChange').implement({
  fields: (t) => ({
    key: t.exposeString('key'),
    before: t.exposeString('before'),
    after: t.exposeString('after'),
  }),
});

const KeyValueDiffRef = builder.objectRef<KeyValueDiff>('ImageDiffKeyValues').implement({
  description: `Keys added, removed and changed, each sorted by key. ${CUT}`,
  fields: (t) => ({
    added: t.field({ type: [KeyValueRef], resolve: (d) => d.added.items as KeyValue[] }),
    addedCount: t.int({ resolve: (d) => d.added.total }),
    removed: t.field({ type: [KeyValueRef], resolve: (d) => d.removed.items as KeyValue[] }),
    removedCount: t.int({ resolve: (d) => d.removed.total }),
    changed: t.field({ type: [KeyValueChangeRef], resolve: (d) => d.changed.items }),
    changedCount: t.int({ resolve: (d) => d.changed.total }),
  }),
});

const ValuesDiffRef = builder.objectRef<ValuesDiff>('ImageDiffValues').implement({
  description: `Values added and removed, as sets, sorted. ${CUT}`,
  fields: (t) => ({
    added: t.stringList({ resolve: (d) => d.added.items }),
    addedCount: t.int({ resolve: (d) => d.added.total }),
    removed: t.stringList({ resolve: (d) => d.removed.items }),
    removedCount: t.int({ resolve: (d) => d.removed.total }),
  }),
});

const StringListChangeRef = builder
  .objectRef<Change<string[]>>('ImageDiffStringListChange')
  .implement({
    description: 'Before and after of a list that differs; null on a side that did not set it.',
    fields: (t) => ({
      before: t.exposeStringList('before', { nullable: true }),
      after: t.exposeStringList('after', { nullable: true }),
    }),
  });

const StringChangeRef = builder.objectRef<Change<string>>('ImageDiffStringChange').implement({
  description: 'Before and after of a value that differs; null on a side that did not set it.',
  fields: (t) => ({
    before: t.exposeString('before', { nullable: true }),
    after: t.exposeString('after', { nullable: true }),
  }),
});

/** A config value's before and after; null when both images have the same. */
function configChange<Value>(
  t: PothosSchemaTypes.ObjectFieldBuilder<Types, ConfigDiff>,
  type: PothosSchemaTypes.ObjectRef<Types, Change<Value>>,
  value: (diff: ConfigDiff) => Change<Value> | null,
) {
  return t.field({ type, nullable: true, description: 'Null when equal.', resolve: value });
}

const ConfigDiffRef = builder.objectRef<ConfigDiff>('ImageConfigDiff').implement({
  description:
    "The runtime config's changes. A manifest list has no config of its own: compare its " +
    'entries (platforms) one by one instead.',
  fields: (t) => ({
    env: t.field({
      type: KeyValueDiffRef,
      description: 'Environment variables by name (`KEY=VALUE`; a later entry for a name wins).',
      resolve: (d) => d.env,
    }),
    labels: t.field({ type: KeyValueDiffRef, resolve: (d) => d.labels }),
    entrypoint: configChange(t, StringListChangeRef, (d) => d.entrypoint),
    cmd: configChange(t, StringListChangeRef, (d) => d.cmd),
    user: configChange(t, StringChangeRef, (d) => d.user),
    workingDir: configChange(t, StringChangeRef, (d) => d.workingDir),
    exposedPorts: t.field({
      type: ValuesDiffRef,
      description: 'Ports as the config names them (`8080/tcp`).',
      resolve: (d) => d.exposedPorts,
    }),
    volumes: t.field({ type: ValuesDiffRef, resolve: (d) => d.volumes }),
  }),
});

const LayerEntryRef = builder.objectRef<LayerEntry>('ImageDiffLayer').implement({
  fields: (t) => ({
    digest: t.exposeString('digest'),
    size: t.exposeFloat('size', { description: 'Bytes (a Float: layers can exceed 2³¹).' }),
    mediaType: t.exposeString('mediaType'),
    position: t.exposeInt('position', { description: 'In its own image; 0 is the base layer.' }),
  }),
});

const LayersDiffRef = builder.objectRef<LayersDiff>('ImageLayersDiff').implement({
  description:
    'Layers compared by digest: added are in `to` only, removed in `from` only, each in its ' +
    `image's order. ${CUT}`,
  fields: (t) => ({
    added: t.field({ type: [LayerEntryRef], resolve: (d) => d.added.items }),
    addedCount: t.int({ resolve: (d) => d.added.total }),
    removed: t.field({ type: [LayerEntryRef], resolve: (d) => d.removed.items }),
    removedCount: t.int({ resolve: (d) => d.removed.total }),
    commonCount: t.exposeInt('common', { description: 'Layers both images have.' }),
  }),
});

const SizeDiffRef = builder.objectRef<SizeDiff>('ImageSizeDelta').implement({
  description: 'Image sizes (config blob plus each distinct layer once), in bytes.',
  fields: (t) => ({
    fromBytes: t.exposeFloat('from'),
    toBytes: t.exposeFloat('to'),
    bytes: t.exposeFloat('delta', { description: '`toBytes - fromBytes`; negative when smaller.' }),
  }),
});

/** The `os`, `architecture` and `variant` fields that name an entry's platform. */
const platformFields = <Shape extends PlatformKey>(
  t: PothosSchemaTypes.ObjectFieldBuilder<Types, Shape>,
) => ({
  os: t.string({ nullable: true, resolve: (p) => p.os }),
  architecture: t.string({ nullable: true, resolve: (p) => p.architecture }),
  variant: t.string({ nullable: true, resolve: (p) => p.variant }),
});

const PlatformEntryRef = builder.objectRef<PlatformEntry>('ImageDiffPlatform').implement({
  fields: (t) => ({
    ...platformFields(t),
    digest: t.exposeString('digest'),
  }),
});

const PlatformChangeRef = builder.objectRef<PlatformChange>('ImageDiffPlatformChange').implement({
  fields: (t) => ({
    ...platformFields(t),
    fromDigest: t.exposeString('fromDigest'),
    toDigest: t.exposeString('toDigest'),
  }),
});

const PlatformsDiffRef = builder.objectRef<PlatformsDiff>('ImagePlatformsDiff').implement({
  description:
    'Manifest-list entries paired by platform (os, architecture, variant); a single image counts ' +
    `as the one entry of its own platform. Sorted by platform. ${CUT}`,
  fields: (t) => ({
    added: t.field({ type: [PlatformEntryRef], resolve: (d) => d.added.items }),
    addedCount: t.int({ resolve: (d) => d.added.total }),
    removed: t.field({ type: [PlatformEntryRef], resolve: (d) => d.removed.items }),
    removedCount: t.int({ resolve: (d) => d.removed.total }),
    changed: t.field({
      type: [PlatformChangeRef],
      description: 'The same platform, a different image.',
      resolve: (d) => d.changed.items,
    }),
    changedCount: t.int({ resolve: (d) => d.changed.total }),
    unchangedCount: t.exposeInt('unchanged'),
  }),
});

const ImageDiffRef = builder.objectRef<ImageDiffView>('ImageDiff').implement({
  description: 'What changed from one image to another.',
  fields: (t) => ({
    from: t.field({ type: ImageDiffSideRef, resolve: (d) => d.from }),
    to: t.field({ type: ImageDiffSideRef, resolve: (d) => d.to }),
    identical: t.exposeBoolean('identical', { description: 'Both name the same digest.' }),
    config: t.field({ type: ConfigDiffRef, resolve: (d) => d.config }),
    layers: t.field({ type: LayersDiffRef, resolve: (d) => d.layers }),
    sizeDelta: t.field({ type: SizeDiffRef, resolve: (d) => d.size }),
    platforms: t.field({ type: PlatformsDiffRef, resolve: (d) => d.platforms }),
  }),
});

builder.queryFields((t) => ({
  imageDiff: t.field({
    type: ImageDiffRef,
    description:
      'Compares two images, each named `<namespace>/<stream>:<tag>` (what the tag points at ' +
      'now) or `<namespace>/<stream>@<id>` (id a digest or a prefix of its hex). The caller ' +
      'needs IMAGE_PULLER in both namespaces (ForbiddenError otherwise); a reference that ' +
      'names no stored image is a NotFoundError, an ambiguous id a ConflictError. Every list ' +
      `in the answer holds at most ${MAX_DIFF_ENTRIES} entries, with complete counts beside it.`,
    args: {
      from: t.arg.string({ required: true, description: '`ns/stream:tag` or `ns/stream@id`' }),
      to: t.arg.string({ required: true, description: '`ns/stream:tag` or `ns/stream@id`' }),
    },
    errors: { types: EDIT_ERRORS },
    resolve: async (_root, args, ctx) =>
      unwrap(await diffStreamImages(ctx.database.db, ctx.access, args.from, args.to)),
  }),
}));
