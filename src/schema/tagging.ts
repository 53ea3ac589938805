// Tag mutations: tag (`oc tag`), deleteTag, rollbackTag, createImageStreamMapping, pruneImages.

import { builder } from '../builder.ts';
import type { RollbackBy } from '../domain/history.ts';
import { ConflictError, unwrap, ValidationError } from '../errors.ts';
import { createImageStreamMapping } from '../services/mapping.ts';
import {
  type PrunedHistoryItem as PrunedHistoryItemShape,
  type PruneHistoryResult,
  type PruneResult,
  pruneImages,
  pruneTagHistory,
} from '../services/prune.ts';
import { type TagOutcome, tag } from '../services/tagging.ts';
import { type DeletedTag, deleteTag, rollbackTag } from '../services/tagOperations.ts';
import { adminInput, editRef, namespaceOfRef } from './access.ts';
import { KeyValueInput } from './common.ts';
import { ReferencePolicyTypeEnum, TagSourceKindEnum } from './enums.ts';
import { EDIT_ERRORS, INPUT_ERRORS } from './errors.ts';
import { TagPolicyInput } from './policyTags.ts';
import { answeringMutation, byInput, inputMutation } from './shapes.ts';
import { tagByIdField } from './tagField.ts';

export const TagInput = builder.inputType('TagInput', {
  description: 'What `oc tag SOURCE DEST...` takes.',
  fields: (t) => ({
    namespace: t.string({
      required: true,
      description: 'The namespace that sources and destinations without `ns/` are in.',
    }),
    source: t.string({
      required: true,
      description: '`[ns/]stream:tag`, `[ns/]stream@id` or a pull spec such as `quay.io/x/y:1`.',
    }),
    sourceKind: t.field({
      type: TagSourceKindEnum,
      description: 'Overrides the kind inferred from the source, as `oc tag --source` does.',
    }),
    destinations: t.stringList({ required: true, description: '`[ns/]stream:tag` each.' }),
    alias: t.boolean({ description: 'Track the source tag instead of pinning its image.' }),
    reference: t.boolean({ description: 'Point at the source as is; never import it.' }),
    scheduled: t.boolean({ description: 'Re-import the DockerImage source periodically.' }),
    insecure: t.boolean({ description: 'Allow plain HTTP or unverified TLS for the import.' }),
    importMode: t.string({ description: '`Legacy` (default) or `PreserveOriginal`.' }),
    referencePolicy: t.field({ type: ReferencePolicyTypeEnum }),
    expectedResourceVersion: t.string(),
    recordLineage: t.boolean({
      description:
        "Record on a copy of a stream tag's image where it came from (TagEvent.copiedFrom); " +
        'true when omitted. `tagraph apply` sends false: a manifest states a tag, it promotes nothing.',
    }),
    policy: t.field({
      type: TagPolicyInput,
      description:
        'Make each destination a policy tag: `source` is then a repository (no tag or digest) and ' +
        'the tag follows the repository tag the policy picks (docs/policy-tags.md).',
    }),
  }),
});

const TagResult = builder.objectRef<TagOutcome>('TagResult').implement({
  authScopes: (result) => ({ read: result.namespace }),
  fields: (t) => ({
    message: t.exposeString('message', { description: 'What `oc tag` prints.' }),
    namespace: t.exposeString('namespace'),
    stream: t.exposeString('stream'),
    tag: t.exposeString('tag'),
    importJobId: t.exposeID('importJobId', {
      nullable: true,
      description: 'The queued import, for a DockerImage source that is not a reference.',
    }),
    imageStreamTag: tagByIdField(t),
  }),
});

const TagPayload = builder.objectRef<{ results: TagOutcome[] }>('TagPayload').implement({
  fields: (t) => ({ results: t.field({ type: [TagResult], resolve: (p) => p.results }) }),
});

const TagLocatorFields = (
  t: PothosSchemaTypes.InputFieldBuilder<
    typeof builder extends PothosSchemaTypes.SchemaBuilder<infer T> ? T : never,
    'InputObject'
  >,
) => ({
  namespace: t.string({ required: true }),
  ref: t.string({ required: true, description: '`[ns/]stream:tag`' }),
  expectedResourceVersion: t.string(),
});

