// The compiled statement's builder: pieces, parameters, argument checks, JSON writers, connections.
import {
  type FieldNode,
  type FragmentDefinitionNode,
  Kind,
  type OperationDefinitionNode,
  print,
  type SelectionSetNode,
  type ValueNode,
  type VariableDefinitionNode,
} from 'graphql';
import type { Role } from '../../auth/roles.ts';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from '../../builder.ts';

/**
 * Where a statement parameter's value comes from: a variable (a `String!`, or a nullable
 * `String` cursor, null when absent), a server setting (the registry host of pull specs), a
 * literal, key `index` of the cursor a variable holds (null without one), or the JSON of a
 * list's filter (`CompiledRead.filters`).
 */
export type ParamSource =
  | { variable: string }
  | { setting: 'registryHost' }
  | { literal: string }
  | { cursorKey: string; index: number }
  | { filter: string };

/**
 * Where the caller may read the namespace in `column` (a condition the statement builds for its
 * caller, as readableNamespaceSql does; `true` for a caller who reads every namespace).
 */
export interface ReadableBy {
  readable: string;
}

/** SQL text with parameters and the caller's conditions in between, in order. */
export type Piece = string | ParamSource | ReadableBy;

/** A cursor key's type, as listOrder.ts types it. */
export type KeyType = 'string' | 'number' | 'date';

/**
 * The ordering a cursor must come from, as listOrder.ts names it: a list's, the namespaces
 * list's plain name cursor, or the event log's position (events/cursor.ts).
 */
export type CursorOrdering =
  | {
      list: true;
      name: string;
      keys: readonly { column: string; type: KeyType }[];
      direction: 'asc' | 'desc';
    }
  | { list: false; name: 'namespaces' | 'events' };

/**
 * A namespace the caller must hold `role` (or a stronger one) in, as the root field's
 * authorization asks; `robots`: whether a robot token holding it passes too.
 */
export interface RoleNeed {
  namespace: ParamSource;
  role: Role;
  robots: boolean;
}

/** The lists whose filter and ordering the statement reads. */
export type ListName = 'imageStreams' | 'tags' | 'namespaceTags' | 'history' | 'streamImages';

/** The filters the statement reads: the lists', and the tag event log's (`tagEvents`). */
export type FilterName = ListName | 'events';

/** Where a list's filter comes from: a literal input object, or a variable of its input type. */
export interface FilterSource {
  list: FilterName;
  /** The GraphQL input type the argument has. */
  input: string;
  value: ValueNode;
  /** The variables the value reads (the whole value, or fields of a literal). */
  variables: readonly VariableDefinitionNode[];
}

/** Thrown inside compilation for anything the compiler does not cover. */
export class Unsupported extends Error {}

export function unsupported(what: string): never {
  throw new Unsupported(what);
}

/** The statement builder: text with parameters, unique table aliases, and what it reads. */
export class Out {
  readonly pieces: Piece[] = [];
  readonly fallback: Piece[] = [];
  readonly roles: RoleNeed[] = [];
  readonly cursors = new Map<string, CursorOrdering>();
  readonly filters = new Map<string, FilterSource>();
  readonly optionalVariables = new Set<string>();
  /**
   * Set when a tag's `policy` is selected: the statement writes it only for tags without a
   * policy, and the root field adds the fallback for any tag in its scope that has one.
   */
  policySelected = false;
  private aliases = 0;
  constructor(
    readonly operation: OperationDefinitionNode,
    readonly fragments: Map<string, FragmentDefinitionNode>,
  ) {}

  alias(prefix: string): string {
    this.aliases += 1;
    return `${prefix}${this.aliases}`;
  }

  push(...pieces: Piece[]): void {
    this.pieces.push(...pieces);
  }

  /**
   * An optional name argument: absent, null or the empty literal (none), a string literal, a
   * `String!` variable, or a nullable `String` variable (null when the request gives none).
   */
  optionalStringArg(field: FieldNode, name: string): ParamSource | null {
    const arg = field.arguments?.find((a) => a.name.value === name);
    if (!arg || arg.value.kind === Kind.NULL) return null;
    if (arg.value.kind === Kind.STRING && arg.value.value === '') return null;
    if (arg.value.kind === Kind.VARIABLE) {
      const variable = arg.value.name.value;
      const type = variableDefinition(this.operation, variable).type;
      if (type.kind === Kind.NAMED_TYPE && type.name.value === 'String') {
        this.optionalVariables.add(variable);
        return { variable };
      }
    }
    return this.stringArg(field, name);
  }

