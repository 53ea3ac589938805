// A failure in a request hook (before GraphQL runs) is answered with a typed error and logged;
// the HTTP adapter's default answer, the error's stack with its SQL text, never reaches a caller.

import { Writable } from 'node:stream';
import { sql } from 'drizzle-orm';
import { pino } from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.ts';

let app: TestApp;
let token: string;
const logged: string[] = [];

beforeAll(async () => {
  const log = pino(
    { level: 'error' },
    new Writable({
      write(chunk, _encoding, done) {
        logged.push(String(chunk));
        done();
      },
    }),
  );
  app = await startTestApp({}, { log });
  token = (await app.user('hook-errors')).token;
  // Authentication reads this table before any GraphQL runs: without it, every token lookup fails.
  await app.database.db.execute(sql`alter table api_tokens rename to api_tokens_gone`);
});
afterAll(async () => {
  await app.database.db.execute(sql`alter table api_tokens_gone rename to api_tokens`);
  await app.stop();
});

it('answers a failing authentication hook with INTERNAL_SERVER_ERROR, no stack and no SQL', async () => {
  const response = await fetch(`${app.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query: '{ me { subject } }' }),
  });
  const text = await response.text();
  expect(response.status).toBe(500);
  expect(text).not.toMatch(/api_tokens|select|at \w+ \(|\.ts:\d+/i);
  const body = JSON.parse(text) as { errors: { extensions: { code: string } }[] };
  expect(body.errors[0]!.extensions.code).toBe('INTERNAL_SERVER_ERROR');
  // The operator still learns what failed: the server log has the cause.
  expect(logged.join('\n')).toMatch(/api_tokens/);
});
