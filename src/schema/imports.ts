// Imports: the importImage mutation (`oc import-image`) and the import job queries.

import { builder, MAX_PAGE_SIZE } from '../builder.ts';
import { unwrap } from '../errors.ts';
import { importImage, waitForJob } from '../services/importImage.ts';
import { findReadableJob, listImportJobs } from '../services/importJobs.ts';
import {
  type ImportPreview,
  type PreviewPlatform,
  previewImport,
} from '../services/importPreview.ts';
import { getJob, type ImportJobRow } from '../services/importQueue.ts';
import { editImage, integerId, readArgs, valueOrGraphQLError } from './access.ts';
import { ReferencePolicyTypeEnum } from './enums.ts';
import { ACT_ERRORS } from './errors.ts';
import { ImageConfigRef } from './images.ts';

const ImportJobStatus = builder.enumType('ImportJobStatus', {
  values: ['queued', 'running', 'succeeded', 'failed'] as const,
});

interface ImageResult {
  tag: string;
  status: 'Success' | 'Failure' | 'Skipped';
  digest?: string | null;
  dockerImageReference?: string | null;
  reason?: string | null;
  message?: string | null;
}

const ImportImageResult = builder.objectRef<ImageResult>('ImportImageResult').implement({
  description: 'The outcome for one tag of an import.',
  fields: (t) => ({
    tag: t.exposeString('tag'),
    status: t.exposeString('status', {
      description:
        '`Success`; `Failure` (see reason and message); or `Skipped` when the tag was deleted or its spec changed meanwhile.',
    }),
    digest: t.exposeString('digest', { nullable: true }),
    dockerImageReference: t.exposeString('dockerImageReference', { nullable: true }),
    reason: t.exposeString('reason', { nullable: true }),
    message: t.exposeString('message', { nullable: true }),
  }),
});

