// ImageStreamTag: spec, history, conditions and tracking of one tag; ImageStream's tag fields.

import { sql } from 'drizzle-orm';
import { builder } from '../builder.ts';
import type { AppContext } from '../context.ts';
import type { imageStreams, tagHistory, tags } from '../db/schema.ts';
import { isImportPending, pullSpecFor } from '../domain/tagPolicy.ts';
import { followers } from '../domain/tracking.ts';
import { unwrap } from '../errors.ts';
import { authorizeStreamTagLookup, type TrackingRow, trackingView } from '../services/queries.ts';
import { readRef } from './access.ts';
import { entriesOf, KeyValueRef } from './common.ts';
import {
  ConditionStatusEnum,
  ImportModeEnum,
  ReferencePolicyTypeEnum,
  TagSourceKindEnum,
} from './enums.ts';
import { INPUT_ERRORS } from './errors.ts';
import { ActorRef } from './events.ts';
import { ImageStream } from './imageStreams.ts';
import { Image } from './images.ts';
import { listConnection } from './listConnection.ts';
import { refLookupArgs } from './shapes.ts';
import { historyConnection, streamTagsConnection } from './tagLists.ts';

type TagRow = typeof tags.$inferSelect;

/** The condition type import results are recorded under (the only one today). */
const IMPORT_SUCCESS = 'ImportSuccess';

// No `totalCount` on the related connections: plugin-drizzle 0.20 builds relation counts with
// drizzle's relationToSQL, which in 1.0.0-rc.5 returns raw chunks, and the SQL comes out broken.

// Selections of one relation merge into one subquery only when their arguments are equal, so the
// fields reading item 0 all use HEAD, and the fields reading conditions all use CONDITIONS. The
// `history` connection pages with other arguments, so a query that selects it beside item 0's
// fields loads it in one more statement, batched over every tag: 2 statements whether a stream
// has 5 tags or 10 (tagGraph.test.ts), instead of one per tag.
const HEAD = { orderBy: { seq: 'desc' }, limit: 1 } as const;
const CONDITIONS = { orderBy: { type: 'asc' } } as const;
const HEAD_COLUMNS = { dockerImageReference: true, imageDigest: true, generation: true } as const;
const STREAM_NAME = { namespace: true, name: true } as const;
const TRACKING_COLUMNS = {
  name: true,
  fromKind: true,
  fromName: true,
  fromNamespace: true,
} as const;

/**
 * Every tag of the tag's own stream, with what each follows (tracking is per stream;
 * docs/rules.md#tracking-tags).
 */
const siblingTags = {
  columns: STREAM_NAME,
  with: { tags: { columns: TRACKING_COLUMNS } },
} as const;

function trackingOf(tag: TagRow, stream: { namespace: string; name: string; tags: TrackingRow[] }) {
  return { name: tag.name, view: trackingView(stream.namespace, stream.name, stream.tags) };
}

const TagSourceRef = builder
  .objectRef<{ kind: NonNullable<TagRow['fromKind']>; name: string; namespace: string | null }>(
    'TagSource',
  )
  .implement({
    description: "What a spec tag points at (OpenShift's `from`).",
    fields: (t) => ({
      kind: t.expose('kind', { type: TagSourceKindEnum }),
      name: t.exposeString('name', {
        description: 'A pull spec, `[stream:]tag` or `[stream@]id`, by kind.',
      }),
      namespace: t.exposeString('namespace', {
        nullable: true,
        description: "Null: the tag's own namespace.",
      }),
    }),
  });

const ReferencePolicyRef = builder
  .objectRef<{ type: TagRow['referencePolicy'] }>('TagReferencePolicy')
  .implement({ fields: (t) => ({ type: t.expose('type', { type: ReferencePolicyTypeEnum }) }) });

const ImportPolicyRef = builder
  .objectRef<{ insecure: boolean; scheduled: boolean; importMode: TagRow['importMode'] }>(
    'TagImportPolicy',
  )
  .implement({
    fields: (t) => ({
      insecure: t.exposeBoolean('insecure'),
      scheduled: t.exposeBoolean('scheduled'),
      importMode: t.expose('importMode', { type: ImportModeEnum }),
    }),
  });

