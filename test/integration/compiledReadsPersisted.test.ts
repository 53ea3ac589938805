// Documents sent by hash — automatic persisted queries, and trusted documents — are answered by
// their compiled statement once proven, byte for byte as the ordinary execution answers them, and
// the persisted-document rule still refuses what a caller may not run.
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { postGraphql, startTestApp, type TestApp } from '../support/app.ts';
import { digestOf, seedImage, seedStream, seedTag } from '../support/seed.ts';

const NS = 'persisted-reads';
const GRAPH = `query Graph($ns: String!) { imageStream(namespace: $ns, name: "web") {
  name tags(first: 5) { nodes { name history(first: 2) { nodes { created image { digest size } } } } } } }`;
const hashOf = (text: string) => createHash('sha256').update(text).digest('hex');
const byHash = (query: string) => ({
  extensions: { persistedQuery: { version: 1, sha256Hash: hashOf(query) } },
  variables: { ns: NS },
});

const root = mkdtempSync(join(tmpdir(), 'tagraph-compiled-persisted-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

interface Reply {
  status: number;
  body: string;
  /** Whether the request ran a compiled statement (it selects `readable`). */
  compiled: boolean;
}

async function send(app: TestApp, token: string, body: Record<string, unknown>): Promise<Reply> {
  app.statements.length = 0;
  const response = await postGraphql(app, token, body, { accept: 'application/json' });
  return {
    status: response.status,
    body: await response.text(),
    compiled: app.statements.some((s) => s.includes(' as readable,')),
  };
}

async function seed(app: TestApp): Promise<void> {
  const db = app.database.db;
  const stream = await seedStream(db, { namespace: NS, name: 'web' });
  for (const [i, name] of ['a', 'b'].entries()) {
    const digest = digestOf(`persisted-${name}`);
    await seedImage(db, { digest, created: new Date(`2024-0${i + 1}-02T03:04:05.678Z`) });
    await seedTag(db, stream.id, {
      name,
      history: [{ dockerImageReference: `r/web@${digest}`, image: digest, generation: 1 }],
    });
  }
}

describe('compiled reads of persisted documents', () => {
  let ordinary: string;
  let reader: string;
  let outsider: string;

  beforeAll(async () => {
    // The apps of this file share one database: seeded, and the tokens made, once, here.
    const off = await startTestApp({ compiledReads: false });
    try {
      await seed(off);
      reader = await off.member(NS, 'IMAGE_PULLER');
      outsider = (await off.user('persisted-outsider')).token;
      const reply = await send(off, reader, { query: GRAPH, variables: { ns: NS } });
      expect(reply.status).toBe(200);
      expect(reply.body).toContain('"tags"');
      ordinary = reply.body;
    } finally {
      await off.stop();
    }
  }, 60_000);

  it('serves an automatic persisted query compiled once the ordinary path answered it', async () => {
    const app = await startTestApp({ compiledReads: true });
    try {
      const unknown = await send(app, reader, byHash(GRAPH));
      expect(JSON.parse(unknown.body).errors[0].extensions.code).toBe('PERSISTED_QUERY_NOT_FOUND');
      // The registering request (hash and text) proves the document on the ordinary path.
      const registered = await send(app, reader, { ...byHash(GRAPH), query: GRAPH });
      expect(registered).toEqual({ status: 200, body: ordinary, compiled: false });
      // From then on the hash alone is answered by the statement, with the same bytes.
      for (let i = 0; i < 2; i++) {
        expect(await send(app, reader, byHash(GRAPH))).toEqual({
          status: 200,
          body: ordinary,
          compiled: true,
        });
      }
      // An outsider's request by hash falls back and is refused as always.
      const refused = await send(app, outsider, byHash(GRAPH));
      expect(refused.compiled).toBe(true);
      expect(JSON.parse(refused.body).errors[0].extensions.code).toBe('FORBIDDEN');
      expect(refused.body).not.toContain('sha256:');
    } finally {
      await app.stop();
    }
  }, 60_000);

  it('serves a trusted document compiled, and still refuses documents outside the manifest', async () => {
    const manifest = join(root, 'manifest.json');
    writeFileSync(manifest, JSON.stringify({ [hashOf(GRAPH)]: GRAPH }));
    const app = await startTestApp({
      compiledReads: true,
      trustedDocuments: loadConfig({ TAGRAPH_TRUSTED_DOCUMENTS: manifest }).trustedDocuments,
    });
    try {
      expect(await send(app, reader, byHash(GRAPH))).toEqual({
        status: 200,
        body: ordinary,
        compiled: false,
      });
      expect(await send(app, reader, byHash(GRAPH))).toEqual({
        status: 200,
        body: ordinary,
        compiled: true,
      });
      // The proven document's text, sent as text by a caller who may only run trusted
      // documents, is refused before any statement runs.
      const asText = await send(app, reader, { query: GRAPH, variables: { ns: NS } });
      expect(asText.compiled).toBe(false);
      expect(JSON.parse(asText.body).errors[0].extensions.code).toBe('PERSISTED_QUERY_ONLY');
    } finally {
      await app.stop();
    }
  }, 60_000);
});
