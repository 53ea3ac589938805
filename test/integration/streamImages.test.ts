// ImageStream.images as an IMAGE_PULLER in token mode: every distinct image of a stream's
// histories from the trigger-kept stream_images table, its filters, both orders, pages, counts
// that follow history writes, tag deletes and pruning, and the migration's backfill.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Db, rowsOf } from '../../src/db/client.ts';
import { migrationsFolder } from '../../src/db/migrate.ts';
import { images, tagHistory } from '../../src/db/schema.ts';
import { pruneImages } from '../../src/services/prune.ts';
import { dataAs, startTestApp, type TestApp } from '../support/app.ts';
import { digestOf, MEDIA, seedImage, seedStream, seedTag } from '../support/seed.ts';

// biome-ignore lint/suspicious/noExplicitAny: GraphQL responses are checked by value below.
type Json = Record<string, any>;

const NS = 'stream-images';
let app: TestApp;
let db: Db;
let puller: string;
let editor: string;
let streamId: number;

/** Digests whose order is known: the hex prefix sorts them a < b < c < d < e. */
const D = {
  a: digestOf('si-a', 'a'),
  b: digestOf('si-b', 'b'),
  c: digestOf('si-c', 'c'),
  d: digestOf('si-d', 'd'),
  e: digestOf('si-e', 'e'),
};
const day = (iso: string) => new Date(`${iso}T00:00:00Z`);

const query = (q: string, variables: Record<string, unknown> = {}) =>
  dataAs<Json>(app, puller, q, variables);

const IMAGES = /* GraphQL */ `
  query($stream: String!, $filter: StreamImageFilter, $orderBy: StreamImageOrder, $first: Int, $after: String) {
    imageStream(namespace: "${NS}", name: $stream) {
      uniqueImageCount
      images(filter: $filter, orderBy: $orderBy, first: $first, after: $after) {
        totalCount
        edges { cursor node { digest historyItemCount firstSeen created currentTags { name } image { digest mediaType } } }
        pageInfo { hasNextPage endCursor }
      }
    }
  }
`;

async function list(variables: Record<string, unknown> = {}, stream = 'app') {
  const data = await query(IMAGES, { stream, ...variables });
  const images = data.imageStream.images;
  return {
    digests: images.edges.map((e: Json) => e.node.digest) as string[],
    nodes: images.edges.map((e: Json) => e.node) as Json[],
    total: images.totalCount as number,
    unique: data.imageStream.uniqueImageCount as number,
  };
}

/** Every page of `first` under `orderBy`, with `between` run after each page but the last. */
async function allPages(
  orderBy: Record<string, string> | null,
  first: number,
  between: (page: number) => Promise<void> = async () => {},
  stream = 'app',
) {
  const seen: string[] = [];
  let after: string | null = null;
  for (let page = 1; ; page++) {
    const data: Json = await query(IMAGES, { stream, orderBy, first, after });
    const connection = data.imageStream.images;
    seen.push(...connection.edges.map((e: Json) => e.node.digest));
    if (!connection.pageInfo.hasNextPage) break;
    after = connection.pageInfo.endCursor;
    await between(page);
  }
  return seen;
}

beforeAll(async () => {
  app = await startTestApp();
  db = app.database.db;
  const stream = await seedStream(db, { namespace: NS, name: 'app' });
  streamId = stream.id;
  // a: 2024-01, b: 2024-06, c: no created time, d: a manifest list of 2023, e: 2025.
  await seedImage(db, { digest: D.a, created: day('2024-01-01') });
  await seedImage(db, { digest: D.b, created: day('2024-06-01') });
  await seedImage(db, { digest: D.c, created: null });
  await seedImage(db, {
    digest: D.d,
    created: day('2023-01-01'),
    manifests: [{ digest: D.a, size: 10, os: 'linux', architecture: 'amd64' }],
  });
  await seedImage(db, { digest: D.e, created: day('2025-01-01') });
  const item = (image: string, created: string) => ({
    dockerImageReference: `quay.io/x/app@${image}`,
    image,
    generation: 1,
    created: day(created),
  });
  // latest: a, b, e (item 0 = e); stable: b; old: a, c (item 0 = c); multi: d; upstream: a reference.
  const histories = {
    latest: [item(D.a, '2026-01-02'), item(D.b, '2026-01-03'), item(D.e, '2026-01-04')],
    stable: [item(D.b, '2026-01-05')],
    old: [item(D.a, '2026-01-01'), item(D.c, '2026-01-06')],
    multi: [item(D.d, '2026-01-07')],
  };
  for (const [name, history] of Object.entries(histories)) {
    const from = { kind: 'DockerImage', name: `quay.io/x/app:${name}` } as const;
    await seedTag(db, streamId, { name, from, history });
  }
  await seedTag(db, streamId, {
    name: 'upstream',
    from: { kind: 'DockerImage', name: 'quay.io/x/app:up' },
    reference: true,
    history: [{ dockerImageReference: 'quay.io/x/app:up', image: null, generation: 1 }],
  });
  puller = await app.member(NS, 'IMAGE_PULLER');
  editor = await app.member(NS, 'EDITOR');
}, 60_000);

