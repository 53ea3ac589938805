// Compiles a read document over the tag graph into one SQL statement that returns the response's
// `data` as JSON text built by Postgres; null for any document it does not fully cover.
import {
  type DocumentNode,
  type FieldNode,
  Kind,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValueNode,
} from 'graphql';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from '../../builder.ts';

/** Where a statement parameter's value comes from: a `String!` variable, or a literal. */
export type ParamSource = { variable: string } | { literal: string };

/** SQL text with parameters in between, in order. */
export type Piece = string | ParamSource;

export interface CompiledRead {
  /** The statement's expression for `data`, as pieces. */
  data: Piece[];
  /** Namespaces the caller must be able to read (one per root field that names one). */
  namespaces: ParamSource[];
  /** Every variable the statement reads; each must be a string when a request runs it. */
  variables: Set<string>;
  /** The operation's name, when it has one (a request naming another is not this document). */
  operationName: string | null;
}

/** Thrown inside compilation for anything the compiler does not cover. */
class Unsupported extends Error {}

function unsupported(what: string): never {
  throw new Unsupported(what);
}

/** The statement builder: text with parameters, and unique table aliases. */
class Out {
  readonly pieces: Piece[] = [];
  private aliases = 0;
  constructor(readonly operation: OperationDefinitionNode) {}

  alias(prefix: string): string {
    this.aliases += 1;
    return `${prefix}${this.aliases}`;
  }

  /** A string argument as a parameter piece (literal, or a declared `String!` variable). */
  stringArg(field: FieldNode, name: string): ParamSource {
    const arg = field.arguments?.find((a) => a.name.value === name);
    if (!arg) unsupported(`${field.name.value} without ${name}`);
    return stringSource(this.operation, arg.value);
  }
}

function stringSource(operation: OperationDefinitionNode, value: ValueNode): ParamSource {
  if (value.kind === Kind.STRING) return { literal: value.value };
  if (value.kind !== Kind.VARIABLE) unsupported('a non-string argument');
  const name = value.name.value;
  const definition = operation.variableDefinitions?.find((d) => d.variable.name.value === name);
  if (
    !definition ||
    definition.defaultValue ||
    (definition.directives?.length ?? 0) > 0 ||
    definition.type.kind !== Kind.NON_NULL_TYPE ||
    definition.type.type.kind !== Kind.NAMED_TYPE ||
    definition.type.type.name.value !== 'String'
  ) {
    unsupported(`variable $${name} is not a plain String!`);
  }
  return { variable: name };
}

/** The arguments a field has, which must be among `allowed`. */
function onlyArguments(field: FieldNode, allowed: readonly string[]): void {
  for (const arg of field.arguments ?? []) {
    if (!allowed.includes(arg.name.value)) unsupported(`argument ${arg.name.value}`);
  }
}

/** A connection's `first`: a literal from 1 to the page limit, or the default page. */
function pageSize(field: FieldNode): number {
  const arg = field.arguments?.find((a) => a.name.value === 'first');
  if (!arg) return DEFAULT_PAGE_SIZE;
  if (arg.value.kind !== Kind.INT) unsupported('first that is not a literal');
  const n = Number(arg.value.value);
  if (!Number.isInteger(n) || n < 1 || n > MAX_PAGE_SIZE) unsupported(`first: ${n}`);
  return n;
}

/** The plain fields of a selection set: no fragments, no directives, no repeated response keys. */
function fieldsOf(selectionSet: SelectionSetNode | undefined): FieldNode[] {
  if (!selectionSet) unsupported('an object without a selection');
  const seen = new Set<string>();
  const out: FieldNode[] = [];
  for (const selection of selectionSet.selections) {
    if (selection.kind !== Kind.FIELD) unsupported('fragments');
    if ((selection.directives?.length ?? 0) > 0) unsupported('directives');
    const key = selection.alias?.value ?? selection.name.value;
    if (seen.has(key)) unsupported(`repeated response key ${key}`);
    seen.add(key);
    out.push(selection);
  }
  return out;
}

function leaf(field: FieldNode): void {
  if (field.selectionSet) unsupported(`a selection under ${field.name.value}`);
  if ((field.arguments?.length ?? 0) > 0) unsupported(`arguments of ${field.name.value}`);
}

