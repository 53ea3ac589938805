// ImageStream: the type, its queries and the create / delete mutations.

import { builder } from '../builder.ts';
import type { AppContext } from '../context.ts';
import type { Db } from '../db/client.ts';
import { imageStreams as imageStreamsTable } from '../db/schema.ts';
import { MAX_SELECTOR_TERMS, parseStreamFilter } from '../domain/listFilters.ts';
import type { Result } from '../errors.ts';
import {
  createImageStream,
  deleteImageStream,
  type ImageStreamRow,
  updateImageStream,
} from '../services/imageStreams.ts';
import { streamListConditions } from '../services/listFilters.ts';
import { adminInput, editInput, readArgs } from './access.ts';
import { entriesOf, KeyValueInput, KeyValueRef } from './common.ts';
import { CREATE_ERRORS, DELETE_ERRORS, EDIT_ERRORS } from './errors.ts';
import type { ConnectionList } from './listConnection.ts';
import { type ListArgsOf, listQuery, orderInput, scopedList } from './listOrder.ts';
import {
  answeringMutation,
  byInput,
  type ErrorTypes,
  type MutationFields,
  refArgs,
  refFields,
  type Types,
} from './shapes.ts';

const LookupPolicy = builder.objectRef<{ local: boolean }>('ImageLookupPolicy').implement({
  description: 'Whether workloads in the namespace may refer to this stream by name alone.',
  fields: (t) => ({ local: t.exposeBoolean('local') }),
});

