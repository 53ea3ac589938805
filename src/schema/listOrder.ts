// The filtered, ordered and counted lists (streams, tags, histories) built one way, and the cursors
// they issue: each cursor carries its ordering's name beside the sort key and a unique
// tiebreaker, so a cursor from another ordering is refused (docs/queries.md).
import { decodeBase64, decodeCursorChunk } from '@pothos/core';
import { and, type Column, eq, type SQL, sql } from 'drizzle-orm';
import type { PgTable } from 'drizzle-orm/pg-core';
import { GraphQLError } from 'graphql';
import { builder } from '../builder.ts';
import type { Db } from '../db/client.ts';
import type { DomainError } from '../domain/names.ts';
import type { Result } from '../errors.ts';
import { countRows } from '../services/listFilters.ts';
import type { Types } from './shapes.ts';

export const OrderDirectionEnum = builder.enumType('OrderDirection', {
  values: { ASC: { value: 'asc' }, DESC: { value: 'desc' } } as const,
});

export type Direction = 'asc' | 'desc';

/** A list's `orderBy` input `name`: one of `fields` (the enum `<name>Field`) and a direction. */
export function orderInput<const Field extends string>(
  name: string,
  fields: readonly Field[],
  direction: Direction,
  description?: string,
) {
  const FieldEnum = builder.enumType(`${name}Field`, { description, values: fields });
  return builder.inputType(name, {
    fields: (t) => ({
      field: t.field({ type: FieldEnum, required: true }),
      direction: t.field({ type: OrderDirectionEnum, required: true, defaultValue: direction }),
    }),
  });
}

type KeyType = 'string' | 'number' | 'date';

/**
 * One ordering of a list: the columns in order (the list's scope column first, a unique set
 * last), then the ordering's name as a constant, which puts the name in every cursor.
 */
export interface Ordering {
  /** e.g. `imageStreams:UPDATED_AT:desc`. */
  name: string;
  keys: readonly { column: string; type: KeyType }[];
  direction: Direction;
}

/** The key the ordering's name is selected and sorted under (a constant: it never reorders). */
const ORDERING_KEY = 'ordering';

export function ordering(
  list: string,
  field: string,
  keys: Ordering['keys'],
  direction: Direction,
): Ordering {
  return { name: `${list}:${field}:${direction}`, keys, direction };
}

/** What the connection's query takes: the extra naming the ordering, and the order by it. */
export function orderQuery(order: Ordering) {
  const name = order.name;
  return {
    extras: { [ORDERING_KEY]: () => sql<string>`${sql.raw(`'${name}'`)}::text` as SQL },
    orderBy: Object.fromEntries([
      ...order.keys.map((k) => [k.column, order.direction]),
      [ORDERING_KEY, order.direction],
    ]) as Record<string, Direction>,
  };
}

/** A bad filter of a list: VALIDATION, naming the input field at fault. */
export function validationError(error: { message: string; field?: string }): GraphQLError {
  return new GraphQLError(error.message, {
    extensions: { code: 'VALIDATION', field: error.field ?? 'filter' },
  });
}

function cursorError(message: string, code: string, arg: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code, field: arg } });
}

function matches(value: unknown, type: KeyType): boolean {
  if (type === 'date') return value instanceof Date && !Number.isNaN(value.getTime());
  return typeof value === type;
}

/**
 * The sort key values of a cursor this server issued for `order`, or the error the list answers
 * with: a string this server did not issue is BAD_USER_INPUT, as on every other connection; a
 * cursor of another ordering (another field, direction or list) is CURSOR_ORDER_MISMATCH.
 */