/** JSON text of a SQL string expression (`null` when it is). */
const str = (e: string) => `coalesce(to_json(${e})::text, 'null')`;
/** JSON text of a number expression. */
const num = (e: string) => `coalesce((${e})::text, 'null')`;
/** A DateTime as graphql-scalars writes a Date: ISO 8601 in UTC, to the millisecond. */
const dateTime = (e: string) =>
  `coalesce('"' || to_char((${e}) at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') || '"', 'null')`;
/** A Relay global id: base64 of `<type>:<key>` (the encoder wraps lines; the id has none). */
const globalId = (type: string, key: string) =>
  `'"' || translate(encode(convert_to('${type}:' || ${key}, 'UTF8'), 'base64'), E'\\n', '') || '"'`;
const literalJson = (value: string) => `'${JSON.stringify(value).replaceAll("'", "''")}'`;

/**
 * Writes `{"key":value,…}` for the fields of `field`'s selection, each value from `one`. Every
 * value expression is non-null text, so the concatenation is too.
 */
function object(
  out: Out,
  fields: FieldNode[],
  typename: string,
  one: (field: FieldNode) => void,
): void {
  out.pieces.push("('{'");
  fields.forEach((field, i) => {
    const key = field.alias?.value ?? field.name.value;
    out.pieces.push(` || '${i === 0 ? '' : ','}${JSON.stringify(key).replaceAll("'", "''")}:' || `);
    if (field.name.value === '__typename') {
      leaf(field);
      out.pieces.push(literalJson(typename));
    } else {
      one(field);
    }
  });
  out.pieces.push(" || '}')");
}

/** `[a,b,…]` of the rows `from` yields, in `order`; `[]` when none. */
function list(out: Out, item: () => void, from: () => void, order: string): void {
  out.pieces.push("(select coalesce('[' || string_agg(");
  item();
  out.pieces.push(`, ',' order by ${order}) || ']', '[]') from `);
  from();
  out.pieces.push(')');
}

/** A Relay connection of `nodes` and `totalCount` (no edges or pageInfo in this compiler). */
function connection(
  out: Out,
  field: FieldNode,
  typename: string,
  nodes: (fields: FieldNode[], row: string) => void,
  source: (row: string, limit: number | null) => void,
  order: (row: string) => string,
): void {
  const size = pageSize(field);
  object(out, fieldsOf(field.selectionSet), typename, (f) => {
    const name = f.name.value;
    if (name === 'nodes') {
      const row = out.alias('r');
      const nodeFields = fieldsOf(f.selectionSet);
      list(
        out,
        () => nodes(nodeFields, row),
        () => {
          out.pieces.push('(');
          source(row, size);
          out.pieces.push(`) ${row}`);
        },
        order(row),
      );
    } else if (name === 'totalCount') {
      leaf(f);
      const row = out.alias('c');
      out.pieces.push('(select count(*)::text from (');
      source(row, null);
      out.pieces.push(`) ${row})`);
    } else {
      unsupported(`${typename}.${name}`);
    }
  });
}

/** `[{"key":…,"value":…}]` of a jsonb record, sorted by key as entriesOf sorts. */
function keyValues(out: Out, field: FieldNode, column: string): void {
  const fields = fieldsOf(field.selectionSet);
  if ((field.arguments?.length ?? 0) > 0) unsupported('arguments of key/value lists');
  const kv = out.alias('kv');
  list(
    out,
    () =>
      object(out, fields, 'KeyValue', (f) => {
        leaf(f);
        if (f.name.value === 'key') out.pieces.push(str(`${kv}.key`));
        else if (f.name.value === 'value') out.pieces.push(str(`coalesce(${kv}.value, '')`));
        else unsupported(`KeyValue.${f.name.value}`);
      }),
    () => out.pieces.push(`jsonb_each_text(${column}) ${kv}`),
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
    if (column) out.pieces.push(str(`${l}.${column}`));
    else if (f.name.value === 'size') out.pieces.push(num(`${l}.size`));
    else unsupported(`ImageLayer.${f.name.value}`);
  });
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
    if (name === 'layers') {
      if ((f.arguments?.length ?? 0) > 0) unsupported('arguments of layers');
      const l = out.alias('l');
      const layerFields = fieldsOf(f.selectionSet);
      list(
        out,
        () => imageLayer(out, layerFields, l),
        () => out.pieces.push(`image_layers ${l} where ${l}.image_digest = ${i}.digest`),
        `${l}.position`,
      );
      return;
    }
    leaf(f);
    if (text) out.pieces.push(str(`${i}.${text}`));
    else if (name === 'id') out.pieces.push(globalId('Image', `${i}.digest`));
    else if (name === 'size') out.pieces.push(num(`${i}.size`));
    else if (name === 'created') out.pieces.push(dateTime(`${i}.created`));
    else if (name === 'metadataSource') {
      const cases = Object.entries(METADATA_SOURCE)
        .map(([value, enumName]) => `when '${value}' then '"${enumName}"'`)
        .join(' ');
      out.pieces.push(`(case ${i}.metadata_source::text ${cases} else 'null' end)`);
    } else unsupported(`Image.${name}`);
  });
}

