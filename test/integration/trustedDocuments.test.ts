// Trusted documents (TAGRAPH_TRUSTED_DOCUMENTS): only the manifest's documents run, by hash, over
// HTTP (GET and POST) and graphql-ws; cluster admins' own documents only when allowed. Without a
// manifest: automatic persisted queries in a bounded store.
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import WebSocket from 'ws';
import { type Config, loadConfig } from '../../src/config.ts';
import { bearer, postGraphql, spawnEntry, startTestApp, type TestApp } from '../support/app.ts';
import { pushMapping } from '../support/mapping.ts';
import { subscribeSse, wsUrl } from '../support/subscriptions.ts';

type Reply = {
  data?: Record<string, unknown> | null;
  errors?: { message: string; extensions?: { code?: string } }[];
};

const NS = 'trusted-ns';
const STREAM_QUERY =
  'query Stream($ns: String!, $name: String!) { imageStream(namespace: $ns, name: $name) { name } }';
const CHANGES =
  'subscription Changes($ns: String!, $since: String) { tagChanged(namespace: $ns, since: $since) { tag } }';
const ARBITRARY = `{ imageStream(namespace: "${NS}", name: "ruby") { name namespace } }`;

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const persisted = (hash: string) => ({ persistedQuery: { version: 1, sha256Hash: hash } });

