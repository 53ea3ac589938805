// OpenTelemetry tracing: a GraphQL request continues the caller's trace (HTTP → GraphQL → SQL),
// an import traces its registry requests, no span carries a secret, and spans reach an OTLP
// endpoint over HTTP.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SpanKind } from '@opentelemetry/api';
import {
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-node';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { startTracing, type Tracing } from '../../src/tracing.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { startHostileRegistry } from '../support/hostileRegistry.ts';
import { buildImage, pushImage } from '../support/images.ts';
import { drainImports } from '../support/imports.ts';
import { authDocument, createPullSecret } from '../support/pullSecrets.ts';
import { type RunningRegistry, startRegistry } from '../support/registry.ts';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const CALLER_SPAN_ID = '00f067aa0ba902b7';
const VARIABLE_CANARY = 'variable-canary-5e1f';
const REGISTRY_USER = 'tracer';
const REGISTRY_PASSWORD = 'registry-password-canary-93b2';

interface Export {
  method: string;
  path: string;
  contentType: string;
  body: string;
}

const memory = new InMemorySpanExporter();
const exports: Export[] = [];
let receiver: Server;
let tracing: Tracing;
let app: TestApp;
let registry: RunningRegistry;
/** Bearer tokens sent in this file: none may appear in a span. */
const tokens: string[] = [];

beforeAll(async () => {
  // A real OTLP/HTTP endpoint: it keeps what is posted and answers as a collector does.
  receiver = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      exports.push({
        method: request.method ?? '',
        path: request.url ?? '',
        contentType: request.headers['content-type'] ?? '',
        body: Buffer.concat(chunks).toString('utf8'),
      });
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((done) => receiver.listen(0, '127.0.0.1', done));
  const { port } = receiver.address() as AddressInfo;
  const settings = loadConfig({
    OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`,
    OTEL_SERVICE_NAME: 'tagraph-test',
  }).tracing;
  expect(settings).toEqual({
    endpoint: `http://127.0.0.1:${port}/v1/traces`,
    serviceName: 'tagraph-test',
  });
  // Before the app: as in main.ts, tracing must be on when the app is built.
  tracing = (await startTracing(settings, pino({ level: 'silent' }), {
    spanProcessors: [new SimpleSpanProcessor(memory)],
  }))!;
  registry = await startRegistry({
    htpasswd: { user: REGISTRY_USER, password: REGISTRY_PASSWORD },
  });
  app = await startTestApp();
  tokens.push(app.adminToken);
});

afterAll(async () => {
  await app?.stop();
  await tracing?.shutdown();
  await registry?.stop();
  await new Promise<void>((done) => (receiver ? receiver.close(() => done()) : done()));
});

const spanId = (span: ReadableSpan) => span.spanContext().spanId;
const traceId = (span: ReadableSpan) => span.spanContext().traceId;
const parentId = (span: ReadableSpan) => span.parentSpanContext?.spanId;

/** The spans under `root` (not itself), at any depth. */
function descendants(spans: ReadableSpan[], root: ReadableSpan): ReadableSpan[] {
  const below: ReadableSpan[] = [];
  const ids = new Set([spanId(root)]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const span of spans) {
      if (!ids.has(spanId(span)) && ids.has(parentId(span) ?? '')) {
        ids.add(spanId(span));
        below.push(span);
        grew = true;
      }
    }
  }
  return below;
}

/** importImage as `editor` (queued, not waited for), then the worker: it runs exactly one job. */
async function importOnce(editor: string, namespace: string, image: string, from: string) {
  const queued = await app.call<{ importImage: { __typename: string } }>(
    editor,
    `mutation($input: ImportImageInput!) { importImage(input: $input) { __typename } }`,
    { input: { namespace, image, from, confirm: true, insecure: true } },
  );
  expect(queued.data?.importImage.__typename).toBe('ImportImagePayload');
  expect(await drainImports(app)).toBe(1);
}

