// The cost of an operation with its variables: the objects and fields it may resolve, and the
// deferred deliveries it may make, multiplied out over nested pages and lists. Compiled once per
// document, evaluated per request.
import {
  type ArgumentNode,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type FragmentSpreadNode,
  type GraphQLCompositeType,
  type GraphQLField,
  type GraphQLSchema,
  getNamedType,
  getNullableType,
  getOperationAST,
  type InlineFragmentNode,
  isCompositeType,
  isInterfaceType,
  isListType,
  isObjectType,
  Kind,
  type SelectionSetNode,
  type ValueNode,
  valueFromASTUntyped,
} from 'graphql';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from './builder.ts';

/** A leaf field (scalar, enum, or a list of them) costs this much. */
export const SCALAR_COST = 1;
/** An object costs this much on top of its fields. */
export const OBJECT_COST = 2;
/**
 * What a list without paging arguments is taken to hold (labels, layers, followers, role
 * bindings…): such lists are bounded by the data, not the request, so they get a fixed estimate.
 */
export const UNPAGED_LIST_ITEMS = 5;

/** Where an argument's value comes from: the document itself, or one of its variables. */
type ArgumentSource = { literal: unknown } | { variable: string };

/** How many items a list field contributes, once the variables are known. */
type ListSize =
  | { kind: 'fixed'; items: number }
  /** A page: `first`/`last` (clamped to MAX_PAGE_SIZE), the field's default page when omitted. */
  | { kind: 'page'; first?: ArgumentSource; last?: ArgumentSource; defaultItems: number }
  /** As many items as the list argument holds (`nodes(ids:)`). */
  | { kind: 'listArgument'; argument?: ArgumentSource };

/** A cost with a fixed part and parts multiplied by the size of a list. */
interface CostNode {
  fixed: number;
  /** Deferred fragments (`@defer`) and streamed items (`@stream`) here, each delivered apart. */
  deferred: number;
  terms: { size: ListSize | null; node: CostNode }[];
}

export interface CompiledCost {
  root: CostNode;
  /** Default values of the operation's variables (applied when a request omits them). */
  variableDefaults: Map<string, unknown>;
}

const INTROSPECTION_ROOTS = new Set(['__schema', '__type']);

/**
 * Compiles the cost of `operationName` in `document` (already validated against `schema`), or
 * null when there is no such operation. Fragments are compiled once and shared, so a document
 * that spreads a fragment many times compiles (and evaluates) in time linear in its size.
 */
export function compileCost(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName?: string | null,
): CompiledCost | null {
  const operation = getOperationAST(document, operationName);
  if (!operation) return null;
  const rootType = schema.getRootType(operation.operation);
  if (!rootType) return null;
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) {
      fragments.set(definition.name.value, definition);
    }
  }
  const compiledFragments = new Map<string, CostNode>();

  const sourceOf = (value: ValueNode): ArgumentSource =>
    value.kind === Kind.VARIABLE
      ? { variable: value.name.value }
      : { literal: valueFromASTUntyped(value) };

  const argumentSource = (node: FieldNode, name: string): ArgumentSource | undefined => {
    const argument = node.arguments?.find((a: ArgumentNode) => a.name.value === name);
    return argument ? sourceOf(argument.value) : undefined;
  };

  const listSize = (
    node: FieldNode,
    field: GraphQLField<unknown, unknown>,
    pageAlreadyCounted: boolean,
  ): ListSize | null => {
    const first = field.args.find((a) => a.name === 'first');
    const last = field.args.find((a) => a.name === 'last');
    if (first || last) {
      return {
        kind: 'page',
        first: argumentSource(node, 'first'),
        last: argumentSource(node, 'last'),
        defaultItems:
          typeof first?.defaultValue === 'number' ? first.defaultValue : DEFAULT_PAGE_SIZE,
      };
    }
    if (!isListType(getNullableType(field.type))) return null;
    // The edges and nodes of a page: the page's size is already counted on the paged field.
    if (pageAlreadyCounted) return null;
    const listArgument = field.args.find((a) => isListType(getNullableType(a.type)));
    if (listArgument) {
      return { kind: 'listArgument', argument: argumentSource(node, listArgument.name) };
    }
    return { kind: 'fixed', items: UNPAGED_LIST_ITEMS };
  };

  const compileSelections = (
    selectionSet: SelectionSetNode,
    parentType: GraphQLCompositeType,
    insidePage: boolean,
    into: CostNode,
  ): void => {
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.FIELD) {
        if (INTROSPECTION_ROOTS.has(selection.name.value)) continue;
        const field =
          isObjectType(parentType) || isInterfaceType(parentType)
            ? parentType.getFields()[selection.name.value]
            : undefined;
        const type = field ? getNamedType(field.type) : undefined;
        if (!field || !selection.selectionSet || !type || !isCompositeType(type)) {
          into.fixed += SCALAR_COST;
          // A streamed list of scalars: its items, as any list without paging is estimated.
          if (isIncremental(selection, 'stream')) into.deferred += UNPAGED_LIST_ITEMS;
          continue;
        }
        const size = listSize(selection, field, insidePage);
        const child: CostNode = { fixed: OBJECT_COST, deferred: 0, terms: [] };
        // Each item of a streamed list may come in a payload of its own.
        if (isIncremental(selection, 'stream')) child.deferred += 1;
        const paged = size?.kind === 'page' && !isListType(getNullableType(field.type));
        compileSelections(selection.selectionSet, type, paged, child);
        if (size) {
          into.terms.push({ size, node: child });
        } else {
          into.fixed += child.fixed;
          into.deferred += child.deferred;
          into.terms.push(...child.terms);
        }
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        if (isIncremental(selection, 'defer')) into.deferred += 1;
        const condition = selection.typeCondition
          ? schema.getType(selection.typeCondition.name.value)
          : parentType;
        const type = condition && isCompositeType(condition) ? condition : parentType;
        compileSelections(selection.selectionSet, type, insidePage, into);
      } else {
        if (isIncremental(selection, 'defer')) into.deferred += 1;
        const name = selection.name.value;
        const key = `${insidePage ? 'page:' : ''}${name}`;
        let compiled = compiledFragments.get(key);
        if (!compiled) {
          const fragment = fragments.get(name);
          compiled = { fixed: 0, deferred: 0, terms: [] };
          compiledFragments.set(key, compiled);
          if (fragment) {
            const condition = schema.getType(fragment.typeCondition.name.value);
            const type = condition && isCompositeType(condition) ? condition : parentType;
            compileSelections(fragment.selectionSet, type, insidePage, compiled);
          }
        }
        into.terms.push({ size: null, node: compiled });
      }
    }
  };

  const root: CostNode = { fixed: 0, deferred: 0, terms: [] };
  compileSelections(operation.selectionSet, rootType, false, root);
  const variableDefaults = new Map<string, unknown>();
  for (const definition of operation.variableDefinitions ?? []) {
    if (definition.defaultValue) {
      variableDefaults.set(
        definition.variable.name.value,
        valueFromASTUntyped(definition.defaultValue),
      );
    }
  }
  return { root, variableDefaults };
}