  /** Keeps a filter's source; the statement reads it as the parameter returned. */
  registerFilter(source: FilterSource): ParamSource {
    const key = `f${this.filters.size + 1}`;
    this.filters.set(key, source);
    return { filter: key };
  }

  /** Adds a condition under which the request takes the ordinary path. */
  fallbackWhen(...pieces: Piece[]): void {
    if (this.fallback.length > 0) this.fallback.push(' or ');
    this.fallback.push('(', ...pieces, ')');
  }

  /** A string argument as a parameter piece (literal, or a declared `String!` variable). */
  stringArg(field: FieldNode, name: string): ParamSource {
    const arg = field.arguments?.find((a) => a.name.value === name);
    if (!arg) unsupported(`${field.name.value} without ${name}`);
    return stringSource(this.operation, arg.value);
  }

  /**
   * A connection's `after` (or `before`): absent, or a nullable `String` variable read by this
   * connection alone, whose cursor must come from `ordering`.
   */
  cursorArg(field: FieldNode, ordering: CursorOrdering, which = 'after'): string | null {
    const arg = field.arguments?.find((a) => a.name.value === which);
    if (!arg) return null;
    if (arg.value.kind !== Kind.VARIABLE) unsupported(`${which} that is not a variable`);
    const name = arg.value.name.value;
    const type = variableDefinition(this.operation, name).type;
    if (type.kind !== Kind.NAMED_TYPE || type.name.value !== 'String') {
      unsupported(`variable $${name} is not a nullable String`);
    }
    if (this.cursors.has(name)) unsupported(`cursor $${name} used twice`);
    this.cursors.set(name, ordering);
    return name;
  }
}

export function variableDefinition(operation: OperationDefinitionNode, name: string) {
  const definition = operation.variableDefinitions?.find((d) => d.variable.name.value === name);
  if (!definition || definition.defaultValue || (definition.directives?.length ?? 0) > 0) {
    unsupported(`variable $${name} is not a plain variable`);
  }
  return definition;
}

function stringSource(operation: OperationDefinitionNode, value: ValueNode): ParamSource {
  if (value.kind === Kind.STRING) return { literal: value.value };
  if (value.kind !== Kind.VARIABLE) unsupported('a non-string argument');
  const name = value.name.value;
  const type = variableDefinition(operation, name).type;
  if (
    type.kind !== Kind.NON_NULL_TYPE ||
    type.type.kind !== Kind.NAMED_TYPE ||
    type.type.name.value !== 'String'
  ) {
    unsupported(`variable $${name} is not a plain String!`);
  }
  return { variable: name };
}

/** The arguments a field has, which must be among `allowed`. */
export function onlyArguments(field: FieldNode, allowed: readonly string[]): void {
  for (const arg of field.arguments ?? []) {
    if (!allowed.includes(arg.name.value)) unsupported(`argument ${arg.name.value}`);
  }
}

/** A page's `first` (or `last`): a literal from 1 to the page limit, or the default page. */
export function pageSize(field: FieldNode, byDefault = DEFAULT_PAGE_SIZE, which = 'first'): number {
  const arg = field.arguments?.find((a) => a.name.value === which);
  if (which === 'last' && field.arguments?.some((a) => a.name.value === 'first')) {
    unsupported('first and last');
  }
  if (!arg) return byDefault;
  if (arg.value.kind !== Kind.INT) unsupported(`${which} that is not a literal`);
  const n = Number(arg.value.value);
  if (!Number.isInteger(n) || n < 1 || n > MAX_PAGE_SIZE) unsupported(`${which}: ${n}`);
  return n;
}

/** Object types that implement `Node` (fragments on it apply to them). */
const NODE_TYPES = new Set(['Image', 'ImageStream', 'ImageStreamTag']);

/**
 * Whether a fragment with `condition` applies to an object of `typename`: on the type itself
 * (or Node for a node type) yes; on an error type or the Error interface, never (the compiled
 * statement only builds objects that are not errors); anything else is not covered.
 */
function applies(condition: string | undefined, typename: string): boolean {
  if (condition === undefined || condition === typename) return true;
  if (condition === 'Node' && NODE_TYPES.has(typename)) return true;
  if (condition.endsWith('Error')) return false;
  unsupported(`a fragment on ${condition} inside ${typename}`);
}

/**
 * The fields of a selection set on an object of `typename`, in response order: fragments
 * (named and inline) flattened, fields of one response key merged as GraphQL merges them (the
 * same field and arguments; their selections joined). No directives.
 */
