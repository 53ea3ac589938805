// Orderings of the stream and tag lists, and the cursors they issue: each cursor carries its
// ordering's name beside the sort key and a unique tiebreaker, so a cursor from another ordering
// is refused (docs/queries.md).
import { decodeBase64, decodeCursorChunk } from '@pothos/core';
import { and, type SQL, sql } from 'drizzle-orm';
import { GraphQLError } from 'graphql';
import { builder } from '../builder.ts';

export const OrderDirectionEnum = builder.enumType('OrderDirection', {
  values: { ASC: { value: 'asc' }, DESC: { value: 'desc' } } as const,
});

export type Direction = 'asc' | 'desc';
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
 * Checks `after` / `before` against the ordering before the rows are read: a string this server
 * did not issue is BAD_USER_INPUT, as on every other connection; a cursor of another ordering (another field, direction or list)
 * is CURSOR_ORDER_MISMATCH.
 */
export function checkCursors(
  order: Ordering,
  args: { after?: string | null; before?: string | null },
): CursorBound {
  const positions: { arg: 'after' | 'before'; keys: unknown[] }[] = [];
  for (const arg of ['after', 'before'] as const) {
    const cursor = args[arg];
    if (cursor == null) continue;
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
    if (
      keys.length !== order.keys.length ||
      !order.keys.every((k, i) => matches(keys[i], k.type))
    ) {
      throw cursorError(`"${arg}" is not a cursor this server issued`, 'BAD_USER_INPUT', arg);
    }
    positions.push({ arg, keys });
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