const DeleteTagInput = builder.inputType('DeleteTagInput', { fields: TagLocatorFields });

const DeleteTagPayload = builder.objectRef<DeletedTag>('DeleteTagPayload').implement({
  authScopes: (deleted) => ({ read: deleted.namespace }),
  fields: (t) => ({
    deletedId: t.globalID({ resolve: (p) => ({ type: 'ImageStreamTag', id: String(p.tagId) }) }),
    namespace: t.exposeString('namespace'),
    stream: t.exposeString('stream'),
    tag: t.exposeString('tag'),
    danglingFollowers: t.exposeStringList('danglingFollowers', {
      description:
        'Tags that tracked the deleted tag; they keep their history and are reported as dangling.',
    }),
    message: t.exposeString('message'),
  }),
});

const RollbackTarget = builder.inputType('RollbackTarget', {
  description: 'Exactly one: a history index (0 = newest), a generation, or an image digest.',
  fields: (t) => ({
    index: t.int(),
    generation: t.int(),
    digest: t.string({ description: 'A digest or a unique prefix of one.' }),
  }),
});

const RollbackTagInput = builder.inputType('RollbackTagInput', {
  fields: (t) => ({
    ...TagLocatorFields(t),
    to: t.field({ type: RollbackTarget, required: true }),
  }),
});

const RollbackTagPayload = builder
  .objectRef<{ tagId: number; historyIndex: number; message: string }>('RollbackTagPayload')
  .implement({
    fields: (t) => ({
      message: t.exposeString('message'),
      historyIndex: t.exposeInt('historyIndex', {
        description: 'The index the chosen item had before the rollback pushed a new one.',
      }),
      imageStreamTag: tagByIdField(t),
    }),
  });

const LayerInput = builder.inputType('ImageLayerInput', {
  fields: (t) => ({
    digest: t.string({ required: true }),
    size: t.float({ required: true }),
    mediaType: t.string({ required: true }),
  }),
});

const ManifestChildInput = builder.inputType('ImageManifestInput', {
  fields: (t) => ({
    digest: t.string({ required: true }),
    mediaType: t.string({ required: true }),
    size: t.float({ required: true }),
    os: t.string(),
    architecture: t.string(),
    variant: t.string(),
  }),
});

const ImageConfigInput = builder.inputType('ImageConfigInput', {
  fields: (t) => ({
    cmd: t.stringList(),
    entrypoint: t.stringList(),
    env: t.stringList(),
    labels: t.field({ type: [KeyValueInput] }),
    exposedPorts: t.stringList(),
    user: t.string(),
    workingDir: t.string(),
    volumes: t.stringList(),
  }),
});

const ImageInput = builder.inputType('ImageInput', {
  fields: (t) => ({
    digest: t.string({ required: true }),
    mediaType: t.string({ required: true }),
    dockerImageReference: t.string({ required: true, description: '`registry/repo@digest`' }),
    architecture: t.string(),
    os: t.string(),
    variant: t.string(),
    created: t.field({ type: 'DateTime' }),
    author: t.string(),
    size: t.float(),
    config: t.field({ type: ImageConfigInput }),
    layers: t.field({ type: [LayerInput] }),
    manifests: t.field({ type: [ManifestChildInput] }),
  }),
});

const CreateImageStreamMappingInput = builder.inputType('CreateImageStreamMappingInput', {
  description: 'What a registry reports on push: the image and the stream tag it was pushed to.',
  fields: (t) => ({
    namespace: t.string({ required: true }),
    stream: t.string({ required: true }),
    tag: t.string({ required: true }),
    image: t.field({ type: ImageInput, required: true }),
    expectedResourceVersion: t.string(),
  }),
});