/** The cost of a compiled operation with these variables. */
export function evaluateCost(
  compiled: CompiledCost,
  variables: Record<string, unknown> | null | undefined,
): number {
  return evaluate(compiled, variables, (node) => node.fixed);
}

/**
 * How many deferred fragments and streamed items the operation may deliver after its first
 * payload, with these variables: each `@defer` or `@stream` counted once per item of the lists
 * around it (an upper bound: `if: false` given by a variable is still counted).
 */
export function evaluateDeferred(
  compiled: CompiledCost,
  variables: Record<string, unknown> | null | undefined,
): number {
  return evaluate(compiled, variables, (node) => node.deferred);
}

/** Whether a selection carries `@defer` (fragments) or `@stream` (fields), unless `if: false`. */
function isIncremental(
  selection: FieldNode | InlineFragmentNode | FragmentSpreadNode,
  directive: 'defer' | 'stream',
): boolean {
  const found = selection.directives?.find((d) => d.name.value === directive);
  if (!found) return false;
  const condition = found.arguments?.find((a) => a.name.value === 'if');
  return !(condition?.value.kind === Kind.BOOLEAN && condition.value.value === false);
}

/** The sum of `own` over the compiled nodes, multiplied out over the lists' sizes. */
function evaluate(
  compiled: CompiledCost,
  variables: Record<string, unknown> | null | undefined,
  own: (node: CostNode) => number,
): number {
  const values = variables ?? {};
  const argumentValue = (source: ArgumentSource | undefined): unknown => {
    if (!source) return undefined;
    if ('literal' in source) return source.literal;
    const given = values[source.variable];
    return given === undefined ? compiled.variableDefaults.get(source.variable) : given;
  };
  const pageItems = (value: unknown): number | null =>
    typeof value === 'number' && Number.isFinite(value)
      ? Math.min(Math.max(Math.trunc(value), 0), MAX_PAGE_SIZE)
      : null;
  const itemsOf = (size: ListSize): number => {
    switch (size.kind) {
      case 'fixed':
        return size.items;
      case 'page': {
        const first = pageItems(argumentValue(size.first));
        const last = pageItems(argumentValue(size.last));
        if (first === null && last === null) return size.defaultItems;
        return Math.max(first ?? 0, last ?? 0);
      }
      case 'listArgument': {
        const value = argumentValue(size.argument);
        return Array.isArray(value) ? value.length : value == null ? 0 : 1;
      }
    }
  };
  // Shared fragments are evaluated once per request.
  const memo = new Map<CostNode, number>();
  const costOf = (node: CostNode): number => {
    const known = memo.get(node);
    if (known !== undefined) return known;
    let total = own(node);
    for (const { size, node: child } of node.terms) {
      const items = size ? itemsOf(size) : 1;
      if (items > 0) total += items * costOf(child);
    }
    memo.set(node, total);
    return total;
  };
  return costOf(compiled.root);
}