const TagSpecRef = builder.objectRef<TagRow & { specGeneration: number }>('TagSpec').implement({
  description: 'The spec tag (TagReference): what the tag should point at and how.',
  authScopes: (tag, ctx) => readTag(tag, ctx),
  fields: (t) => ({
    from: t.field({
      type: TagSourceRef,
      nullable: true,
      resolve: (tag) =>
        tag.fromKind && tag.fromName
          ? { kind: tag.fromKind, name: tag.fromName, namespace: tag.fromNamespace }
          : null,
    }),
    reference: t.exposeBoolean('reference', {
      description: 'Never imported: consumers use the source as is.',
    }),
    referencePolicy: t.field({
      type: ReferencePolicyRef,
      resolve: (tag) => ({ type: tag.referencePolicy }),
    }),
    importPolicy: t.field({
      type: ImportPolicyRef,
      resolve: (tag) => ({
        insecure: tag.importInsecure,
        scheduled: tag.importScheduled,
        importMode: tag.importMode,
      }),
    }),
    generation: t.exposeInt('specGeneration', {
      description: "The stream's generation when from, reference or importMode last changed.",
    }),
    annotations: t.field({ type: [KeyValueRef], resolve: (tag) => entriesOf(tag.annotations) }),
  }),
});

/** image-puller in the namespace of the tag's stream: the type-level check of tag objects. */
async function readTag(
  tag: { id?: number; streamId: number; namespace?: string },
  ctx: AppContext,
) {
  // A cluster admin reads every namespace: no need to know which one.
  if (ctx.access.caller.clusterAdmin) return true;
  // The row carries its namespace when its columns were read; otherwise one batched lookup.
  const namespace = tag.namespace || (await ctx.access.places.ofStream(tag.streamId));
  if (namespace === null) return false;
  if (tag.id !== undefined) ctx.access.places.rememberTag(tag.id, namespace);
  return { read: namespace };
}

/** image-puller in the namespace of the tag a history item or condition belongs to. */
async function readTagPart(part: { tagId: number }, ctx: AppContext) {
  if (ctx.access.caller.clusterAdmin) return true;
  const namespace = await ctx.access.places.ofTag(part.tagId);
  return namespace === null ? false : { read: namespace };
}

builder.drizzleObject('tagHistory', {
  name: 'TagEvent',
  authScopes: (part, ctx) => readTagPart(part, ctx),
  description: 'One item of a tag history: what the tag pointed at from `created` on.',
  fields: (t) => ({
    created: t.expose('created', { type: 'DateTime' }),
    dockerImageReference: t.exposeString('dockerImageReference'),
    image: t.relation('image', {
      nullable: true,
      description: 'Null for a reference tag: it never points at an imported image.',
    }),
    generation: t.exposeInt('generation'),
    actor: t.field({
      type: ActorRef,
      nullable: true,
      description: 'Who made this item; null for items recorded before actors were kept.',
      select: { columns: { actor: true } },
      resolve: (item) => item.actor ?? null,
    }),
  }),
});

builder.drizzleObject('tagConditions', {
  name: 'TagCondition',
  authScopes: (part, ctx) => readTagPart(part, ctx),
  fields: (t) => ({
    type: t.exposeString('type', { description: 'Only `ImportSuccess` exists today.' }),
    status: t.expose('status', { type: ConditionStatusEnum }),
    reason: t.exposeString('reason'),
    message: t.exposeString('message'),
    generation: t.exposeInt('generation'),
    lastTransitionTime: t.expose('lastTransitionTime', { type: 'DateTime' }),
  }),
});

