// Pull secrets: sealed at rest, never readable back, matched to images by key.
// The rules: docs/rules.md#pull-secrets-which-key-serves-an-image.
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rowsOf } from '../../src/db/client.ts';
import { credentialFor } from '../../src/services/pullSecrets.ts';
import { startTestApp, TEST_SECRET_KEY, type TestApp } from '../support/app.ts';

let app: TestApp;
/** Pull secrets are an editor's to write; their names an image puller's to read. */
let editor: TestApp;
let reader: TestApp;
beforeAll(async () => {
  app = await startTestApp();
  editor = app.as(await app.member(['match', 'sec', 'sec2', 'sec3'], 'EDITOR'));
  reader = app.as(await app.member(['match', 'sec', 'sec2', 'sec3'], 'IMAGE_PULLER'));
});
afterAll(async () => {
  await app.stop();
});

const auth = (user: string, pass: string) => Buffer.from(`${user}:${pass}`).toString('base64');
const document = (auths: Record<string, [string, string]>) =>
  JSON.stringify({
    auths: Object.fromEntries(
      Object.entries(auths).map(([key, [u, p]]) => [key, { auth: auth(u, p) }]),
    ),
  });

const SAVE = (verb: string) => `mutation($input: PullSecretInput!) {
  ${verb}(input: $input) {
    __typename
    ... on PullSecretPayload { pullSecret { namespace name registries } }
    ... on Error { code field message }
  }
}`;

/** createPullSecret or replacePullSecret as the editor: the payload, or the typed error. */
async function save(
  verb: 'createPullSecret' | 'replacePullSecret',
  input: { namespace: string; name: string; document: string },
) {
  const result = await editor.graphql<Record<string, Record<string, unknown>>>(SAVE(verb), {
    input,
  });
  return result.data![verb];
}

describe('pull secrets', () => {
  it('stores a docker config.json sealed, and shows only name and registries', async () => {
    const secret = document({ 'quay.io': ['quser', 'SuperSecretPassw0rd'] });
    const created = await save('createPullSecret', {
      namespace: 'sec',
      name: 'quay',
      document: secret,
    });
    expect(created).toEqual({
      __typename: 'PullSecretPayload',
      pullSecret: { namespace: 'sec', name: 'quay', registries: ['quay.io'] },
    });
    const raw = rowsOf<Record<string, unknown>>(
      await app.database.db.execute(sql`select * from pull_secrets`),
    );
    const dump = JSON.stringify(raw);
    expect(dump).not.toContain('SuperSecretPassw0rd');
    expect(dump).not.toContain(auth('quser', 'SuperSecretPassw0rd'));
    const listed = await reader.graphql('{ pullSecrets(namespace: "sec") { name registries } }');
    expect(JSON.stringify(listed)).not.toContain('SuperSecret');
    expect(listed.data).toEqual({ pullSecrets: [{ name: 'quay', registries: ['quay.io'] }] });
  });

  it('refuses a duplicate, a malformed document and a bad name, naming the field', async () => {
    const ok = document({ 'r.example.com': ['a', 'b'] });
    await save('createPullSecret', { namespace: 'sec2', name: 'one', document: ok });
    const refusals = [
      // The same name again.
      { name: 'one', document: ok, refusal: { __typename: 'ConflictError', field: 'name' } },
      {
        name: 'two',
        document: '{"auths": 5}',
        refusal: { __typename: 'ValidationError', field: 'document' },
      },
      { name: 'Bad_Name', document: ok, refusal: { __typename: 'ValidationError', field: 'name' } },
    ];
    for (const { name, document, refusal } of refusals) {
      expect(
        await save('createPullSecret', { namespace: 'sec2', name, document }),
        name,
      ).toMatchObject(refusal);
    }
  });

  it('replaces and deletes', async () => {
    const a = document({ 'a.example.com': ['u', 'p'] });
    await save('createPullSecret', { namespace: 'sec3', name: 's', document: a });
    const b = (password: string) => document({ 'b.example.com': ['u', password] });
    const replaced = await save('replacePullSecret', {
      namespace: 'sec3',
      name: 's',
      document: b('p2'),
    });
    expect(replaced).toMatchObject({ pullSecret: { registries: ['b.example.com'] } });
    const missing = await save('replacePullSecret', {
      namespace: 'sec3',
      name: 'nope',
      document: b('p'),
    });
    expect(missing).toMatchObject({ __typename: 'NotFoundError' });
    const deleted = await editor.graphql<{ deletePullSecret: Record<string, unknown> }>(
      `mutation { deletePullSecret(input: { namespace: "sec3", name: "s" }) { __typename } }`,
    );
    expect(deleted.data!.deletePullSecret).toEqual({ __typename: 'PullSecretPayload' });
    expect((await reader.graphql('{ pullSecrets(namespace: "sec3") { name } }')).data).toEqual({
      pullSecrets: [],
    });
  });

  it('picks the longest matching key across the namespace secrets', async () => {
    await save('createPullSecret', {
      namespace: 'match',
      name: 'broad',
      document: document({ 'quay.io': ['broad', 'x'] }),
    });
    await save('createPullSecret', {
      namespace: 'match',
      name: 'narrow',
      document: document({
        'quay.io/repository-main': ['narrow', 'y'],
        '*.example.com': ['glob', 'z'],
      }),
    });
    const pick = (registry: string, repository: string) =>
      credentialFor(app.database.db, TEST_SECRET_KEY, 'match', registry, repository);
    expect((await pick('quay.io', 'repository-main/app'))?.username).toBe('narrow');
    expect((await pick('quay.io', 'other/app'))?.username).toBe('broad');
    expect((await pick('registry.example.com', 'x/y'))?.username).toBe('glob');
    expect(await pick('docker.io', 'library/ruby')).toBeNull();
    expect(
      await credentialFor(app.database.db, TEST_SECRET_KEY, 'elsewhere', 'quay.io', 'a/b'),
    ).toBeNull();
  });
});