export const ImportJob = builder.objectRef<ImportJobRow>('ImportJob').implement({
  description: 'One queued import: its status, attempts, errors and a result per image.',
  authScopes: (job) => ({ read: job.namespace }),
  fields: (t) => ({
    id: t.exposeID('id'),
    namespace: t.exposeString('namespace'),
    stream: t.exposeString('stream'),
    tags: t.stringList({
      description: 'The tags to import; with `all`, known once the repository has been listed.',
      resolve: (j) =>
        (j.result?.tags as string[] | undefined) ?? (j.request.tags as string[] | undefined) ?? [],
    }),
    cause: t.string({ resolve: (j) => String(j.request.cause ?? 'import') }),
    status: t.field({ type: ImportJobStatus, resolve: (j) => j.status }),
    attempts: t.exposeInt('attempts'),
    maxAttempts: t.exposeInt('maxAttempts'),
    lastError: t.exposeString('lastError', { nullable: true }),
    images: t.field({
      type: [ImportImageResult],
      resolve: (j) => (j.result?.images as ImageResult[] | undefined) ?? [],
    }),
    additionalTags: t.stringList({
      description:
        'With `all`: tags of the repository beyond the cap, in import order, not imported.',
      resolve: (j) => (j.result?.additionalTags as string[] | undefined) ?? [],
    }),
    tagListTruncated: t.boolean({
      description:
        'With `all`: the repository had more tags than the listing may read (TAGRAPH_IMPORT_MAX_LISTED_TAGS, TAGRAPH_IMPORT_MAX_TAG_LIST_BYTES); those were neither considered nor listed in additionalTags.',
      resolve: (j) => j.result?.tagListTruncated === true,
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    finishedAt: t.expose('finishedAt', { type: 'DateTime', nullable: true }),
  }),
});

const ImportImageInput = builder.inputType('ImportImageInput', {
  description: 'What `oc import-image <stream>[:<tag>] --from=<image> [--all] [--confirm]` takes.',
  fields: (t) => ({
    namespace: t.string({ required: true }),
    image: t.string({
      required: true,
      description: '`stream` or `stream:tag` (default tag latest).',
    }),
    from: t.string({ description: 'The pull spec to import; else the existing spec source.' }),
    all: t.boolean({ description: 'Import every tag of the repository (at most the cap).' }),
    confirm: t.boolean({ description: 'Create the image stream if it does not exist.' }),
    scheduled: t.boolean(),
    insecure: t.boolean(),
    importMode: t.string({ description: '`Legacy` (default) or `PreserveOriginal`.' }),
    referencePolicy: t.field({ type: ReferencePolicyTypeEnum }),
    wait: t.boolean({ description: 'Return when the import has finished (or timed out).' }),
    timeoutSeconds: t.int({ description: 'How long `wait` waits, at most 300.', defaultValue: 60 }),
    dryRun: t.boolean({
      description:
        'Read what the import of one tag would record and return it as `preview`; write nothing ' +
        '(no stream, tag, image, history or job). Needs EDITOR, as the import does.',
    }),
  }),
});

const PreviewPlatformRef = builder.objectRef<PreviewPlatform>('ImportPreviewPlatform').implement({
  fields: (t) => ({
    digest: t.exposeString('digest'),
    os: t.exposeString('os', { nullable: true }),
    architecture: t.exposeString('architecture', { nullable: true }),
    variant: t.exposeString('variant', { nullable: true }),
  }),
});

const ImportPreviewRef = builder.objectRef<ImportPreview>('ImportPreview').implement({
  description: 'What importing one tag would record now (`importImage` with `dryRun`).',
  fields: (t) => ({
    namespace: t.exposeString('namespace'),
    stream: t.exposeString('stream'),
    tag: t.exposeString('tag'),
    from: t.exposeString('from', { description: 'The pull spec that would be imported.' }),
    importMode: t.exposeString('importMode'),
    sourceDigest: t.exposeString('sourceDigest', {
      description: 'What the pull spec resolves to: the list itself for a manifest list.',
    }),
    digest: t.exposeString('digest', {
      description:
        "The image the tag's history item would point at (Legacy: the list's chosen child).",
    }),
    mediaType: t.exposeString('mediaType'),
    dockerImageReference: t.exposeString('dockerImageReference'),
    platforms: t.field({
      type: [PreviewPlatformRef],
      description: "A manifest list's images; empty for a single image.",
      resolve: (p) => p.platforms,
    }),
    os: t.exposeString('os', { nullable: true }),
    architecture: t.exposeString('architecture', { nullable: true }),
    variant: t.exposeString('variant', { nullable: true }),
    created: t.expose('created', { type: 'DateTime', nullable: true }),
    author: t.exposeString('author', { nullable: true }),
    size: t.exposeFloat('size', { nullable: true, description: 'Config blob plus layers, bytes.' }),
    layerCount: t.exposeInt('layerCount'),
    labelCount: t.int({ resolve: (p) => Object.keys(p.config?.labels ?? {}).length }),
    config: t.field({ type: ImageConfigRef, nullable: true, resolve: (p) => p.config }),
    currentDigest: t.exposeString('currentDigest', {
      nullable: true,
      description: 'The image the tag points at now.',
    }),
    changed: t.exposeBoolean('changed', {
      description: 'The import would point the tag at another image (push a history item).',
    }),
  }),
});

const ImportImagePayload = builder
  .objectRef<{ job: ImportJobRow | null; timedOut: boolean; preview: ImportPreview | null }>(
    'ImportImagePayload',
  )
  .implement({
    fields: (t) => ({
      job: t.field({
        type: ImportJob,
        nullable: true,
        description: 'The queued import; null with `dryRun`.',
        resolve: (p) => p.job,
      }),
      preview: t.field({
        type: ImportPreviewRef,
        nullable: true,
        description: 'With `dryRun`: what the import would record.',
        resolve: (p) => p.preview,
      }),
      timedOut: t.exposeBoolean('timedOut', {
        description: 'With `wait`: the job had not finished when the timeout came.',
      }),
    }),
  });

builder.mutationFields((t) => ({
  importImage: t.field({
    authScopes: editImage,
    type: ImportImagePayload,
    description: '`oc import-image`: set the spec tags and queue an import.',
    args: { input: t.arg({ type: ImportImageInput, required: true }) },
    errors: { types: ACT_ERRORS },
    resolve: async (_root, { input }, ctx) => {
      if (input.dryRun) {
        const preview = unwrap(
          await previewImport(ctx.database.db, ctx.access, ctx.registryReader, input),
        );
        return { job: null, timedOut: false, preview };
      }
      const jobId = unwrap(
        await importImage(
          ctx.database.db,
          ctx.access,
          input,
          ctx.config.importMaxTags,
          ctx.config.importRegistries,
        ),
      );
      if (!input.wait) {
        return { job: (await getJob(ctx.database.db, jobId))!, timedOut: false, preview: null };
      }
      const seconds = Math.min(Math.max(input.timeoutSeconds ?? 60, 1), 300);
      const job = (await waitForJob(ctx.database.db, jobId, seconds * 1000))!;
      return { job, timedOut: job.status === 'queued' || job.status === 'running', preview: null };
    },
  }),
}));

builder.queryFields((t) => ({
  importJob: t.field({
    type: ImportJob,
    nullable: true,
    args: { id: t.arg.id({ required: true }) },
    description:
      'Null when no job has this id or the caller may not read its namespace: the two look the same.',
    resolve: (_root, args, ctx) => findReadableJob(ctx.access, args.id),
  }),
  importJobs: t.field({
    authScopes: readArgs,
    type: [ImportJob],
    description: 'Import jobs of a namespace, newest first.',
    args: {
      namespace: t.arg.string({ required: true }),
      stream: t.arg.string(),
      first: t.arg.int({ defaultValue: 20 }),
      before: t.arg.id({ description: 'Only jobs older than this job id (paging).' }),
    },
    resolve: async (_root, args, ctx) =>
      valueOrGraphQLError(
        await listImportJobs(ctx.database.db, ctx.access, {
          namespace: args.namespace,
          stream: args.stream,
          before: args.before == null ? null : integerId(String(args.before), 'before'),
          limit: Math.max(1, Math.min(args.first ?? 20, MAX_PAGE_SIZE)),
        }),
      ),
  }),
}));
