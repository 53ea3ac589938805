// Open mode, the embedded database's development default: every caller is a cluster admin, no
// token needed, GraphiQL and introspection on. With DATABASE_URL the configuration refuses it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { startTestApp, type TestApp } from '../support/app.ts';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({}, { auth: 'open' });
});
afterAll(async () => {
  await app.stop();
});

describe('open mode on the embedded database', () => {
  it('serves a caller without a token as a cluster admin', async () => {
    const created = await app.graphql<{ createImageStream: { __typename: string } }>(
      `mutation { createImageStream(input: { namespace: "dev", name: "app" }) { __typename } }`,
    );
    expect(created).toEqual({ data: { createImageStream: { __typename: 'ImageStreamPayload' } } });
    // Issuing tokens is a cluster admin's alone.
    const token = await app.graphql<{ createToken: { __typename: string } }>(
      `mutation { createToken(input: { subject: "dev" }) { __typename } }`,
    );
    expect(token).toEqual({ data: { createToken: { __typename: 'CreateTokenPayload' } } });
    const me = await app.graphql<{ me: { clusterAdmin: boolean } }>('{ me { clusterAdmin } }');
    expect(me).toEqual({ data: { me: { clusterAdmin: true } } });
  });

  it('serves GraphiQL to a browser on /graphql, and answers introspection', async () => {
    const page = await fetch(`${app.url}/graphql`, { headers: { accept: 'text/html' } });
    expect(page.status).toBe(200);
    expect(await page.text()).toMatch(/graphiql/i);
    const schema = await app.graphql<{ __schema: { queryType: { name: string } } }>(
      '{ __schema { queryType { name } } }',
    );
    expect(schema.data?.__schema.queryType.name).toBe('Query');
  });

  it('is the default without DATABASE_URL; with it, token mode is, and open is refused', () => {
    expect(loadConfig({}).auth.mode).toBe('open');
    const postgres = { DATABASE_URL: 'postgres://u@h/db', TAGRAPH_SECRET_KEY: 'ab'.repeat(32) };
    expect(loadConfig(postgres).auth.mode).toBe('token');
    expect(() => loadConfig({ ...postgres, TAGRAPH_AUTH: 'open' })).toThrow(
      'TAGRAPH_AUTH: open is only for the embedded database; with DATABASE_URL every request needs a token',
    );
  });
});
