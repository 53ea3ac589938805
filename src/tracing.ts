// OpenTelemetry tracing, off unless configured: spans of HTTP requests (continuing an incoming
// W3C traceparent), GraphQL parse/validate/execute, SQL statements and registry requests.
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  type Attributes,
  context,
  propagation,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';
import { getOperationAST } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Logger } from 'pino';
import type { TracingSettings } from './config.ts';

const TRACER_NAME = 'tagraph';

/**
 * Whether spans are made. Every instrumentation point checks it first, so with tracing off a
 * request pays one boolean test per point, and the SDK is never loaded (startTracing imports it).
 */
let enabled = false;

export function tracingEnabled(): boolean {
  return enabled;
}

const tracer = () => trace.getTracer(TRACER_NAME);

/** The parts of an SDK the process started; tests add a processor of their own. */
export interface StartOptions {
  /** More span processors (tests collect spans in memory with one). */
  spanProcessors?: import('@opentelemetry/sdk-trace-node').SpanProcessor[];
}

export interface Tracing {
  /** Exports the spans buffered so far. */
  flush(): Promise<void>;
  /** Exports the spans still buffered and stops. */
  shutdown(): Promise<void>;
}

/**
 * Loads the OpenTelemetry SDK and exports spans over OTLP/HTTP (JSON) to `settings.endpoint`;
 * registers it as the process's tracer provider, with the W3C trace-context propagator and
 * async-local-storage context. Returns null, loading nothing, when tracing is off.
 */
export async function startTracing(
  settings: TracingSettings | null,
  log: Logger,
  options: StartOptions = {},
): Promise<Tracing | null> {
  if (!settings) return null;
  const [
    { NodeTracerProvider, BatchSpanProcessor },
    { OTLPTraceExporter },
    { resourceFromAttributes },
  ] = await Promise.all([
    import('@opentelemetry/sdk-trace-node'),
    import('@opentelemetry/exporter-trace-otlp-http'),
    import('@opentelemetry/resources'),
  ]);
  const exporter = new OTLPTraceExporter({ url: settings.endpoint });
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': settings.serviceName }),
    spanProcessors: [new BatchSpanProcessor(exporter), ...(options.spanProcessors ?? [])],
  });
  provider.register();
  enabled = true;
  // The endpoint may hold credentials in its userinfo: only its origin is logged.
  log.info({ endpoint: new URL(settings.endpoint).origin }, 'exporting traces over OTLP/HTTP');
  return {
    flush: () => provider.forceFlush(),
    async shutdown() {
      enabled = false;
      await provider.shutdown();
    },
  };
}

/** Paths whose name may be a span's route; any other path is not recorded. */
const KNOWN_PATHS = new Set(['/graphql', '/registry/events']);
/** Probes and scrapes, every few seconds: a trace each would bury the requests that matter. */
const UNTRACED_PATHS = new Set(['/healthz', '/readyz', '/metrics']);

/**
 * The request listener wrapped in a server span that continues the caller's `traceparent`, or
 * the listener itself when tracing is off. Health probes and metrics scrapes are not traced. The
 * span records the method, the path when it is one
 * of ours (never the query string, which holds a GET request's variables) and the status; no
 * header is recorded.
 */
