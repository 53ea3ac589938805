// Prometheus metrics of GraphQL requests with a bounded set of labels, and the /metrics endpoint
// (behind a bearer token when one is configured, or on its own listener).
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  createCounter,
  createHistogram,
  type FillLabelsFnParams,
  usePrometheus,
} from '@graphql-yoga/plugin-prometheus';
import { type DocumentNode, getOperationAST } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Counter, Histogram, Registry } from 'prom-client';

export const METRICS_PATH = '/metrics';

/** Distinct operation names kept as label values; later ones are counted as `other`. */
export const MAX_OPERATION_NAMES = 100;

const OPERATION_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

/**
 * Operation names as label values, bounded: a name is kept only when it names an operation of
 * the document that ran (not just any `operationName` a request sends) and is at most 64
 * characters, and only the first `limit` distinct names a process sees are kept. Every other
 * name is `other`, so however many names callers invent, the series stay bounded. (A caller can
 * use up the slots with names of its own, pushing later names into `other`; it cannot add series.)
 */
export class OperationNameLabels {
  private readonly kept = new Set<string>();
  constructor(private readonly limit: number = MAX_OPERATION_NAMES) {}

  label(name: unknown, document: DocumentNode | undefined): string {
    if (typeof name !== 'string' || name === '' || name === 'Anonymous') return 'Anonymous';
    if (this.kept.has(name)) return this.namedIn(name, document) ? name : 'other';
    if (this.kept.size >= this.limit || !OPERATION_NAME.test(name)) return 'other';
    if (!this.namedIn(name, document)) return 'other';
    this.kept.add(name);
    return name;
  }

  private namedIn(name: string, document: DocumentNode | undefined): boolean {
    return !!document && getOperationAST(document, name)?.name?.value === name;
  }
}

/** The label values every GraphQL metric here carries: no URL, no variables, no error path. */
function operationLabels(names: OperationNameLabels, params: FillLabelsFnParams) {
  return {
    operationType: params.operationType ?? 'unknown',
    operationName: names.label(params.operationName, params.document),
  };
}

/**
 * yoga's Prometheus plugin with its request counter, duration histograms and error counter
 * labelled by operation type and a bounded operation name (OperationNameLabels); the request URL
 * (which holds a GET request's variables) and an error's path (aliases are the caller's) are
 * never labels. The plugin's own /metrics endpoint is off: see metricsEndpoint. The metrics left
 * off cost each request work that says little (the deprecated-field counter walks the whole
 * document with a TypeInfo, the summary keeps a t-digest next to the duration histogram, the
 * per-phase histograms split a duration already kept).
 */
export function requestMetrics(registry: Registry, names = new OperationNameLabels()): Plugin {
  return usePrometheus({
    registry,
    endpoint: false,
    labels: { url: false, path: false },
    metrics: {
      graphql_yoga_http_duration: createHistogram({
        registry,
        histogram: {
          name: 'graphql_yoga_http_duration',
          help: 'Time spent on HTTP connection',
          labelNames: ['operationName', 'operationType', 'method', 'statusCode'],
        },
        fillLabelsFn: (params, { request, response }) => ({
          ...operationLabels(names, params),
          method: request.method,
          statusCode: response.status,
        }),
      }),
      graphql_envelop_request: createCounter({
        registry,
        counter: {
          name: 'graphql_envelop_request',
          help: 'Counts the amount of GraphQL requests executed through Envelop',
          labelNames: ['operationType', 'operationName'],
        },
        fillLabelsFn: (params) => operationLabels(names, params),
        phases: ['execute', 'subscribe'],
      }),
      graphql_envelop_request_duration: createHistogram({
        registry,
        histogram: {
          name: 'graphql_envelop_request_duration',
          help: 'Time spent on running the GraphQL operation from parse to execute',
          labelNames: ['operationType', 'operationName'],
        },
        fillLabelsFn: (params) => operationLabels(names, params),
        phases: ['execute', 'subscribe'],
      }),
      graphql_envelop_error_result: createCounter({
        registry,
        counter: {
          name: 'graphql_envelop_error_result',
          help: 'Counts the amount of errors reported from all phases',
          labelNames: ['operationType', 'operationName', 'phase'],
        },
        fillLabelsFn: (params) => ({
          ...operationLabels(names, params),
          phase: params.errorPhase ?? 'unknown',
        }),
        phases: ['parse', 'validate', 'context', 'execute', 'subscribe'],
      }),
      graphql_envelop_deprecated_field: false,
      graphql_envelop_request_time_summary: false,
      graphql_envelop_phase_parse: false,
      graphql_envelop_phase_validate: false,
      graphql_envelop_phase_context: false,
      graphql_envelop_phase_execute: false,
      graphql_envelop_phase_subscribe: false,
    },
  });
}

