// Request limits enforced before execution: body size, page sizes (at most 100), the operation's
// cost with its variables, query shape (depth, aliases, tokens, directives) and, when switched
// off, introspection; each refusal with its code and the spec's HTTP status.
import { EnvelopArmor } from '@escape.tech/graphql-armor';
import {
  type ArgumentNode,
  type ASTNode,
  type ASTVisitor,
  type DocumentNode,
  type ExecutionArgs,
  type ExecutionResult,
  GraphQLError,
  Kind,
  NoSchemaIntrospectionCustomRule,
  type ValidationContext,
  visit,
} from 'graphql';
import { maskError, type Plugin } from 'graphql-yoga';
import type { Logger } from 'pino';
import { MAX_PAGE_SIZE } from './builder.ts';
import { isDatabaseUnavailable } from './db/client.ts';
import { type CompiledCost, compileCost, evaluateCost, evaluateDeferred } from './queryCost.ts';

const DECLARED_LENGTH = /^\d+$/;

function bodyError(message: string, status: number, code: string): GraphQLError {
  return new GraphQLError(message, { extensions: { http: { status }, code } });
}

/**
 * A refusal of the whole request before execution, as the GraphQL-over-HTTP spec has it: HTTP
 * 400 for `application/graphql-response+json` requests, 200 for `application/json` ones (yoga
 * reads `http.spec` so), with a stable `code`.
 */
export function requestError(
  message: string,
  code: string,
  options: { nodes?: ASTNode | readonly ASTNode[]; extensions?: Record<string, unknown> } = {},
): GraphQLError {
  return new GraphQLError(message, {
    ...(options.nodes ? { nodes: options.nodes } : {}),
    extensions: { code, ...options.extensions, http: { status: 400, spec: true } },
  });
}

/**
 * The request body limit (TAGRAPH_MAX_BODY_BYTES), in place of yoga's own: yoga pipes every
 * body through a counting TransformStream, a large share of a small query's CPU, even when the
 * body's Content-Length settles the question. A declared length is checked up front (Node's
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

/** The arguments that size a page: `first`/`last`, and `@stream`'s items in the first payload. */
const PAGE_SIZE_ARGUMENTS = new Set(['first', 'last', 'initialCount']);

/** A `first`/`last` argument of a document: its literal value, or the variable that gives it. */
interface PageSizeArgument {
  node: ArgumentNode;
  literal?: number;
  variable?: string;
}

/**
 * Rejects `first`/`last` above MAX_PAGE_SIZE with a clear error instead of silently clamping
 * (Pothos clamps), so a script that asks for 500 learns it must page (`PAGE_SIZE_LIMIT`); a
 * negative one is `BAD_USER_INPUT`. Registered before queryCostLimit, whose price clamps page
 * sizes and would otherwise answer a huge page with the less helpful `QUERY_TOO_COSTLY`. The
 * document is walked once (yoga hands the same parsed document to every request of one query
 * text); each request only checks the arguments found, against its own variables. Queries,
 * mutations and subscriptions alike, over HTTP, SSE and graphql-ws.
 */
