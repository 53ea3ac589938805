// No secret reaches a log line, a field or an error: a full run's logs are grepped for them.
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, spawnServer, startTestApp, type TestApp } from '../support/app.ts';
import { pushImage } from '../support/images.ts';
import { importFrom, importNow } from '../support/imports.ts';
import { type RunningRegistry, startRegistry } from '../support/registry.ts';

const USER = 'logger';
const PASSWORD = 'never-in-a-log-Passw0rd!';

let app: TestApp;
let registry: RunningRegistry;
let logs = '';

beforeAll(async () => {
  registry = await startRegistry({ htpasswd: { user: USER, password: PASSWORD } });
  const sink = new Writable({
    write(chunk, _encoding, done) {
      logs += chunk.toString();
      done();
    },
  });
  app = await startTestApp({ logLevel: 'trace' }, { log: pino({ level: 'trace' }, sink) });
});
afterAll(async () => {
  await app.stop();
  await registry.stop();
});

describe('secrets', () => {
  it('appear in no log line, no field and no error of a run that uses them', async () => {
    const issued = await app.admin<{ createToken: { token: string } }>(
      `mutation { createToken(input: { subject: "ci" }) { ... on CreateTokenPayload { token } } }`,
    );
    const userToken = issued.createToken.token;
    // The pull secret's owner: an editor of its namespace.
    const editor = await app.member('sec', 'EDITOR');
    const headers = bearer(editor);
    const basic = Buffer.from(`${USER}:${PASSWORD}`).toString('base64');
    const document = JSON.stringify({ auths: { [registry.host]: { auth: basic } } });
    const outputs: string[] = [];
    const run = async (query: string, variables = {}, as = headers) => {
      const result = await app.graphql(query, variables, as);
      outputs.push(JSON.stringify(result));
      return result;
    };
    await run(
      `mutation($input: PullSecretInput!) { createPullSecret(input: $input) { __typename } }`,
      { input: { namespace: 'sec', name: 'reg', document } },
    );
    await run(`{ pullSecrets(namespace: "sec") { name registries } }`);
    await run(
      `{ apiTokens { id subject } me { subject } }`,
      {},
      { authorization: `Bearer ${userToken}` },
    );
    await run('{ me { subject } }', {}, { authorization: 'Bearer tgr_wrong-token-value' });
    await pushImage(
      registry.url,
      'sec/app',
      'v1',
      { content: 's' },
      { auth: { user: USER, password: PASSWORD } },
    );
    const job = await importFrom(app.as(editor), 'sec', 'app:v1', `${registry.host}/sec/app:v1`);
    expect(job.status).toBe('succeeded');
    // A wrong password stored too: the failure message must not echo it.
    await run(
      `mutation($input: PullSecretInput!) { replacePullSecret(input: $input) { __typename } }`,
      {
        input: {
          namespace: 'sec',
          name: 'reg',
          document: JSON.stringify({
            auths: {
              [registry.host]: { auth: Buffer.from(`${USER}:${PASSWORD}x`).toString('base64') },
            },
          }),
        },
      },
    );
    const failed = await importNow(app.as(editor), { namespace: 'sec', image: 'app:v1' });
    outputs.push(JSON.stringify(failed));
    expect(failed.images[0]?.reason).toBe('Unauthorized');

    expect(logs.length).toBeGreaterThan(1000); // the run did log
    const everything = `${logs}\n${outputs.join('\n')}`;
    for (const secret of [app.adminToken, editor, userToken, PASSWORD, basic, `${PASSWORD}x`]) {
      expect(everything.includes(secret), `found ${secret.slice(0, 6)}…`).toBe(false);
    }
  });

  it('appear in no startup configuration error, on stdout or stderr', async () => {
    const secrets = {
      admin: 'startup-admin-secret-short',
      key: 'startup-key-secret-not-32-bytes',
      push: 'startup-push-token-secret-0123',
      password: 'startup-db-Passw0rd',
    };
    const failed = await spawnServer({
      TAGRAPH_ADMIN_TOKEN: secrets.admin,
      TAGRAPH_SECRET_KEY: secrets.key,
      TAGRAPH_PUSH_REGISTRIES: JSON.stringify([{ host: 'not a host', token: secrets.push }]),
      DATABASE_URL: `mysql://tagraph:${secrets.password}@db.example.com/tagraph`,
    }).then(
      () => {
        throw new Error('the server started with a bad configuration');
      },
      (error: Error) => error.message,
    );
    for (const variable of [
      'TAGRAPH_ADMIN_TOKEN',
      'TAGRAPH_SECRET_KEY',
      'TAGRAPH_PUSH_REGISTRIES',
      'DATABASE_URL',
    ]) {
      expect(failed).toContain(variable);
    }
    expect(failed).toContain('mysql://tagraph:***@db.example.com/tagraph');
    for (const secret of Object.values(secrets)) {
      expect(failed.includes(secret), `found ${secret}`).toBe(false);
    }
  });
});