export const ImageStream = builder.drizzleNode('imageStreams', {
  name: 'ImageStream',
  authScopes: (stream, ctx) => {
    ctx.access.places.rememberStream(stream.id, stream.namespace);
    return { read: stream.namespace };
  },
  id: { column: (s) => s.id },
  fields: (t) => ({
    namespace: t.exposeString('namespace'),
    name: t.exposeString('name'),
    labels: t.field({ type: [KeyValueRef], resolve: (s) => entriesOf(s.labels) }),
    annotations: t.field({ type: [KeyValueRef], resolve: (s) => entriesOf(s.annotations) }),
    lookupPolicy: t.field({ type: LookupPolicy, resolve: (s) => ({ local: s.lookupLocal }) }),
    dockerImageRepository: t.exposeString('dockerImageRepository', { nullable: true }),
    generation: t.exposeInt('generation'),
    resourceVersion: t.string({
      description: 'Changes on every write; pass it back as expectedResourceVersion.',
      resolve: (s) => String(s.resourceVersion),
    }),
    pullSpec: t.string({
      description: 'Where clients pull this stream from: <registry host>/<namespace>/<name>.',
      resolve: (s, _args, ctx) => `${ctx.config.registryHost}/${s.namespace}/${s.name}`,
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
  }),
});

export const ImageStreamFilter = builder.inputType('ImageStreamFilter', {
  description: 'Every given condition must hold (docs/queries.md).',
  fields: (t) => ({
    namePrefix: t.string(),
    nameContains: t.string({ description: 'A substring of the name, case-sensitive.' }),
    labels: t.field({
      type: [KeyValueInput],
      description: 'Every pair must be among the stream labels.',
    }),
    labelSelector: t.string({
      description:
        'A Kubernetes label selector: `app=web,tier!=db,env in (a,b),!legacy,release` ' +
        `(at most ${MAX_SELECTOR_TERMS} requirements with labels).`,
    }),
  }),
});

export const ImageStreamOrder = orderInput(
  'ImageStreamOrder',
  ['NAME', 'UPDATED_AT', 'GENERATION'],
  'asc',
);

type StreamListArgs = ListArgsOf<typeof ImageStreamFilter, typeof ImageStreamOrder>;

const STREAMS = scopedList('namespace', {
  name: 'imageStreams',
  table: imageStreamsTable,
  keys: { NAME: ['name'], UPDATED_AT: ['updatedAt', 'id'], GENERATION: ['generation', 'id'] },
  defaultField: 'NAME',
  parseFilter: parseStreamFilter,
  conditions: streamListConditions,
});

/**
 * A stream list's filter, ordering, checked cursors and count (by namespace name); with
 * `namespace`, the page is narrowed to it, otherwise the relation names it.
 */
export function streamListQuery(namespace: string | null, args: StreamListArgs) {
  return listQuery(STREAMS, args, namespace ?? undefined);
}

/** Namespace.imageStreams: a namespace's streams, filtered and ordered as the imageStreams query. */
export const namespaceStreamsConnection: ConnectionList<{ name: string }, StreamListArgs> = {
  filter: ImageStreamFilter,
  orderBy: ImageStreamOrder,
  list: (args) => streamListQuery(null, args),
  scope: (namespace) => namespace.name,
  counted: 'Streams',
};

builder.queryFields((t) => ({
  imageStream: t.drizzleField({
    authScopes: readArgs,
    type: 'imageStreams',
    nullable: true,
    args: refArgs(t.arg),
    resolve: (query, _root, args, ctx) =>
      ctx.database.db.query.imageStreams.findFirst(
        query({ where: { namespace: args.namespace, name: args.name } }),
      ),
  }),
  imageStreams: t.drizzleConnection({
    authScopes: readArgs,
    type: 'imageStreams',
    description: 'The streams of a namespace, filtered and ordered (by name unless orderBy says).',
    args: {
      namespace: t.arg.string({ required: true }),
      filter: t.arg({ type: ImageStreamFilter }),
      orderBy: t.arg({ type: ImageStreamOrder }),
    },
    totalCount: (_parent, args, ctx) =>
      streamListQuery(args.namespace, args).count(ctx.database.db, args.namespace),
    resolve: (query, _root, args, ctx) => {
      const list = streamListQuery(args.namespace, args).query;
      return ctx.database.db.query.imageStreams.findMany(
        query({ where: list.where, orderBy: list.orderBy, extras: list.extras }),
      );
    },
  }),
}));

const LookupPolicyInput = builder.inputType('ImageLookupPolicyInput', {
  fields: (f) => ({ local: f.boolean({ required: true }) }),
});

const CreateImageStreamInput = builder.inputType('CreateImageStreamInput', {
  fields: (t) => ({
    ...refFields(t),
    labels: t.field({ type: [KeyValueInput] }),
    annotations: t.field({ type: [KeyValueInput] }),
    lookupPolicy: t.field({ type: LookupPolicyInput }),
    dockerImageRepository: t.string(),
  }),
});

const ImageStreamPayload = builder.objectRef<{ imageStreamId: number }>('ImageStreamPayload');
/** The payload of a created or changed stream: its id, the stream loaded as the query selects. */
const streamPayload = (row: { id: number }) => ({ imageStreamId: row.id });
ImageStreamPayload.implement({
  fields: (t) => ({
    imageStream: t.drizzleField({
      type: 'imageStreams',
      nullable: true,
      resolve: (query, payload, _args, ctx) =>
        ctx.database.db.query.imageStreams.findFirst(
          query({ where: { id: payload.imageStreamId } }),
        ),
    }),
  }),
});

const DeleteImageStreamPayload = builder
  .objectRef<{ id: number; namespace: string; name: string }>('DeleteImageStreamPayload')
  .implement({
    fields: (t) => ({
      deletedId: t.globalID({ resolve: (p) => ({ type: 'ImageStream', id: String(p.id) }) }),
      namespace: t.exposeString('namespace'),
      name: t.exposeString('name'),
    }),
  });

const UpdateImageStreamInput = builder.inputType('UpdateImageStreamInput', {
  description: 'Labels and annotations replace the whole set when given.',
  fields: (t) => ({
    ...refFields(t),
    labels: t.field({ type: [KeyValueInput] }),
    annotations: t.field({ type: [KeyValueInput] }),
    lookupPolicy: t.field({
      type: LookupPolicyInput,
      description: 'As `oc set image-lookup` sets it; a spec change (the generation moves on).',
    }),
    dockerImageRepository: t.string({
      description:
        '`spec.dockerImageRepository`: the repository `importImage` with `all` imports from when ' +
        'given no `from`. A repository without tag or digest; the empty string clears it. A spec ' +
        'change (the generation moves on).',
    }),
    expectedResourceVersion: t.string(),
  }),
});

const DeleteImageStreamInput = builder.inputType('DeleteImageStreamInput', {
  fields: (t) => ({
    ...refFields(t),
    expectedResourceVersion: t.string(),
  }),
});

/** An editor's mutation that `change`s a stream, given lookupPolicy as lookupLocal, and answers it. */
function streamMutation<
  Input extends { namespace: string; lookupPolicy?: { local: boolean } | null },
>(
  t: MutationFields,
  input: PothosSchemaTypes.InputObjectRef<Types, Input>,
  errors: ErrorTypes,
  change: (
    db: Db,
    access: AppContext['access'],
    input: Input & { lookupLocal?: boolean },
  ) => Promise<Result<ImageStreamRow>>,
) {
  return answeringMutation(t, {
    scope: editInput,
    payload: ImageStreamPayload,
    input,
    errors,
    act: (ctx, given: Input) =>
      change(ctx.database.db, ctx.access, { ...given, lookupLocal: given.lookupPolicy?.local }),
    answer: streamPayload,
  });
}

builder.mutationFields((t) => ({
  createImageStream: streamMutation(t, CreateImageStreamInput, CREATE_ERRORS, createImageStream),
  updateImageStream: streamMutation(t, UpdateImageStreamInput, EDIT_ERRORS, updateImageStream),
  deleteImageStream: answeringMutation(t, {
    scope: adminInput,
    payload: DeleteImageStreamPayload,
    input: DeleteImageStreamInput,
    errors: DELETE_ERRORS,
    act: byInput(deleteImageStream),
    answer: ({ id, namespace, name }: ImageStreamRow) => ({ id, namespace, name }),
  }),
}));