export function tracedListener(
  listener: (request: IncomingMessage, response: ServerResponse) => void,
): (request: IncomingMessage, response: ServerResponse) => void {
  if (!enabled) return listener;
  return (request, response) => {
    const path = (request.url ?? '/').split('?')[0]!;
    if (UNTRACED_PATHS.has(path)) return listener(request, response);
    const parent = propagation.extract(ROOT_CONTEXT, request.headers);
    const route = KNOWN_PATHS.has(path) ? path : null;
    const method = request.method ?? 'GET';
    const attributes: Attributes = { 'http.request.method': method };
    if (route) attributes['http.route'] = route;
    const span = tracer().startSpan(
      route ? `${method} ${route}` : method,
      { kind: SpanKind.SERVER, attributes },
      parent,
    );
    let ended = false;
    const end = () => {
      if (ended) return;
      ended = true;
      span.setAttribute('http.response.status_code', response.statusCode);
      if (response.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    };
    response.once('finish', end);
    response.once('close', end);
    context.with(trace.setSpan(parent, span), () => listener(request, response));
  };
}

/**
 * Spans for GraphQL parse, validate and execute, children of the request's span; execute runs
 * inside its span, so the SQL it sends is its child. The operation's type and name are recorded;
 * never the document (literals in it may be secrets), the variables or error messages.
 */
export function graphqlTracing(): Plugin {
  return {
    onParse() {
      if (!enabled) return;
      const span = tracer().startSpan('graphql.parse');
      return ({ result }) => {
        if (result instanceof Error) span.setStatus({ code: SpanStatusCode.ERROR });
        span.end();
      };
    },
    onValidate() {
      if (!enabled) return;
      const span = tracer().startSpan('graphql.validate');
      return ({ valid, result }) => {
        if (!valid) {
          span.setAttribute('graphql.validation.errors', result.length);
          span.setStatus({ code: SpanStatusCode.ERROR });
        }
        span.end();
      };
    },
    onExecute({ args, executeFn, setExecuteFn }) {
      if (!enabled) return;
      const operation = getOperationAST(args.document, args.operationName);
      const attributes: Attributes = {};
      if (operation) attributes['graphql.operation.type'] = operation.operation;
      if (operation?.name) attributes['graphql.operation.name'] = operation.name.value;
      const span = tracer().startSpan(
        operation?.name ? `graphql.execute ${operation.name.value}` : 'graphql.execute',
        { attributes },
      );
      const inside = trace.setSpan(context.active(), span);
      setExecuteFn((executeArgs) => context.with(inside, () => executeFn(executeArgs)));
      return {
        onExecuteDone({ result }) {
          const errors = 'errors' in result ? (result.errors?.length ?? 0) : 0;
          if (errors > 0) {
            span.setAttribute('graphql.errors', errors);
            span.setStatus({ code: SpanStatusCode.ERROR });
          }
          span.end();
        },
      };
    },
  };
}

/**
 * A client span of one SQL statement: its parameterized text (drizzle sends every value as a
 * parameter, and parameters are never recorded). Null when tracing is off, and for a statement
 * sent outside any span (the worker's and the scheduler's polls, the event hub): a trace of its
 * own for each would bury the ones that matter.
 */
export function startSqlSpan(text: string): Span | null {
  if (!enabled || trace.getSpan(context.active()) === undefined) return null;
  const verb = /^\s*(\w+)/.exec(text)?.[1]?.toUpperCase() ?? 'SQL';
  return tracer().startSpan(verb, {
    kind: SpanKind.CLIENT,
    attributes: { 'db.system.name': 'postgresql', 'db.query.text': text },
  });
}

/** Ends a span, marking it failed (with the error's type, not its text) when `error` is given. */
export function endSpan(span: Span, error?: unknown): void {
  if (error !== undefined) {
    span.setAttribute(
      'error.type',
      (error as { code?: string }).code ?? (error as Error).name ?? 'Error',
    );
    span.setStatus({ code: SpanStatusCode.ERROR });
  }
  span.end();
}

/**
 * Runs one outgoing registry exchange in a client span: the registry, method, path (no query:
 * token realms take the account in it) and status. No trace context is sent to the registry.
 */
export async function tracedRegistryRequest<T extends { status: number }>(
  method: string,
  url: URL,
  send: () => Promise<T>,
): Promise<T> {
  if (!enabled) return send();
  const span = tracer().startSpan(method, {
    kind: SpanKind.CLIENT,
    attributes: {
      'http.request.method': method,
      'server.address': url.hostname,
      'server.port': Number(url.port) || (url.protocol === 'https:' ? 443 : 80),
      'url.scheme': url.protocol.slice(0, -1),
      'url.path': url.pathname,
    },
  });
  try {
    const response = await context.with(trace.setSpan(context.active(), span), send);
    span.setAttribute('http.response.status_code', response.status);
    if (response.status >= 400) span.setStatus({ code: SpanStatusCode.ERROR });
    span.end();
    return response;
  } catch (error) {
    endSpan(span, error);
    throw error;
  }
}

/** Runs `work` in an internal span named `name` (an import job, a scheduler pass). */
export async function inSpan<T>(
  name: string,
  attributes: Attributes,
  work: () => Promise<T>,
): Promise<T> {
  if (!enabled) return work();
  return tracer().startActiveSpan(name, { attributes }, ROOT_CONTEXT, async (span) => {
    try {
      const result = await work();
      span.end();
      return result;
    } catch (error) {
      endSpan(span, error);
      throw error;
    }
  });
}
