// The filter and orderings of a stream's tag list (ImageStream.tags; docs/queries.md).
import { and } from 'drizzle-orm';
import { builder } from '../builder.ts';
import type { Db } from '../db/client.ts';
import { tags } from '../db/schema.ts';
import { parseTagFilter, TAG_KINDS } from '../domain/listFilters.ts';
import { countRows, tagListConditions } from '../services/listFilters.ts';
import {
  checkCursors,
  OrderDirectionEnum,
  ordering,
  orderQuery,
  validationError,
} from './listOrder.ts';

export const TagKindEnum = builder.enumType('TagKind', {
  description:
    'What `tag` made of a tag (docs/rules.md, "Tag kinds"): PERMANENT pins an image, TRACKING ' +
    'follows another tag of the stream, REFERENCE records a pull spec, EXTERNAL imports a pull ' +
    'spec, SCHEDULED imports one and re-checks it; STATUS_ONLY has no spec (a push made it).',
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

const TAG_KEYS = {
  NAME: [
    { column: 'streamId', type: 'number' },
    { column: 'name', type: 'string' },
  ],
  UPDATED_AT: [
    { column: 'streamId', type: 'number' },
    { column: 'updatedAt', type: 'date' },
    { column: 'id', type: 'number' },
  ],
} as const;

export type TagListArgs = {
  filter?: typeof ImageStreamTagFilter.$inferInput | null;
  orderBy?: typeof ImageStreamTagOrder.$inferInput | null;
  after?: string | null;
  before?: string | null;
};

/** A tag list's filter, ordering and checked cursors; a bad filter is a VALIDATION error. */
export function tagListQuery(args: TagListArgs) {
  const filter = parseTagFilter(args.filter);
  if (!filter.ok) throw validationError(filter.error);
  const field = args.orderBy?.field ?? 'NAME';
  const order = ordering('tags', field, TAG_KEYS[field], args.orderBy?.direction ?? 'asc');
  const bound = checkCursors(order, args);
  return {
    query: {
      ...orderQuery(order),
      where: {
        RAW: (t: typeof tags) => and(tagListConditions(t, null, filter.value), bound(t))!,
      },
    },
    /** The tags of `streamId` the filter selects, however many pages. */
    count: (db: Db, streamId: number) =>
      countRows(db, tags, tagListConditions(tags, streamId, filter.value)),
  };
}

/** What the drizzle plugin keeps on a related connection: the parent row and the field's args. */
export interface StreamTagsConnection {
  parent: { id: number };
  args: TagListArgs;
}
