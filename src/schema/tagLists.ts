// The filter and orderings of the tag lists: a stream's (ImageStream.tags) and a namespace's
// (Namespace.tags; docs/queries.md).
import { builder } from '../builder.ts';
import { tagHistory, tags } from '../db/schema.ts';
import { parseHistoryFilter, parseTagFilter, TAG_KINDS } from '../domain/listFilters.ts';
import { historyListConditions, tagListConditions } from '../services/listFilters.ts';
import type { ConnectionList } from './listConnection.ts';
import { type ListArgsOf, type ListQuery, listQuery, orderInput, scopedList } from './listOrder.ts';

export const TagKindEnum = builder.enumType('TagKind', {
  description:
    'What `tag` made of a tag (docs/rules.md, "Tag kinds"): PERMANENT pins an image, TRACKING ' +
    'follows another tag of the stream, REFERENCE records a pull spec, EXTERNAL imports a pull ' +
    'spec, SCHEDULED imports one and re-checks it; POLICY follows the repository tag a policy ' +
    'picks (scheduled or not, and never counted as EXTERNAL or SCHEDULED); STATUS_ONLY has no ' +
    'spec (a push made it).',
  values: TAG_KINDS,
});

export const ImageStreamTagFilter = builder.inputType('ImageStreamTagFilter', {
  description: 'Every given condition must hold (docs/queries.md).',
  fields: (t) => ({
    namePrefix: t.string(),
    nameContains: t.string({ description: 'A substring of the name, case-sensitive.' }),
    kinds: t.field({ type: [TagKindEnum], description: 'Tags of any of these kinds.' }),
    importFailing: t.boolean({
      description: 'true: the last import failed (ImportSuccess is False); false: it did not.',
    }),
    hasImage: t.boolean({ description: 'true: history item 0 names an image.' }),
    updatedAfter: t.field({ type: 'DateTime' }),
    updatedBefore: t.field({ type: 'DateTime' }),
  }),
});

export const ImageStreamTagOrder = orderInput(
  'ImageStreamTagOrder',
  ['NAME', 'UPDATED_AT'],
  'asc',
  'UPDATED_AT: the last change of the spec, item 0 or the import condition.',
);

export type TagListArgs = ListArgsOf<typeof ImageStreamTagFilter, typeof ImageStreamTagOrder>;

/** A tag list scoped by the stream or the namespace; a name is unique only within a stream. */
const tagList = (name: string, scope: 'streamId' | 'namespace') =>
  scopedList(scope, {
    name,
    table: tags,
    keys: {
      NAME: scope === 'streamId' ? ['name'] : ['name', 'id'],
      UPDATED_AT: ['updatedAt', 'id'],
    },
    defaultField: 'NAME',
    parseFilter: parseTagFilter,
    conditions: tagListConditions,
  });

/** A stream's tags (ImageStream.tags), scoped by the stream. */
const STREAM_TAGS = tagList('tags', 'streamId');
/** A namespace's tags across its streams (Namespace.tags), scoped by the namespace. */
const NAMESPACE_TAGS = tagList('namespaceTags', 'namespace');

/** A stream's tag list: filter, ordering, checked cursors and count (by the stream's id). */
export function tagListQuery(args: TagListArgs) {
  return listQuery(STREAM_TAGS, args);
}

/** A namespace's tag list: as a stream's, counted by the namespace's name. */
export function namespaceTagListQuery(args: TagListArgs) {
  return listQuery(NAMESPACE_TAGS, args);
}

/** A tag list connection, filtered and ordered alike whichever parent scopes it. */
const tagConnection = <Parent>(
  list: (args: TagListArgs) => ListQuery<never>,
  scope: (parent: Parent) => unknown,
): ConnectionList<Parent, TagListArgs> => ({
  filter: ImageStreamTagFilter,
  orderBy: ImageStreamTagOrder,
  list,
  scope,
  counted: 'Tags',
});

/** ImageStream.tags, counted by the stream's id. */
export const streamTagsConnection = tagConnection(
  tagListQuery,
  (stream: { id: number }) => stream.id,
);
/** Namespace.tags, counted by the namespace's name. */
export const namespaceTagsConnection = tagConnection(
  namespaceTagListQuery,
  (namespace: { name: string }) => namespace.name,
);

export const TagHistoryFilter = builder.inputType('TagHistoryFilter', {
  description: 'Every given condition must hold (docs/queries.md).',
  fields: (t) => ({
    createdAfter: t.field({ type: 'DateTime' }),
    createdBefore: t.field({ type: 'DateTime' }),
    hasImage: t.boolean({ description: 'false: items naming no image (a reference).' }),
    digestPrefix: t.string({
      description: "A prefix of the image digest's hex, with or without `sha256:`.",
    }),
  }),
});

export const TagHistoryOrder = orderInput(
  'TagHistoryOrder',
  ['POSITION', 'CREATED', 'GENERATION'],
  'desc',
  "POSITION: the history's own order (DESC: item 0 first).",
);

export type HistoryListArgs = ListArgsOf<typeof TagHistoryFilter, typeof TagHistoryOrder>;

const HISTORY = scopedList('tagId', {
  name: 'history',
  table: tagHistory,
  keys: { POSITION: ['seq'], CREATED: ['created', 'id'], GENERATION: ['generation', 'id'] },
  defaultField: 'POSITION',
  defaultDirection: 'desc',
  parseFilter: parseHistoryFilter,
  conditions: historyListConditions,
});

/** A tag's history list (ImageStreamTag.history), counted by the tag's id. */
export function historyListQuery(args: HistoryListArgs) {
  return listQuery(HISTORY, args);
}

/** ImageStreamTag.history: a tag's history, counted by the tag's id. */
export const historyConnection: ConnectionList<{ id: number }, HistoryListArgs> = {
  filter: TagHistoryFilter,
  orderBy: TagHistoryOrder,
  list: historyListQuery,
  scope: (tag) => tag.id,
  counted: 'Items',
};
