// Searching across namespaces: findImage by digest prefix and by pull spec, only in namespaces the
// caller may read, paged and typed refusals; the namespaces list's counts, in constant statements.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/db/client.ts';
import { ownStatements, startTestApp, type TestApp } from '../support/app.ts';
import { runCli, stopClis } from '../support/cli.ts';
import { digestOf, seedImage, seedStream, seedTag } from '../support/seed.ts';

// biome-ignore lint/suspicious/noExplicitAny: GraphQL responses are checked by value below.
type Json = Record<string, any>;

let app: TestApp;
let db: Db;
/** IMAGE_PULLER of fi-alpha only. */
let alice: string;
/** IMAGE_PULLER of fi-beta only. */
let bob: string;
/** A caller bound to nothing. */
let nobody: string;
/** IMAGE_PULLER of fi-many and of the 20 fi-count-* namespaces. */
let counter: string;

const SHARED = digestOf('fi-shared', 'abcdef00');
const NEWER = digestOf('fi-newer', 'abcdef01');
const OTHER = digestOf('fi-other', '0123456');
const MANY = digestOf('fi-many', '7777777');
const at = (minute: number) => new Date(Date.UTC(2026, 0, 1, 0, minute));

const FIND = /* GraphQL */ `
  query($digest: String, $pullSpec: String, $first: Int, $after: String) {
    findImage(digest: $digest, pullSpec: $pullSpec, first: $first, after: $after) {
      totalCount
      edges {
        cursor
        node {
          digest current generation created dockerImageReference
          imageStreamTag { name stream { namespace name } }
        }
      }
      pageInfo { hasNextPage endCursor }
    }
  }
`;

async function find(token: string, variables: Record<string, unknown>): Promise<Json> {
  const result = await app.call<Json>(token, FIND, variables);
  expect(result.errors, JSON.stringify(result.errors)).toBeUndefined();
  return result.data!.findImage;
}

/** `namespace/stream:tag` of each match, in the order listed. */
const names = (connection: Json): string[] =>
  connection.edges.map(
    (e: Json) =>
      `${e.node.imageStreamTag.stream.namespace}/${e.node.imageStreamTag.stream.name}:${e.node.imageStreamTag.name}`,
  );

beforeAll(async () => {
  app = await startTestApp();
  db = app.database.db;
  for (const digest of [SHARED, NEWER, OTHER, MANY]) await seedImage(db, { digest });
  const alpha = await seedStream(db, { namespace: 'fi-alpha', name: 'app' });
  const beta = await seedStream(db, { namespace: 'fi-beta', name: 'app' });
  const pinned = (digest: string, generation: number, minute: number) => ({
    dockerImageReference: `quay.io/fi/app@${digest}`,
    image: digest,
    generation,
    created: at(minute),
  });
  await seedTag(db, alpha.id, { name: 'v1', history: [pinned(SHARED, 1, 1)] });
  // SHARED in its history only: item 0 is NEWER.
  await seedTag(db, alpha.id, {
    name: 'old',
    history: [pinned(SHARED, 2, 2), pinned(NEWER, 3, 3)],
  });
  await seedTag(db, alpha.id, {
    name: 'upstream',
    reference: true,
    history: [{ dockerImageReference: 'docker.io/library/ruby:3', image: null, generation: 1 }],
  });
  await seedTag(db, alpha.id, {
    name: 'broken',
    from: { kind: 'DockerImage', name: 'quay.io/fi/app:broken' },
    conditions: [{ status: 'False', reason: 'NotFound', generation: 1 }],
  });
  await seedTag(db, beta.id, { name: 'v1', history: [pinned(SHARED, 1, 4)] });
  await seedTag(db, beta.id, { name: 'other', history: [pinned(OTHER, 1, 5)] });

  const many = await seedStream(db, { namespace: 'fi-many', name: 'base' });
  for (let i = 0; i < 25; i++) {
    await seedTag(db, many.id, {
      name: `t${String(i).padStart(2, '0')}`,
      history: [pinned(MANY, 1, i)],
    });
  }
  const counted: string[] = ['fi-many'];
  for (let i = 0; i < 20; i++) {
    const namespace = `fi-count-${String(i).padStart(2, '0')}`;
    const stream = await seedStream(db, { namespace, name: 'app' });
    await seedTag(db, stream.id, { name: 'v1', history: [pinned(OTHER, 1, i)] });
    await seedTag(db, stream.id, {
      name: 'failing',
      conditions: [{ status: 'False', reason: 'Unauthorized', generation: 1 }],
    });
    counted.push(namespace);
  }

  alice = await app.member('fi-alpha', 'IMAGE_PULLER');
  bob = await app.member('fi-beta', 'IMAGE_PULLER');
  counter = await app.member(counted, 'IMAGE_PULLER');
  nobody = (await app.user('fi-nobody')).token;
}, 120_000);

