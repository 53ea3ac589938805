// A related connection over a filtered, ordered list: its `filter` and `orderBy` arguments, the
// page query and `totalCount`, declared once for every list field of an object.
import type { ArgBuilder, FieldRef } from '@pothos/core';
import { type ListQuery, totalCountFields } from './listOrder.ts';
import type { Types } from './shapes.ts';

/** What a list connection pages: its argument inputs, its list query and what scopes its count. */
export interface ConnectionList<Parent, Args> {
  filter: PothosSchemaTypes.InputObjectRef<Types, unknown>;
  orderBy: PothosSchemaTypes.InputObjectRef<Types, unknown>;
  /** The list query for the field's arguments (over whichever table). */
  list: (args: Args) => ListQuery<never>;
  /** The parent's key the list is scoped by, which the count narrows to. */
  scope: (parent: Parent) => unknown;
  /** What the list holds, as totalCount's description names it (e.g. `Tags`). */
  counted: string;
}

/**
 * The field builder of a drizzle object, as far as a list connection uses it (the plugin's own
 * signature cannot be followed through a relation name that is not a literal).
 */
interface RelatedConnections {
  arg: ArgBuilder<Types>;
  relatedConnection(
    relation: string,
    options: object,
    connection: object,
    edge: object,
  ): FieldRef<Types, unknown>;
}

/** The connection over `relation` that `list` filters, orders and counts (`name`: its type's stem). */
export function listConnection<Parent, Args>(
  t: RelatedConnections,
  relation: string,
  list: ConnectionList<Parent, Args>,
  options: { description: string; name?: string },
) {
  const countDescription = `${list.counted} the filter selects, on every page; counted only when asked.`;
  const fields = totalCountFields(countDescription, (db, parent: Parent, args: Args) =>
    list.list(args).count(db, list.scope(parent)),
  );
  return t.relatedConnection(
    relation,
    {
      description: options.description,
      args: { filter: t.arg({ type: list.filter }), orderBy: t.arg({ type: list.orderBy }) },
      query: (args: Args) => list.list(args).query,
    },
    options.name ? { name: `${options.name}Connection`, fields } : { fields },
    options.name ? { name: `${options.name}Edge` } : {},
  );
}
