// findImage: every tag, in every namespace the caller may read, that points at an image now or did
// in its history (docs/queries.md, "Finding an image").
import { and, sql } from 'drizzle-orm';
import { GraphQLError } from 'graphql';
import { builder } from '../builder.ts';
import type { tagHistory, tags } from '../db/schema.ts';
import {
  type ImageSearch,
  MIN_DIGEST_PREFIX_HEX,
  parseImageSearch,
} from '../domain/imageSearch.ts';
import {
  countImageMatches,
  imageMatchConditions,
  isCurrentItemSql,
} from '../services/imageSearch.ts';
import { checkCursors, ordering, orderQuery } from './listOrder.ts';
import { ImageStreamTag } from './tags.ts';

type TagRow = typeof tags.$inferSelect;
type MatchRow = typeof tagHistory.$inferSelect & { current: boolean; tag: unknown };
type StreamName = { namespace: string; name: string };

const STREAM_NAME = { namespace: true, name: true } as const;
/** The list's scope key, a constant: a match's place is its history item's id alone. */
const SEARCH_KEY = 'search';

/** A match is listed in the order its history item was written: the item's id. */
const MATCH_KEYS = [
  { column: SEARCH_KEY, type: 'string' },
  { column: 'id', type: 'number' },
] as const;

/** The namespace of the item's tag, read with the page. */
const NAMESPACE_KEY = 'matchNamespace';
const namespaceOfItem = (item: typeof tagHistory) =>
  sql<string>`(select find_ns_stream.namespace from tags find_ns_tag
    join image_streams find_ns_stream on find_ns_stream.id = find_ns_tag.stream_id
    where find_ns_tag.id = ${item.tagId})`;

const isCurrent = { current: (item: typeof tagHistory) => isCurrentItemSql(item) };

export const ImageMatch = builder.drizzleObject('tagHistory', {
  variant: 'ImageMatch',
  description:
    'A tag that points at a matching image now, or did: the newest of its history items that ' +
    'holds the image.',
  fields: (t) => ({
    imageStreamTag: t.field({
      type: ImageStreamTag,
      select: (_args, _ctx, nested) => ({
        with: { tag: nested({ with: { stream: { columns: STREAM_NAME } } }) },
      }),
      resolve: (item, _args, ctx) => {
        const tag = item.tag as TagRow & { stream: StreamName };
        ctx.access.places.rememberStream(tag.streamId, tag.stream.namespace);
        return tag;
      },
    }),
    current: t.boolean({
      description: 'The tag points at the image now (the item is history item 0).',
      select: { extras: isCurrent },
      resolve: (item) => item.current,
    }),
    digest: t.string({
      nullable: true,
      description:
        'The full digest of the matching image; null for a pull-spec match of a reference ' +
        'item, which names no image.',
      resolve: (item) => item.imageDigest,
    }),
    dockerImageReference: t.exposeString('dockerImageReference', {
      description: "The item's pull spec.",
    }),
    generation: t.exposeInt('generation', { description: "The matching item's generation." }),
    created: t.expose('created', {
      type: 'DateTime',
      description: 'When the matching item was written.',
    }),
  }),
});

/** A bad search: BAD_USER_INPUT, naming the argument. */
function searchOf(args: { digest?: string | null; pullSpec?: string | null }): ImageSearch {
  const search = parseImageSearch(args);
  if (search.ok) return search.value;
  throw new GraphQLError(search.error.message, {
    extensions: { code: 'BAD_USER_INPUT', field: search.error.field },
  });
}

builder.queryFields((t) => ({
  findImage: t.drizzleConnection(
    {
      type: ImageMatch,
      description:
        'Every tag, in the namespaces the caller may read, whose history holds a matching image, ' +
        `oldest match first. Give exactly one of \`digest\` (a digest or a prefix of at least ${MIN_DIGEST_PREFIX_HEX} ` +
        'hex digits, with or without `sha256:`) and `pullSpec` (by digest when it has one, else by ' +
        'the pull spec recorded). A caller who may read no namespace gets an empty list.',
      args: {
        digest: t.arg.string(),
        pullSpec: t.arg.string(),
      },
      totalCount: (_parent, args, ctx) =>
        countImageMatches(ctx.database.db, searchOf(args), ctx.access.caller),
      resolve: async (query, _root, args, ctx) => {
        const search = searchOf(args);
        const order = ordering('findImage', 'ID', MATCH_KEYS, 'asc');
        const bound = checkCursors(order, args);
        const sorted = orderQuery(order);
        const extras = {
          ...sorted.extras,
          [SEARCH_KEY]: () => sql<string>`''::text`,
          [NAMESPACE_KEY]: (item: typeof tagHistory) => namespaceOfItem(item),
        };
        // plugin-drizzle types a variant's query as its extras alone; the rows are whole items.
        const rows = ctx.database.db.query.tagHistory.findMany(
          query({
            where: {
              RAW: (item) =>
                and(imageMatchConditions(item, search, ctx.access.caller), bound(item))!,
            },
            orderBy: sorted.orderBy,
            extras,
          }),
        );
        const matches = (await rows) as unknown as (MatchRow & { [NAMESPACE_KEY]: string })[];
        // Every tag of the page is checked again as an ImageStreamTag: one statement for them all.
        await ctx.access.preload(matches.map((match) => match[NAMESPACE_KEY]));
        return matches;
      },
    },
    { name: 'ImageMatchConnection' },
    { name: 'ImageMatchEdge' },
  ),
}));