afterAll(async () => {
  await stopClis();
  await app.stop();
});

describe('findImage by digest', () => {
  it("lists the caller's own tags that point at the image now or did, never another tenant's", async () => {
    const found = await find(alice, { digest: 'sha256:abcdef00' });
    expect(names(found)).toEqual(['fi-alpha/app:v1', 'fi-alpha/app:old']);
    expect(found.totalCount).toBe(2);
    const [now, before] = found.edges.map((e: Json) => e.node);
    expect(now).toMatchObject({ digest: SHARED, current: true, generation: 1 });
    expect(before).toMatchObject({
      digest: SHARED,
      current: false,
      generation: 2,
      created: at(2).toISOString(),
    });

    const theirs = await find(bob, { digest: SHARED });
    expect(names(theirs)).toEqual(['fi-beta/app:v1']);
    expect(theirs.edges[0].node.current).toBe(true);
  });

  it('takes a bare hex prefix, in either case, as the same search', async () => {
    expect(names(await find(alice, { digest: 'ABCDEF00' }))).toEqual([
      'fi-alpha/app:v1',
      'fi-alpha/app:old',
    ]);
  });

  it('matches each image a prefix covers: one match per tag and image', async () => {
    const found = await find(alice, { digest: 'abcdef0' });
    const matches = found.edges.map((e: Json) => `${e.node.imageStreamTag.name}@${e.node.digest}`);
    expect(matches.sort()).toEqual([`old@${NEWER}`, `old@${SHARED}`, `v1@${SHARED}`].sort());
  });

  it('gives a caller who may read no namespace an empty list, not an error', async () => {
    const found = await find(nobody, { digest: SHARED });
    expect(found).toMatchObject({ totalCount: 0, edges: [], pageInfo: { hasNextPage: false } });
  });
});

describe('findImage by pull spec', () => {
  it('searches by the digest of a pinned pull spec, whatever its repository', async () => {
    const found = await find(alice, { pullSpec: `registry.example:5000/elsewhere/app@${SHARED}` });
    expect(names(found)).toEqual(['fi-alpha/app:v1', 'fi-alpha/app:old']);
  });

  it('searches a tagged pull spec by the reference recorded, in its canonical form', async () => {
    const found = await find(alice, { pullSpec: 'ruby:3' });
    expect(names(found)).toEqual(['fi-alpha/app:upstream']);
    expect(found.edges[0].node).toMatchObject({
      digest: null,
      current: true,
      dockerImageReference: 'docker.io/library/ruby:3',
    });
    expect((await find(bob, { pullSpec: 'ruby:3' })).edges).toEqual([]);
  });
});