/** An Image by a digest expression, or `null`. */
function imageByDigest(out: Out, field: FieldNode, digest: string): void {
  if ((field.arguments?.length ?? 0) > 0) unsupported('arguments of image');
  const i = out.alias('i');
  const fields = fieldsOf(field.selectionSet);
  out.pieces.push('coalesce((select ');
  image(out, fields, i);
  out.pieces.push(` from images ${i} where ${i}.digest = ${digest}), 'null')`);
}

function tagEvent(out: Out, fields: FieldNode[], h: string): void {
  object(out, fields, 'TagEvent', (f) => {
    const name = f.name.value;
    if (name === 'image') return imageByDigest(out, f, `${h}.image_digest`);
    leaf(f);
    if (name === 'created') out.pieces.push(dateTime(`${h}.created`));
    else if (name === 'dockerImageReference') out.pieces.push(str(`${h}.docker_image_reference`));
    else if (name === 'generation') out.pieces.push(num(`${h}.generation`));
    else unsupported(`TagEvent.${name}`);
  });
}

function tag(out: Out, fields: FieldNode[], t: string): void {
  object(out, fields, 'ImageStreamTag', (f) => {
    const name = f.name.value;
    if (name === 'history') {
      onlyArguments(f, ['first']);
      connection(
        out,
        f,
        'TagHistoryConnection',
        (nodeFields, h) => tagEvent(out, nodeFields, h),
        (h, limit) =>
          out.pieces.push(
            `select * from tag_history ${h} where ${h}.tag_id = ${t}.id order by ${h}.seq desc` +
              (limit === null ? '' : ` limit ${limit}`),
          ),
        (h) => `${h}.seq desc`,
      );
      return;
    }
    if (name === 'image') {
      if ((f.arguments?.length ?? 0) > 0) unsupported('arguments of image');
      // Item 0's image, or null (no history yet, or item 0 is a reference).
      out.pieces.push('coalesce((select ');
      const head = out.alias('h');
      const i = out.alias('i');
      image(out, fieldsOf(f.selectionSet), i);
      out.pieces.push(
        ` from (select ${head}.image_digest from tag_history ${head} where ${head}.tag_id = ${t}.id order by ${head}.seq desc limit 1) ${head} join images ${i} on ${i}.digest = ${head}.image_digest), 'null')`,
      );
      return;
    }
    leaf(f);
    if (name === 'name') out.pieces.push(str(`${t}.name`));
    else if (name === 'id') out.pieces.push(globalId('ImageStreamTag', `${t}.id`));
    else if (name === 'dockerImageReference') {
      const h = out.alias('h');
      out.pieces.push(
        str(
          `(select ${h}.docker_image_reference from tag_history ${h} where ${h}.tag_id = ${t}.id order by ${h}.seq desc limit 1)`,
        ),
      );
    } else unsupported(`ImageStreamTag.${name}`);
  });
}