export function fieldsOf(
  out: Out,
  selectionSet: SelectionSetNode | undefined,
  typename: string,
): FieldNode[] {
  if (!selectionSet) unsupported('an object without a selection');
  const byKey = new Map<string, FieldNode>();
  const visit = (set: SelectionSetNode, depth: number) => {
    if (depth > 20) unsupported('fragments nested too deep');
    for (const selection of set.selections) {
      if ((selection.directives?.length ?? 0) > 0) unsupported('directives');
      if (selection.kind === Kind.INLINE_FRAGMENT) {
        if (applies(selection.typeCondition?.name.value, typename)) {
          visit(selection.selectionSet, depth + 1);
        }
        continue;
      }
      if (selection.kind === Kind.FRAGMENT_SPREAD) {
        const fragment = out.fragments.get(selection.name.value);
        if (!fragment) unsupported(`unknown fragment ${selection.name.value}`);
        if ((fragment.directives?.length ?? 0) > 0) unsupported('directives');
        if (applies(fragment.typeCondition.name.value, typename)) {
          visit(fragment.selectionSet, depth + 1);
        }
        continue;
      }
      const key = selection.alias?.value ?? selection.name.value;
      const seen = byKey.get(key);
      if (!seen) {
        byKey.set(key, selection);
        continue;
      }
      const signature = (f: FieldNode) =>
        `${f.name.value}(${(f.arguments ?? []).map((a) => print(a)).join(',')})`;
      if (signature(seen) !== signature(selection)) unsupported(`conflicting fields ${key}`);
      if (!seen.selectionSet !== !selection.selectionSet) unsupported(`conflicting fields ${key}`);
      if (seen.selectionSet && selection.selectionSet) {
        byKey.set(key, {
          ...seen,
          selectionSet: {
            kind: Kind.SELECTION_SET,
            selections: [...seen.selectionSet.selections, ...selection.selectionSet.selections],
          },
        });
      }
    }
  };
  visit(selectionSet, 0);
  return [...byKey.values()];
}

/** A field the compiler covers only without arguments. */
export function noArguments(field: FieldNode): void {
  if ((field.arguments?.length ?? 0) > 0) unsupported(`arguments of ${field.name.value}`);
}

export function leaf(field: FieldNode): void {
  if (field.selectionSet) unsupported(`a selection under ${field.name.value}`);
  noArguments(field);
}

/**
 * `true` or `false` as JSON text: whether `rows(size + 1)`, the rows of a page of `size` read
 * with one more, holds more than `size` (there is a next page).
 */
export function hasMoreRows(out: Out, size: number, rows: (limit: number) => void): void {
  out.push(`(select (count(*) > ${size})::text from `);
  rows(size + 1);
  out.push(')');
}

/** JSON text of a SQL string expression (`null` when it is). */
export const str = (e: string) => `coalesce(to_json(${e})::text, 'null')`;
/** JSON text of a number expression. */
export const num = (e: string) => `coalesce((${e})::text, 'null')`;
/** JSON text of a boolean expression. */
export const bool = (e: string) => `coalesce((${e})::text, 'null')`;
/** A DateTime as graphql-scalars writes a Date: ISO 8601 in UTC, to the millisecond. */
export const dateTime = (e: string) =>
  `coalesce('"' || to_char((${e}) at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') || '"', 'null')`;
/** Base64 of a text's UTF-8 bytes, as Buffer writes it (the encoder's line breaks removed). */
const base64 = (e: string) => `translate(encode(convert_to(${e}, 'UTF8'), 'base64'), E'\\n', '')`;
/** Base64url without padding of a text's UTF-8 bytes, as `Buffer#toString('base64url')` writes it. */
const base64url = (e: string) =>
  `rtrim(translate(encode(convert_to(${e}, 'UTF8'), 'base64'), E'+/\\n', '-_'), '=')`;
/** The JSON string of an event position's cursor, as events/cursor.ts's encodeCursor writes it. */
export const eventCursor = (position: string) =>
  `'"' || ${base64url(`'event:' || ${position}`)} || '"'`;
/** The JSON string of a webhook delivery's cursor (base64url of `delivery:<id>`). */
export const deliveryCursor = (id: string) => `'"' || ${base64url(`'delivery:' || ${id}`)} || '"'`;
/** A Relay global id: base64 of `<type>:<key>`. */
export const globalId = (type: string, key: string) =>
  `'"' || ${base64(`'${type}:' || ${key}`)} || '"'`;