/**
 * Counts a query answered without yoga's execute phase (a compiled read) in the request counter
 * and duration histogram `requestMetrics` registered, with the same bounded labels, so every
 * request shows in them whichever path answered it.
 */
export function answeredWithoutExecution(registry: Registry, names: OperationNameLabels) {
  return (operationName: string | null, document: DocumentNode, seconds: number): void => {
    const labels = { operationType: 'query', operationName: names.label(operationName, document) };
    (registry.getSingleMetric('graphql_envelop_request') as Counter | undefined)?.inc(labels);
    (
      registry.getSingleMetric('graphql_envelop_request_duration') as Histogram | undefined
    )?.observe(labels, seconds);
  };
}

const digest = (value: string) => createHash('sha256').update(value).digest();

/** Whether `authorization` is `Bearer <token>` (compared in constant time); true without a token. */
function authorized(token: string | null, authorization: string | null | undefined): boolean {
  if (token === null) return true;
  const given = /^Bearer (.+)$/i.exec(authorization ?? '')?.[1];
  return given !== undefined && timingSafeEqual(digest(given), digest(token));
}

async function metricsResponse(
  registry: Registry,
  token: string | null,
  authorization: string | null | undefined,
): Promise<{ status: number; body: string; contentType: string }> {
  if (!authorized(token, authorization)) {
    return {
      status: 401,
      body: 'Unauthorized: send the metrics token\n',
      contentType: 'text/plain',
    };
  }
  return { status: 200, body: await registry.metrics(), contentType: registry.contentType };
}

/**
 * Serves /metrics on the public listener: behind `Authorization: Bearer <token>` when a metrics
 * token is configured; not at all (404) when the metrics have a listener of their own.
 */
export function metricsEndpoint(
  registry: Registry,
  options: { token: string | null; ownListener: boolean },
): Plugin {
  return {
    async onRequest({ url, request, endResponse }) {
      if (url.pathname !== METRICS_PATH) return;
      if (options.ownListener) {
        endResponse(new Response('Not found\n', { status: 404 }));
        return;
      }
      const { status, body, contentType } = await metricsResponse(
        registry,
        options.token,
        request.headers.get('authorization'),
      );
      const headers: Record<string, string> = { 'content-type': contentType };
      if (status === 401) headers['www-authenticate'] = 'Bearer';
      endResponse(new Response(body, { status, headers }));
    },
  };
}

export interface MetricsListener {
  url: string;
  close(): Promise<void>;
}

/** Serves /metrics (and nothing else) on a listener of its own, behind the token if one is set. */
export async function startMetricsListener(
  registry: Registry,
  options: { port: number; host: string; token: string | null },
): Promise<MetricsListener> {
  const server: Server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    if (request.method !== 'GET' || path !== METRICS_PATH) {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('Not found\n');
      return;
    }
    metricsResponse(registry, options.token, request.headers.authorization).then(
      ({ status, body, contentType }) => {
        const headers: Record<string, string> = { 'content-type': contentType };
        if (status === 401) headers['www-authenticate'] = 'Bearer';
        response.writeHead(status, headers).end(body);
      },
      () => response.writeHead(500).end(),
    );
  });
  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolveListen());
  });
  const { port } = server.address() as AddressInfo;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  return {
    url: `http://${host}:${port}`,
    close: () =>
      new Promise<void>((done) => {
        server.close(() => done());
        server.closeAllConnections();
      }),
  };
}