describe('findImage refusals', () => {
  const refusals: [string, Record<string, unknown>, string][] = [
    ['a prefix of 6 hex digits', { digest: 'sha256:abcdef' }, 'digest'],
    ['a bare prefix of 6', { digest: 'abcdef' }, 'digest'],
    ['a non-hex prefix', { digest: 'sha256:abcdefg' }, 'digest'],
    ['another algorithm', { digest: 'sha512:abcdef0' }, 'digest'],
    ['more than 64 hex digits', { digest: `${SHARED}0` }, 'digest'],
    ['both arguments', { digest: SHARED, pullSpec: 'ruby:3' }, 'pullSpec'],
    ['neither argument', {}, 'digest'],
    ['an invalid pull spec', { pullSpec: 'UPPER/Case' }, 'pullSpec'],
    ['an overlong pull spec', { pullSpec: `quay.io/${'a'.repeat(1100)}` }, 'pullSpec'],
    ['a made-up cursor', { digest: SHARED, after: 'bm90LWEtY3Vyc29y' }, 'after'],
  ];
  it.each(refusals)('refuses %s with BAD_USER_INPUT', async (_label, variables, field) => {
    const result = await app.call<Json>(alice, FIND, variables);
    expect(result.data?.findImage ?? null).toBeNull();
    const error = result.errors?.[0] as Json | undefined;
    expect(error?.extensions?.code, JSON.stringify(result.errors)).toBe('BAD_USER_INPUT');
    if (field) expect(error?.extensions?.field).toBe(field);
  });

  it('refuses a page of 101 as every connection does', async () => {
    const result = await app.call<Json>(alice, FIND, { digest: SHARED, first: 101 });
    expect(result.errors?.[0]?.extensions?.code).toBe('PAGE_SIZE_LIMIT');
  });

  it('answers the same for a caller who can read nothing, so a refusal leaks nothing', async () => {
    const result = await app.call<Json>(nobody, FIND, { digest: 'abc' });
    expect(result.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });
});

describe('findImage paging', () => {
  it('pages in a stable order, each match once, the same as one large page', async () => {
    const whole = names(await find(counter, { digest: MANY, first: 100 }));
    expect(whole).toHaveLength(25);
    const paged: string[] = [];
    let after: string | null = null;
    let pages = 0;
    do {
      const page: Json = await find(counter, { digest: MANY, first: 10, after });
      paged.push(...names(page));
      after = page.pageInfo.hasNextPage ? page.pageInfo.endCursor : null;
      pages++;
    } while (after);
    expect(pages).toBe(3);
    expect(paged).toEqual(whole);
  });

  it('runs as many statements for 20 matches in 20 namespaces as for 1', async () => {
    // The search reads role bindings inside its own statement, so every statement is counted;
    // a first call settles what the token's authentication caches.
    await find(counter, { digest: OTHER, first: 1 });
    const counts: number[] = [];
    for (const first of [1, 20]) {
      app.statements.length = 0;
      const found = await find(counter, { digest: OTHER, first });
      expect(found.edges).toHaveLength(first);
      const namespaces = new Set(
        found.edges.map((e: Json) => e.node.imageStreamTag.stream.namespace),
      );
      expect(namespaces.size).toBe(first);
      expect(app.statements.filter((s) => s.includes('"tag_history"')).length).toBe(2);
      counts.push(app.statements.length);
    }
    expect(counts[1]).toBe(counts[0]);
  });
});

const NAMESPACES = /* GraphQL */ `
  query($first: Int, $after: String) {
    namespaces(first: $first, after: $after) {
      totalCount
      nodes { name imageStreamCount tagCount failingImportCount }
      pageInfo { hasNextPage endCursor }
    }
  }
`;

describe('namespace counts', () => {
  it('counts streams, tags and failing imports of each readable namespace', async () => {
    const result = await app.call<Json>(alice, NAMESPACES, {});
    expect(result.errors).toBeUndefined();
    expect(result.data!.namespaces).toMatchObject({
      totalCount: 1,
      nodes: [{ name: 'fi-alpha', imageStreamCount: 1, tagCount: 4, failingImportCount: 1 }],
    });
    const none = await app.call<Json>(nobody, NAMESPACES, {});
    expect(none.data!.namespaces).toMatchObject({ totalCount: 0, nodes: [] });
  });

  it('counts every page in as many statements for 20 namespaces as for 1', async () => {
    await app.call<Json>(counter, NAMESPACES, { first: 1 });
    const own: number[] = [];
    const all: number[] = [];
    for (const first of [1, 20]) {
      app.statements.length = 0;
      const result = await app.call<Json>(counter, NAMESPACES, { first });
      expect(result.errors).toBeUndefined();
      const page = result.data!.namespaces;
      expect(page.totalCount).toBe(21);
      expect(page.nodes).toHaveLength(first);
      own.push(ownStatements(app.statements).length);
      all.push(app.statements.length);
    }
    // The page and totalCount; the role checks of the page's namespaces are one more, whatever
    // their number.
    expect(own).toEqual([2, 2]);
    expect(all[1]).toBe(all[0]);
    const whole = await app.call<Json>(counter, NAMESPACES, { first: 21 });
    const counted = whole.data!.namespaces.nodes.find((n: Json) => n.name === 'fi-count-07');
    expect(counted).toEqual({
      name: 'fi-count-07',
      imageStreamCount: 1,
      tagCount: 2,
      failingImportCount: 1,
    });
    const many = whole.data!.namespaces.nodes.find((n: Json) => n.name === 'fi-many');
    expect(many).toMatchObject({ tagCount: 25, failingImportCount: 0 });
  });

  it('refuses a made-up namespaces cursor with BAD_USER_INPUT', async () => {
    const result = await app.call<Json>(alice, NAMESPACES, { after: 'bm90LWEtY3Vyc29y' });
    expect(result.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });
});

describe('tagraph get namespaces', () => {
  it('prints the readable namespaces with their counts', async () => {
    const result = await runCli(['get', 'namespaces'], { url: app.url, token: alice });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout.split('\n')[0]).toMatch(/^NAME\s+STREAMS\s+TAGS\s+FAILING IMPORTS$/);
    expect(result.stdout.split('\n')[1]).toMatch(/^fi-alpha\s+1\s+4\s+1$/);
    expect(result.stdout).not.toContain('fi-beta');
  });

  it('prints one namespace as an object, and refuses one the caller cannot read', async () => {
    const shown = await runCli(['get', 'ns', 'fi-alpha', '-o', 'json'], {
      url: app.url,
      token: alice,
    });
    expect(JSON.parse(shown.stdout)).toMatchObject({
      kind: 'Namespace',
      metadata: { name: 'fi-alpha' },
      counts: { imageStreams: 1, tags: 4, failingImports: 1 },
    });
    const hidden = await runCli(['get', 'ns', 'fi-beta'], { url: app.url, token: alice });
    expect(hidden.code).not.toBe(0);
    expect(hidden.stderr).toBe('Error from server (NotFound): namespaces "fi-beta" not found\n');
  });
});
