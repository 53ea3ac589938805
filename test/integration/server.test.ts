// Health, readiness, metrics, request ids, and graphql-ws / SSE on the same /graphql path.
import { createClient } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { bearer, postGraphql, startTestApp, type TestApp } from '../support/app.ts';

let app: TestApp;
/** An image puller of namespace `m`: every request here is one a reader may make. */
let puller: string;
beforeAll(async () => {
  app = await startTestApp();
  puller = await app.member('m', 'IMAGE_PULLER');
});
afterAll(async () => {
  await app.stop();
});

describe('health', () => {
  it('answers /healthz and /readyz when the database is migrated', async () => {
    const health = await fetch(`${app.url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });
    const ready = await fetch(`${app.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready' });
  });

  it('reports not ready when the migrations are not all applied', async () => {
    await app.database.exec(
      `update drizzle.__drizzle_migrations set hash = 'tampered' where id = (select min(id) from drizzle.__drizzle_migrations)`,
    );
    try {
      const ready = await fetch(`${app.url}/readyz`);
      expect(ready.status).toBe(503);
    } finally {
      const { readMigrationFiles } = await import('drizzle-orm/migrator');
      const { migrationsFolder } = await import('../../src/db/migrate.ts');
      const [first] = readMigrationFiles({ migrationsFolder });
      await app.database.exec(
        `update drizzle.__drizzle_migrations set hash = '${first!.hash}' where hash = 'tampered'`,
      );
    }
    expect((await fetch(`${app.url}/readyz`)).status).toBe(200);
  });
});

describe('GraphQL over HTTP', () => {
  it('echoes a sane x-request-id and invents one otherwise', async () => {
    const given = await postGraphql(
      app,
      puller,
      { query: '{ __typename }' },
      { headers: { 'x-request-id': 'abc-123' } },
    );
    expect(given.headers.get('x-request-id')).toBe('abc-123');
    const invented = await postGraphql(
      app,
      puller,
      { query: '{ __typename }' },
      { headers: { 'x-request-id': 'bad id with spaces' } },
    );
    expect(invented.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('returns a syntax error as a GraphQL error with status 400, not a crash', async () => {
    const response = await postGraphql(
      app,
      puller,
      { query: '{ imageStream(' },
      { accept: 'application/graphql-response+json' },
    );
    expect(response.status).toBe(400);
    const body = (await response.json()) as { errors: { message: string }[] };
    expect(body.errors[0]!.message).toMatch(/Syntax Error/);
  });
});

describe('metrics', () => {
  it('counts requests by operation name and exposes websocket and pool gauges', async () => {
    await app
      .as(puller)
      .graphql('query CountMe { imageStreams(namespace: "m") { nodes { name } } }');
    await app
      .as(puller)
      .graphql('query CountMe { imageStreams(namespace: "m") { nodes { name } } }');
    const response = await fetch(`${app.url}/metrics`);
    expect(response.status).toBe(200);
    const text = await response.text();
    const line = text
      .split('\n')
      .find(
        (l) => l.startsWith('graphql_envelop_request{') && l.includes('operationName="CountMe"'),
      );
    expect(line).toBeDefined();
    expect(Number(line!.split(' ').pop())).toBe(2);
    expect(text).toMatch(/^graphql_envelop_request_duration_bucket\{/m);
    expect(text).toMatch(/^tagraph_db_pool_size \d+/m);
    expect(text).toMatch(/^tagraph_db_statements_total \d+/m);
    expect(text).toMatch(/^tagraph_websocket_connections 0/m);
    // Switched off: each cost every request work that the metrics above already cover.
    expect(text).not.toMatch(/^graphql_envelop_(request_time_summary|phase_|deprecated_field)/m);
  });

  it('counts errors', async () => {
    await app.as(puller).graphql('query Broken { noSuchField }');
    const text = await (await fetch(`${app.url}/metrics`)).text();
    expect(text).toMatch(/^graphql_envelop_error_result\{[^}]*phase="validate"[^}]*\} 1/m);
  });
});

describe('graphql-ws and SSE on /graphql', () => {
  it('runs a query over graphql-ws and shows the socket in the gauge', async () => {
    const client = createClient({
      url: `${app.url.replace('http', 'ws')}/graphql`,
      webSocketImpl: WebSocket,
      connectionParams: bearer(puller),
      retryAttempts: 0,
    });
    try {
      const result = await new Promise<unknown>((resolveResult, reject) => {
        let value: unknown;
        client.subscribe(
          { query: '{ imageStream(namespace: "m", name: "none") { name } }' },
          { next: (v) => (value = v), error: reject, complete: () => resolveResult(value) },
        );
      });
      expect(result).toEqual({ data: { imageStream: null } });
      const text = await (await fetch(`${app.url}/metrics`)).text();
      expect(text).toMatch(/^tagraph_websocket_connections 1/m);
    } finally {
      await client.dispose();
    }
  });

  it('answers a query with text/event-stream over SSE', async () => {
    const response = await postGraphql(
      app,
      puller,
      { query: '{ __typename }' },
      { accept: 'text/event-stream' },
    );
    expect(response.headers.get('content-type')).toMatch(/text\/event-stream/);
    const body = await response.text();
    expect(body).toContain('"__typename":"Query"');
  });
});