export const sqlText = (value: string) => `'${value.replaceAll("'", "''")}'`;
const literalJson = (value: string) => sqlText(JSON.stringify(value));

/**
 * Writes `{"key":value,…}` for `fields`, each value from `one`. Every value expression is
 * non-null text, so the concatenation is too.
 */
export function object(
  out: Out,
  fields: FieldNode[],
  typename: string,
  one: (field: FieldNode) => void,
): void {
  out.push("('{'");
  fields.forEach((field, i) => {
    const key = field.alias?.value ?? field.name.value;
    out.push(` || '${i === 0 ? '' : ','}${JSON.stringify(key).replaceAll("'", "''")}:' || `);
    if (field.name.value === '__typename') {
      leaf(field);
      out.push(literalJson(typename));
    } else {
      one(field);
    }
  });
  out.push(" || '}')");
}

/** `object` over the fields of `field`'s selection on `typename`. */
export function objectOf(
  out: Out,
  field: FieldNode,
  typename: string,
  one: (field: FieldNode) => void,
): void {
  object(out, fieldsOf(out, field.selectionSet, typename), typename, one);
}

/** `[a,b,…]` of the rows `from` yields, in `order`; `[]` when none. */
export function list(out: Out, item: () => void, from: () => void, order: string): void {
  out.push("(select coalesce('[' || string_agg(");
  item();
  out.push(`, ',' order by ${order}) || ']', '[]') from `);
  from();
  out.push(')');
}

/** A list a connection pages over: its types, its ordering (keys by SQL column) and filter. */
export interface ListSpec {
  typename: string;
  /** The edge type: the connection's name with `Edge` for `Connection` unless given. */
  edgeTypename?: string;
  nodeTypename: string;
  ordering: CursorOrdering;
  /** Conditions on a row past the list's scope (its filter), each starting with ` and `. */
  where?: (row: string) => Piece[];
}

/** How a connection's rows are read and written where it is selected. */
interface ListRows {
  /** Pushes `<table> <row> where <the list's scope>`. */
  from: (row: string) => void;
  node: (fields: FieldNode[], row: string) => void;
}

const directionOf = (spec: ListSpec) => (spec.ordering.list ? spec.ordering.direction : 'asc');

/** A key's cursor chunk as encodeCursorChunk writes its value (a null part as JSON null). */
function cursorChunk(type: KeyType, e: string): string {
  const chunk =
    type === 'string'
      ? `to_json('S:' || ${e})::text`
      : type === 'number'
        ? `'"N:' || ${e}::text || '"'`
        : `'"D:' || floor(extract(epoch from ${e}) * 1000)::bigint::text || '"'`;
  return `coalesce(${chunk}, 'null')`;
}

/** The keys a list pages by (the namespaces list: its name). */
const keysOf = (spec: ListSpec): readonly { column: string; type: KeyType }[] =>
  spec.ordering.list ? spec.ordering.keys : [{ column: 'name', type: 'string' }];

/** The cursor the drizzle plugin issues for a row (plugin-drizzle's `DC:` cursors). */
function cursorOf(spec: ListSpec, row: string): string {
  if (!spec.ordering.list) return `'"' || ${base64(`'DC:S:' || ${row}.name`)} || '"'`;
  const parts = [
    ...spec.ordering.keys.map((k) => cursorChunk(k.type, `${row}.${k.column}`)),
    sqlText(JSON.stringify(`S:${spec.ordering.name}`)),
  ];
  return `'"' || ${base64(`'DC:T:[' || ${parts.join(` || ',' || `)} || ']'`)} || '"'`;
}

const KEY_CAST: Record<KeyType, string> = {
  string: ')',
  number: ')::bigint',
  date: ')::timestamptz',
};

/**
 * The rows past `after`'s cursor (or before `before`'s) as the ordinary path bounds them: the
 * drizzle plugin's keyset over the ordering's keys (the ordering's own name compares equal), and
 * listOrder.ts's bound on the sort key (key 1).
 */
function cursorBound(
  out: Out,
  spec: ListSpec,
  row: string,
  cursor: string,
  which: 'after' | 'before',
): void {
  const op = (directionOf(spec) === 'asc') === (which === 'after') ? '>' : '<';
  const keys = keysOf(spec);
  const key = (i: number): Piece[] => [
    '(',
    { cursorKey: cursor, index: i },
    KEY_CAST[keys[i]!.type],
  ];
  const c = keys.map((k) => `${row}.${k.column}`);
  out.push(' and (', { variable: cursor }, ' is null or ((');
  keys.forEach((_, i) => {
    if (i > 0) out.push(' or (');
    for (let j = 0; j < i; j++) out.push(`${c[j]} = `, ...key(j), ' and ');
    out.push(`${c[i]} ${op} `, ...key(i));
    if (i > 0) out.push(')');
  });
  out.push(')');
  if (keys.length > 1) out.push(` and ${c[1]} ${op}= `, ...key(1));
  out.push('))');
}

