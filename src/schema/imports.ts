// Imports: the importImage mutation (`oc import-image`) and the import job queries.

import { builder, MAX_PAGE_SIZE } from '../builder.ts';
import { unwrap } from '../errors.ts';
import { importImage, waitForJob } from '../services/importImage.ts';
import { findReadableJob, listImportJobs } from '../services/importJobs.ts';
import { getJob, type ImportJobRow } from '../services/importQueue.ts';
import { editImage, integerId, readArgs, valueOrGraphQLError } from './access.ts';
import { ReferencePolicyTypeEnum } from './enums.ts';
import { ACT_ERRORS } from './errors.ts';

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
  }),
});

const ImportImagePayload = builder
  .objectRef<{ job: ImportJobRow; timedOut: boolean }>('ImportImagePayload')
  .implement({
    fields: (t) => ({
      job: t.field({ type: ImportJob, resolve: (p) => p.job }),
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
      const jobId = unwrap(
        await importImage(ctx.database.db, ctx.access, input, ctx.config.importMaxTags),
      );
      if (!input.wait) return { job: (await getJob(ctx.database.db, jobId))!, timedOut: false };
      const seconds = Math.min(Math.max(input.timeoutSeconds ?? 60, 1), 300);
      const job = (await waitForJob(ctx.database.db, jobId, seconds * 1000))!;
      return { job, timedOut: job.status === 'queued' || job.status === 'running' };
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
