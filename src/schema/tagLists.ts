// The filter and orderings of the tag lists: a stream's (ImageStream.tags) and a namespace's
// (Namespace.tags; docs/queries.md).
import { builder } from '../builder.ts';
import { tagHistory, tags } from '../db/schema.ts';
import {
  type HistoryFilter,
  type HistoryFilterInput,
  parseHistoryFilter,
  parseTagFilter,
  TAG_KINDS,
  type TagFilter,
  type TagFilterInput,
} from '../domain/listFilters.ts';
import { historyListConditions, tagListConditions } from '../services/listFilters.ts';
import {
  type ListArgs,
  type ListDefinition,
  listQuery,
  OrderDirectionEnum,
  type Ordering,
} from './listOrder.ts';

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

const ImageStreamTagOrderFieldEnum = builder.enumType('ImageStreamTagOrderField', {
  description: 'UPDATED_AT: the last change of the spec, item 0 or the import condition.',
  values: ['NAME', 'UPDATED_AT'] as const,
});

export const ImageStreamTagOrder = builder.inputType('ImageStreamTagOrder', {
  fields: (t) => ({
    field: t.field({ type: ImageStreamTagOrderFieldEnum, required: true }),
    direction: t.field({ type: OrderDirectionEnum, required: true, defaultValue: 'asc' }),
  }),
});

const TAG_ORDER_KEYS = (
  scope: 'streamId' | 'namespace',
): Record<'NAME' | 'UPDATED_AT', Ordering['keys']> => ({
  NAME:
    scope === 'streamId'
      ? [
          { column: 'streamId', type: 'number' },
          { column: 'name', type: 'string' },
        ]
      : [
          { column: scope, type: 'string' },
          { column: 'name', type: 'string' },
          { column: 'id', type: 'number' },
        ],
  UPDATED_AT: [
    { column: scope, type: scope === 'streamId' ? 'number' : 'string' },
    { column: 'updatedAt', type: 'date' },
    { column: 'id', type: 'number' },
  ],
});

export type TagListArgs = ListArgs<
  typeof ImageStreamTagFilter.$inferInput,
  (typeof ImageStreamTagOrder.$inferInput)['field']
>;

const tagList = (name: string, scope: 'streamId' | 'namespace') =>
  ({
    name,
    table: tags,
    keys: TAG_ORDER_KEYS(scope),
    defaultField: 'NAME',
    parseFilter: (input) => parseTagFilter(input),
    conditions: tagListConditions,
  }) satisfies ListDefinition<typeof tags, TagFilterInput, TagFilter, 'NAME' | 'UPDATED_AT'>;

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

const TagHistoryOrderFieldEnum = builder.enumType('TagHistoryOrderField', {
  description: "POSITION: the history's own order (DESC: item 0 first).",
  values: ['POSITION', 'CREATED', 'GENERATION'] as const,
});

export const TagHistoryOrder = builder.inputType('TagHistoryOrder', {
  fields: (t) => ({
    field: t.field({ type: TagHistoryOrderFieldEnum, required: true }),
    direction: t.field({ type: OrderDirectionEnum, required: true, defaultValue: 'desc' }),
  }),
});

export type HistoryListArgs = ListArgs<
  typeof TagHistoryFilter.$inferInput,
  (typeof TagHistoryOrder.$inferInput)['field']
>;

const HISTORY = {
  name: 'history',
  table: tagHistory,
  keys: {
    POSITION: [
      { column: 'tagId', type: 'number' },
      { column: 'seq', type: 'number' },
    ],
    CREATED: [
      { column: 'tagId', type: 'number' },
      { column: 'created', type: 'date' },
      { column: 'id', type: 'number' },
    ],
    GENERATION: [
      { column: 'tagId', type: 'number' },
      { column: 'generation', type: 'number' },
      { column: 'id', type: 'number' },
    ],
  },
  defaultField: 'POSITION',
  defaultDirection: 'desc',
  parseFilter: (input) => parseHistoryFilter(input),
  conditions: historyListConditions,
} satisfies ListDefinition<
  typeof tagHistory,
  HistoryFilterInput,
  HistoryFilter,
  'POSITION' | 'CREATED' | 'GENERATION'
>;

/** A tag's history list (ImageStreamTag.history), counted by the tag's id. */
export function historyListQuery(args: HistoryListArgs) {
  return listQuery(HISTORY, args);
}

/** What the drizzle plugin keeps on a related connection: the parent row and the field's args. */
export interface StreamTagsConnection {
  parent: { id: number };
  args: TagListArgs;
}