afterAll(async () => {
  await app?.stop();
});

describe('the images of a stream', () => {
  it('lists each distinct image once, with its counts and the tags on it now', async () => {
    const { nodes, total, unique } = await list();
    expect(total).toBe(5);
    expect(unique).toBe(5);
    const byDigest = Object.fromEntries(nodes.map((n) => [n.digest, n]));
    expect(byDigest[D.a]).toMatchObject({
      historyItemCount: 2,
      firstSeen: '2026-01-01T00:00:00.000Z',
      created: '2024-01-01T00:00:00.000Z',
      currentTags: [],
      image: { digest: D.a, mediaType: MEDIA.manifest },
    });
    expect(byDigest[D.b]).toMatchObject({
      historyItemCount: 2,
      firstSeen: '2026-01-03T00:00:00.000Z',
      currentTags: [{ name: 'stable' }],
    });
    expect(byDigest[D.c]).toMatchObject({ created: null, currentTags: [{ name: 'old' }] });
    expect(byDigest[D.d]).toMatchObject({ image: { mediaType: MEDIA.index } });
    expect(byDigest[D.e]).toMatchObject({ historyItemCount: 1, currentTags: [{ name: 'latest' }] });
  });

  it('orders by created time, newest first by default, images without one last both ways', async () => {
    expect((await list()).digests).toEqual([D.e, D.b, D.a, D.d, D.c]);
    expect((await list({ orderBy: { field: 'CREATED', direction: 'DESC' } })).digests).toEqual([
      D.e,
      D.b,
      D.a,
      D.d,
      D.c,
    ]);
    expect((await list({ orderBy: { field: 'CREATED', direction: 'ASC' } })).digests).toEqual([
      D.d,
      D.a,
      D.b,
      D.e,
      D.c,
    ]);
    expect((await list({ orderBy: { field: 'DIGEST', direction: 'ASC' } })).digests).toEqual([
      D.a,
      D.b,
      D.c,
      D.d,
      D.e,
    ]);
    expect((await list({ orderBy: { field: 'DIGEST', direction: 'DESC' } })).digests).toEqual([
      D.e,
      D.d,
      D.c,
      D.b,
      D.a,
    ]);
  });

  it('pages through each order with cursors, the same rows as one page', async () => {
    for (const orderBy of [
      null,
      { field: 'CREATED', direction: 'ASC' },
      { field: 'DIGEST', direction: 'ASC' },
      { field: 'DIGEST', direction: 'DESC' },
    ]) {
      const whole = (await list({ orderBy })).digests;
      expect(await allPages(orderBy, 2), JSON.stringify(orderBy)).toEqual(whole);
    }
  });

  it('filters by digest prefix, created time and manifest list, counted the same', async () => {
    expect(await list({ filter: { digestPrefix: D.b.slice(7, 19) } })).toMatchObject({
      digests: [D.b],
      total: 1,
    });
    expect(await list({ filter: { digestPrefix: D.c.slice(0, 19) } })).toMatchObject({
      digests: [D.c],
      total: 1,
    });
    expect(
      await list({
        filter: { createdAfter: '2023-06-01T00:00:00Z', createdBefore: '2025-01-01T00:00:00Z' },
      }),
    ).toMatchObject({ digests: [D.b, D.a], total: 2 });
    expect(await list({ filter: { isManifestList: true } })).toMatchObject({
      digests: [D.d],
      total: 1,
    });
    expect(await list({ filter: { isManifestList: false } })).toMatchObject({
      digests: [D.e, D.b, D.a, D.c],
      total: 4,
    });
  });

  it('refuses a bad filter and a cursor of another ordering with typed errors', async () => {
    const bad = await app.call(puller, IMAGES, {
      stream: 'app',
      filter: { digestPrefix: 'not-hex' },
    });
    expect(bad.errors?.[0]?.extensions).toMatchObject({
      code: 'VALIDATION',
      field: 'filter.digestPrefix',
    });
    const first = await query(IMAGES, { stream: 'app', first: 1 });
    const mismatch = await app.call(puller, IMAGES, {
      stream: 'app',
      orderBy: { field: 'CREATED', direction: 'ASC' },
      after: first.imageStream.images.pageInfo.endCursor,
    });
    expect(mismatch.errors?.[0]?.extensions).toMatchObject({ code: 'CURSOR_ORDER_MISMATCH' });
  });

  it('a caller without a role in the namespace reads nothing', async () => {
    const other = await app.member('elsewhere', 'IMAGE_PULLER');
    const result = await app.call(other, IMAGES, { stream: 'app' });
    expect(result.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN' });
  });
});

describe('the counts follow the histories', () => {
  it('an item replaced in place, an image whose created time changes', async () => {
    const [item] = await db.select().from(tagHistory).where(eq(tagHistory.imageDigest, D.e));
    // The push rule replaces item 0 in place: e becomes c.
    await db.update(tagHistory).set({ imageDigest: D.c }).where(eq(tagHistory.id, item!.id));
    let nodes = (await list()).nodes;
    expect(nodes.map((n) => n.digest)).toEqual([D.b, D.a, D.d, D.c]);
    expect(nodes.find((n) => n.digest === D.c)).toMatchObject({
      historyItemCount: 2,
      currentTags: [{ name: 'latest' }, { name: 'old' }],
    });
    await db.update(tagHistory).set({ imageDigest: D.e }).where(eq(tagHistory.id, item!.id));
    // c gets a created time: it moves from last to first.
    await db
      .update(images)
      .set({ created: day('2026-01-01') })
      .where(eq(images.digest, D.c));
    nodes = (await list()).nodes;
    expect(nodes.map((n) => n.digest)).toEqual([D.c, D.e, D.b, D.a, D.d]);
    await db.update(images).set({ created: null }).where(eq(images.digest, D.c));
    expect((await list()).digests).toEqual([D.e, D.b, D.a, D.d, D.c]);
  });

  it('a deleted tag takes its items; pruning takes old items', async () => {
    const stream = await seedStream(db, { namespace: NS, name: 'prune' });
    const item = (image: string, created: string) => ({
      dockerImageReference: `quay.io/x/p@${image}`,
      image,
      generation: 1,
      created: day(created),
    });
    await seedTag(db, stream.id, {
      name: 'one',
      from: { kind: 'DockerImage', name: 'quay.io/x/p:one' },
      history: [item(D.a, '2025-02-01'), item(D.b, '2025-02-02'), item(D.c, '2025-02-03')],
    });
    await seedTag(db, stream.id, {
      name: 'two',
      from: { kind: 'DockerImage', name: 'quay.io/x/p:two' },
      history: [item(D.a, '2025-03-01'), item(D.d, '2025-03-02')],
    });
    const counts = async () =>
      Object.fromEntries(
        (await list({}, 'prune')).nodes.map((n) => [n.digest, [n.historyItemCount, n.firstSeen]]),
      );
    expect(await counts()).toEqual({
      [D.a]: [2, '2025-02-01T00:00:00.000Z'],
      [D.b]: [1, '2025-02-02T00:00:00.000Z'],
      [D.c]: [1, '2025-02-03T00:00:00.000Z'],
      [D.d]: [1, '2025-03-02T00:00:00.000Z'],
    });
    // Keep one revision per tag, everywhere: one's a and b go, two's a goes.
    const pruned = await pruneImages(db, {
      keepTagRevisions: 1,
      keepYoungerThanMinutes: 0,
      dryRun: false,
    });
    expect(pruned.ok).toBe(true);
    expect(await counts()).toEqual({
      [D.c]: [1, '2025-02-03T00:00:00.000Z'],
      [D.d]: [1, '2025-03-02T00:00:00.000Z'],
    });
    // Deleted through the API, as an editor does.
    const deleted = await app.call(
      editor,
      `mutation { deleteTag(input: { namespace: "${NS}", ref: "prune:one" }) { __typename } }`,
    );
    expect(deleted.errors).toBeUndefined();
    expect(await counts()).toEqual({ [D.d]: [1, '2025-03-02T00:00:00.000Z'] });
    expect((await list({}, 'prune')).unique).toBe(1);
  });

  it('a deleted stream leaves no rows behind', async () => {
    const stream = await seedStream(db, { namespace: NS, name: 'gone' });
    await seedTag(db, stream.id, {
      name: 'x',
      from: { kind: 'DockerImage', name: 'quay.io/x/gone:x' },
      history: [
        { dockerImageReference: 'x', image: D.a, generation: 1 },
        { dockerImageReference: 'x', image: D.b, generation: 1 },
      ],
    });
    const rowsOfStream = async () =>
      rowsOf(await db.execute(sql`select digest from stream_images where stream_id = ${stream.id}`))
        .length;
    expect(await rowsOfStream()).toBe(2);
    // Deleted through the API, by a namespace admin: the tags go with it, and their rows.
    const admin = await app.member(NS, 'ADMIN');
    const deleted = await app.call<Json>(
      admin,
      `mutation { deleteImageStream(input: { namespace: "${NS}", name: "gone" }) { __typename } }`,
    );
    expect(deleted.errors, JSON.stringify(deleted.errors)).toBeUndefined();
    expect(deleted.data!.deleteImageStream.__typename).not.toMatch(/Error$/);
    expect(await rowsOfStream()).toBe(0);
  });

  it('pages stay stable while images are added between pages', async () => {
    const stream = await seedStream(db, { namespace: NS, name: 'churn' });
    const digests = Array.from({ length: 12 }, (_, n) => digestOf(`churn-${n}`));
    for (const [n, digest] of digests.entries()) {
      await seedImage(db, { digest, created: new Date(Date.UTC(2020, 0, 1 + n)) });
    }
    await seedTag(db, stream.id, {
      name: 'all',
      from: { kind: 'DockerImage', name: 'quay.io/x/churn:all' },
      history: digests.map((image) => ({ dockerImageReference: 'x', image, generation: 1 })),
    });
    const tag = await db.query.tags.findFirst({ where: { streamId: stream.id, name: 'all' } });
    let seq = 100;
    const seen = await allPages(
      null,
      5,
      async (page) => {
        // A newer image (before the cursor) and an older one (after it) are pushed.
        for (const created of [
          new Date(Date.UTC(2030, 0, page)),
          new Date(Date.UTC(2010, 0, page)),
        ]) {
          const digest = digestOf(`churn-new-${created.toISOString()}`);
          await seedImage(db, { digest, created });
          await db.insert(tagHistory).values({
            tagId: tag!.id,
            seq: seq++,
            dockerImageReference: 'x',
            imageDigest: digest,
            generation: 1,
          });
        }
      },
      'churn',
    );
    const original = [...digests].reverse();
    // Every original image once, in order; the newer ones never; the older ones at the end.
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.filter((d) => digests.includes(d))).toEqual(original);
    expect(seen.slice(0, 12)).toEqual(original);
    expect(seen.length).toBe(12 + 2);
  });
});

describe('the migration', () => {
  it('backfills stream_images from the histories already written', async () => {
    const snapshot = async () =>
      rowsOf(
        await db.execute(
          sql`select stream_id, digest, created, created_asc_key, created_desc_key,
            history_item_count, first_seen from stream_images order by stream_id, digest`,
        ),
      );
    const before = await snapshot();
    expect(before.length).toBeGreaterThan(5);
    // The migration's last statement, run on the histories this file wrote, gives the same rows
    // the triggers kept.
    const folder = readdirSync(migrationsFolder).find((name) => name.endsWith('_stream_images'));
    const migration = readFileSync(join(migrationsFolder, folder!, 'migration.sql'), 'utf8');
    const backfill = migration.slice(migration.lastIndexOf('INSERT INTO stream_images'));
    await db.execute(sql`delete from stream_images`);
    expect(await snapshot()).toEqual([]);
    await db.execute(sql.raw(backfill));
    expect(await snapshot()).toEqual(before);
    // Pruning (above) took a's items from the stream "app" too.
    expect((await list()).digests).toEqual([D.e, D.b, D.d, D.c]);
  });
});