const MappingPayload = builder
  .objectRef<{ streamId: number; changed: string[]; imageCreated: boolean; digest: string }>(
    'CreateImageStreamMappingPayload',
  )
  .implement({
    fields: (t) => ({
      changedTags: t.exposeStringList('changed', {
        description: 'Tags whose image moved: the mapped tag, then tags tracking it.',
      }),
      imageCreated: t.exposeBoolean('imageCreated'),
      imageStream: t.drizzleField({
        type: 'imageStreams',
        nullable: true,
        resolve: (query, p, _args, ctx) =>
          ctx.database.db.query.imageStreams.findFirst(query({ where: { id: p.streamId } })),
      }),
      image: t.drizzleField({
        type: 'images',
        nullable: true,
        resolve: (query, p, _args, ctx) =>
          ctx.database.db.query.images.findFirst(query({ where: { digest: p.digest } })),
      }),
    }),
  });

const PruneImagesInput = builder.inputType('PruneImagesInput', {
  fields: (t) => ({
    keepTagRevisions: t.int({ defaultValue: 3 }),
    keepYoungerThanMinutes: t.int({ defaultValue: 60 }),
    dryRun: t.boolean({ defaultValue: true }),
  }),
});

export const PrunedHistoryItem = builder
  .objectRef<PrunedHistoryItemShape>('PrunedHistoryItem')
  .implement({
    authScopes: (item) => ({ read: item.namespace }),
    fields: (t) => ({
      namespace: t.exposeString('namespace'),
      stream: t.exposeString('stream'),
      tag: t.exposeString('tag'),
      index: t.exposeInt('index'),
      dockerImageReference: t.exposeString('dockerImageReference'),
      image: t.exposeString('image', { nullable: true }),
      created: t.expose('created', { type: 'DateTime' }),
    }),
  });

const PruneImagesPayload = builder.objectRef<PruneResult>('PruneImagesPayload').implement({
  fields: (t) => ({
    dryRun: t.exposeBoolean('dryRun', { description: 'True: nothing was removed.' }),
    historyItems: t.field({ type: [PrunedHistoryItem], resolve: (p) => p.historyItems }),
    images: t.exposeStringList('images', { description: 'Digests of the images removed.' }),
  }),
});

/** The most history items a pruneTagHistory report lists (historyItemCount counts all). */
export const PRUNE_REPORT_LIMIT = 1000;

type InputFields = Parameters<
  Extract<Parameters<typeof builder.inputType>[1]['fields'], (...args: never[]) => unknown>
>[0];

/** A namespace's retention rules, as pruneTagHistory and setRetentionPolicy take them. */
export const retentionRuleFields = (t: InputFields) => ({
  keepTagRevisions: t.int({ defaultValue: 3 }),
  keepYoungerThanMinutes: t.int({ defaultValue: 60 }),
  streams: t.stringList({ description: 'Only these streams (default: all of the namespace).' }),
  includeTags: t.stringList({
    description: 'Only tags matching one of these globs (`*`, `?`); default: every tag.',
  }),
  excludeTags: t.stringList({ description: 'Tags matching one of these globs are left alone.' }),
});

/** The rules of retentionRuleFields as given, with their defaults where left out. */
export const retentionRules = (input: {
  keepTagRevisions?: number | null;
  keepYoungerThanMinutes?: number | null;
  streams?: string[] | null;
  includeTags?: string[] | null;
  excludeTags?: string[] | null;
}) => ({
  keepTagRevisions: input.keepTagRevisions ?? 3,
  keepYoungerThanMinutes: input.keepYoungerThanMinutes ?? 60,
  streams: input.streams ?? [],
  includeTags: input.includeTags ?? [],
  excludeTags: input.excludeTags ?? [],
});

const PruneTagHistoryInput = builder.inputType('PruneTagHistoryInput', {
  description:
    "A namespace's retention rules for one run: keep the newest keepTagRevisions items of each " +
    'tag in scope and every item younger than keepYoungerThanMinutes; item 0 always stays.',
  fields: (t) => ({
    namespace: t.string({ required: true }),
    ...retentionRuleFields(t),
    dryRun: t.boolean({ defaultValue: true }),
  }),
});