describe('tracing', () => {
  it('continues an incoming traceparent: HTTP → GraphQL parse, validate, execute → SQL', async () => {
    const editor = await app.member('traced', 'EDITOR');
    tokens.push(editor);
    const response = await fetch(`${app.url}/graphql`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${editor}`,
        traceparent: `00-${TRACE_ID}-${CALLER_SPAN_ID}-01`,
      },
      body: JSON.stringify({
        query: `query Traced($ns: String!, $name: String!) {
          imageStream(namespace: $ns, name: $name) { __typename }
        }`,
        variables: { ns: 'traced', name: VARIABLE_CANARY },
      }),
    });
    expect(response.status).toBe(200);
    await response.text();

    // The server span ends when the response has been written, just after the client has it.
    await expect
      .poll(() => memory.getFinishedSpans().filter((s) => s.kind === SpanKind.SERVER).length)
      .toBeGreaterThan(0);
    const spans = memory.getFinishedSpans().filter((s) => traceId(s) === TRACE_ID);
    const server = spans.find((s) => s.kind === SpanKind.SERVER);
    expect(server?.name).toBe('POST /graphql');
    expect(parentId(server!)).toBe(CALLER_SPAN_ID);
    expect(server!.attributes['http.response.status_code']).toBe(200);

    const children = spans.filter((s) => parentId(s) === spanId(server!));
    const names = children.map((s) => s.name);
    expect(names).toContain('graphql.parse');
    expect(names).toContain('graphql.validate');
    const execute = children.find((s) => s.name === 'graphql.execute Traced');
    expect(execute?.attributes).toMatchObject({
      'graphql.operation.type': 'query',
      'graphql.operation.name': 'Traced',
    });
    const sql = descendants(spans, execute!).filter((s) => s.attributes['db.system.name']);
    expect(sql.length).toBeGreaterThan(0);
    expect(sql.every((s) => s.kind === SpanKind.CLIENT)).toBe(true);
    expect(sql.map((s) => s.attributes['db.query.text']).join('\n')).toMatch(/image_streams/);
    // Every span of the request is in the caller's trace.
    expect(
      descendants(memory.getFinishedSpans(), server!).every((s) => traceId(s) === TRACE_ID),
    ).toBe(true);
  });

  it('traces an import: the job, its SQL and its registry requests', async () => {
    const editor = await app.member('traced-import', 'EDITOR');
    tokens.push(editor);
    await pushImage(
      registry.url,
      'team/traced',
      'v1',
      { content: 'traced' },
      {
        auth: { user: REGISTRY_USER, password: REGISTRY_PASSWORD },
      },
    );
    await createPullSecret(
      app.as(editor),
      'traced-import',
      'registry',
      authDocument(registry.host, REGISTRY_USER, REGISTRY_PASSWORD),
    );
    await importOnce(editor, 'traced-import', 'traced:v1', `${registry.host}/team/traced:v1`);

    const spans = memory.getFinishedSpans();
    const job = spans.find((s) => s.name === 'import job');
    expect(job?.attributes['tagraph.import.cause']).toBe('user');
    const below = descendants(spans, job!);
    const requests = below.filter(
      (s) => s.kind === SpanKind.CLIENT && s.attributes['http.request.method'] !== undefined,
    );
    const [host, port] = registry.host.split(':');
    expect(
      requests.map(
        (s) => `${s.name} ${s.attributes['url.path']} ${s.attributes['http.response.status_code']}`,
      ),
    ).toContain('GET /v2/team/traced/manifests/v1 200');
    expect(requests.every((s) => s.attributes['server.address'] === host)).toBe(true);
    expect(requests.every((s) => s.attributes['server.port'] === Number(port))).toBe(true);
    expect(below.some((s) => s.attributes['db.system.name'] === 'postgresql')).toBe(true);
  });

  it('sends no trace context to a registry, even inside a traced import', async () => {
    const hostile = await startHostileRegistry();
    try {
      const headers: string[] = [];
      hostile.override = (req) => {
        headers.push(...Object.keys(req.headers));
        return false;
      };
      hostile.addImage('v1', buildImage({ content: 'untold' }));
      const editor = await app.member('traced-quiet', 'EDITOR');
      tokens.push(editor);
      await importOnce(editor, 'traced-quiet', 'quiet:v1', `${hostile.host}/team/quiet:v1`);
      const job = memory
        .getFinishedSpans()
        .filter((s) => s.name === 'import job')
        .at(-1)!;
      // The import was traced, and its requests reached the registry...
      expect(
        descendants(memory.getFinishedSpans(), job).some(
          (s) => s.attributes['url.path'] === '/v2/team/quiet/manifests/v1',
        ),
      ).toBe(true);
      expect(hostile.requests.some((r) => r.kind === 'manifest')).toBe(true);
      // ...without a traceparent, tracestate or baggage header.
      expect(headers.filter((h) => /^(traceparent|tracestate|baggage)$/i.test(h))).toEqual([]);
    } finally {
      await hostile.stop();
    }
  });

  it('leaves health probes out: only the GraphQL request after them makes a server span', async () => {
    const servers = () => memory.getFinishedSpans().filter((s) => s.kind === SpanKind.SERVER);
    const before = servers().length;
    for (const path of ['/healthz', '/readyz']) {
      const response = await fetch(`${app.url}${path}`);
      expect(response.status).toBe(200);
      await response.text();
    }
    const response = await fetch(`${app.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${app.adminToken}` },
      body: JSON.stringify({ query: '{ me { subject } }' }),
    });
    expect(response.status).toBe(200);
    await response.text();
    await expect.poll(() => servers().length).toBeGreaterThan(before);
    expect(
      servers()
        .slice(before)
        .map((s) => s.name),
    ).toEqual(['POST /graphql']);
  });

  it('puts no token, password or variable value in any span', () => {
    const spans = memory.getFinishedSpans();
    expect(spans.length).toBeGreaterThan(10);
    const secrets = [...tokens, VARIABLE_CANARY, REGISTRY_PASSWORD, 'Bearer', 'Basic '];
    const texts = spans.flatMap((span) => [
      span.name,
      ...Object.entries(span.attributes).map(([k, v]) => `${k}=${String(v)}`),
      ...span.events.flatMap((e) => [
        e.name,
        ...Object.entries(e.attributes ?? {}).map(([k, v]) => `${k}=${String(v)}`),
      ]),
      span.status.message ?? '',
    ]);
    for (const secret of secrets) {
      expect(texts.filter((text) => text.includes(secret))).toEqual([]);
    }
  });

  it('exports the spans over OTLP/HTTP JSON to the configured endpoint', async () => {
    await tracing.flush();
    const posts = exports.filter((e) => e.path === '/v1/traces');
    expect(posts.length).toBeGreaterThan(0);
    expect(
      posts.every((e) => e.method === 'POST' && e.contentType.startsWith('application/json')),
    ).toBe(true);
    const body = posts.map((e) => e.body).join('\n');
    expect(body).toContain(TRACE_ID);
    expect(body).toContain('tagraph-test');
    expect(body).toContain('graphql.execute Traced');
    for (const secret of [...tokens, VARIABLE_CANARY, REGISTRY_PASSWORD]) {
      expect(body).not.toContain(secret);
    }
  });
});