export const ImageStreamTag = builder.drizzleNode('tags', {
  name: 'ImageStreamTag',
  description: '`<stream>:<tag>`: the spec tag and status tag of one name, as one view.',
  authScopes: (tag, ctx) => readTag(tag, ctx),
  id: { column: (tag) => tag.id },
  fields: (t) => ({
    name: t.exposeString('name'),
    stream: t.relation('stream'),
    spec: t.field({
      type: TagSpecRef,
      nullable: true,
      description: 'Null for a tag that has status only (created by a push).',
      resolve: (tag) =>
        tag.specGeneration === null ? null : { ...tag, specGeneration: tag.specGeneration },
    }),
    image: t.field({
      type: Image,
      nullable: true,
      description: 'What the tag points at now (history item 0); null before the first import.',
      select: (_args, _ctx, nested) => ({
        with: { history: { ...HEAD, columns: HEAD_COLUMNS, with: { image: nested() } } },
      }),
      resolve: (tag) => tag.history[0]?.image ?? null,
    }),
    dockerImageReference: t.string({
      nullable: true,
      description: "History item 0's reference.",
      select: { with: { history: { ...HEAD, columns: HEAD_COLUMNS } } },
      resolve: (tag) => tag.history[0]?.dockerImageReference ?? null,
    }),
    pullSpec: t.string({
      nullable: true,
      description:
        'What consumers pull now: Source → the reference as imported; Local → ' +
        "`<stream pull spec>@<digest>`. Null before the tag's first history item.",
      select: {
        columns: { referencePolicy: true },
        with: { history: { ...HEAD, columns: HEAD_COLUMNS }, stream: { columns: STREAM_NAME } },
      },
      resolve: (tag, _args, ctx) => {
        const head = tag.history[0];
        if (!head) return null;
        const streamPullSpec = `${ctx.config.registryHost}/${tag.stream.namespace}/${tag.stream.name}`;
        return pullSpecFor(
          tag.referencePolicy,
          { dockerImageReference: head.dockerImageReference, image: head.imageDigest },
          streamPullSpec,
        );
      },
    }),
    importPending: t.boolean({
      description:
        "An import is pending: the spec's generation is newer than both item 0's and the " +
        "ImportSuccess condition's. Always false for a status-only tag.",
      select: {
        columns: { specGeneration: true },
        with: {
          history: { ...HEAD, columns: HEAD_COLUMNS },
          conditions: { ...CONDITIONS, columns: { type: true, generation: true } },
        },
      },
      resolve: (tag) =>
        isImportPending(
          tag.specGeneration,
          tag.history[0]?.generation,
          tag.conditions.find((c) => c.type === IMPORT_SUCCESS)?.generation,
        ),
    }),
    history: listConnection(t, 'history', historyConnection, {
      name: 'TagHistory',
      description:
        'Newest first unless orderBy says: the first node is item 0, what the tag points at ' +
        'now (docs/queries.md).',
    }),
    conditions: t.relation('conditions', { query: CONDITIONS }),
    dangling: t.boolean({
      description: 'It tracks a tag that no longer exists: its history is kept as is.',
      select: { columns: { tracksTag: true }, with: { trackedTag: { columns: { id: true } } } },
      resolve: (tag) => tag.tracksTag !== null && tag.trackedTag === null,
    }),
  }),
});

// Fields returning ImageStreamTag itself are added once the ref exists.
builder.drizzleObjectFields(ImageStreamTag, (t) => ({
  follows: t.relation('trackedTag', {
    nullable: true,
    description: 'The tag of this stream it tracks (`oc tag --alias`); null if none or dangling.',
  }),
  followers: t.field({
    type: [ImageStreamTag],
    description:
      'The tags of this stream that track this one; with transitive, whole chains, breadth ' +
      'first and sorted by name within a level (the order a change propagates in).',
    args: { transitive: t.arg.boolean({ defaultValue: false }) },
    select: (args, _ctx, nested) =>
      args.transitive
        ? {
            with: {
              stream: { ...siblingTags, with: { tags: nested({ columns: TRACKING_COLUMNS }) } },
            },
          }
        : { with: { trackingTags: nested({ orderBy: { name: 'asc' } }) } },
    resolve: (tag, args) => {
      if (!args.transitive) {
        const direct = (tag as unknown as { trackingTags: TagRow[] }).trackingTags;
        return direct.filter((t) => t.id !== tag.id);
      }
      const { stream } = tag as unknown as { stream: StreamName & { tags: TrackingRow[] } };
      const { name, view } = trackingOf(tag, stream);
      const names = followers(view, name, { transitive: true });
      // The sibling rows carry the nested selection too; their static type shows only columns.
      const byName = new Map(stream.tags.map((s) => [s.name, s]));
      return names.flatMap((n) => byName.get(n) ?? []) as TagRow[];
    },
  }),
}));

/**
 * Distinct images of the stream's histories: the stream's rows of stream_images (ImageStream.images),
 * counted on its primary key; one constant so it merges.
 */
const uniqueImageCount = {
  uniqueImageCount: (stream: typeof imageStreams) =>
    sql<number>`(select count(*)::int from stream_images si where si.stream_id = ${stream.id})`,
};

