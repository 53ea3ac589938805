// A namespace's tags across its streams and a tag's history, filtered, ordered and counted, as an
// IMAGE_PULLER in token mode: each filter and order, stable pages under writes, statement counts.
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Db, rowsOf } from '../../src/db/client.ts';
import { tags } from '../../src/db/schema.ts';
import { appendEvents, writeTransaction } from '../../src/events/append.ts';
import { dataAs, ownStatements, startTestApp, type TestApp } from '../support/app.ts';
import { digestOf, seedImage, seedStream, seedTag } from '../support/seed.ts';

// biome-ignore lint/suspicious/noExplicitAny: GraphQL responses are checked by value below.
type Json = Record<string, any>;

const NS = 'nstags';
let app: TestApp;
let db: Db;
let puller: string;
const d1 = digestOf('nstags-1');
const d2 = digestOf('nstags-2');

const at = (minute: number) => new Date(Date.UTC(2026, 0, 1, 0, minute));

const query = (q: string, variables: Record<string, unknown> = {}) =>
  dataAs<Json>(app, puller, q, variables);

const TAGS = /* GraphQL */ `
  query($ns: String!, $filter: ImageStreamTagFilter, $orderBy: ImageStreamTagOrder, $first: Int, $after: String) {
    namespace(name: $ns) {
      tags(filter: $filter, orderBy: $orderBy, first: $first, after: $after) {
        totalCount
        edges { cursor node { name stream { name } } }
        pageInfo { hasNextPage endCursor }
      }
    }
  }
`;

const HISTORY = /* GraphQL */ `
  query($filter: TagHistoryFilter, $orderBy: TagHistoryOrder, $first: Int, $after: String) {
    imageStreamTag(namespace: "${NS}", ref: "a:latest") {
      ... on ImageStreamTag {
        history(filter: $filter, orderBy: $orderBy, first: $first, after: $after) {
          totalCount
          edges { node { generation created image { digest } } }
          pageInfo { hasNextPage endCursor }
        }
      }
    }
  }
`;

async function tagNames(variables: Record<string, unknown>) {
  const data = await query(TAGS, { ns: NS, ...variables });
  const connection = data.namespace.tags;
  return {
    names: connection.edges.map((e: Json) => `${e.node.stream.name}:${e.node.name}`),
    total: connection.totalCount,
  };
}

async function generations(variables: Record<string, unknown>) {
  const data = await query(HISTORY, variables);
  const connection = data.imageStreamTag.history;
  return {
    generations: connection.edges.map((e: Json) => e.node.generation),
    total: connection.totalCount,
  };
}

beforeAll(async () => {
  app = await startTestApp();
  db = app.database.db;
  await seedImage(db, { digest: d1, mediaType: 'application/vnd.oci.image.manifest.v1+json' });
  await seedImage(db, { digest: d2, mediaType: 'application/vnd.oci.image.manifest.v1+json' });
  const a = await seedStream(db, { namespace: NS, name: 'a' });
  const b = await seedStream(db, { namespace: NS, name: 'b' });
  const elsewhere = await seedStream(db, { namespace: 'nstags-other', name: 'a' });
  const failing = [{ status: 'False' as const, reason: 'NotFound', generation: 1 }];
  const external = (name: string) => ({ kind: 'DockerImage' as const, name });
  // Updated times in seeding order: a:latest oldest, the other namespace's tag newest.
  await seedTag(db, a.id, {
    updatedAt: at(10),
    name: 'latest',
    from: external('quay.io/x/a:latest'),
    // Oldest first: generations 1, 3, 2, 4; created minutes 1, 2, 4, 3.
    history: [
      { dockerImageReference: 'quay.io/x/a@1', image: d1, generation: 1, created: at(1) },
      { dockerImageReference: 'quay.io/x/a:ref', image: null, generation: 3, created: at(2) },
      { dockerImageReference: 'quay.io/x/a@2', image: d2, generation: 2, created: at(4) },
      { dockerImageReference: 'quay.io/x/a@1', image: d1, generation: 4, created: at(3) },
    ],
  });
  await seedTag(db, a.id, {
    updatedAt: at(11),
    name: 'broken',
    from: external('quay.io/x/a:broken'),
    conditions: failing,
  });
  await seedTag(db, b.id, {
    updatedAt: at(12),
    name: 'broken',
    from: external('quay.io/x/b:broken'),
    conditions: failing,
  });
  await seedTag(db, b.id, {
    updatedAt: at(13),
    name: 'latest',
    from: { kind: 'ImageStreamImage', name: `b@${d1}` },
  });
  await seedTag(db, b.id, {
    updatedAt: at(14),
    name: 'nightly',
    from: external('quay.io/x/b:nightly'),
    importScheduled: true,
    conditions: failing,
  });
  await seedTag(db, elsewhere.id, {
    updatedAt: at(15),
    name: 'broken',
    from: external('quay.io/x/o:broken'),
    conditions: failing,
  });
  puller = await app.member(NS, 'IMAGE_PULLER');
}, 60_000);

