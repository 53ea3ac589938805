// Compiles a read document over the tag graph into one SQL statement that returns the response's
// `data` as JSON text built by Postgres; null for any document it does not fully cover.
import {
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  Kind,
  type OperationDefinitionNode,
  print,
  type SelectionSetNode,
  type ValueNode,
} from 'graphql';
import type { Role } from '../../auth/roles.ts';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from '../../builder.ts';
import { adminRootField } from './adminLists.ts';
import { tagEvents } from './events.ts';
import {
  type FilterName,
  type FilterSource,
  filterArgument,
  type ListName,
  listOrdering,
  UncoveredArgument,
} from './filters.ts';
import { trackingField } from './tracking.ts';

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

export interface CompiledRead {
  /** The statement's expression for `data`, as pieces. */
  data: Piece[];
  /**
   * A boolean expression (empty: false) that holds when this request's answer is one the
   * statement does not build (an error result or a missing object the ordinary path reports);
   * the request then takes the ordinary path.
   */
  fallback: Piece[];
  /** Namespaces the caller must be able to read (one per root field that names one). */
  namespaces: ParamSource[];
  /** Namespaces the caller must hold a stronger role in (root fields for editors or admins). */
  roles: RoleNeed[];
  /** Every `String!` variable the statement reads; each must be a plain name when it runs. */
  variables: Set<string>;
  /** Nullable `String` variables of optional names: each absent, null or a plain name. */
  optionalVariables: Set<string>;
  /** Nullable `String` variables that hold cursors, each with the ordering it must come from. */
  cursors: Map<string, CursorOrdering>;
  /** The lists' filters, by the key their parameter names (filters.ts reads each per request). */
  filters: Map<string, FilterSource>;
  /** The operation's name, when it has one (a request naming another is not this document). */
  operationName: string | null;
}

/** Thrown inside compilation for anything the compiler does not cover. */
class Unsupported extends Error {}

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

  /** A field's `filter` as conditions on a row (filters.ts). */
  filterArgument(field: FieldNode, list: FilterName) {
    return filterArgument(this.operation, field, list, this.registerFilter, (prefix) =>
      this.alias(prefix),
    );
  }

  /** Keeps a filter's source; the statement reads it as the parameter returned. */
  private registerFilter = (source: FilterSource): ParamSource => {
    const key = `f${this.filters.size + 1}`;
    this.filters.set(key, source);
    return { filter: key };
  };

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

