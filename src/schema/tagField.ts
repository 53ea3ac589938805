// The `imageStreamTag` field of a mutation payload that names the tag it changed by id.
import type { Types } from './shapes.ts';

/** The tag with the payload's `tagId`, loaded with the fields the query selects; null once gone. */
export const tagByIdField = <Payload extends { tagId: number }>(
  t: PothosSchemaTypes.ObjectFieldBuilder<Types, Payload>,
) =>
  t.drizzleField({
    type: 'tags',
    nullable: true,
    resolve: (query, payload, _args, ctx) =>
      ctx.database.db.query.tags.findFirst(query({ where: { id: payload.tagId } })),
  });
