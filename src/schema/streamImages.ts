// ImageStream.images: every distinct image a stream's tag histories name, read from the
// trigger-kept stream_images table, filtered, ordered and counted (docs/queries.md).
import { createContextCache } from '@pothos/core';
import DataLoader from 'dataloader';
import { inArray, sql } from 'drizzle-orm';
import { builder } from '../builder.ts';
import type { AppContext } from '../context.ts';
import { streamImages, tags } from '../db/schema.ts';
import { parseStreamImageFilter } from '../domain/listFilters.ts';
import { streamImageListConditions } from '../services/listFilters.ts';
import { ImageStream } from './imageStreams.ts';
import { type ConnectionList, listConnection } from './listConnection.ts';
import { type Direction, type ListArgsOf, listQuery, orderInput, scopedList } from './listOrder.ts';
import { ImageStreamTag } from './tags.ts';

type TagRow = typeof tags.$inferSelect;

/** A page's current tags, by id: one statement for every image of the page. */
const tagsById = createContextCache(
  (ctx: AppContext) =>
    new DataLoader(async (ids: readonly number[]) => {
      const rows = await ctx.database.db
        .select()
        .from(tags)
        .where(inArray(tags.id, [...ids]));
      const byId = new Map(rows.map((row) => [row.id, row]));
      return ids.map((id) => byId.get(id) ?? null);
    }),
);

/**
 * The stream's tags whose item 0 names the image, by name: found from the image's history items
 * (the digest index), each checked to be its tag's newest.
 */
const currentTagIds = {
  currentTagIds: (si: typeof streamImages) =>
    sql<number[]>`(select coalesce(json_agg(cur.id order by cur.name), '[]'::json) from (
      select distinct t.id, t.name from tag_history h join tags t on t.id = h.tag_id
      where h.image_digest = ${si.digest} and t.stream_id = ${si.streamId}
        and h.seq = (select max(h2.seq) from tag_history h2 where h2.tag_id = h.tag_id)) cur)`,
};

export const StreamImageUse = builder.drizzleObject('streamImages', {
  name: 'StreamImageUse',
  description:
    "An image the stream's tag histories name (OpenShift's image stream image), once per " +
    'digest, with how the stream uses it.',
  authScopes: async (use, ctx) => {
    if (ctx.access.caller.clusterAdmin) return true;
    const namespace = await ctx.access.places.ofStream(use.streamId);
    return namespace === null ? false : { read: namespace };
  },
  fields: (t) => ({
    digest: t.exposeString('digest'),
    image: t.relation('image'),
    created: t.expose('created', {
      type: 'DateTime',
      nullable: true,
      description: "The image's own created time (its config's); null when it has none.",
    }),
    historyItemCount: t.exposeInt('historyItemCount', {
      description: "History items, across the stream's tags, that name the image.",
    }),
    firstSeen: t.expose('firstSeen', {
      type: 'DateTime',
      description: 'The created time of the oldest of those items.',
    }),
    currentTags: t.field({
      type: [ImageStreamTag],
      description: 'The tags of the stream that point at the image now (item 0), by name.',
      select: { extras: currentTagIds },
      resolve: async (use, _args, ctx) => {
        const rows = await tagsById(ctx).loadMany(use.currentTagIds);
        return rows.filter((row): row is TagRow => row !== null && !(row instanceof Error));
      },
    }),
  }),
});

export const StreamImageFilterInputRef = builder.inputType('StreamImageFilter', {
  description: 'Every given condition must hold (docs/queries.md).',
  fields: (t) => ({
    digestPrefix: t.string({
      description: "A prefix of the image digest's hex, with or without `sha256:`.",
    }),
    createdAfter: t.field({
      type: 'DateTime',
      description: "The image's created time, strictly after; an image without one never matches.",
    }),
    createdBefore: t.field({ type: 'DateTime', description: 'As createdAfter, strictly before.' }),
    isManifestList: t.boolean({
      description: 'true: manifest lists and OCI indexes only; false: single images only.',
    }),
  }),
});

export const StreamImageOrder = orderInput(
  'StreamImageOrder',
  ['CREATED', 'DIGEST'],
  'desc',
  "CREATED: the image's created time, images without one last in either direction; ties by " +
    'digest. DIGEST: the digest.',
);

type StoredField = 'CREATED_ASC' | 'CREATED_DESC' | 'DIGEST';

/**
 * Each direction of CREATED sorts its own key column, which holds an unknown time as the value
 * that direction puts last; both are indexed with the stream first (migration stream_images).
 */
const STREAM_IMAGES = scopedList('streamId', {
  name: 'streamImages',
  table: streamImages,
  keys: {
    CREATED_ASC: ['createdAscKey', 'digest'],
    CREATED_DESC: ['createdDescKey', 'digest'],
    DIGEST: ['digest'],
  },
  defaultField: 'CREATED_DESC',
  defaultDirection: 'desc',
  parseFilter: parseStreamImageFilter,
  conditions: streamImageListConditions,
});

export type StreamImageListArgs = ListArgsOf<
  typeof StreamImageFilterInputRef,
  typeof StreamImageOrder
>;

/** A stream's image list (ImageStream.images): filter, ordering, checked cursors and count. */
export function streamImageListQuery(args: StreamImageListArgs) {
  const field = args.orderBy?.field ?? 'CREATED';
  const direction: Direction = args.orderBy?.direction ?? 'desc';
  const stored: StoredField =
    field === 'DIGEST' ? 'DIGEST' : direction === 'asc' ? 'CREATED_ASC' : 'CREATED_DESC';
  return listQuery(STREAM_IMAGES, { ...args, orderBy: { field: stored, direction } });
}

/** ImageStream.images, counted by the stream's id. */
const streamImagesConnection: ConnectionList<{ id: number }, StreamImageListArgs> = {
  filter: StreamImageFilterInputRef,
  orderBy: StreamImageOrder,
  list: streamImageListQuery,
  scope: (stream) => stream.id,
  counted: 'Images',
};

builder.drizzleObjectFields(ImageStream, (t) => ({
  images: listConnection(t, 'images', streamImagesConnection, {
    name: 'StreamImageUse',
    description:
      "Every distinct image the stream's tag histories name, newest created first unless " +
      'orderBy says (docs/queries.md).',
  }),
}));