function variableDefinition(operation: OperationDefinitionNode, name: string) {
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

export function leaf(field: FieldNode): void {
  if (field.selectionSet) unsupported(`a selection under ${field.name.value}`);
  if ((field.arguments?.length ?? 0) > 0) unsupported(`arguments of ${field.name.value}`);
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
/** A Relay global id: base64 of `<type>:<key>`. */
const globalId = (type: string, key: string) => `'"' || ${base64(`'${type}:' || ${key}`)} || '"'`;
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
interface ListSpec {
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
function connection(out: Out, field: FieldNode, spec: ListSpec, rowsOf: ListRows): void {
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
  const fullPage = (row: string) => {
    out.push(`(select (count(*) > ${size})::text from `);
    rows(row, size + 1);
    out.push(')');
  };
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
      if ((f.arguments?.length ?? 0) > 0) unsupported(`arguments of ${name}`);
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
                  if ((e.arguments?.length ?? 0) > 0) unsupported('arguments of node');
                  rowsOf.node(nodeFields(e), row);
                } else unsupported(`${edgeTypename}.${e.name.value}`);
              });
      list(out, item, () => rows(row, size), order(row));
    } else if (name === 'pageInfo') {
      if ((f.arguments?.length ?? 0) > 0) unsupported('arguments of pageInfo');
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

/** `[{"key":…,"value":…}]` of a jsonb record, sorted by key as entriesOf sorts. */
function keyValues(out: Out, field: FieldNode, column: string): void {
  if ((field.arguments?.length ?? 0) > 0) unsupported('arguments of key/value lists');
  const fields = fieldsOf(out, field.selectionSet, 'KeyValue');
  const kv = out.alias('kv');
  list(
    out,
    () =>
      object(out, fields, 'KeyValue', (f) => {
        leaf(f);
        if (f.name.value === 'key') out.push(str(`${kv}.key`));
        else if (f.name.value === 'value') out.push(str(`coalesce(${kv}.value, '')`));
        else unsupported(`KeyValue.${f.name.value}`);
      }),
    () => out.push(`jsonb_each_text(${column}) ${kv}`),
    `${kv}.key collate "C"`,
  );
}

const METADATA_SOURCE: Record<string, string> = {
  'registry-verified': 'REGISTRY_VERIFIED',
  declared: 'DECLARED',
};

function imageLayer(out: Out, fields: FieldNode[], l: string): void {
  object(out, fields, 'ImageLayer', (f) => {
    leaf(f);
    const column = { digest: 'digest', mediaType: 'media_type' }[f.name.value];
    if (column) out.push(str(`${l}.${column}`));
    else if (f.name.value === 'size') out.push(num(`${l}.size`));
    else unsupported(`ImageLayer.${f.name.value}`);
  });
}

/**
 * An image's config (ImageConfig): the lists and strings as stored. They are written only from
 * a parsed config blob or the typed config input, so each list holds strings and labels map
 * strings to strings.
 */
function imageConfig(out: Out, field: FieldNode, i: string): void {
  if ((field.arguments?.length ?? 0) > 0) unsupported('arguments of config');
  const c = `${i}.config`;
  out.push(`(case when ${c} is null or jsonb_typeof(${c}) = 'null' then 'null' else `);
  objectOf(out, field, 'ImageConfig', (f) => {
    const name = f.name.value;
    if (name === 'labels') {
      return keyValues(
        out,
        f,
        `(case when jsonb_typeof(${c}->'labels') = 'object' then ${c}->'labels' else '{}'::jsonb end)`,
      );
    }
    leaf(f);
    if (name === 'user' || name === 'workingDir') out.push(str(`${c}->>'${name}'`));
    else if (['cmd', 'entrypoint', 'env', 'exposedPorts', 'volumes'].includes(name)) {
      const e = out.alias('e');
      const items = `${c}->'${name}'`;
      out.push(
        `(case when jsonb_typeof(${items}) = 'array' then (select '[' || coalesce(string_agg(${str(`${e}.v`)}, ',' order by ${e}.n), '') || ']' from jsonb_array_elements_text(${items}) with ordinality ${e}(v, n)) else 'null' end)`,
      );
    } else unsupported(`ImageConfig.${name}`);
  });
  out.push(' end)');
}

/** The entries of a manifest list, by position. */
function imageManifests(out: Out, field: FieldNode, i: string): void {
  if ((field.arguments?.length ?? 0) > 0) unsupported('arguments of manifests');
  const m = out.alias('m');
  const fields = fieldsOf(out, field.selectionSet, 'ImageManifest');
  list(
    out,
    () =>
      object(out, fields, 'ImageManifest', (f) => {
        leaf(f);
        const name = f.name.value;
        const column = {
          digest: 'digest',
          mediaType: 'media_type',
          os: 'os',
          architecture: 'architecture',
          variant: 'variant',
        }[name];
        if (column) out.push(str(`${m}.${column}`));
        else if (name === 'size') out.push(num(`${m}.size`));
        else unsupported(`ImageManifest.${name}`);
      }),
    () => out.push(`image_manifests ${m} where ${m}.parent_digest = ${i}.digest`),
    `${m}.position`,
  );
}

function image(out: Out, fields: FieldNode[], i: string): void {
  object(out, fields, 'Image', (f) => {
    const name = f.name.value;
    const text = {
      digest: 'digest',
      mediaType: 'media_type',
      dockerImageReference: 'docker_image_reference',
      architecture: 'architecture',
      os: 'os',
      variant: 'variant',
      author: 'author',
    }[name];
    if (name === 'config') return imageConfig(out, f, i);
    if (name === 'manifests') return imageManifests(out, f, i);
    if (name === 'layers') {
      if ((f.arguments?.length ?? 0) > 0) unsupported('arguments of layers');
      const l = out.alias('l');
      const layerFields = fieldsOf(out, f.selectionSet, 'ImageLayer');
      list(
        out,
        () => imageLayer(out, layerFields, l),
        () => out.push(`image_layers ${l} where ${l}.image_digest = ${i}.digest`),
        `${l}.position`,
      );
      return;
    }
    leaf(f);
    if (text) out.push(str(`${i}.${text}`));
    else if (name === 'id') out.push(globalId('Image', `${i}.digest`));
    else if (name === 'size') out.push(num(`${i}.size`));
    else if (name === 'created') out.push(dateTime(`${i}.created`));
    else if (name === 'metadataSource') {
      const cases = Object.entries(METADATA_SOURCE)
        .map(([value, enumName]) => `when '${value}' then '"${enumName}"'`)
        .join(' ');
      out.push(`(case ${i}.metadata_source::text ${cases} else 'null' end)`);
    } else unsupported(`Image.${name}`);
  });
}

/** An Image by a digest expression, or `null`. */
function imageByDigest(out: Out, field: FieldNode, digest: string): void {
  if ((field.arguments?.length ?? 0) > 0) unsupported('arguments of image');
  const i = out.alias('i');
  const fields = fieldsOf(out, field.selectionSet, 'Image');
  out.push('coalesce((select ');
  image(out, fields, i);
  out.push(` from images ${i} where ${i}.digest = ${digest}), 'null')`);
}

function tagEvent(out: Out, fields: FieldNode[], h: string): void {
  object(out, fields, 'TagEvent', (f) => {
    const name = f.name.value;
    if (name === 'image') return imageByDigest(out, f, `${h}.image_digest`);
    leaf(f);
    if (name === 'created') out.push(dateTime(`${h}.created`));
    else if (name === 'dockerImageReference') out.push(str(`${h}.docker_image_reference`));
    else if (name === 'generation') out.push(num(`${h}.generation`));
    else unsupported(`TagEvent.${name}`);
  });
}

/** The spec tag of a tag row (null for a status-only tag). */
function tagSpec(out: Out, field: FieldNode, t: string): void {
  if ((field.arguments?.length ?? 0) > 0) unsupported('arguments of spec');
  out.push(`(case when ${t}.spec_generation is null then 'null' else `);
  objectOf(out, field, 'TagSpec', (f) => {
    const name = f.name.value;
    if (name === 'annotations') return keyValues(out, f, `${t}.annotations`);
    if (name === 'from') {
      // resolve: a source only when it has a kind and a non-empty name.
      if ((f.arguments?.length ?? 0) > 0) unsupported('arguments of from');
      out.push(
        `(case when ${t}.from_kind is null or coalesce(${t}.from_name, '') = '' then 'null' else `,
      );
      objectOf(out, f, 'TagSource', (k) => {
        leaf(k);
        const column = { kind: 'from_kind::text', name: 'from_name', namespace: 'from_namespace' }[
          k.name.value
        ];
        if (!column) unsupported(`TagSource.${k.name.value}`);
        out.push(str(`${t}.${column}`));
      });
      out.push(' end)');
      return;
    }
    if (name === 'referencePolicy' || name === 'importPolicy') {
      if ((f.arguments?.length ?? 0) > 0) unsupported(`arguments of ${name}`);
      const typename = name === 'referencePolicy' ? 'TagReferencePolicy' : 'TagImportPolicy';
      const columns: Record<string, string> =
        name === 'referencePolicy'
          ? { type: str(`${t}.reference_policy::text`) }
          : {
              insecure: bool(`${t}.import_insecure`),
              scheduled: bool(`${t}.import_scheduled`),
              importMode: str(`${t}.import_mode::text`),
            };
      objectOf(out, f, typename, (p) => {
        leaf(p);
        const value = columns[p.name.value];
        if (!value) unsupported(`${typename}.${p.name.value}`);
        out.push(value);
      });
      return;
    }
    leaf(f);
    if (name === 'generation') out.push(num(`${t}.spec_generation`));
    else if (name === 'reference') out.push(bool(`${t}.reference`));
    else unsupported(`TagSpec.${name}`);
  });
  out.push(' end)');
}

/** A tag's conditions, by type (the relation's CONDITIONS ordering). */
function conditions(out: Out, field: FieldNode, t: string): void {
  if ((field.arguments?.length ?? 0) > 0) unsupported('arguments of conditions');
  const fields = fieldsOf(out, field.selectionSet, 'TagCondition');
  const c = out.alias('c');
  list(
    out,
    () =>
      object(out, fields, 'TagCondition', (f) => {
        leaf(f);
        const name = f.name.value;
        if (name === 'type' || name === 'reason' || name === 'message')
          out.push(str(`${c}.${name}`));
        else if (name === 'status') out.push(str(`${c}.status::text`));
        else if (name === 'generation') out.push(num(`${c}.generation`));
        else if (name === 'lastTransitionTime') out.push(dateTime(`${c}.last_transition_time`));
        else unsupported(`TagCondition.${name}`);
      }),
    () => out.push(`tag_conditions ${c} where ${c}.tag_id = ${t}.id`),
    `${c}.type`,
  );
}

/** A cursor key's type, as listOrder.ts types it. */
export type KeyType = 'string' | 'number' | 'date';

/**
 * A list field: its list (filters.ts), connection and node types (the edge's is the
 * connection's with `Edge` unless given), and its rows: those of `table` whose `scope` column is
 * the parent's key.
 */
interface ListField {
  list: ListName;
  typename: string;
  edgeTypename?: string;
  nodeTypename: string;
  node: (out: Out, fields: FieldNode[], row: string) => void;
  table: string;
  scope: string;
}

const TAG_HISTORY: ListField = {
  list: 'history',
  typename: 'TagHistoryConnection',
  nodeTypename: 'TagEvent',
  node: tagEvent,
  table: 'tag_history',
  scope: 'tag_id',
};
const STREAM_TAGS: ListField = {
  list: 'tags',
  typename: 'ImageStreamTagConnection',
  nodeTypename: 'ImageStreamTag',
  node: tag,
  table: 'tags',
  scope: 'stream_id',
};
const NAMESPACE_TAGS: ListField = {
  ...STREAM_TAGS,
  list: 'namespaceTags',
  typename: 'NamespaceTagConnection',
  scope: 'namespace',
};
const STREAM_IMAGES: ListField = {
  list: 'streamImages',
  typename: 'StreamImageUseConnection',
  nodeTypename: 'StreamImageUse',
  node: streamImage,
  table: 'stream_images',
  scope: 'stream_id',
};
const STREAMS: ListField = {
  list: 'imageStreams',
  typename: 'QueryImageStreamsConnection',
  edgeTypename: 'QueryImageStreamsConnectionEdge',
  nodeTypename: 'ImageStream',
  node: stream,
  table: 'image_streams',
  scope: 'namespace',
};
const NAMESPACE_STREAMS: ListField = {
  ...STREAMS,
  typename: 'NamespaceImageStreamsConnection',
  edgeTypename: 'NamespaceImageStreamsConnectionEdge',
};

/**
 * A list field (its filter, ordering, `first` and `after`, and `more` arguments) as a
 * connection over the rows of the parent whose key `parent` is.
 */
function listField(
  out: Out,
  field: FieldNode,
  list: ListField,
  parent: Piece[],
  more: string[] = [],
): void {
  onlyArguments(field, ['first', 'after', 'last', 'before', 'filter', 'orderBy', ...more]);
  const ordering = listOrdering(list.list, field);
  const where = out.filterArgument(field, list.list);
  connection(
    out,
    field,
    { ...list, ordering, where },
    {
      from: (row) => out.push(`${list.table} ${row} where ${row}.${list.scope} = `, ...parent),
      node: (fields, row) => list.node(out, fields, row),
    },
  );
}

/** The namespaces a caller may read, by name (the drizzle plugin's own cursor of the name). */
const NAMESPACE_LIST: ListSpec = {
  typename: 'QueryNamespacesConnection',
  edgeTypename: 'QueryNamespacesConnectionEdge',
  nodeTypename: 'Namespace',
  ordering: { list: false, name: 'namespaces' },
};

export function tag(out: Out, fields: FieldNode[], t: string): void {
  object(out, fields, 'ImageStreamTag', (f) => {
    const name = f.name.value;
    if (name === 'history') return listField(out, f, TAG_HISTORY, [`${t}.id`]);
    if (name === 'image') {
      if ((f.arguments?.length ?? 0) > 0) unsupported('arguments of image');
      // Item 0's image, or null (no history yet, or item 0 is a reference).
      out.push('coalesce((select ');
      const head = out.alias('h');
      const i = out.alias('i');
      image(out, fieldsOf(out, f.selectionSet, 'Image'), i);
      out.push(
        ` from (select ${head}.image_digest from tag_history ${head} where ${head}.tag_id = ${t}.id order by ${head}.seq desc limit 1) ${head} join images ${i} on ${i}.digest = ${head}.image_digest), 'null')`,
      );
      return;
    }
    if (name === 'spec') return tagSpec(out, f, t);
    if (name === 'follows' || name === 'followers') return trackingField(out, f, t, tag);
    if (name === 'conditions') return conditions(out, f, t);
    if (name === 'stream') {
      if ((f.arguments?.length ?? 0) > 0) unsupported('arguments of stream');
      const s = out.alias('s');
      out.push('(select ');
      stream(out, fieldsOf(out, f.selectionSet, 'ImageStream'), s);
      out.push(` from image_streams ${s} where ${s}.id = ${t}.stream_id)`);
      return;
    }
    if (name === 'policy') {
      // Null for a tag without a policy; a tag with one sets the root field's fallback.
      if ((f.arguments?.length ?? 0) > 0) unsupported('arguments of policy');
      out.policySelected = true;
      out.push("'null'");
      return;
    }
    leaf(f);
    if (name === 'name') out.push(str(`${t}.name`));
    else if (name === 'importPending') {
      // isImportPending: a spec generation newer than item 0's and the ImportSuccess condition's.
      const h = out.alias('h');
      const c = out.alias('c');
      out.push(
        `(${t}.spec_generation is not null` +
          ` and coalesce(${t}.spec_generation > (select ${h}.generation from tag_history ${h} where ${h}.tag_id = ${t}.id order by ${h}.seq desc limit 1), true)` +
          ` and coalesce(${t}.spec_generation > (select ${c}.generation from tag_conditions ${c} where ${c}.tag_id = ${t}.id and ${c}.type = 'ImportSuccess'), true))::text`,
      );
    } else if (name === 'dangling') {
      // It tracks a tag name that no tag of its stream has.
      const x = out.alias('x');
      out.push(
        `(${t}.tracks_tag is not null and not exists (select 1 from tags ${x} where ${x}.stream_id = ${t}.stream_id and ${x}.name = ${t}.tracks_tag))::text`,
      );
    } else if (name === 'id') out.push(globalId('ImageStreamTag', `${t}.id`));
    else if (name === 'dockerImageReference') {
      const h = out.alias('h');
      out.push(
        str(
          `(select ${h}.docker_image_reference from tag_history ${h} where ${h}.tag_id = ${t}.id order by ${h}.seq desc limit 1)`,
        ),
      );
    } else if (name === 'pullSpec') {
      // pullSpecFor over item 0: a Local tag's image through the stream's own pull spec.
      const h = out.alias('h');
      const s = out.alias('s');
      out.push(
        `coalesce(to_json((select case when ${t}.reference_policy = 'Local' and ${h}.image_digest is not null then `,
        { setting: 'registryHost' },
        ` || '/' || ${s}.namespace || '/' || ${s}.name || '@' || ${h}.image_digest else ${h}.docker_image_reference end from tag_history ${h} join image_streams ${s} on ${s}.id = ${t}.stream_id where ${h}.tag_id = ${t}.id order by ${h}.seq desc limit 1))::text, 'null')`,
      );
    } else unsupported(`ImageStreamTag.${name}`);
  });
}

function stream(out: Out, fields: FieldNode[], s: string): void {
  object(out, fields, 'ImageStream', (f) => {
    const name = f.name.value;
    if (name === 'labels' || name === 'annotations') return keyValues(out, f, `${s}.${name}`);
    if (name === 'tags') return listField(out, f, STREAM_TAGS, [`${s}.id`]);
    if (name === 'images') return listField(out, f, STREAM_IMAGES, [`${s}.id`]);
    if (name === 'tag') {
      onlyArguments(f, ['name']);
      const tagName = out.stringArg(f, 'name');
      const t = out.alias('t');
      out.push('coalesce((select ');
      tag(out, fieldsOf(out, f.selectionSet, 'ImageStreamTag'), t);
      out.push(` from tags ${t} where ${t}.stream_id = ${s}.id and ${t}.name = `);
      out.push(tagName);
      out.push(" limit 1), 'null')");
      return;
    }
    if (name === 'lookupPolicy') {
      if ((f.arguments?.length ?? 0) > 0) unsupported('arguments of lookupPolicy');
      objectOf(out, f, 'ImageLookupPolicy', (p) => {
        leaf(p);
        if (p.name.value !== 'local') unsupported(`ImageLookupPolicy.${p.name.value}`);
        out.push(`${s}.lookup_local::text`);
      });
      return;
    }
    leaf(f);
    if (name === 'namespace' || name === 'name') out.push(str(`${s}.${name}`));
    else if (name === 'id') out.push(globalId('ImageStream', `${s}.id`));
    else if (name === 'pullSpec') {
      out.push(
        'to_json(',
        { setting: 'registryHost' },
        ` || '/' || ${s}.namespace || '/' || ${s}.name)::text`,
      );
    } else if (name === 'generation') out.push(num(`${s}.generation`));
    else if (name === 'resourceVersion') out.push(str(`${s}.resource_version::text`));
    else if (name === 'dockerImageRepository') out.push(str(`${s}.docker_image_repository`));
    else if (name === 'createdAt' || name === 'updatedAt') {
      out.push(dateTime(`${s}.${name === 'createdAt' ? 'created_at' : 'updated_at'}`));
    } else if (name === 'uniqueImageCount') {
      out.push(`(select count(*)::int from stream_images si where si.stream_id = ${s}.id)::text`);
    } else unsupported(`ImageStream.${name}`);
  });
}

/** A namespace row and its counts (namespaces.ts's correlated counts). */
function namespace(out: Out, fields: FieldNode[], n: string): void {
  object(out, fields, 'Namespace', (f) => {
    const name = f.name.value;
    if (name === 'imageStreams') return listField(out, f, NAMESPACE_STREAMS, [`${n}.name`]);
    if (name === 'tags') return listField(out, f, NAMESPACE_TAGS, [`${n}.name`]);
    leaf(f);
    const tagsOf = `tags t join image_streams s on s.id = t.stream_id where s.namespace = ${n}.name`;
    if (name === 'name') out.push(str(`${n}.name`));
    else if (name === 'imageStreamCount') {
      out.push(`(select count(*)::int from image_streams s where s.namespace = ${n}.name)::text`);
    } else if (name === 'tagCount') out.push(`(select count(*)::int from ${tagsOf})::text`);
    else if (name === 'failingImportCount') {
      out.push(
        `(select count(*)::int from ${tagsOf} and exists (select 1 from tag_conditions c where c.tag_id = t.id and c.type = 'ImportSuccess' and c.status = 'False'))::text`,
      );
    } else unsupported(`Namespace.${name}`);
  });
}

/** A stream's use of an image (a stream_images row). */
function streamImage(out: Out, fields: FieldNode[], u: string): void {
  object(out, fields, 'StreamImageUse', (f) => {
    const name = f.name.value;
    if (name === 'image') return imageByDigest(out, f, `${u}.digest`);
    leaf(f);
    if (name === 'digest') out.push(str(`${u}.digest`));
    else if (name === 'created') out.push(dateTime(`${u}.created`));
    else if (name === 'firstSeen') out.push(dateTime(`${u}.first_seen`));
    else if (name === 'historyItemCount') out.push(num(`${u}.history_item_count`));
    else unsupported(`StreamImageUse.${name}`);
  });
}

/** `<stream>@<full digest>` without a namespace part, the image ref the statement looks up. */
const FULL_DIGEST_REF = `'^[^/:@]+@sha256:[0-9a-f]{64}$'`;

/** `<stream>:<tag>` without a namespace part, the one ref shape the statement looks up. */
const PLAIN_TAG_REF = `'^[^/:@]+:[^/:@]+$'`;

/**
 * When a root field's selection reads a tag's `policy`: the fallback for any tag with a policy
 * in the streams it can reach (the namespace's, or one stream's by its name expression; with no
 * namespace, those of every namespace the caller may read).
 */
export function policyFallback(
  out: Out,
  namespace: ParamSource | null,
  streamName: Piece[] | null,
): void {
  if (!out.policySelected) return;
  out.policySelected = false;
  const t = out.alias('t');
  const s = out.alias('s');
  out.fallbackWhen(
    `exists (select 1 from tags ${t} join image_streams ${s} on ${s}.id = ${t}.stream_id where ${t}.policy is not null and ${t}.policy <> 'null'::jsonb and `,
    ...(namespace ? [`${s}.namespace = `, namespace] : [{ readable: `${s}.namespace` }]),
    ...(streamName ? [` and ${s}.name = `, ...streamName] : []),
    ')',
  );
}

/** A root field's `namespace` and `ref` arguments; the caller must read the namespace. */
function refArguments(out: Out, field: FieldNode, namespaces: ParamSource[]) {
  onlyArguments(field, ['namespace', 'ref']);
  const namespace = out.stringArg(field, 'namespace');
  namespaces.push(namespace);
  return { namespace, ref: out.stringArg(field, 'ref') };
}

function rootField(out: Out, field: FieldNode, namespaces: ParamSource[]): void {
  const name = field.name.value;
  if (name === 'imageStream') {
    onlyArguments(field, ['namespace', 'name']);
    const namespace = out.stringArg(field, 'namespace');
    const streamName = out.stringArg(field, 'name');
    namespaces.push(namespace);
    const s = out.alias('s');
    out.push('coalesce((select ');
    stream(out, fieldsOf(out, field.selectionSet, 'ImageStream'), s);
    out.push(` from image_streams ${s} where ${s}.namespace = `, namespace);
    out.push(` and ${s}.name = `, streamName, "), 'null')");
    policyFallback(out, namespace, [streamName]);
    return;
  }
  if (name === 'imageStreams') {
    const namespace = out.stringArg(field, 'namespace');
    namespaces.push(namespace);
    listField(out, field, STREAMS, [namespace], ['namespace']);
    policyFallback(out, namespace, null);
    return;
  }
  if (name === 'namespaces') {
    // The namespaces the caller may read, by name, as the resolver filters them.
    onlyArguments(field, ['first', 'after', 'last', 'before']);
    connection(out, field, NAMESPACE_LIST, {
      from: (n) => out.push(`namespaces ${n} where `, { readable: `${n}.name` }),
      node: (nodeFields, n) => namespace(out, nodeFields, n),
    });
    policyFallback(out, null, null);
    return;
  }
  if (name === 'imageStreamTag') {
    // The found tag only: a malformed ref, a ref into another namespace or a missing tag
    // (a ValidationError, a check of that namespace, null) is the ordinary path's to answer.
    const { namespace, ref } = refArguments(out, field, namespaces);
    const t = out.alias('t');
    const s = out.alias('s');
    const lookup = (select: string, more: () => void) => {
      out.push(`(select ${select}`);
      more();
      out.push(` from tags ${t} join image_streams ${s} on ${s}.id = ${t}.stream_id where `);
      out.push(ref, ` ~ ${PLAIN_TAG_REF} and ${s}.namespace = `, namespace);
      out.push(` and ${s}.name = split_part(`, ref, `, ':', 1) and ${t}.name = split_part(`);
      out.push(ref, ", ':', 2))");
    };
    if (out.fallback.length > 0) out.fallback.push(' or ');
    out.fallback.push('not exists ');
    const main = out.pieces.length;
    lookup('1', () => {});
    out.fallback.push(...out.pieces.splice(main));
    out.push('coalesce(');
    lookup('', () => tag(out, fieldsOf(out, field.selectionSet, 'ImageStreamTag'), t));
    out.push(", 'null')");
    policyFallback(out, namespace, ['split_part(', ref, ", ':', 1)"]);
    return;
  }
  if (name === 'imageStreamImage') {
    // Only a `<stream>@sha256:<64 hex>` ref naming an image a history item of the stream
    // names: a prefix (maybe ambiguous), a list's child, a malformed ref, a ref into another
    // namespace or nothing found is the ordinary path's to answer.
    const { namespace, ref } = refArguments(out, field, namespaces);
    const h = out.alias('h');
    const t = out.alias('t');
    const s = out.alias('s');
    const items = (select: string): Piece[] => [
      `(select ${select} from tag_history ${h} join tags ${t} on ${t}.id = ${h}.tag_id join image_streams ${s} on ${s}.id = ${t}.stream_id where `,
      ref,
      ` ~ ${FULL_DIGEST_REF} and ${s}.namespace = `,
      namespace,
      ` and ${s}.name = split_part(`,
      ref,
      `, '@', 1) and ${h}.image_digest = split_part(`,
      ref,
      `, '@', 2)`,
    ];
    out.fallbackWhen('not exists ', ...items('1'), ')');
    // The newest item naming the digest gives the reference (resolveStreamImage's order).
    const x = out.alias('x');
    out.push('coalesce((select ');
    objectOf(out, field, 'ImageStreamImage', (f) => {
      const fieldName = f.name.value;
      if (fieldName === 'image') return imageByDigest(out, f, `${x}.digest`);
      leaf(f);
      if (fieldName === 'name') out.push(str(`${x}.stream || '@' || ${x}.digest`));
      else if (fieldName === 'namespace') out.push(str(`${x}.namespace`));
      else if (fieldName === 'digest') out.push(str(`${x}.digest`));
      else if (fieldName === 'dockerImageReference') out.push(str(`${x}.reference`));
      else unsupported(`ImageStreamImage.${fieldName}`);
    });
    out.push(' from ');
    out.push(
      ...items(
        `${s}.name as stream, ${s}.namespace, ${h}.image_digest as digest, ${h}.docker_image_reference as reference`,
      ),
    );
    out.push(` order by ${h}.created desc, ${h}.id desc limit 1) ${x}), 'null')`);
    return;
  }
  if (name === 'tagEvents') tagEvents(out, field, namespaces);
  else if (!adminRootField(out, field)) unsupported(`Query.${name}`);
}

/**
 * The compiled statement of a document's one query operation (with its fragments), or the
 * reason it is not covered (that document then always takes the ordinary path).
 */
export function compileRead(
  document: DocumentNode,
): { compiled: CompiledRead } | { unsupported: string } {
  try {
    const operations = document.definitions.filter((d) => d.kind === Kind.OPERATION_DEFINITION);
    const fragments = new Map<string, FragmentDefinitionNode>();
    for (const definition of document.definitions) {
      if (definition.kind === Kind.FRAGMENT_DEFINITION) {
        fragments.set(definition.name.value, definition);
      } else if (definition.kind !== Kind.OPERATION_DEFINITION) {
        unsupported('a definition that is not an operation or fragment');
      }
    }
    if (operations.length !== 1) unsupported('not one operation');
    const operation = operations[0]!;
    if (operation.operation !== 'query') unsupported('not a query');
    if ((operation.directives?.length ?? 0) > 0) unsupported('operation directives');
    const out = new Out(operation, fragments);
    const namespaces: ParamSource[] = [];
    object(out, fieldsOf(out, operation.selectionSet, 'Query'), 'Query', (field) =>
      rootField(out, field, namespaces),
    );
    const variables = new Set<string>();
    const filterVariables = new Set(
      [...out.filters.values()].flatMap((f) => f.variables.map((d) => d.variable.name.value)),
    );
    for (const piece of [...out.pieces, ...out.fallback]) {
      if (typeof piece !== 'object' || !('variable' in piece)) continue;
      const name = piece.variable;
      if (!out.cursors.has(name) && !out.optionalVariables.has(name)) variables.add(name);
    }
    // A declared variable the statement does not read could still fail the ordinary path's
    // checks; such documents stay there.
    for (const definition of operation.variableDefinitions ?? []) {
      const name = definition.variable.name.value;
      const read = [variables, out.cursors, filterVariables, out.optionalVariables];
      if (!read.some((set) => set.has(name))) {
        unsupported('an unused variable');
      }
    }
    return {
      compiled: {
        data: out.pieces,
        fallback: out.fallback,
        namespaces,
        roles: out.roles,
        variables,
        cursors: out.cursors,
        filters: out.filters,
        optionalVariables: out.optionalVariables,
        operationName: operation.name?.value ?? null,
      },
    };
  } catch (error) {
    if (error instanceof Unsupported || error instanceof UncoveredArgument) {
      return { unsupported: error.message };
    }
    throw error;
  }
}
