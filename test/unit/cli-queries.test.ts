// Every document the CLI sends (all of src/cli/documents.ts) is valid against the printed schema
// and inside the server's query limits (query cost, graphql-armor depth, aliases, tokens), the
// ones sent several times per request at their largest; and no document is written elsewhere.
import { readdirSync, readFileSync } from 'node:fs';
import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import {
  buildSchema,
  type DocumentNode,
  type GraphQLError,
  Kind,
  parse,
  specifiedRules,
  validate,
} from 'graphql';
import { describe, expect, it } from 'vitest';
import * as documents from '../../src/cli/documents.ts';
import {
  type AnyDocument,
  type Copies,
  copiedDocument,
  documentText,
} from '../../src/cli/graphql.ts';
import { MAX_QUERY_COST, QUERY_LIMITS } from '../../src/limits.ts';
import { compileCost, evaluateCost } from '../../src/queryCost.ts';

const schema = buildSchema(
  readFileSync(new URL('../../schema/schema.graphql', import.meta.url), 'utf8'),
);

function isDocument(value: unknown): value is DocumentNode {
  return (value as DocumentNode | null)?.kind === Kind.DOCUMENT;
}

function isCopies(value: unknown): value is Copies<AnyDocument, string> {
  const spec = value as Copies<AnyDocument, string> | null;
  return typeof spec === 'object' && spec !== null && isDocument(spec.document);
}

const hasOperation = (document: DocumentNode) =>
  document.definitions.some((d) => d.kind === Kind.OPERATION_DEFINITION);

/** Every request body the CLI can send: each operation, and each copied one at its most copies. */
const SENT: [string, string][] = Object.entries(documents).flatMap(
  ([name, value]): [string, string][] => {
    if (isDocument(value)) return hasOperation(value) ? [[name, documentText(value)]] : [];
    if (isCopies(value)) {
      return [
        [name, documentText(value.document)],
        [`${name} × ${value.max}`, documentText(copiedDocument(value, value.max))],
      ];
    }
    return [];
  },
);

/** What the server's cost limit prices a document at, its variables omitted (default pages). */
function costOf(document: DocumentNode): number {
  return evaluateCost(compileCost(schema, document)!, {});
}

/** Why the server would refuse `text`, or why it is too close to its cost limit; [] if none. */
function problemsOf(text: string): string[] {
  let document: DocumentNode;
  try {
    document = parse(text, { maxTokens: QUERY_LIMITS.maxTokens.n });
  } catch (error) {
    return [(error as Error).message];
  }
  const invalid = validate(schema, document, specifiedRules).map((e) => e.message);
  if (invalid.length > 0) return invalid;
  const shape: string[] = [];
  try {
    validate(schema, document, [
      maxDepthRule({ ...QUERY_LIMITS.maxDepth, propagateOnRejection: false, onReject: [fail] }),
      maxAliasesRule({ ...QUERY_LIMITS.maxAliases, propagateOnRejection: false, onReject: [fail] }),
    ]);
  } catch (error) {
    shape.push((error as Error).message);
  }
  const cost = costOf(document);
  const costly =
    cost > 0 && cost < MAX_QUERY_COST * 0.8
      ? []
      : [`costs ${cost}, not within 0 and 80 % of the limit ${MAX_QUERY_COST}`];
  return [...shape, ...costly];
}

function fail(_context: unknown, error: GraphQLError): void {
  throw error;
}

describe('the CLI’s documents', () => {
  it('are all found in src/cli/documents.ts', () => {
    const names = SENT.map(([name]) => name);
    // A sample of every kind: queries, a subscription, mutations, copied ones.
    expect(names).toEqual(
      expect.arrayContaining(['STREAM', 'TAG_CHANGED', 'PRUNE', 'HISTORY × 5', 'APPLY_TAG × 8']),
    );
    expect(names.length).toBeGreaterThanOrEqual(25);
  });

  it('every export of src/cli/documents.ts is a document, copies of one, or a number', () => {
    const unknown = Object.entries(documents)
      .filter(([, value]) => !isDocument(value) && !isCopies(value) && typeof value !== 'number')
      .map(([name]) => name);
    expect(unknown).toEqual([]);
  });

  it('every fragment is spread by an operation', () => {
    const fragments = Object.values(documents)
      .filter(isDocument)
      .filter((d) => !hasOperation(d))
      .flatMap((d) =>
        d.definitions.flatMap((f) => (f.kind === Kind.FRAGMENT_DEFINITION ? [f.name.value] : [])),
      );
    const spread = new Set(
      SENT.flatMap(([, text]) => [...text.matchAll(/\.\.\.(\w+)/g)].map((m) => m[1])),
    );
    expect(fragments.filter((f) => !spread.has(f))).toEqual([]);
  });

  it('are written in no other file of src/cli', () => {
    const root = new URL('../../src/cli/', import.meta.url);
    const files = readdirSync(root, { recursive: true, encoding: 'utf8' }).filter(
      (f) => /\.[jt]s$/.test(f) && f !== 'documents.ts' && f !== 'graphql.ts',
    );
    expect(files.length).toBeGreaterThan(20);
    const writing = files.filter((f) => {
      const source = readFileSync(new URL(f, root), 'utf8');
      return (
        /\bgraphql\(/.test(source) ||
        /`\s*(query|mutation|subscription)\s*(\w+\s*)?[({]/.test(source)
      );
    });
    expect(writing).toEqual([]);
  });
});

describe.each(SENT)('%s', (_name, text) => {
  it('is valid against schema/schema.graphql and inside the server’s limits', () => {
    expect(problemsOf(text)).toEqual([]);
  });
});

describe('the checks', () => {
  it('catch a field the schema does not have', () => {
    expect(problemsOf('query { imageStream(namespace: "a", name: "b") { colour } }')).toEqual([
      'Cannot query field "colour" on type "ImageStream".',
    ]);
  });

  it('catch a document over a fifth short of the cost limit', () => {
    const text = `query { imageStream(namespace: "a", name: "b") { tags(first: 100) { nodes {
      history(first: 100) { nodes { image { digest layers { digest } } } } } } } }`;
    expect(problemsOf(text)).toEqual([expect.stringMatching(/^costs \d+, not within/)]);
  });

  it('catch a document deeper than the server allows', () => {
    const followers = (depth: number): string =>
      depth === 0 ? 'name' : `followers { ${followers(depth - 1)} }`;
    const text = `query { imageStream(namespace: "a", name: "b") { tag(name: "c") { ${followers(15)} } } }`;
    expect(problemsOf(text)).toEqual(
      expect.arrayContaining([expect.stringContaining('Query depth limit of 15 exceeded')]),
    );
  });

  it('catch too many aliases', () => {
    const aliases = Array.from(
      { length: 31 },
      (_, i) => `a${i}: imageStream(namespace: "a", name: "b") { name }`,
    ).join(' ');
    expect(problemsOf(`query { ${aliases} }`)).toEqual([expect.stringContaining('Aliases limit')]);
  });
});
