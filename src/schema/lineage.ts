// Lineage of copied tags: TagEvent.copiedFrom and ImageStreamTag.promotedFrom / promotedTo.
// What is recorded: docs/rules.md#lineage; who sees which end of a copy: docs/security.md.
import { type SQL, sql } from 'drizzle-orm';
import { readableNamespaceSql } from '../auth/roles.ts';
import { builder, MAX_PAGE_SIZE } from '../builder.ts';
import type { AppContext } from '../context.ts';
import type { tagHistory, tags } from '../db/schema.ts';
import type { TagLineage } from '../domain/history.ts';
import { type LineageColumns, lineageOf } from '../services/tagHistory.ts';
import { ImageStreamTag } from './tags.ts';

type TagRow = typeof tags.$inferSelect;
type StreamName = { namespace: string; name: string };

const LINEAGE_COLUMNS = {
  copiedFromTagId: true,
  copiedFromNamespace: true,
  copiedFromStream: true,
  copiedFromTag: true,
  copiedFromGeneration: true,
} as const;
const STREAM_NAME = { namespace: true, name: true } as const;
/**
 * The size of `promotedTo` when `first` is omitted. Smaller than a connection's default: a tag is
 * promoted to few places, and the list nests ImageStreamTag in ImageStreamTag, so a query's cost
 * (src/queryCost.ts) multiplies by it at every level that selects it.
 */
const PROMOTED_TO_DEFAULT = 5;

/** Item 0, with the arguments tags.ts uses, so the selections merge into one subquery. */
const HEAD = { orderBy: { seq: 'desc' }, limit: 1 } as const;

/** The lineage of an item reached through TagCopySource, which only items with one reach. */
function recorded(item: LineageColumns): TagLineage {
  const lineage = lineageOf(item);
  if (!lineage) throw new Error('a TagCopySource was resolved for an item that is no copy');
  return lineage;
}

/**
 * Whether the caller sees the item's lineage: it has one, and the caller may read the source's
 * namespace. Otherwise the lineage is left out whole, as if the item were no copy.
 */
async function hasVisibleLineage(item: LineageColumns, ctx: AppContext): Promise<boolean> {
  const lineage = lineageOf(item);
  return lineage !== null && ctx.access.can('image-puller', lineage.namespace);
}

/** A tag the caller may read, with its stream's namespace remembered for the type-level check. */
async function readableTag(tag: TagRow & { stream: StreamName }, ctx: AppContext) {
  if (!(await ctx.access.can('image-puller', tag.stream.namespace))) return false;
  ctx.access.places.rememberStream(tag.streamId, tag.stream.namespace);
  return true;
}

export const TagCopySource = builder.drizzleObject('tagHistory', {
  variant: 'TagCopySource',
  description:
    'Where a history item was copied from: the tag a permanent `tag` pinned it from, and the ' +
    "generation of that tag's item then.",
  select: { columns: LINEAGE_COLUMNS },
  authScopes: (item) => {
    const lineage = lineageOf(item);
    return lineage === null ? false : { read: lineage.namespace };
  },
  fields: (t) => ({
    namespace: t.string({ resolve: (item) => recorded(item).namespace }),
    stream: t.string({ resolve: (item) => recorded(item).stream }),
    tag: t.string({ resolve: (item) => recorded(item).tag }),
    generation: t.int({
      description: "The generation of the source tag's item 0 when it was copied.",
      resolve: (item) => recorded(item).generation,
    }),
    imageStreamTag: t.field({
      type: ImageStreamTag,
      nullable: true,
      description:
        'The source tag while it exists; null once it is deleted (a later tag of the same name ' +
        'is another tag).',
      select: (_args, _ctx, nested) => ({
        with: { sourceTag: nested({ with: { stream: { columns: STREAM_NAME } } }) },
      }),
      resolve: async (item, _args, ctx) => {
        const source = item.sourceTag as (TagRow & { stream: StreamName }) | null;
        return source && (await readableTag(source, ctx)) ? source : null;
      },
    }),
  }),
});

builder.drizzleObjectField('tagHistory', 'copiedFrom', (t) =>
  t.variant(TagCopySource, {
    description:
      'The tag this item was copied from by a permanent `tag` (`oc tag a:1 b:prod`). Null when ' +
      'the item is no such copy (an import, a push, a tracking tag following, a rollback, a ' +
      '`stream@id` source) or when the caller may not read the source namespace.',
    select: { columns: LINEAGE_COLUMNS },
    isNull: async (item, _args, ctx) => !(await hasVisibleLineage(item, ctx)),
  }),
);

/**
 * The history items that are a tag's item 0 now and whose tag the caller may read: the filter runs
 * in the statement, before the limit, so hidden copies neither take places nor show as a gap.
 */
function currentReadableCopy(item: typeof tagHistory, ctx: AppContext): SQL {
  const current = sql`not exists (select 1 from tag_history lineage_newer
    where lineage_newer.tag_id = ${item.tagId} and lineage_newer.seq > ${item.seq})`;
  const readable = readableNamespaceSql(ctx.access.caller, sql`lineage_stream.namespace`);
  if (readable === null) return current;
  return sql`${current} and exists (select 1 from tags lineage_tag
    join image_streams lineage_stream on lineage_stream.id = lineage_tag.stream_id
    where lineage_tag.id = ${item.tagId} and ${readable})`;
}

builder.drizzleObjectFields(ImageStreamTag, (t) => ({
  promotedFrom: t.field({
    type: TagCopySource,
    nullable: true,
    description:
      'Where the current image (history item 0) was copied from; null when it is no copy or ' +
      'the caller may not read the source namespace.',
    select: (_args, _ctx, nested) => ({ with: { history: nested(HEAD) } }),
    resolve: async (tag, _args, ctx) => {
      const head = tag.history[0];
      return head && (await hasVisibleLineage(head, ctx)) ? head : null;
    },
  }),
  promotedTo: t.field({
    type: [ImageStreamTag],
    description:
      'The tags whose current image (item 0) was copied from this tag, newest copy first, at ' +
      `most \`first\` (${PROMOTED_TO_DEFAULT} when omitted, at most ${MAX_PAGE_SIZE}). Tags in ` +
      'namespaces the caller may not read are left out.',
    args: { first: t.arg.int({ defaultValue: PROMOTED_TO_DEFAULT }) },
    select: (args, ctx, nested) => ({
      with: {
        copies: {
          columns: { tagId: true },
          where: { RAW: (item) => currentReadableCopy(item, ctx) },
          orderBy: { created: 'desc', id: 'desc' },
          limit: Math.max(0, Math.min(args.first ?? PROMOTED_TO_DEFAULT, MAX_PAGE_SIZE)),
          with: { tag: nested({ with: { stream: { columns: STREAM_NAME } } }) },
        },
      },
    }),
    resolve: async (tag, _args, ctx) => {
      const destinations: TagRow[] = [];
      for (const copy of tag.copies) {
        const destination = copy.tag as TagRow & { stream: StreamName };
        if (await readableTag(destination, ctx)) destinations.push(destination);
      }
      return destinations;
    },
  }),
}));
