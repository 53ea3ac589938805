// Request limits enforced before execution: body size, page sizes (DESIGN.md §4: at most 100),
// query shape (depth, cost, aliases, tokens, directives) and, when switched off, introspection.
import { EnvelopArmor } from '@escape.tech/graphql-armor';
import {
  type ArgumentNode,
  type DocumentNode,
  GraphQLError,
  Kind,
  NoSchemaIntrospectionCustomRule,
  visit,
} from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { MAX_PAGE_SIZE } from './builder.ts';

const DECLARED_LENGTH = /^\d+$/;

function bodyError(message: string, status: number, code: string): GraphQLError {
  return new GraphQLError(message, { extensions: { http: { status }, code } });
}

/**
 * The request body limit (TAGRAPH_MAX_BODY_BYTES), in place of yoga's own: yoga pipes every
 * body through a counting TransformStream, which cost a sixth of a small query's CPU, even when
 * the body's Content-Length settles the question. A declared length is checked up front (Node's
 * HTTP parser never hands on more body than the length declares); only a body without one
 * (chunked), or one that is content-encoded, is counted as it streams.
 */
export function requestBodyLimit(limit: number): Plugin {
  const tooLarge = () => bodyError('Request body too large', 413, 'REQUEST_ENTITY_TOO_LARGE');
  return {
    onRequestParse({ request, requestParser, setRequestParser, fetchAPI }) {
      const declared = request.headers.get('content-length');
      if (declared != null) {
        if (!DECLARED_LENGTH.test(declared)) {
          throw bodyError('Content-Length header is invalid.', 400, 'BAD_REQUEST');
        }
        if (Number(declared) > limit) throw tooLarge();
        const encoding = request.headers.get('content-encoding');
        if (!encoding || encoding === 'identity') return;
      }
      if (!requestParser || !request.body) return;
      setRequestParser((original) => {
        const body = original.body;
        if (!body) return requestParser(original);
        let bytes = 0;
        // A Node request's body is a native stream; the fetch ponyfill's stream wants its own kind.
        const Transform =
          body instanceof ReadableStream ? globalThis.TransformStream : fetchAPI.TransformStream;
        const counted = body.pipeThrough(
          new Transform<Uint8Array, Uint8Array>({
            transform(chunk, controller) {
              bytes += chunk.byteLength;
              if (bytes > limit) controller.error(tooLarge());
              else controller.enqueue(chunk);
            },
          }),
        );
        return requestParser(
          new fetchAPI.Request(original.url, {
            method: original.method,
            headers: original.headers,
            signal: original.signal,
            body: counted,
            duplex: 'half',
          } as RequestInit),
        );
      });
    },
  };
}

/** A `first`/`last` argument of a document: its literal value, or the variable that gives it. */
interface PageSizeArgument {
  node: ArgumentNode;
  literal?: number;
  variable?: string;
}

/**
 * Rejects `first`/`last` above MAX_PAGE_SIZE with a clear error instead of silently clamping
 * (Pothos clamps), so a script that asks for 500 learns it must page. The document is walked
 * once (yoga hands the same parsed document to every request of one query text); each request
 * only checks the arguments found, against its own variables.
 */
export function pageSizeLimit(): Plugin {
  const argumentsByDocument = new WeakMap<DocumentNode, PageSizeArgument[]>();
  const pageSizeArguments = (document: DocumentNode): PageSizeArgument[] => {
    let found = argumentsByDocument.get(document);
    if (!found) {
      const collected: PageSizeArgument[] = [];
      visit(document, {
        Argument(node) {
          if (node.name.value !== 'first' && node.name.value !== 'last') return;
          if (node.value.kind === Kind.INT) {
            collected.push({ node, literal: Number(node.value.value) });
          } else if (node.value.kind === Kind.VARIABLE) {
            collected.push({ node, variable: node.value.name.value });
          }
        },
      });
      found = collected;
      argumentsByDocument.set(document, found);
    }
    return found;
  };
  return {
    onExecute({ args, setResultAndStopExecution }) {
      const variables = (args.variableValues ?? {}) as Record<string, unknown>;
      const errors: GraphQLError[] = [];
      for (const { node, literal, variable } of pageSizeArguments(args.document)) {
        const value = variable === undefined ? literal : variables[variable];
        if (typeof value === 'number' && value > MAX_PAGE_SIZE) {
          errors.push(
            new GraphQLError(
              `Argument "${node.name.value}" is ${value}: a page holds at most ${MAX_PAGE_SIZE} items; use the cursor to fetch more`,
              { nodes: [node], extensions: { code: 'PAGE_SIZE_LIMIT' } },
            ),
          );
        }
      }
      if (errors.length > 0) setResultAndStopExecution({ errors });
    },
  };
}

/**
 * Query shape limits (graphql-armor): depth 15; 30 aliases; 3 000 tokens; 20 directives; and a
 * cost of at most 100 000, where a field costs 1, an object 2, and a connection's cost is
 * multiplied by its literal `first`/`last` — so it estimates the fields resolved. A page of 20
 * streams × 20 tags × 5 history items with image metadata (the tag-graph benchmark) costs ~42 000
 * and passes; 100 × 100 × 100 does not. No extra factor per level: the multipliers already grow
 * with nesting (armor's default 1.5 per level refused that page at 76 000 of 5 000).
 * Introspection is exempt from depth and cost (GraphiQL's is deep but bounded).
 */
export const QUERY_LIMITS = {
  maxDepth: { n: 15, ignoreIntrospection: true, flattenFragments: true },
  costLimit: {
    maxCost: 100_000,
    objectCost: 2,
    scalarCost: 1,
    depthCostFactor: 1,
    ignoreIntrospection: true,
  },
  maxAliases: { n: 30 },
  maxTokens: { n: 3000 },
  maxDirectives: { n: 20 },
} as const;

export function queryShapeLimits(hideSuggestions: boolean): Plugin[] {
  return new EnvelopArmor({
    ...QUERY_LIMITS,
    blockFieldSuggestion: { enabled: hideSuggestions },
  }).protect().plugins as Plugin[];
}

/** Turns schema introspection off (production: the schema is published as schema.graphql). */
export function noIntrospection(): Plugin {
  return {
    onValidate({ addValidationRule }) {
      addValidationRule(NoSchemaIntrospectionCustomRule);
    },
  };
}
