// Request limits enforced before execution: body size, page sizes (at most 100), the operation's
// cost with its variables, query shape (depth, aliases, tokens, directives) and, when switched
// off, introspection.
import { EnvelopArmor } from '@escape.tech/graphql-armor';
import {
  type ArgumentNode,
  type DocumentNode,
  type ExecutionArgs,
  GraphQLError,
  Kind,
  NoSchemaIntrospectionCustomRule,
  visit,
} from 'graphql';
import { maskError, type Plugin } from 'graphql-yoga';
import type { Logger } from 'pino';
import { MAX_PAGE_SIZE } from './builder.ts';
import { isDatabaseUnavailable } from './db/client.ts';
import { type CompiledCost, compileCost, evaluateCost } from './queryCost.ts';

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
 * only checks the arguments found, against its own variables. Queries, mutations and
 * subscriptions alike, over HTTP, SSE and graphql-ws.
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
  const check = (args: ExecutionArgs): GraphQLError[] => {
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
    return errors;
  };
  return {
    onExecute({ args, setResultAndStopExecution }) {
      const errors = check(args);
      if (errors.length > 0) setResultAndStopExecution({ errors });
    },
    onSubscribe({ args, setResultAndStopExecution }) {
      const errors = check(args);
      if (errors.length > 0) setResultAndStopExecution({ errors });
    },
  };
}

/**
 * The largest cost (src/queryCost.ts) an operation may have with its variables: a field costs 1,
 * an object 2, and whatever sits under a page or list is multiplied by its size — `first`/`last`
 * from the document or its variables, the field's default page when omitted, the ids given to
 * `nodes`, 5 for lists without paging. So it bounds the objects a request may resolve. A page of
 * 20 streams × 20 tags × 5 history items with image metadata (the tag-graph benchmark) passes;
 * 100 × 100 × 100, or the same connections nested without `first` (20 × 20 × 20 with images and
 * layers), do not.
 */
export const MAX_QUERY_COST = 100_000;

/**
 * Refuses an operation whose cost with its variables is above `maxCost`, before any resolver
 * runs (`QUERY_TOO_COSTLY`, as a GraphQL error like PAGE_SIZE_LIMIT). Each document is compiled
 * once per operation name; a request only evaluates the compiled cost with its variables.
 * Introspection costs nothing here (it is bounded, and switched off in production).
 */
export function queryCostLimit(maxCost: number = MAX_QUERY_COST): Plugin {
  const compiledByDocument = new WeakMap<DocumentNode, Map<string, CompiledCost | null>>();
  const compiled = (args: ExecutionArgs): CompiledCost | null => {
    let byOperation = compiledByDocument.get(args.document);
    if (!byOperation) {
      byOperation = new Map();
      compiledByDocument.set(args.document, byOperation);
    }
    const key = args.operationName ?? '';
    let found = byOperation.get(key);
    if (found === undefined) {
      found = compileCost(args.schema, args.document, args.operationName);
      byOperation.set(key, found);
    }
    return found;
  };
  const check = (args: ExecutionArgs): GraphQLError | null => {
    const operation = compiled(args);
    if (!operation) return null;
    const cost = evaluateCost(operation, args.variableValues as Record<string, unknown>);
    if (cost <= maxCost) return null;
    return new GraphQLError(
      `Query cost ${Number.isFinite(cost) ? Math.round(cost) : 'unbounded'} is over the limit of ${maxCost}: ask for smaller pages (first/last) or fewer nested lists`,
      { extensions: { code: 'QUERY_TOO_COSTLY', cost, maxCost } },
    );
  };
  return {
    onExecute({ args, setResultAndStopExecution }) {
      const error = check(args);
      if (error) setResultAndStopExecution({ errors: [error] });
    },
    onSubscribe({ args, setResultAndStopExecution }) {
      const error = check(args);
      if (error) setResultAndStopExecution({ errors: [error] });
    },
  };
}

/**
 * Query shape limits (graphql-armor): depth 15; 30 aliases; 3 000 tokens; 20 directives.
 * Introspection is exempt from depth (GraphiQL's is deep but bounded). armor's cost limit is off:
 * it sees only literal `first` values and no list types; queryCostLimit prices the operation
 * with its variables instead.
 */
export const QUERY_LIMITS = {
  maxDepth: { n: 15, ignoreIntrospection: true, flattenFragments: true },
  costLimit: { enabled: false },
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

/**
 * yoga's error masking, except that a database out of reach (no pool connection within the
 * acquire timeout, no connection at all) is told as such: `DATABASE_UNAVAILABLE`, HTTP 503, so
 * clients and load balancers can retry elsewhere or later instead of seeing a bare 500.
 */
export function maskErrorsExceptUnavailable(
  error: unknown,
  message: string,
  isDev?: boolean,
): Error {
  const original = error instanceof GraphQLError ? (error.originalError ?? error) : error;
  if (isDatabaseUnavailable(original)) {
    return new GraphQLError('the database is unavailable; try again later', {
      nodes: error instanceof GraphQLError ? error.nodes : undefined,
      path: error instanceof GraphQLError ? error.path : undefined,
      extensions: { code: 'DATABASE_UNAVAILABLE', http: { status: 503 } },
    });
  }
  return maskError(error, message, isDev);
}

/**
 * `plugins` whose onRequest hooks (authentication and the registry push endpoint read the
 * database before any GraphQL runs) answer their own failures: a database outage with a 503
 * (`DATABASE_UNAVAILABLE`), anything else with a 500 (`INTERNAL_SERVER_ERROR`) after logging it.
 * Without this the error reaches the HTTP adapter, whose answer is the error's stack, SQL text
 * included.
 */
export function answeringHookFailures(plugins: Plugin[], log: Logger): Plugin[] {
  return plugins.map((plugin) => {
    const onRequest = plugin.onRequest;
    if (!onRequest) return plugin;
    return {
      ...plugin,
      async onRequest(payload) {
        try {
          await onRequest(payload);
        } catch (error) {
          payload.endResponse(hookFailureResponse(error, log));
        }
      },
    };
  });
}

function hookFailureResponse(error: unknown, log: Logger): Response {
  if (isDatabaseUnavailable(error)) {
    return Response.json(
      {
        errors: [
          {
            message: 'the database is unavailable; try again later',
            extensions: { code: 'DATABASE_UNAVAILABLE' },
          },
        ],
      },
      { status: 503, headers: { 'retry-after': '5' } },
    );
  }
  log.error({ err: error }, 'a request hook failed');
  return Response.json(
    { errors: [{ message: 'internal error', extensions: { code: 'INTERNAL_SERVER_ERROR' } }] },
    { status: 500 },
  );
}
