// Compiles a read document over the tag graph into one SQL statement that returns the response's
// `data` as JSON text built by Postgres; null for any document it does not fully cover.
import { type DocumentNode, type FieldNode, type FragmentDefinitionNode, Kind } from 'graphql';
import { adminRootField } from './adminLists.ts';
import { tagEvents } from './events.ts';
import {
  imageByDigest,
  listField,
  namespace,
  policyFallback,
  STREAMS,
  stream,
  tag,
} from './graph.ts';
import {
  type CursorOrdering,
  connection,
  type FilterSource,
  fieldsOf,
  type ListSpec,
  leaf,
  Out,
  object,
  objectOf,
  onlyArguments,
  type ParamSource,
  type Piece,
  type RoleNeed,
  str,
  Unsupported,
  unsupported,
} from './statement.ts';

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

/** The namespaces a caller may read, by name (the drizzle plugin's own cursor of the name). */
const NAMESPACE_LIST: ListSpec = {
  typename: 'QueryNamespacesConnection',
  edgeTypename: 'QueryNamespacesConnectionEdge',
  nodeTypename: 'Namespace',
  ordering: { list: false, name: 'namespaces' },
};
/** `<stream>@<full digest>` without a namespace part, the image ref the statement looks up. */
const FULL_DIGEST_REF = `'^[^/:@]+@sha256:[0-9a-f]{64}$'`;

/** `<stream>:<tag>` without a namespace part, the one ref shape the statement looks up. */
const PLAIN_TAG_REF = `'^[^/:@]+:[^/:@]+$'`;
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
    if (error instanceof Unsupported) {
      return { unsupported: error.message };
    }
    throw error;
  }
}