export function pageSizeLimit(): Plugin {
  const argumentsByDocument = new WeakMap<DocumentNode, PageSizeArgument[]>();
  const pageSizeArguments = (document: DocumentNode): PageSizeArgument[] => {
    let found = argumentsByDocument.get(document);
    if (!found) {
      const collected: PageSizeArgument[] = [];
      visit(document, {
        Argument(node) {
          if (!PAGE_SIZE_ARGUMENTS.has(node.name.value)) return;
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
      if (typeof value !== 'number') continue;
      if (value > MAX_PAGE_SIZE) {
        errors.push(
          requestError(
            `Argument "${node.name.value}" is ${value}: a page holds at most ${MAX_PAGE_SIZE} items; use the cursor to fetch more`,
            'PAGE_SIZE_LIMIT',
            { nodes: [node] },
          ),
        );
      } else if (value < 0) {
        errors.push(
          requestError(
            `Argument "${node.name.value}" is ${value}: a page size must be 0 or more`,
            'BAD_USER_INPUT',
            { nodes: [node], extensions: { field: node.name.value } },
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
 * The most deferred fragments (`@defer`) and streamed items (`@stream`) an operation may deliver
 * after its first payload, each counted once per item of the lists around it: one `@defer` in
 * each tag of a full page (100) passes; one in each tag of 20 streams' 20 tags (400) does not.
 */
export const MAX_DEFERRED = 200;

/**
 * Refuses an operation whose cost with its variables is above `maxCost`, before any resolver
 * runs (`QUERY_TOO_COSTLY`, as a GraphQL error like PAGE_SIZE_LIMIT). Each document is compiled
 * once per operation name; a request only evaluates the compiled cost with its variables.
 * Introspection costs nothing here (it is bounded, and switched off in production). Fields under
 * `@defer` cost as they would without it; an operation that may deliver more than `maxDeferred`
 * deferred fragments and streamed items is refused (`TOO_MANY_DEFERRED`) first.
 */
export function queryCostLimit(
  maxCost: number = MAX_QUERY_COST,
  maxDeferred: number = MAX_DEFERRED,
): Plugin {
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
    const variables = args.variableValues as Record<string, unknown>;
    const deferred = evaluateDeferred(operation, variables);
    if (deferred > maxDeferred) {
      return requestError(
        `The operation may deliver ${deferred} deferred fragments or streamed items, over the limit of ${maxDeferred}: defer around a list rather than inside it, or ask for smaller pages`,
        'TOO_MANY_DEFERRED',
        { extensions: { deferred, maxDeferred } },
      );
    }
    const cost = evaluateCost(operation, variables);
    if (cost <= maxCost) return null;
    return requestError(
      `Query cost ${Number.isFinite(cost) ? Math.round(cost) : 'unbounded'} is over the limit of ${maxCost}: ask for smaller pages (first/last) or fewer nested lists`,
      'QUERY_TOO_COSTLY',
      { extensions: { cost, maxCost } },
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
    maxDepth: { ...QUERY_LIMITS.maxDepth, ...refusedAs('QUERY_TOO_DEEP') },
    costLimit: QUERY_LIMITS.costLimit,
    maxAliases: { ...QUERY_LIMITS.maxAliases, ...refusedAs('TOO_MANY_ALIASES') },
    maxTokens: { ...QUERY_LIMITS.maxTokens, ...refusedAs('TOO_MANY_TOKENS') },
    maxDirectives: { ...QUERY_LIMITS.maxDirectives, ...refusedAs('TOO_MANY_DIRECTIVES') },
    blockFieldSuggestion: { enabled: hideSuggestions },
  }).protect().plugins as Plugin[];
}

/**
 * graphql-armor's options that turn its rejection ("Syntax Error: …", no code, thrown out of
 * validation so yoga answers 200 even to `application/graphql-response+json`) into an error
 * with `code`: a validation error, reported like any other (yoga adds its HTTP status), or, for
 * the token limit, which armor checks while parsing, a parse error (the same).
 */
function refusedAs(code: string) {
  return {
    propagateOnRejection: false,
    onReject: [
      (context: ValidationContext | null, rejection: GraphQLError) => {
        const error = new GraphQLError(rejection.message.replace(/^Syntax Error: /, ''), {
          extensions: { code },
        });
        if (!context) throw error;
        context.reportError(error);
      },
    ],
  };
}

/**
 * Variable values that do not fit their types (a string for an Int, an input field the type
 * does not have) are refused before execution with no code, and with HTTP 400 even for
 * `application/json`: they get `BAD_USER_INPUT` and the spec's status (requestError).
 */
export function typedVariableErrors(): Plugin {
  const typed = (result: ExecutionResult): ExecutionResult | null => {
    if (result.data !== undefined || !result.errors?.length) return null;
    if (!result.errors.some(isUncodedRequestError)) return null;
    return {
      ...result,
      errors: result.errors.map((error) =>
        isUncodedRequestError(error)
          ? new GraphQLError(error.message, {
              nodes: error.nodes,
              source: error.source,
              positions: error.positions,
              path: error.path,
              originalError: error.originalError,
              extensions: {
                ...error.extensions,
                code: 'BAD_USER_INPUT',
                http: { status: 400, spec: true },
              },
            })
          : error,
      ),
    };
  };
  const onDone = ({
    result,
    setResult,
  }: {
    result: unknown;
    setResult: (result: ExecutionResult) => void;
  }) => {
    if (!result || typeof result !== 'object' || Symbol.asyncIterator in result) return;
    const replaced = typed(result as ExecutionResult);
    if (replaced) setResult(replaced);
  };
  return {
    onExecute: () => ({ onExecuteDone: onDone }),
    onSubscribe: () => ({ onSubscribeResult: onDone }),
  };
}

/** An error the executor returned for the request as a whole (HTTP 400), without a code. */
function isUncodedRequestError(error: GraphQLError): boolean {
  const extensions = error.extensions as { code?: unknown; http?: { status?: number } };
  return extensions.code === undefined && extensions.http?.status === 400;
}

/** Turns schema introspection off (production: the schema is published as schema.graphql). */
export function noIntrospection(): Plugin {
  return {
    onValidate({ addValidationRule }) {
      addValidationRule(NoSchemaIntrospectionCustomRule);
    },
  };
}

/** The code of every error the server masks: a failure of its own, not of the request. */
export const INTERNAL_ERROR_CODE = 'INTERNAL_SERVER_ERROR';

/**
 * yoga's error masking, except that a database out of reach (no pool connection within the
 * acquire timeout, no connection at all) is told as such: `DATABASE_UNAVAILABLE`, HTTP 503, so
 * clients and load balancers can retry elsewhere or later instead of seeing a bare 500. Every
 * error it masks carries `extensions.code` INTERNAL_ERROR_CODE, set here rather than left to
 * yoga's default, so clients and tests match on the code, never on the masked message.
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
  const masked = maskError(error, message, isDev);
  if (masked === error || !(masked instanceof GraphQLError)) return masked;
  return new GraphQLError(masked.message, {
    nodes: masked.nodes,
    source: masked.source,
    positions: masked.positions,
    path: masked.path,
    extensions: { ...masked.extensions, code: INTERNAL_ERROR_CODE },
  });
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

/**
 * Refuses `@defer` and `@stream` in subscriptions (`DEFER_IN_SUBSCRIPTION`), over every
 * transport: each event would become several payloads, which subscription groups (one result
 * serialized for all members) and clients reading one result per event do not expect. The same
 * rule as graphql-js 17's; `if: false` written in the document is allowed.
 */
export function noIncrementalSubscriptions(): Plugin {
  const rule = (context: ValidationContext): ASTVisitor => ({
    OperationDefinition(operation) {
      if (operation.operation !== 'subscription') return false;
      const parts: ASTNode[] = [operation, ...context.getRecursivelyReferencedFragments(operation)];
      for (const part of parts) {
        visit(part, {
          Directive(node) {
            if (node.name.value !== 'defer' && node.name.value !== 'stream') return;
            const condition = node.arguments?.find((a) => a.name.value === 'if');
            if (condition?.value.kind === Kind.BOOLEAN && !condition.value.value) return;
            context.reportError(
              new GraphQLError(
                `@${node.name.value} is not supported in subscriptions: each event is delivered whole`,
                { nodes: [node], extensions: { code: 'DEFER_IN_SUBSCRIPTION' } },
              ),
            );
          },
        });
      }
      return false;
    },
  });
  return {
    onValidate({ addValidationRule }) {
      addValidationRule(rule);
    },
  };
}