function stream(out: Out, fields: FieldNode[], s: string): void {
  object(out, fields, 'ImageStream', (f) => {
    const name = f.name.value;
    if (name === 'labels' || name === 'annotations') return keyValues(out, f, `${s}.${name}`);
    if (name === 'tags') {
      onlyArguments(f, ['first']);
      connection(
        out,
        f,
        'ImageStreamTagConnection',
        (nodeFields, t) => tag(out, nodeFields, t),
        (t, limit) =>
          out.pieces.push(
            `select * from tags ${t} where ${t}.stream_id = ${s}.id order by ${t}.name` +
              (limit === null ? '' : ` limit ${limit}`),
          ),
        (t) => `${t}.name`,
      );
      return;
    }
    if (name === 'tag') {
      onlyArguments(f, ['name']);
      const tagName = out.stringArg(f, 'name');
      const t = out.alias('t');
      out.pieces.push('coalesce((select ');
      tag(out, fieldsOf(f.selectionSet), t);
      out.pieces.push(` from tags ${t} where ${t}.stream_id = ${s}.id and ${t}.name = `);
      out.pieces.push(tagName);
      out.pieces.push(" limit 1), 'null')");
      return;
    }
    if (name === 'lookupPolicy') {
      const policy = fieldsOf(f.selectionSet);
      if ((f.arguments?.length ?? 0) > 0) unsupported('arguments of lookupPolicy');
      object(out, policy, 'ImageLookupPolicy', (p) => {
        leaf(p);
        if (p.name.value !== 'local') unsupported(`ImageLookupPolicy.${p.name.value}`);
        out.pieces.push(`${s}.lookup_local::text`);
      });
      return;
    }
    leaf(f);
    if (name === 'namespace' || name === 'name') out.pieces.push(str(`${s}.${name}`));
    else if (name === 'id') out.pieces.push(globalId('ImageStream', `${s}.id`));
    else if (name === 'generation') out.pieces.push(num(`${s}.generation`));
    else if (name === 'resourceVersion') out.pieces.push(str(`${s}.resource_version::text`));
    else if (name === 'dockerImageRepository') out.pieces.push(str(`${s}.docker_image_repository`));
    else if (name === 'uniqueImageCount') {
      out.pieces.push(
        `(select count(*)::int from stream_images si where si.stream_id = ${s}.id)::text`,
      );
    } else unsupported(`ImageStream.${name}`);
  });
}

function rootField(out: Out, field: FieldNode, namespaces: ParamSource[]): void {
  const name = field.name.value;
  if (name === 'imageStream') {
    onlyArguments(field, ['namespace', 'name']);
    const namespace = out.stringArg(field, 'namespace');
    const streamName = out.stringArg(field, 'name');
    namespaces.push(namespace);
    const s = out.alias('s');
    out.pieces.push('coalesce((select ');
    stream(out, fieldsOf(field.selectionSet), s);
    out.pieces.push(` from image_streams ${s} where ${s}.namespace = `);
    out.pieces.push(namespace);
    out.pieces.push(` and ${s}.name = `);
    out.pieces.push(streamName);
    out.pieces.push("), 'null')");
    return;
  }
  if (name === 'imageStreams') {
    onlyArguments(field, ['namespace', 'first']);
    const namespace = out.stringArg(field, 'namespace');
    namespaces.push(namespace);
    connection(
      out,
      field,
      'QueryImageStreamsConnection',
      (nodeFields, s) => stream(out, nodeFields, s),
      (s, limit) => {
        out.pieces.push(`select * from image_streams ${s} where ${s}.namespace = `);
        out.pieces.push(namespace);
        out.pieces.push(
          ` order by ${s}.namespace, ${s}.name${limit === null ? '' : ` limit ${limit}`}`,
        );
      },
      (s) => `${s}.name`,
    );
    return;
  }
  unsupported(`Query.${name}`);
}

/**
 * The compiled statement of a document's one query operation, or null with the reason when the
 * document asks for anything outside what this compiler covers (that document then always
 * takes the ordinary path).
 */
export function compileRead(
  document: DocumentNode,
): { compiled: CompiledRead } | { unsupported: string } {
  try {
    if (document.definitions.length !== 1) unsupported('more than one definition');
    const operation = document.definitions[0]!;
    if (operation.kind !== Kind.OPERATION_DEFINITION || operation.operation !== 'query') {
      unsupported('not a query');
    }
    if ((operation.directives?.length ?? 0) > 0) unsupported('operation directives');
    const out = new Out(operation);
    const namespaces: ParamSource[] = [];
    object(out, fieldsOf(operation.selectionSet), 'Query', (field) =>
      rootField(out, field, namespaces),
    );
    const variables = new Set<string>();
    for (const piece of out.pieces) {
      if (typeof piece !== 'string' && 'variable' in piece) variables.add(piece.variable);
    }
    // A declared variable the statement does not read could still fail the ordinary path's
    // checks; such documents stay there.
    for (const definition of operation.variableDefinitions ?? []) {
      if (!variables.has(definition.variable.name.value)) unsupported('an unused variable');
    }
    return {
      compiled: {
        data: out.pieces,
        namespaces,
        variables,
        operationName: operation.name?.value ?? null,
      },
    };
  } catch (error) {
    if (error instanceof Unsupported) return { unsupported: error.message };
    throw error;
  }
}
