// The filters and orderings of the compiled lists (streams, tags, histories, stream images): each
// ordering as listOrder.ts names and keys it, each filter as the conditions services/listFilters.ts
// writes, read from the filter the ordinary path parses (a JSON statement parameter).
import {
  type FieldNode,
  type GraphQLInputType,
  type GraphQLSchema,
  getVariableValues,
  isInputType,
  Kind,
  type OperationDefinitionNode,
  type ValueNode,
  type VariableDefinitionNode,
  valueFromAST,
  visit,
} from 'graphql';
import {
  type LabelRequirement,
  parseEventFilter,
  parseHistoryFilter,
  parseStreamFilter,
  parseStreamImageFilter,
  parseTagFilter,
} from '../../domain/listFilters.ts';
import { CHANGE_CAUSES } from '../../events/append.ts';
import { badStrings } from '../../inputs.ts';
import { MANIFEST_LIST_MEDIA_TYPES } from '../../services/listFilters.ts';
import {
  type CursorOrdering,
  type FilterName,
  type FilterSource,
  type KeyType,
  type ListName,
  type Out,
  type Piece,
  unsupported,
  variableDefinition,
} from './statement.ts';

/** A key of an ordering: its SQL column and its cursor chunk's type. */
type Key = readonly [column: string, type: KeyType];

interface FilterKind {
  filterInput: string;
  /**
   * The parsed filter as the statement's parameter reads it (its null parts left out, times as
   * ISO text); null for a filter the ordinary path refuses.
   */
  param: (input: unknown) => object | null;
  /** The filter's conditions on `row`, with `$F` the parameter's jsonb. */
  conditions: (row: string, alias: (prefix: string) => string) => string;
}

interface ListKind extends FilterKind {
  /** The orderings by the field the cursor names (CREATED of images is stored per direction). */
  keys: Record<string, readonly Key[]>;
  defaultField: string;
  /** The direction without `orderBy`, and the order input's `direction` default. */
  direction: 'asc' | 'desc';
  /** The field an `orderBy` field and direction is stored as (listOrder.ts's ordering name). */
  stored?: (field: string, direction: 'asc' | 'desc') => string;
}

/** A name prefix as a `like` pattern, escaped as services/listFilters.ts escapes it. */
const prefixLike = (prefix: string | null) =>
  prefix ? `${prefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%` : null;

/** A condition that holds when the parameter's `key` is absent, and `test` otherwise. */
const unless = (key: string, test: string) => `($F->'${key}' is null or ${test})`;
const timeWindow = (column: string, after: string, before: string) =>
  `${unless(after, `${column} > ($F->>'${after}')::timestamptz`)} and ${unless(before, `${column} < ($F->>'${before}')::timestamptz`)}`;
const yesNo = (key: string, condition: string) =>
  unless(key, `(${condition}) = ($F->>'${key}')::boolean`);
const nameMatch = (column: string) =>
  `${unless('prefixLike', `${column} like $F->>'prefixLike'`)} and ${unless('contains', `strpos(${column}, $F->>'contains') > 0`)}`;

/**
 * Label requirements as labelConditions writes them: single-value equalities folded into one
 * containment, the others each read from the key's value.
 */
function labelParam(requirements: LabelRequirement[]) {
  const equal: Record<string, string> = {};
  const rest: LabelRequirement[] = [];
  for (const r of requirements) {
    if (r.op === 'in' && r.values.length === 1 && !(r.key in equal)) equal[r.key] = r.values[0]!;
    else rest.push(r);
  }
  return {
    equal: Object.keys(equal).length > 0 ? equal : null,
    rest: rest.length > 0 ? rest : null,
  };
}

function labelConditions(labels: string, alias: (prefix: string) => string): string {
  const r = alias('lr');
  const value = `(${labels} ->> (${r}.req->>'key'))`;
  const among = `${value} in (select jsonb_array_elements_text(${r}.req->'values'))`;
  return (
    `${unless('equal', `${labels} @> ($F->'equal')`)} and not exists (select 1 from jsonb_array_elements($F->'rest') ${r}(req) where not coalesce(case ${r}.req->>'op'` +
    ` when 'in' then ${among} when 'notin' then not coalesce(${among}, false)` +
    ` when 'exists' then ${value} is not null else ${value} is null end, false))`
  );
}