afterAll(async () => {
  await app?.stop();
});

describe('Namespace.tags', () => {
  it('holds the tags of every stream of the namespace, by name then id', async () => {
    // The namespace is copied onto each tag by a trigger, whatever the writer gave.
    const [row] = rowsOf<{ namespace: string }>(
      await db.execute(sql`select t.namespace from tags t join image_streams s on s.id = t.stream_id
        where s.namespace = 'nstags-other'`),
    );
    expect(row?.namespace).toBe('nstags-other');
    // A namespace a writer gives is replaced by the stream's.
    const [forged] = rowsOf<{ namespace: string }>(
      await db.execute(sql`insert into tags (stream_id, namespace, name)
        select id, ${NS}, 'forged' from image_streams where namespace = 'nstags-other'
        returning namespace`),
    );
    expect(forged?.namespace).toBe('nstags-other');
    expect(await tagNames({})).toEqual({
      names: ['a:broken', 'b:broken', 'a:latest', 'b:latest', 'b:nightly'],
      total: 5,
    });
    expect(await tagNames({ orderBy: { field: 'NAME', direction: 'DESC' } })).toMatchObject({
      names: ['b:nightly', 'b:latest', 'a:latest', 'b:broken', 'a:broken'],
    });
  });

  it('filters by name, kind, failing import and updated time', async () => {
    expect(await tagNames({ filter: { namePrefix: 'bro' } })).toEqual({
      names: ['a:broken', 'b:broken'],
      total: 2,
    });
    expect(await tagNames({ filter: { nameContains: 'ght' } })).toEqual({
      names: ['b:nightly'],
      total: 1,
    });
    expect(await tagNames({ filter: { kinds: ['PERMANENT', 'SCHEDULED'] } })).toEqual({
      names: ['b:latest', 'b:nightly'],
      total: 2,
    });
    expect(await tagNames({ filter: { importFailing: true } })).toEqual({
      names: ['a:broken', 'b:broken', 'b:nightly'],
      total: 3,
    });
    expect(await tagNames({ filter: { hasImage: true } })).toEqual({
      names: ['a:latest'],
      total: 1,
    });
    expect(
      await tagNames({ filter: { updatedAfter: at(10).toISOString(), updatedBefore: at(13) } }),
    ).toEqual({ names: ['a:broken', 'b:broken'], total: 2 });
  });

  it('orders by updated time: the most recently updated failing tags first', async () => {
    const page = await tagNames({
      filter: { importFailing: true },
      orderBy: { field: 'UPDATED_AT', direction: 'DESC' },
      first: 2,
    });
    expect(page).toEqual({ names: ['b:nightly', 'b:broken'], total: 3 });
    expect(await tagNames({ orderBy: { field: 'UPDATED_AT', direction: 'ASC' } })).toMatchObject({
      names: ['a:latest', 'a:broken', 'b:broken', 'b:latest', 'b:nightly'],
    });
  });

  it('refuses a stream tag list cursor, and a caller without a role reads nothing', async () => {
    const streamPage = await query(
      `{ imageStream(namespace: "${NS}", name: "a") { tags(first: 1) { pageInfo { endCursor } } } }`,
    );
    const cursor = streamPage.imageStream.tags.pageInfo.endCursor;
    const mismatch = await app.call(puller, TAGS, { ns: NS, first: 1, after: cursor });
    expect(mismatch.errors?.[0]?.extensions).toMatchObject({ code: 'CURSOR_ORDER_MISMATCH' });
    const refused = await app.call(puller, TAGS, { ns: 'nstags-other' });
    expect(refused.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN' });
  });

  it('pages by updated time stay stable while tags are written between pages', async () => {
    const s1 = await seedStream(db, { namespace: 'nstags-churn', name: 's1' });
    const s2 = await seedStream(db, { namespace: 'nstags-churn', name: 's2' });
    const churner = await app.member('nstags-churn', 'IMAGE_PULLER');
    const base = Date.UTC(2026, 1, 1);
    const name = (n: number) => `t${String(n).padStart(2, '0')}`;
    for (let n = 0; n < 30; n++) {
      // Alternate streams; pairs share a time, so the id breaks the tie.
      const row = await seedTag(db, n % 2 === 0 ? s1.id : s2.id, { name: name(n) });
      await db
        .update(tags)
        .set({ updatedAt: new Date(base + Math.floor(n / 2) * 1000) })
        .where(eq(tags.id, row.id));
    }
    const seen: string[] = [];
    let after: string | null = null;
    let page = 0;
    for (;;) {
      const result: { errors?: unknown; data?: Json | null } = await app.call<Json>(churner, TAGS, {
        ns: 'nstags-churn',
        orderBy: { field: 'UPDATED_AT', direction: 'DESC' },
        first: 7,
        after,
      });
      expect(result.errors).toBeUndefined();
      const connection: Json = result.data!.namespace.tags;
      seen.push(...connection.edges.map((e: Json) => e.node.name));
      if (!connection.pageInfo.hasNextPage) break;
      after = connection.pageInfo.endCursor;
      page += 1;
      // Between pages: a new tag (newest: behind the cursor) and an old one moved to the front.
      await seedTag(db, page % 2 === 0 ? s1.id : s2.id, { name: `new${page}` });
      await db.execute(
        sql`update tags set updated_at = now() where namespace = 'nstags-churn' and name = ${name(page - 1)}`,
      );
    }
    expect(page).toBe(3);
    expect(new Set(seen).size).toBe(seen.length);
    const moved = new Set(Array.from({ length: page }, (_, p) => name(p)));
    const expected = Array.from({ length: 30 }, (_, n) => name(29 - n));
    expect(seen.filter((n) => !moved.has(n))).toEqual(expected.filter((n) => !moved.has(n)));
    expect(seen.filter((n) => n.startsWith('new'))).toEqual([]);
  });
});

describe('ImageStreamTag.history', () => {
  it('orders by position, generation and created time, both ways', async () => {
    expect(await generations({})).toEqual({ generations: [4, 2, 3, 1], total: 4 });
    expect(await generations({ orderBy: { field: 'POSITION', direction: 'ASC' } })).toMatchObject({
      generations: [1, 3, 2, 4],
    });
    expect(await generations({ orderBy: { field: 'GENERATION', direction: 'ASC' } })).toMatchObject(
      { generations: [1, 2, 3, 4] },
    );
    expect(
      await generations({ orderBy: { field: 'GENERATION', direction: 'DESC' } }),
    ).toMatchObject({ generations: [4, 3, 2, 1] });
    expect(await generations({ orderBy: { field: 'CREATED', direction: 'ASC' } })).toMatchObject({
      generations: [1, 3, 4, 2],
    });
    expect(
      await generations({ orderBy: { field: 'CREATED', direction: 'DESC' }, first: 2 }),
    ).toEqual({ generations: [2, 4], total: 4 });
  });

  it('pages by created time with cursors of its own ordering', async () => {
    const seen: number[] = [];
    let after: string | null = null;
    for (;;) {
      const data: Json = await query(HISTORY, {
        orderBy: { field: 'CREATED', direction: 'DESC' },
        first: 1,
        after,
      });
      seen.push(...data.imageStreamTag.history.edges.map((e: Json) => e.node.generation));
      if (!data.imageStreamTag.history.pageInfo.hasNextPage) break;
      after = data.imageStreamTag.history.pageInfo.endCursor;
    }
    expect(seen).toEqual([2, 4, 3, 1]);
    const mismatch = await app.call(puller, HISTORY, { first: 1, after });
    expect(mismatch.errors?.[0]?.extensions).toMatchObject({ code: 'CURSOR_ORDER_MISMATCH' });
  });

  it('filters by created time, image and digest prefix', async () => {
    expect(await generations({ filter: { hasImage: false } })).toEqual({
      generations: [3],
      total: 1,
    });
    expect(await generations({ filter: { hasImage: true } })).toEqual({
      generations: [4, 2, 1],
      total: 3,
    });
    expect(await generations({ filter: { digestPrefix: d1.slice(0, 19) } })).toEqual({
      generations: [4, 1],
      total: 2,
    });
    // Without `sha256:` and in upper case, as a short id.
    expect(await generations({ filter: { digestPrefix: d2.slice(7, 19).toUpperCase() } })).toEqual({
      generations: [2],
      total: 1,
    });
    expect(await generations({ filter: { createdAfter: at(2) } })).toEqual({
      generations: [4, 2],
      total: 2,
    });
    expect(await generations({ filter: { createdBefore: at(3) } })).toEqual({
      generations: [3, 1],
      total: 2,
    });
  });

  it('a digest prefix that is no short id is a VALIDATION error naming the field', async () => {
    for (const digestPrefix of ['xyz', 'sha256:', 'a'.repeat(65)]) {
      const result = await app.call(puller, HISTORY, { filter: { digestPrefix } });
      expect(result.errors?.[0]?.extensions, digestPrefix).toMatchObject({
        code: 'VALIDATION',
        field: 'filter.digestPrefix',
      });
    }
  });
});

const EVENTS = /* GraphQL */ `
  query($filter: TagEventFilter, $first: Int, $after: String) {
    tagEvents(namespace: "${NS}", filter: $filter, first: $first, after: $after) {
      events { stream tag type cause }
      hasNextPage endCursor
    }
  }
`;

describe('tagEvents filter', () => {
  const events = async (variables: Record<string, unknown>) => {
    const data = await query(EVENTS, variables);
    return data.tagEvents.events.map((e: Json) => `${e.stream}:${e.tag}:${e.type}:${e.cause}`);
  };

  beforeAll(async () => {
    const rows = [
      ['a', 'latest', 'ADDED', 'tag'],
      ['a', 'broken', 'UPDATED', 'import'],
      ['b', 'broken', 'UPDATED', 'scheduled-import'],
      ['b', 'latest', 'DELETED', 'delete'],
      ['a', 'latest', 'UPDATED', 'push'],
    ] as const;
    // One transaction each, so each event has its own position.
    for (const [stream, tag, type, cause] of rows) {
      await writeTransaction(db, async (tx) => {
        appendEvents(tx, [{ namespace: NS, stream, tag, type, cause }]);
      });
    }
    // Event n (from 1) occurred at minute n.
    await db.execute(sql`
      update events set at = timestamptz '2026-01-01' + n * interval '1 minute'
      from (select id, row_number() over (order by id) n from events where namespace = ${NS}) e
      where events.id = e.id`);
  });

  it('narrows to streams, tags, types, causes and a time window', async () => {
    expect(await events({ filter: { streams: ['b'] } })).toEqual([
      'b:broken:UPDATED:SCHEDULED_IMPORT',
      'b:latest:DELETED:DELETE',
    ]);
    expect(await events({ filter: { tags: ['broken'] } })).toEqual([
      'a:broken:UPDATED:IMPORT',
      'b:broken:UPDATED:SCHEDULED_IMPORT',
    ]);
    expect(await events({ filter: { types: ['UPDATED'], streams: ['a'] } })).toEqual([
      'a:broken:UPDATED:IMPORT',
      'a:latest:UPDATED:PUSH',
    ]);
    expect(await events({ filter: { causes: ['TAG', 'PUSH'] } })).toEqual([
      'a:latest:ADDED:TAG',
      'a:latest:UPDATED:PUSH',
    ]);
    expect(
      await events({ filter: { occurredAfter: at(2), occurredBefore: at(5).toISOString() } }),
    ).toEqual(['b:broken:UPDATED:SCHEDULED_IMPORT', 'b:latest:DELETED:DELETE']);
    expect(await events({ filter: { streams: [] } })).toEqual([]);
  });

  it('pages a filtered log with its own cursor; bad input keeps its codes', async () => {
    const first = await query(EVENTS, { filter: { types: ['UPDATED'] }, first: 1 });
    expect(first.tagEvents.hasNextPage).toBe(true);
    const rest = await events({ filter: { types: ['UPDATED'] }, after: first.tagEvents.endCursor });
    expect(rest).toEqual(['b:broken:UPDATED:SCHEDULED_IMPORT', 'a:latest:UPDATED:PUSH']);
    const bad = await app.call(puller, EVENTS, { after: 'not-a-cursor' });
    expect(bad.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_CURSOR', field: 'after' });
    const many = Array.from({ length: 21 }, (_, n) => `s${n}`);
    const tooMany = await app.call(puller, EVENTS, { filter: { streams: many } });
    expect(tooMany.errors?.[0]?.extensions).toMatchObject({
      code: 'VALIDATION',
      field: 'filter.streams',
    });
  });
});

describe('statements', () => {
  const measure = async (q: string, variables: Record<string, unknown>) => {
    app.statements.length = 0;
    await query(q, variables);
    return ownStatements(app.statements).length;
  };

  it('a page of Namespace.tags runs as many statements for 1 row as for 20', async () => {
    const variables = (first: number) => ({
      ns: NS,
      filter: { importFailing: false },
      orderBy: { field: 'UPDATED_AT', direction: 'DESC' },
      first,
    });
    const one = await measure(TAGS, variables(1));
    expect(await measure(TAGS, variables(20))).toBe(one);
    // The namespace with its page, and the count.
    expect(one).toBe(2);
  });

  it('a filtered page of tagEvents runs as many statements for 1 event as for 20', async () => {
    const variables = (first: number) => ({ filter: { streams: ['a', 'b'] }, first });
    const one = await measure(EVENTS, variables(1));
    expect(await measure(EVENTS, variables(20))).toBe(one);
  });

  it('a page of a history runs as many statements for 1 item as for 20', async () => {
    const variables = (first: number) => ({
      filter: { hasImage: true },
      orderBy: { field: 'CREATED', direction: 'DESC' },
      first,
    });
    const one = await measure(HISTORY, variables(1));
    expect(await measure(HISTORY, variables(20))).toBe(one);
  });
});