builder.drizzleObjectFields(ImageStream, (t) => ({
  tags: listConnection(t, 'tags', streamTagsConnection, {
    name: 'ImageStreamTag',
    description: 'Filtered and ordered (by name unless orderBy says; docs/queries.md).',
  }),
  tag: t.field({
    type: ImageStreamTag,
    nullable: true,
    args: { name: t.arg.string({ required: true }) },
    select: (args, _ctx, nested) => ({
      with: { tags: nested({ where: { name: args.name }, limit: 1 }) },
    }),
    resolve: (stream) => stream.tags[0] ?? null,
  }),
  uniqueImageCount: t.int({
    description: 'Distinct image digests across all tag histories of the stream.',
    select: { extras: uniqueImageCount },
    resolve: (stream) => stream.uniqueImageCount,
  }),
}));

/** Position from the top of a history (0 = item 0), for Image.streamTags. */
const historyPosition = {
  historyIndex: (h: typeof tagHistory) =>
    sql<number>`(select count(*)::int from tag_history h2
      where h2.tag_id = ${h.tagId} and h2.seq > ${h.seq})`,
};

interface StreamTagUse<Tag> {
  tag: Tag;
  historyIndex: number;
}

const ImageStreamTagUse = builder
  .objectRef<StreamTagUse<TagRow & { stream: StreamName }>>('ImageStreamTagUse')
  .implement({
    description: 'A tag whose history names the image.',
    authScopes: (use) => ({ read: use.tag.stream.namespace }),
    fields: (t) => ({
      tag: t.field({ type: ImageStreamTag, resolve: (use) => use.tag }),
      current: t.boolean({
        description: 'The tag points at the image now (it is history item 0).',
        resolve: (use) => use.historyIndex === 0,
      }),
      historyIndex: t.exposeInt('historyIndex', {
        description: 'The newest item of the tag that names the image (0 = item 0).',
      }),
    }),
  });

builder.drizzleObjectField(Image, 'streamTags', (t) =>
  t.field({
    type: [ImageStreamTagUse],
    description:
      'Tags that point at the image now or did before, once per tag (its newest such item), ' +
      'sorted by namespace, stream and tag name.',
    select: (_args, _ctx, nested) => ({
      with: {
        history: {
          columns: { tagId: true },
          extras: historyPosition,
          with: {
            tag: nested({ with: { stream: { columns: STREAM_NAME } } }, ['tag']),
          },
        },
      },
    }),
    resolve: async (image, _args, ctx) => {
      const newest = new Map<number, StreamTagUse<TagRow & { stream: StreamName }>>();
      for (const item of image.history) {
        // Only tags of namespaces the caller may read.
        if (!(await ctx.access.can('image-puller', item.tag.stream.namespace))) continue;
        const seen = newest.get(item.tagId);
        if (!seen || item.historyIndex < seen.historyIndex) {
          newest.set(item.tagId, { tag: item.tag, historyIndex: item.historyIndex });
        }
      }
      const key = (u: StreamTagUse<{ name: string; stream: StreamName }>) =>
        [u.tag.stream.namespace, u.tag.stream.name, u.tag.name] as const;
      return [...newest.values()].sort((a, b) => compareTuples(key(a), key(b)));
    },
  }),
);

type StreamName = { namespace: string; name: string };

function compareTuples(a: readonly string[], b: readonly string[]): number {
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

builder.queryFields((t) => ({
  imageStreamTag: t.drizzleField({
    authScopes: readRef,
    type: 'tags',
    nullable: true,
    description:
      '`<stream>:<tag>` in a namespace; null when the stream or tag does not exist, a ' +
      'ValidationError when ref is malformed.',
    args: refLookupArgs(t.arg, '`[ns/]stream:tag`'),
    errors: { types: INPUT_ERRORS },
    resolve: async (query, _root, args, ctx) => {
      const ref = unwrap(await authorizeStreamTagLookup(ctx.access, args.namespace, args.ref));
      const row = await ctx.database.db.query.tags.findFirst(
        query({
          where: { name: ref.tag, stream: { namespace: ref.namespace, name: ref.stream } },
        }),
      );
      // Found through its namespace: the type-level check needs no lookup.
      if (row) {
        const { streamId } = row as unknown as { streamId: number };
        ctx.access.places.rememberStream(streamId, ref.namespace);
      }
      return row;
    },
  }),
}));