/** Each tag kind as kindCondition writes it. */
function kindCondition(t: string): string {
  const spec = `${t}.spec_generation is not null and not ${t}.reference`;
  const external = `${spec} and ${t}.from_kind = 'DockerImage' and ${t}.policy is null`;
  return `case $KIND when 'STATUS_ONLY' then ${t}.spec_generation is null
    when 'REFERENCE' then (${t}.spec_generation is not null and ${t}.reference)
    when 'TRACKING' then (${spec} and ${t}.from_kind = 'ImageStreamTag')
    when 'PERMANENT' then (${spec} and ${t}.from_kind = 'ImageStreamImage')
    when 'POLICY' then (${spec} and ${t}.from_kind = 'DockerImage' and ${t}.policy is not null)
    when 'EXTERNAL' then (${external} and not ${t}.import_scheduled)
    when 'SCHEDULED' then (${external} and ${t}.import_scheduled) end`;
}

/**
 * A list's parameter: the filter as the ordinary path parses it (null when it refuses it), with
 * the patterns `more` derives from it.
 */
const paramOf =
  <T extends object>(
    parse: (input: never) => { ok: true; value: T } | { ok: false },
    more: (filter: T) => object = () => ({}),
  ) =>
  (input: unknown): object | null => {
    const result = parse(input as never);
    return result.ok ? { ...result.value, ...more(result.value) } : null;
  };

const ID: Key = ['id', 'number'];
const STREAM_ID: Key = ['stream_id', 'number'];
const TAG_ID: Key = ['tag_id', 'number'];
const NAMESPACE: Key = ['namespace', 'string'];
const UPDATED_AT: Key = ['updated_at', 'date'];
const GENERATION: Key = ['generation', 'number'];
const DIGEST: Key = ['digest', 'string'];
const NAME: Key = ['name', 'string'];

/** A tag list (a stream's, or a namespace's across its streams) by its orderings' keys. */
const tagList = (keys: ListKind['keys']): ListKind => ({
  filterInput: 'ImageStreamTagFilter',
  keys,
  defaultField: 'NAME',
  direction: 'asc',
  param: paramOf(parseTagFilter, (filter) => ({ prefixLike: prefixLike(filter.prefix) })),
  conditions: (t, alias) => {
    const k = alias('k');
    const c = alias('c');
    const h = alias('h');
    return [
      nameMatch(`${t}.name`),
      unless(
        'kinds',
        `exists (select 1 from jsonb_array_elements_text($F->'kinds') ${k}(kind) where ${kindCondition(t).replace('$KIND', `${k}.kind`)})`,
      ),
      yesNo(
        'importFailing',
        `exists (select 1 from tag_conditions ${c} where ${c}.tag_id = ${t}.id and ${c}.type = 'ImportSuccess' and ${c}.status = 'False')`,
      ),
      yesNo(
        'hasImage',
        `coalesce((select ${h}.image_digest is not null from tag_history ${h} where ${h}.tag_id = ${t}.id order by ${h}.seq desc limit 1), false)`,
      ),
      timeWindow(`${t}.updated_at`, 'updatedAfter', 'updatedBefore'),
    ].join(' and ');
  },
});