const root = mkdtempSync(join(tmpdir(), 'tagraph-trusted-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function manifestFile(name: string, manifest: unknown): string {
  const path = join(root, name);
  writeFileSync(path, JSON.stringify(manifest));
  return path;
}

/** The settings loadConfig makes of a manifest file (the parsing and checks under test). */
function trustedConfig(path: string, adminArbitrary: boolean): Partial<Config> {
  return {
    trustedDocuments: loadConfig({
      TAGRAPH_TRUSTED_DOCUMENTS: path,
      TAGRAPH_TRUSTED_DOCUMENTS_ADMIN_ARBITRARY: String(adminArbitrary),
    }).trustedDocuments,
  };
}

async function post(
  app: TestApp,
  token: string,
  body: Record<string, unknown>,
): Promise<Reply & { status: number }> {
  const response = await postGraphql(app, token, body, { accept: 'application/json' });
  return { status: response.status, ...((await response.json()) as Reply) };
}

async function get(
  app: TestApp,
  token: string,
  params: Record<string, unknown>,
): Promise<Reply & { status: number }> {
  const search = new URLSearchParams(
    Object.entries(params).map(([key, value]) => [
      key,
      typeof value === 'string' ? value : JSON.stringify(value),
    ]),
  );
  const response = await fetch(`${app.url}/graphql?${search}`, {
    headers: { accept: 'application/json', ...bearer(token) },
  });
  return { status: response.status, ...((await response.json()) as Reply) };
}

/** Runs one operation over graphql-ws as `token`: its first result, or the error it ended with. */
async function overWs(
  app: TestApp,
  token: string,
  payload: { query: string; variables?: Record<string, unknown>; extensions?: unknown },
): Promise<Reply> {
  const client = createClient({
    url: wsUrl(app.url),
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${token}` },
    retryAttempts: 0,
  });
  try {
    return await new Promise<Reply>((resolve) => {
      client.subscribe(payload as { query: string }, {
        next: (value) => resolve(value as Reply),
        error: (error) => resolve({ errors: error as Reply['errors'] }),
        complete: () => resolve({ data: null }),
      });
    });
  } finally {
    await client.dispose();
  }
}

function codeOf(reply: Reply): string | undefined {
  return reply.errors?.[0]?.extensions?.code;
}

describe('trusted documents', () => {
  let editor: string;
  let admin: string;
  /** A cursor after the first tag change, so the subscription replays the second. */
  let since: string;
  let manifest: string;

  beforeAll(async () => {
    // Tenants are set up by a gateway without a manifest; the trusted ones run on the same data.
    const setup = await startTestApp();
    try {
      await setup.stream(NS, 'ruby');
      editor = await setup.member(NS, 'EDITOR');
      admin = setup.adminToken;
      const headers = bearer(admin);
      await pushMapping(setup, NS, 'ruby', 'one', 'trusted-1', undefined, headers);
      const page = await setup.admin<{ tagEvents: { endCursor: string } }>(
        `{ tagEvents(namespace: "${NS}") { endCursor } }`,
      );
      since = page.tagEvents.endCursor;
      await pushMapping(setup, NS, 'ruby', 'two', 'trusted-2', undefined, headers);
    } finally {
      await setup.stop();
    }
    // The two formats of hash keys: GraphQL Codegen's bare hex, gql.tada's `sha256:` prefix.
    manifest = manifestFile('manifest.json', {
      [sha256(STREAM_QUERY)]: STREAM_QUERY,
      [`sha256:${sha256(CHANGES)}`]: CHANGES,
    });
  });

  describe('without the admin allowance', () => {
    let app: TestApp;
    beforeAll(async () => {
      app = await startTestApp(trustedConfig(manifest, false));
    });
    afterAll(() => app.stop());

    it('an editor runs a persisted query by hash with POST and with GET', async () => {
      const variables = { ns: NS, name: 'ruby' };
      const byPost = await post(app, editor, {
        variables,
        extensions: persisted(sha256(STREAM_QUERY)),
      });
      expect(byPost).toEqual({ status: 200, data: { imageStream: { name: 'ruby' } } });
      const byGet = await get(app, editor, {
        variables,
        extensions: persisted(sha256(STREAM_QUERY)),
      });
      expect(byGet).toEqual({ status: 200, data: { imageStream: { name: 'ruby' } } });
    });

    it('an editor runs a persisted subscription by hash over graphql-ws', async () => {
      const reply = await overWs(app, editor, {
        query: '',
        variables: { ns: NS, since },
        extensions: persisted(sha256(CHANGES)),
      });
      expect(reply).toEqual({ data: { tagChanged: { tag: 'two' } } });
    });

    it('refuses an unknown hash and a document of its own, over HTTP and graphql-ws', async () => {
      const unknown = persisted(sha256(ARBITRARY));
      const byPost = await post(app, editor, { extensions: unknown });
      expect(byPost.data).toBeUndefined();
      expect(codeOf(byPost), JSON.stringify(byPost)).toBe('PERSISTED_QUERY_NOT_FOUND');
      expect(codeOf(await get(app, editor, { extensions: unknown }))).toBe(
        'PERSISTED_QUERY_NOT_FOUND',
      );
      expect(codeOf(await overWs(app, editor, { query: '', extensions: unknown }))).toBe(
        'PERSISTED_QUERY_NOT_FOUND',
      );

      const own = await post(app, editor, { query: ARBITRARY });
      expect(own.data).toBeUndefined();
      expect(codeOf(own), JSON.stringify(own)).toBe('PERSISTED_QUERY_ONLY');
      expect(codeOf(await get(app, editor, { query: ARBITRARY }))).toBe('PERSISTED_QUERY_ONLY');
      // A manifest's document sent as text is no exception: the hash is what is trusted.
      expect(codeOf(await post(app, editor, { query: STREAM_QUERY }))).toBe('PERSISTED_QUERY_ONLY');
      const subscription = `subscription { tagChanged(namespace: "${NS}", since: ${JSON.stringify(since)}) { tag } }`;
      expect(codeOf(await overWs(app, editor, { query: subscription }))).toBe(
        'PERSISTED_QUERY_ONLY',
      );
      // SSE goes through the same parameters as any HTTP request.
      const sse = subscribeSse<Reply>(app.url, subscription, {}, { token: editor });
      expect(await sse.ended).toEqual({ kind: 'complete' });
      expect(sse.results.map(codeOf)).toEqual(['PERSISTED_QUERY_ONLY']);
      // The GraphQL-over-HTTP media type gets 400 for a refusal before execution.
      const strict = await postGraphql(
        app,
        editor,
        { extensions: unknown },
        { accept: 'application/graphql-response+json' },
      );
      expect(strict.status).toBe(400);
      expect(codeOf((await strict.json()) as Reply)).toBe('PERSISTED_QUERY_NOT_FOUND');
      // Neither a document nor a hash.
      expect(codeOf(await post(app, editor, { variables: {} }))).toBe(
        'PERSISTED_QUERY_ID_REQUIRED',
      );
    });

    it('refuses a cluster admin’s own document too (the allowance is off)', async () => {
      expect(codeOf(await post(app, admin, { query: ARBITRARY }))).toBe('PERSISTED_QUERY_ONLY');
      expect(codeOf(await overWs(app, admin, { query: ARBITRARY }))).toBe('PERSISTED_QUERY_ONLY');
    });

    it('counts the refusals by code in /metrics', async () => {
      const text = await (await fetch(`${app.url}/metrics`)).text();
      const count = (code: string) =>
        Number(
          text.match(
            new RegExp(
              `^tagraph_persisted_document_refusals_total\\{code="${code}"\\} (\\d+)$`,
              'm',
            ),
          )?.[1],
        );
      expect(count('PERSISTED_QUERY_NOT_FOUND')).toBe(4);
      expect(count('PERSISTED_QUERY_ONLY')).toBe(7);
      expect(count('PERSISTED_QUERY_ID_REQUIRED')).toBe(1);
    });
  });

  describe('with TAGRAPH_TRUSTED_DOCUMENTS_ADMIN_ARBITRARY', () => {
    let app: TestApp;
    beforeAll(async () => {
      app = await startTestApp(trustedConfig(manifest, true));
    });
    afterAll(() => app.stop());

    it('a cluster admin runs its own documents, over HTTP and graphql-ws', async () => {
      const expected = { data: { imageStream: { name: 'ruby', namespace: NS } } };
      expect(await post(app, admin, { query: ARBITRARY })).toEqual({ status: 200, ...expected });
      expect(await overWs(app, admin, { query: ARBITRARY })).toEqual(expected);
    });

    it('an editor still may not, whatever it sends', async () => {
      expect(codeOf(await post(app, editor, { query: ARBITRARY }))).toBe('PERSISTED_QUERY_ONLY');
      expect(codeOf(await overWs(app, editor, { query: ARBITRARY }))).toBe('PERSISTED_QUERY_ONLY');
      // No header makes a caller an admin: only its token does.
      const response = await postGraphql(
        app,
        editor,
        { query: ARBITRARY },
        { headers: { 'x-tagraph-admin': 'true', 'x-allow-arbitrary-operations': 'true' } },
      );
      expect(codeOf((await response.json()) as Reply)).toBe('PERSISTED_QUERY_ONLY');
    });
  });

  describe('a manifest that does not check out', () => {
    // Configuration is read before any database is opened: one database kind is enough.
    it.runIf(inject('dbKind') === 'pglite')(
      'is refused at start, naming the entry, whose hash is not its document’s',
      async () => {
        const wrong = sha256('query { somethingElse }');
        const path = manifestFile('wrong.json', {
          [sha256(STREAM_QUERY)]: STREAM_QUERY,
          [wrong]: CHANGES,
        });
        const run = spawnEntry('main', {
          TAGRAPH_DATA_DIR: join(root, 'never-created'),
          DATABASE_URL: '',
          TAGRAPH_PORT: '0',
          TAGRAPH_TRUSTED_DOCUMENTS: path,
        });
        expect(await run.exited).toEqual({ code: 2, signal: null });
        const said = run.stderr().trim().split('\n');
        expect(said[0]).toBe('tagraph: invalid configuration:');
        expect(said[1]).toBe(
          `  TAGRAPH_TRUSTED_DOCUMENTS: ${path}: entry "${wrong}" does not match its document, whose SHA-256 is ${sha256(CHANGES)}`,
        );
        expect(said).toHaveLength(2);
        expect(run.stdout()).toBe('');
      },
    );

    it('is refused when it is no map of hashes, empty, or a document does not parse', () => {
      const refusal = (manifest: unknown) => {
        try {
          loadConfig({ TAGRAPH_TRUSTED_DOCUMENTS: manifestFile('bad.json', manifest) });
        } catch (error) {
          return (error as Error).message;
        }
        return 'accepted';
      };
      expect(refusal([STREAM_QUERY])).toContain('must be a JSON object');
      expect(refusal({})).toContain('has no documents');
      expect(refusal({ 'not-a-hash': STREAM_QUERY })).toContain('is not a SHA-256 hash');
      expect(refusal({ [sha256('{ ')]: '{ ' })).toContain('does not parse');
      // Apollo's manifest format is read too.
      expect(
        loadConfig({
          TAGRAPH_TRUSTED_DOCUMENTS: manifestFile('apollo.json', {
            format: 'apollo-persisted-query-manifest',
            version: 1,
            operations: [{ id: sha256(STREAM_QUERY), name: 'Stream', body: STREAM_QUERY }],
          }),
        }).trustedDocuments?.documents.get(sha256(STREAM_QUERY)),
      ).toBe(STREAM_QUERY);
    });
  });
});

describe('automatic persisted queries (no manifest)', () => {
  let app: TestApp;
  let editor: string;
  beforeAll(async () => {
    app = await startTestApp({ apq: { maxDocuments: 2, maxDocumentBytes: 512 } });
    await app.stream('apq-ns', 'ruby');
    editor = await app.member('apq-ns', 'EDITOR');
  });
  afterAll(() => app.stop());

  /** A query of its own for each `n`, so each has its own hash. */
  const numbered = (n: number) =>
    `query N${n} { imageStream(namespace: "apq-ns", name: "ruby") { name } }`;

  it('a hash alone is not found, then the hash with its document registers it, then the hash alone runs', async () => {
    const query = numbered(0);
    const extensions = persisted(sha256(query));
    const first = await post(app, editor, { extensions });
    expect(codeOf(first), JSON.stringify(first)).toBe('PERSISTED_QUERY_NOT_FOUND');
    expect(first.errors?.[0]?.message).toBe('PersistedQueryNotFound');
    expect(first.data).toBeUndefined();
    const registering = await post(app, editor, { query, extensions });
    expect(registering.data).toEqual({ imageStream: { name: 'ruby' } });
    const byHash = await post(app, editor, { extensions });
    expect(byHash.data).toEqual({ imageStream: { name: 'ruby' } });
    expect((await get(app, editor, { extensions })).data).toEqual({
      imageStream: { name: 'ruby' },
    });
    expect((await overWs(app, editor, { query: '', extensions })).data).toEqual({
      imageStream: { name: 'ruby' },
    });
    // Documents without a hash run as always.
    expect((await post(app, editor, { query: numbered(99) })).data).toEqual({
      imageStream: { name: 'ruby' },
    });
  });

  it('refuses a hash that is not its document’s', async () => {
    const reply = await post(app, editor, {
      query: numbered(1),
      extensions: persisted(sha256(numbered(2))),
    });
    expect(codeOf(reply)).toBe('PERSISTED_QUERY_MISMATCH');
    expect(codeOf(await post(app, editor, { extensions: persisted(sha256(numbered(2))) }))).toBe(
      'PERSISTED_QUERY_NOT_FOUND',
    );
  });

  it('keeps at most TAGRAPH_APQ_MAX_DOCUMENTS, evicting the least recently used', async () => {
    for (const n of [10, 11, 12]) {
      const reply = await post(app, editor, {
        query: numbered(n),
        extensions: persisted(sha256(numbered(n))),
      });
      expect(reply.data).toEqual({ imageStream: { name: 'ruby' } });
    }
    const byHash = (n: number) => post(app, editor, { extensions: persisted(sha256(numbered(n))) });
    expect(codeOf(await byHash(10))).toBe('PERSISTED_QUERY_NOT_FOUND');
    expect((await byHash(11)).data).toEqual({ imageStream: { name: 'ruby' } });
    expect((await byHash(12)).data).toEqual({ imageStream: { name: 'ruby' } });
  });

  it('refuses to keep a document over TAGRAPH_APQ_MAX_DOCUMENT_BYTES', async () => {
    const large = `${numbered(20)}\n# ${'x'.repeat(600)}`;
    const extensions = persisted(sha256(large));
    const reply = await post(app, editor, { query: large, extensions });
    expect(codeOf(reply)).toBe('PERSISTED_QUERY_TOO_LARGE');
    expect(reply.data).toBeUndefined();
    expect(codeOf(await post(app, editor, { extensions }))).toBe('PERSISTED_QUERY_NOT_FOUND');
    // The store still holds what it held.
    expect((await post(app, editor, { extensions: persisted(sha256(numbered(12))) })).data).toEqual(
      { imageStream: { name: 'ruby' } },
    );
  });
});