/**
 * A Relay connection: `nodes`, `edges { cursor node }`, `pageInfo` and `totalCount`, paged by
 * a literal `first` or `last` and `after` and `before` variables as the drizzle plugin pages (one
 * row more than the page tells whether there is another one).
 */
export function connection(out: Out, field: FieldNode, spec: ListSpec, rowsOf: ListRows): void {
  // `last` pages backward: the rows read in the reverse order, written in the list's order.
  const backward = field.arguments?.some((a) => a.name.value === 'last') ?? false;
  const size = pageSize(field, DEFAULT_PAGE_SIZE, backward ? 'last' : 'first');
  const after = out.cursorArg(field, spec.ordering);
  const before = out.cursorArg(field, spec.ordering, 'before');
  const edgeTypename = spec.edgeTypename ?? spec.typename.replace(/Connection$/, 'Edge');
  const order = (row: string, reverse = false) =>
    keysOf(spec)
      .map(
        (k) => `${row}.${k.column} ${(directionOf(spec) === 'asc') !== reverse ? 'asc' : 'desc'}`,
      )
      .join(', ');
  /** `(select * from … [between the cursors] order by … [limit n]) row`, the page's rows. */
  const rows = (row: string, limit: number | null, paged = true) => {
    out.push('(select * from ');
    rowsOf.from(row);
    if (spec.where) out.push(...spec.where(row));
    if (paged && after) cursorBound(out, spec, row, after, 'after');
    if (paged && before) cursorBound(out, spec, row, before, 'before');
    out.push(
      ` order by ${order(row, paged && backward)}${limit === null ? '' : ` limit ${limit}`}) ${row}`,
    );
  };
  /** Whether the page read one row more than it holds. */
  const fullPage = (row: string) => hasMoreRows(out, size, (limit) => rows(row, limit));
  /** `'true'` when the cursor variable is given, otherwise `otherwise`. */
  const given = (cursor: string | null, otherwise: () => void) => {
    if (!cursor) return otherwise();
    out.push('(case when ', { variable: cursor }, ' is null then ');
    otherwise();
    out.push(" else 'true' end)");
  };
  const nodeFields = (f: FieldNode) => fieldsOf(out, f.selectionSet, spec.nodeTypename);
  objectOf(out, field, spec.typename, (f) => {
    const name = f.name.value;
    if (name === 'nodes' || name === 'edges') {
      noArguments(f);
      const row = out.alias('r');
      const item =
        name === 'nodes'
          ? () => rowsOf.node(nodeFields(f), row)
          : () =>
              objectOf(out, f, edgeTypename, (e) => {
                if (e.name.value === 'cursor') {
                  leaf(e);
                  out.push(cursorOf(spec, row));
                } else if (e.name.value === 'node') {
                  noArguments(e);
                  rowsOf.node(nodeFields(e), row);
                } else unsupported(`${edgeTypename}.${e.name.value}`);
              });
      list(out, item, () => rows(row, size), order(row));
    } else if (name === 'pageInfo') {
      noArguments(f);
      objectOf(out, f, 'PageInfo', (p) => {
        leaf(p);
        const row = out.alias('p');
        const page = p.name.value;
        // The drizzle plugin's: a next page whenever `before` is given (none backward
        // otherwise), a previous one whenever `after` is (backward: one row more was read).
        const more = () => (backward ? out.push("'false'") : fullPage(row));
        if (page === 'hasNextPage') given(before, more);
        else if (page === 'hasPreviousPage') {
          given(after, () => (backward ? fullPage(row) : out.push("'false'")));
        } else if (page === 'startCursor' || page === 'endCursor') {
          out.push(`coalesce((select ${cursorOf(spec, row)} from `);
          rows(row, size);
          out.push(` order by ${order(row, page === 'endCursor')} limit 1), 'null')`);
        } else unsupported(`PageInfo.${page}`);
      });
    } else if (name === 'totalCount') {
      leaf(f);
      const row = out.alias('c');
      out.push('(select count(*)::text from ');
      rows(row, null, false);
      out.push(')');
    } else {
      unsupported(`${spec.typename}.${name}`);
    }
  });
}