const LISTS: Record<ListName, ListKind> = {
  imageStreams: {
    filterInput: 'ImageStreamFilter',
    keys: {
      NAME: [NAMESPACE, NAME],
      UPDATED_AT: [NAMESPACE, UPDATED_AT, ID],
      GENERATION: [NAMESPACE, GENERATION, ID],
    },
    defaultField: 'NAME',
    direction: 'asc',
    param: paramOf(parseStreamFilter, (filter) => ({
      prefixLike: prefixLike(filter.prefix),
      ...labelParam(filter.labels),
    })),
    conditions: (s, alias) =>
      `${nameMatch(`${s}.name`)} and ${labelConditions(`${s}.labels`, alias)}`,
  },
  tags: tagList({
    NAME: [STREAM_ID, NAME],
    UPDATED_AT: [STREAM_ID, UPDATED_AT, ID],
  }),
  namespaceTags: tagList({
    NAME: [NAMESPACE, NAME, ID],
    UPDATED_AT: [NAMESPACE, UPDATED_AT, ID],
  }),
  history: {
    filterInput: 'TagHistoryFilter',
    keys: {
      POSITION: [TAG_ID, ['seq', 'number']],
      CREATED: [TAG_ID, ['created', 'date'], ID],
      GENERATION: [TAG_ID, GENERATION, ID],
    },
    defaultField: 'POSITION',
    direction: 'desc',
    param: paramOf(parseHistoryFilter),
    conditions: (h) =>
      [
        timeWindow(`${h}.created`, 'createdAfter', 'createdBefore'),
        yesNo('hasImage', `${h}.image_digest is not null`),
        unless('digestPrefix', `${h}.image_digest like ($F->>'digestPrefix') || '%'`),
      ].join(' and '),
  },
  streamImages: {
    filterInput: 'StreamImageFilter',
    keys: {
      DIGEST: [STREAM_ID, DIGEST],
      CREATED_ASC: [STREAM_ID, ['created_asc_key', 'number'], DIGEST],
      CREATED_DESC: [STREAM_ID, ['created_desc_key', 'number'], DIGEST],
    },
    defaultField: 'CREATED',
    direction: 'desc',
    stored: (field, direction) =>
      field === 'DIGEST' ? 'DIGEST' : direction === 'asc' ? 'CREATED_ASC' : 'CREATED_DESC',
    param: paramOf(parseStreamImageFilter),
    conditions: (u, alias) => {
      const i = alias('i');
      const types = MANIFEST_LIST_MEDIA_TYPES.map((t) => `'${t}'`).join(', ');
      return [
        unless('digestPrefix', `${u}.digest like ($F->>'digestPrefix') || '%'`),
        timeWindow(`${u}.created`, 'createdAfter', 'createdBefore'),
        yesNo(
          'isManifestList',
          `exists (select 1 from images ${i} where ${i}.digest = ${u}.digest and ${i}.media_type in (${types}))`,
        ),
      ].join(' and ');
    },
  },
};

/** The stored cause of each ChangeCause value (the resolver maps `causes` so before parsing). */
const STORED_CAUSE: Record<string, string> = Object.fromEntries(
  Object.entries(CHANGE_CAUSES).map(([stored, name]) => [name, stored]),
);

/** A list of values the column must be among (none: no row), as `inArray` writes it. */
const anyOf = (key: string, column: string) =>
  unless(key, `${column} in (select jsonb_array_elements_text($F->'${key}'))`);

const FILTERS: Record<FilterName, FilterKind> = {
  ...LISTS,
  events: {
    filterInput: 'TagEventFilter',
    param: (input) => {
      const given = input as { causes?: string[] | null } | null;
      return paramOf(parseEventFilter)(
        given && { ...given, causes: given.causes?.map((cause) => STORED_CAUSE[cause] ?? cause) },
      );
    },
    conditions: (e) =>
      [
        anyOf('streams', `${e}.stream`),
        anyOf('tags', `${e}.tag`),
        anyOf('types', `${e}.type`),
        anyOf('causes', `${e}.cause`),
        anyOf('actors', `${e}.actor_subject`),
        timeWindow(`${e}.at`, 'occurredAfter', 'occurredBefore'),
      ].join(' and '),
  },
};

