// The CLI's `graphql()`: documents checked against schema/schema.graphql, their results and
// variables typed from it (schema/graphql-env.d.ts, written by `npm run schema:print`).

import { createHash } from 'node:crypto';
import {
  type ASTNode,
  type DocumentNode,
  type FieldNode,
  Kind,
  type OperationDefinitionNode,
  print,
  visit,
} from '@0no-co/graphql.web';
import { initGraphQLTada, type ResultOf, type TadaDocumentNode, type VariablesOf } from 'gql.tada';
import type { introspection } from '../../schema/graphql-env.d.ts';

export type { ResultOf, VariablesOf } from 'gql.tada';

/**
 * Fragments are not masked: a fragment's fields appear in the result of every document that
 * spreads it, as if they were written there.
 */
export const graphql = initGraphQLTada<{
  introspection: introspection;
  scalars: { DateTime: string };
  disableMasking: true;
}>();

// biome-ignore lint/suspicious/noExplicitAny: any document, whatever its result and variables
export type AnyDocument = TadaDocumentNode<any, any>;

const texts = new WeakMap<DocumentNode, string>();

/** The document as the request body's `query`, printed once. */
export function documentText(document: DocumentNode): string {
  let text = texts.get(document);
  if (text === undefined) {
    text = print(document);
    texts.set(document, text);
  }
  return text;
}

/**
 * The lowercase hex SHA-256 of the document's text: the persisted-document hash the CLI sends
 * (and the key of its manifest, dist/cli-documents.json).
 */
export function textHash(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

function operationOf(document: DocumentNode): OperationDefinitionNode {
  const operations = document.definitions.filter(
    (d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION,
  );
  if (operations.length !== 1 || operations[0]!.selectionSet.selections.length !== 1) {
    throw new Error('a document with one operation of one root field was expected');
  }
  return operations[0]!;
}

/**
 * A document whose one root field a request asks for several times, each copy under its own
 * alias (`<alias><i>`) with its own variables (`<name><i>`) except the `shared` ones.
 */
export interface Copies<D extends AnyDocument, S extends keyof VariablesOf<D> = never> {
  document: D;
  /** The most copies one request holds: the largest document the server is sent. */
  max: number;
  alias: string;
  shared: readonly S[];
}

export function copies<
  D extends AnyDocument,
  const S extends keyof VariablesOf<D> & string = never,
>(document: D, options: { max: number; alias: string; shared: readonly S[] }): Copies<D, S> {
  operationOf(document);
  return { document, ...options };
}

const copiedDocuments = new WeakMap<object, Map<number, DocumentNode>>();

/** `spec`'s document with `count` copies of its root field (built once per count). */
export function copiedDocument(spec: Copies<AnyDocument, string>, count: number): DocumentNode {
  let byCount = copiedDocuments.get(spec);
  if (!byCount) {
    byCount = new Map();
    copiedDocuments.set(spec, byCount);
  }
  let document = byCount.get(count);
  if (!document) {
    document = buildCopies(spec, count);
    byCount.set(count, document);
  }
  return document;
}

function buildCopies(spec: Copies<AnyDocument, string>, count: number): DocumentNode {
  const operation = operationOf(spec.document);
  const shared = new Set<string>(spec.shared);
  const own = (operation.variableDefinitions ?? []).filter(
    (v) => !shared.has(v.variable.name.value),
  );
  const renamed = <T extends ASTNode>(node: T, i: number): T =>
    visit(node, {
      Variable: (variable) =>
        shared.has(variable.name.value)
          ? undefined
          : { ...variable, name: { ...variable.name, value: `${variable.name.value}${i}` } },
    });
  const indices = Array.from({ length: count }, (_, i) => i);
  const field = operation.selectionSet.selections[0] as FieldNode;
  const copied: OperationDefinitionNode = {
    ...operation,
    variableDefinitions: [
      ...(operation.variableDefinitions ?? []).filter((v) => shared.has(v.variable.name.value)),
      ...indices.flatMap((i) => own.map((v) => renamed(v, i))),
    ],
    selectionSet: {
      ...operation.selectionSet,
      selections: indices.map((i) => ({
        ...renamed(field, i),
        alias: { kind: Kind.NAME, value: `${spec.alias}${i}` },
      })),
    },
  };
  return {
    ...spec.document,
    definitions: spec.document.definitions.map((d) => (d === operation ? copied : d)),
  };
}

/** The variables of copiedDocument(spec, each.length): the shared ones, then copy i's `each[i]`. */
export function copiedVariables<D extends AnyDocument, S extends keyof VariablesOf<D>>(
  shared: Pick<VariablesOf<D>, S>,
  each: readonly Omit<VariablesOf<D>, S>[],
): Record<string, unknown> {
  const variables: Record<string, unknown> = { ...shared };
  each.forEach((item, i) => {
    for (const [name, value] of Object.entries(item)) variables[`${name}${i}`] = value;
  });
  return variables;
}

/** The result of one copy: what the document's root field returns. */
export type CopyResult<D extends AnyDocument> = ResultOf<D>[keyof ResultOf<D>];