export function cursorPosition(
  order: Ordering,
  arg: 'after' | 'before',
  cursor: string,
): unknown[] {
  let values: unknown;
  try {
    const decoded = decodeBase64(cursor);
    if (!decoded.startsWith('DC:')) throw new Error('not a connection cursor');
    values = decodeCursorChunk(decoded.slice(3));
  } catch {
    throw cursorError(`"${arg}" is not a cursor this server issued`, 'BAD_USER_INPUT', arg);
  }
  const parts = Array.isArray(values) ? values : [values];
  const name = parts[parts.length - 1];
  if (typeof name !== 'string' || !/^\w+:\w+:(asc|desc)$/.test(name)) {
    throw cursorError(`"${arg}" is not a cursor this server issued`, 'BAD_USER_INPUT', arg);
  }
  if (name !== order.name) {
    throw cursorError(
      `"${arg}" is a cursor of the ordering ${name}, not of ${order.name}: page with the orderBy the cursor came from, or start again without "${arg}"`,
      'CURSOR_ORDER_MISMATCH',
      arg,
    );
  }
  const keys = parts.slice(0, -1);
  if (keys.length !== order.keys.length || !order.keys.every((k, i) => matches(keys[i], k.type))) {
    throw cursorError(`"${arg}" is not a cursor this server issued`, 'BAD_USER_INPUT', arg);
  }
  return keys;
}

/** Checks `after` / `before` against the ordering before the rows are read (cursorPosition). */
export function checkCursors(
  order: Ordering,
  args: { after?: string | null; before?: string | null },
): CursorBound {
  const positions: { arg: 'after' | 'before'; keys: unknown[] }[] = [];
  for (const arg of ['after', 'before'] as const) {
    const cursor = args[arg];
    if (cursor == null) continue;
    positions.push({ arg, keys: cursorPosition(order, arg, cursor) });
  }
  return (table) => {
    const bounds = positions.map(({ arg, keys }) => sortKeyBound(order, table, arg, keys));
    return bounds.length > 0 ? and(...bounds) : undefined;
  };
}

/** A condition on a list's table alias that bounds the rows to those beyond the cursors. */
export type CursorBound = (table: object) => SQL | undefined;

/**
 * The drizzle plugin pages with `key > c or (key = c and id > c')`, which Postgres cannot use to
 * start an index scan, so a late page would read every row before it. The same position as a
 * bound on the sort key alone (key 0 is the parent, equal on every row) is an index condition.
 */
function sortKeyBound(
  order: Ordering,
  table: object,
  arg: 'after' | 'before',
  keys: unknown[],
): SQL {
  const key = order.keys[1]!;
  const raw = keys[1];
  const value = raw instanceof Date ? sql`${raw.toISOString()}::timestamptz` : sql`${raw}`;
  const column = (table as Record<string, SQL>)[key.column]!;
  const forward = (arg === 'after') === (order.direction === 'asc');
  return forward ? sql`${column} >= ${value}` : sql`${column} <= ${value}`;
}

/** The page arguments and the filter and ordering a list field takes. */
export interface ListArgs<FilterInput, Field extends string> {
  filter?: FilterInput | null;
  orderBy?: { field: Field; direction?: Direction | null } | null;
  after?: string | null;
  before?: string | null;
}

/** The ListArgs of a list field whose `filter` and `orderBy` take these input types. */
export type ListArgsOf<
  FilterRef extends { $inferInput: unknown },
  OrderRef extends { $inferInput: { field: string } },
> = ListArgs<FilterRef['$inferInput'], OrderRef['$inferInput']['field']>;

/**
 * A filtered, ordered, counted list over one table: every ordering's key 0 is the column the list
 * is scoped by (the parent), the same in each.
 */
export interface ListDefinition<T extends PgTable, FilterInput, Filter, Field extends string> {
  /** The list's name in its cursors and orderings' names. */
  name: string;
  table: T;
  keys: Record<Field, Ordering['keys']>;
  defaultField: Field;
  defaultDirection?: Direction;
  parseFilter: (input: FilterInput | null | undefined) => Result<Filter, DomainError>;
  /** The filter as conditions on the table or the alias a relation reads it under. */
  conditions: (table: T, filter: Filter) => SQL | undefined;
}