/** The ordering `orderBy` (a literal of enum values, or absent) names, as listOrder.ts names it. */
export function listOrdering(list: ListName, field: FieldNode) {
  const kind = LISTS[list];
  const arg = field.arguments?.find((a) => a.name.value === 'orderBy');
  let name = kind.defaultField;
  let direction = kind.direction;
  if (arg && arg.value.kind !== Kind.NULL) {
    if (arg.value.kind !== Kind.OBJECT) unsupported('an orderBy that is not a literal');
    let named: string | null = null;
    for (const f of arg.value.fields) {
      if (f.value.kind !== Kind.ENUM) unsupported('an orderBy that is not a literal');
      if (f.name.value === 'field') named = f.value.value;
      else if (
        f.name.value === 'direction' &&
        (f.value.value === 'ASC' || f.value.value === 'DESC')
      )
        direction = f.value.value === 'ASC' ? 'asc' : 'desc';
      else unsupported(`orderBy.${f.name.value}`);
    }
    if (named === null) unsupported('orderBy without a field');
    name = named;
  }
  const stored = kind.stored ? kind.stored(name, direction) : name;
  const keys = kind.keys[stored];
  if (!keys) unsupported(`${list} by ${name}`);
  const ordering: CursorOrdering = {
    list: true,
    name: `${list}:${stored}:${direction}`,
    keys: keys.map(([column, type]) => ({ column, type })),
    direction,
  };
  return ordering;
}

/** The variables `value` reads; each must be declared plainly (no default, no directives). */
function variablesOf(
  operation: OperationDefinitionNode,
  value: ValueNode,
): VariableDefinitionNode[] {
  const names = new Set<string>();
  visit(value, {
    Variable: (node) => {
      names.add(node.name.value);
    },
  });
  return [...names].map((name) => variableDefinition(operation, name));
}

/**
 * A field's `filter` argument as conditions on a row (none without one), each starting with
 * ` and `; the statement keeps the filter's source and reads it as a parameter.
 */
export function filterArgument(
  out: Out,
  field: FieldNode,
  list: FilterName,
): (row: string) => Piece[] {
  const arg = field.arguments?.find((a) => a.name.value === 'filter');
  if (!arg) return () => [];
  const kind = FILTERS[list];
  const variables = variablesOf(out.operation, arg.value);
  if (arg.value.kind === Kind.VARIABLE) {
    const type = variables[0]!.type;
    const named = type.kind === Kind.NON_NULL_TYPE ? type.type : type;
    if (named.kind !== Kind.NAMED_TYPE || named.name.value !== kind.filterInput) {
      unsupported(`a filter variable that is not a ${kind.filterInput}`);
    }
  } else if (arg.value.kind !== Kind.OBJECT && arg.value.kind !== Kind.NULL) {
    unsupported('a filter that is not an input object');
  }
  const param = out.registerFilter({ list, input: kind.filterInput, value: arg.value, variables });
  return (row) => {
    const pieces: Piece[] = [' and ('];
    kind
      .conditions(row, (prefix) => out.alias(prefix))
      .split('$F')
      .forEach((part, i) => {
        if (i > 0) pieces.push('(', param, '::jsonb)');
        pieces.push(part);
      });
    pieces.push(')');
    return pieces;
  };
}

/**
 * The JSON text of a filter's statement parameter for one request's variables, or null when the
 * ordinary path answers it (variables it would refuse, or a filter it would reject).
 */
export function filterParam(
  schema: GraphQLSchema | null,
  source: FilterSource,
  variables: Record<string, unknown>,
): string | null {
  const type = schema?.getType(source.input);
  if (!type || !isInputType(type)) return null;
  for (const definition of source.variables) {
    const name = definition.variable.name.value;
    if (badStrings(variables[name], `$${name}`).length > 0) return null;
  }
  const coerced = getVariableValues(schema!, source.variables, variables, { maxErrors: 1 });
  if (coerced.errors) return null;
  let input: unknown;
  if (source.value.kind === Kind.VARIABLE) input = coerced.coerced[source.value.name.value] ?? null;
  else {
    input = valueFromAST(source.value, type as GraphQLInputType, coerced.coerced);
    if (input === undefined) return null;
  }
  const param = FILTERS[source.list].param(input);
  return param === null
    ? null
    : JSON.stringify(param, (_key, value: unknown) => (value === null ? undefined : value));
}