export const PruneTagHistoryPayload = builder
  .objectRef<PruneHistoryResult>('PruneTagHistoryPayload')
  .implement({
    fields: (t) => ({
      dryRun: t.exposeBoolean('dryRun', { description: 'True: nothing was removed.' }),
      historyItemCount: t.exposeInt('historyItemCount', {
        description: 'History items removed (or that would be).',
      }),
      historyItems: t.field({
        type: [PrunedHistoryItem],
        description: `The first ${PRUNE_REPORT_LIMIT} of them, by stream, tag and position.`,
        resolve: (p) => p.historyItems,
      }),
    }),
  });

builder.mutationFields((t) => ({
  tag: answeringMutation(t, {
    scope: (_root, { input }) => ({
      editAll: input.destinations.map((d) => namespaceOfRef(d, input.namespace)),
    }),
    payload: TagPayload,
    description: '`oc tag`: point one or more tags at a source.',
    input: TagInput,
    errors: EDIT_ERRORS,
    act: (ctx, input) => tag(ctx.database.db, ctx.access, input, ctx.config.importRegistries),
    answer: (results) => ({ results }),
  }),
  deleteTag: inputMutation(t, {
    scope: editRef,
    payload: DeleteTagPayload,
    description: '`oc tag -d`: remove a tag and its history.',
    input: DeleteTagInput,
    errors: EDIT_ERRORS,
    act: byInput(deleteTag),
  }),
  rollbackTag: inputMutation(t, {
    scope: editRef,
    payload: RollbackTagPayload,
    description: 'Point a tag at one of its own history items; pushes a new item.',
    input: RollbackTagInput,
    errors: EDIT_ERRORS,
    act: (ctx, input) => {
      // Only the keys given: the service refuses none or several.
      const by = Object.fromEntries(
        Object.entries(input.to).filter(([, value]) => value != null),
      ) as RollbackBy;
      return rollbackTag(ctx.database.db, ctx.access, { ...input, by });
    },
  }),
  createImageStreamMapping: t.field({
    // Like OpenShift's imagestreammappings (system:registry), only a registry may report a push:
    // the metadata it gives is stored unchecked, so anyone else could forge an image's metadata.
    authScopes: { registry: true },
    type: MappingPayload,
    description:
      'Record a pushed image: creates the image and stream if new, moves the tag. Only an image ' +
      'registry may call it (a cluster admin, or a caller in the `system:registries` group), in ' +
      'any namespace. The metadata given is stored as DECLARED: it never replaces verified ' +
      'metadata of the digest, and a verified import of the digest replaces it.',
    args: { input: t.arg({ type: CreateImageStreamMappingInput, required: true }) },
    errors: { types: [ValidationError, ConflictError] },
    resolve: async (_root, { input }, ctx) => {
      const { config, ...image } = input.image;
      const result = unwrap(
        await createImageStreamMapping(
          ctx.database.db,
          {
            ...input,
            image: {
              ...image,
              config: config
                ? {
                    ...config,
                    labels: config.labels
                      ? Object.fromEntries(config.labels.map((l) => [l.key, l.value]))
                      : undefined,
                  }
                : null,
            } as Parameters<typeof createImageStreamMapping>[1]['image'],
          },
          'declared',
        ),
      );
      return { ...result, digest: input.image.digest };
    },
  }),
  pruneTagHistory: inputMutation(t, {
    scope: adminInput,
    payload: PruneTagHistoryPayload,
    description:
      "Remove a namespace's old tag history items under retention rules (dry run by default); " +
      'each tag that loses items gets a change event with cause PRUNE. Images are left to ' +
      'pruneImages.',
    input: PruneTagHistoryInput,
    errors: INPUT_ERRORS,
    act: (ctx, input) =>
      pruneTagHistory(
        ctx.database.db,
        ctx.access,
        {
          namespace: input.namespace,
          ...retentionRules(input),
          dryRun: input.dryRun ?? true,
        },
        PRUNE_REPORT_LIMIT,
      ),
  }),
  pruneImages: t.field({
    authScopes: { clusterAdmin: true },
    type: PruneImagesPayload,
    description: 'Remove old history items and unreferenced images (dry run by default).',
    args: { input: t.arg({ type: PruneImagesInput }) },
    errors: { types: [ValidationError] },
    resolve: async (_root, { input }, ctx) =>
      unwrap(await pruneImages(ctx.database.db, input ?? {})),
  }),
}));