/** A column of table `T`, named as the table's property (as list keys name it). */
type ColumnName<T> = T extends { $inferSelect: infer Row } ? Extract<keyof Row, string> : never;

/**
 * A list definition from its orderings' column names: every ordering sorts first by `scope`, the
 * column the list is scoped by, and each key's type is its column's.
 */
export function scopedList<T extends PgTable, FilterInput, Filter, Field extends string>(
  scope: ColumnName<T>,
  definition: Omit<ListDefinition<T, FilterInput, Filter, Field>, 'keys' | 'defaultField'> & {
    keys: Record<Field, readonly ColumnName<T>[]>;
    defaultField: NoInfer<Field>;
  },
): ListDefinition<T, FilterInput, Filter, Field> {
  const key = (name: string) => ({ column: name, type: keyType(column(definition.table, name)) });
  const keys = Object.entries<readonly string[]>(definition.keys).map(([field, names]) => [
    field,
    [scope, ...names].map(key),
  ]);
  return { ...definition, keys: Object.fromEntries(keys) };
}

/** How a cursor carries a sort column's value, as the column's data type says. */
function keyType(sortColumn: Column): KeyType {
  const [kind, constraint] = sortColumn.dataType.split(' ');
  if (kind === 'string' || kind === 'number') return kind;
  if (constraint === 'date') return 'date';
  throw new Error(`${sortColumn.name} (${sortColumn.dataType}) cannot be a sort key of a list`);
}

/** What a list field passes to its drizzle query, and how it counts. */
export interface ListQuery<T> {
  query: ReturnType<typeof orderQuery> & { where: { RAW: (table: T) => SQL } };
  /** The rows the filter selects under `scope` (the parent's key), however many pages. */
  count: (db: Db, scope: unknown) => Promise<number>;
}

function column(table: object, name: string): Column {
  return (table as Record<string, Column>)[name]!;
}

/**
 * The list query for one field's arguments: the filter parsed (a bad one is a VALIDATION error),
 * the ordering and its cursors checked, the cursor's bound on the sort key, and the count. With
 * `scope`, the page is narrowed to it (a root field); without, the relation scopes it.
 */
export function listQuery<T extends PgTable, FilterInput, Filter, Field extends string>(
  definition: ListDefinition<T, FilterInput, Filter, Field>,
  args: ListArgs<FilterInput, Field>,
  scope?: unknown,
): ListQuery<T> {
  const filter = definition.parseFilter(args.filter);
  if (!filter.ok) throw validationError(filter.error);
  const field = args.orderBy?.field ?? definition.defaultField;
  const direction = args.orderBy?.direction ?? definition.defaultDirection ?? 'asc';
  const order = ordering(definition.name, field, definition.keys[field], direction);
  const bound = checkCursors(order, args);
  const scopeColumn = definition.keys[definition.defaultField][0]!.column;
  const selects = (table: T, value: unknown) =>
    and(
      value === undefined ? undefined : eq(column(table, scopeColumn), value),
      definition.conditions(table, filter.value),
    );
  return {
    query: {
      ...orderQuery(order),
      where: { RAW: (t: T) => and(selects(t, scope), bound(t)) ?? sql`true` },
    },
    count: (db, value) =>
      countRows(db, definition.table, selects(definition.table, value) ?? sql`true`),
  };
}

/**
 * The `totalCount` field of a related connection. `count` runs only when the field is selected,
 * with the parent row and the connection's arguments, which the drizzle plugin keeps on the
 * connection object.
 */
export function totalCountFields<Parent, Args>(
  description: string,
  count: (db: Db, parent: Parent, args: Args) => Promise<number>,
) {
  return <Shape>(c: PothosSchemaTypes.ObjectFieldBuilder<Types, Shape>) => ({
    totalCount: c.int({
      description,
      resolve: (connection, _args, ctx) => {
        const { parent, args } = connection as unknown as { parent: Parent; args: Args };
        return count(ctx.database.db, parent, args);
      },
    }),
  });
}
