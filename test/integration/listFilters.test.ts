// Filtering, ordering and counting the stream and tag lists, as an IMAGE_PULLER in token mode:
// each filter and order, totalCount, stable cursors under concurrent writes, typed refusals.
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/db/client.ts';
import { imageStreams, tagConditions as tagConditionsTable, tags } from '../../src/db/schema.ts';
import type { TagSelectionPolicy } from '../../src/domain/policyTags.ts';
import { writeTransaction } from '../../src/events/append.ts';
import { recordTagEvent } from '../../src/services/tagHistory.ts';
import { dataAs, startTestApp, type TestApp } from '../support/app.ts';
import { digestOf, type SeedTag, seedImage, seedStream, seedTag } from '../support/seed.ts';

// biome-ignore lint/suspicious/noExplicitAny: GraphQL responses are checked by value below.
type Json = Record<string, any>;

const NS = 'lists';
let app: TestApp;
let db: Db;
let puller: string;
let appStreamId: number;

const at = (minute: number) => new Date(Date.UTC(2026, 0, 1, 0, minute));

const query = (q: string, variables: Record<string, unknown> = {}) =>
  dataAs<Json>(app, puller, q, variables);

const STREAMS = /* GraphQL */ `
  query($filter: ImageStreamFilter, $orderBy: ImageStreamOrder, $first: Int, $after: String) {
    imageStreams(namespace: "${NS}", filter: $filter, orderBy: $orderBy, first: $first, after: $after) {
      totalCount
      edges { cursor node { name } }
      pageInfo { hasNextPage endCursor }
    }
  }
`;

const TAGS = /* GraphQL */ `
  query($filter: ImageStreamTagFilter, $orderBy: ImageStreamTagOrder, $first: Int, $after: String) {
    imageStream(namespace: "${NS}", name: "app") {
      tags(filter: $filter, orderBy: $orderBy, first: $first, after: $after) {
        totalCount
        edges { cursor node { name } }
        pageInfo { hasNextPage endCursor }
      }
    }
  }
`;

async function streamNames(variables: Record<string, unknown>) {
  const data = await query(STREAMS, variables);
  return {
    names: data.imageStreams.edges.map((e: Json) => e.node.name),
    total: data.imageStreams.totalCount,
  };
}

async function tagNames(variables: Record<string, unknown>) {
  const data = await query(TAGS, variables);
  return {
    names: data.imageStream.tags.edges.map((e: Json) => e.node.name),
    total: data.imageStream.tags.totalCount,
  };
}

beforeAll(async () => {
  app = await startTestApp();
  db = app.database.db;
  const streams: [string, Record<string, string>, number][] = [
    ['api', { app: 'web', tier: 'backend', env: 'prod' }, 3],
    ['app', { app: 'web', tier: 'frontend', env: 'staging' }, 1],
    ['batch', { app: 'jobs', env: 'dev', legacy: 'true' }, 2],
    ['web-admin', { app: 'web', tier: 'db' }, 5],
    ['worker', {}, 4],
  ];
  for (const [index, [name, labels, generation]] of streams.entries()) {
    const row = await seedStream(db, { namespace: NS, name, generation });
    await db
      .update(imageStreams)
      .set({ labels, updatedAt: at(10 - index) })
      .where(eq(imageStreams.id, row.id));
    if (name === 'app') appStreamId = row.id;
  }
  const image = await seedImage(db, {
    digest: digestOf('lists-1'),
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
  });
  const pulled = { dockerImageReference: 'quay.io/x/app:1', image, generation: 1 };
  // Updated times in this order: pinned oldest … broken newest.
  const seeded: SeedTag[] = [
    {
      name: 'pinned',
      from: { kind: 'ImageStreamImage', name: `app@${image}` },
      history: [pulled],
    },
    {
      name: 'latest',
      from: { kind: 'DockerImage', name: 'quay.io/x/app:latest' },
      history: [pulled],
    },
    {
      name: 'nightly',
      from: { kind: 'DockerImage', name: 'quay.io/x/app:nightly' },
      importScheduled: true,
      conditions: [{ status: 'False', reason: 'NotFound', generation: 1 }],
    },
    {
      name: 'stable',
      from: { kind: 'ImageStreamTag', name: 'latest' },
      history: [pulled],
    },
    {
      name: 'upstream',
      from: { kind: 'DockerImage', name: 'quay.io/x/app:upstream' },
      reference: true,
      history: [{ dockerImageReference: 'quay.io/x/app:upstream', image: null, generation: 1 }],
    },
    {
      name: 'pushed',
      specGeneration: null,
      history: [pulled],
    },
    {
      name: 'broken',
      from: { kind: 'DockerImage', name: 'quay.io/x/app:broken' },
      conditions: [{ status: 'False', reason: 'Unauthorized', generation: 1 }],
    },
  ];
  await Promise.all(
    seeded.map((tag, index) => seedTag(db, appStreamId, { ...tag, updatedAt: at(index) })),
  );
  puller = await app.member(NS, 'IMAGE_PULLER');
}, 60_000);

afterAll(async () => {
  await app?.stop();
});

describe('the stream list', () => {
  it('filters by name prefix and substring', async () => {
    expect(await streamNames({ filter: { namePrefix: 'w' } })).toEqual({
      names: ['web-admin', 'worker'],
      total: 2,
    });
    expect(await streamNames({ filter: { nameContains: 'p' } })).toEqual({
      names: ['api', 'app'],
      total: 2,
    });
    // LIKE's wildcards are plain characters in a prefix.
    expect(await streamNames({ filter: { namePrefix: '_' } })).toEqual({ names: [], total: 0 });
  });

  it('filters with a Kubernetes label selector', async () => {
    const cases: [string, string[]][] = [
      ['app=web', ['api', 'app', 'web-admin']],
      ['app==web,tier!=db', ['api', 'app']],
      ['env in (prod, staging)', ['api', 'app']],
      ['env notin (prod)', ['app', 'batch', 'web-admin', 'worker']],
      ['!legacy', ['api', 'app', 'web-admin', 'worker']],
      ['legacy', ['batch']],
      ['app=web,tier!=db,env in (prod,staging),!legacy', ['api', 'app']],
      ['', ['api', 'app', 'batch', 'web-admin', 'worker']],
    ];
    for (const [labelSelector, names] of cases) {
      expect(await streamNames({ filter: { labelSelector } }), labelSelector).toEqual({
        names,
        total: names.length,
      });
    }
    // The `labels` pairs and the selector together.
    expect(
      await streamNames({
        filter: { labels: [{ key: 'app', value: 'web' }], labelSelector: 'tier in (db)' },
      }),
    ).toEqual({ names: ['web-admin'], total: 1 });
  });

  it('orders by name, updated time and generation, both ways', async () => {
    const cases: [Record<string, string>, string[]][] = [
      [{ field: 'NAME', direction: 'DESC' }, ['worker', 'web-admin', 'batch', 'app', 'api']],
      [{ field: 'UPDATED_AT', direction: 'DESC' }, ['api', 'app', 'batch', 'web-admin', 'worker']],
      [{ field: 'UPDATED_AT', direction: 'ASC' }, ['worker', 'web-admin', 'batch', 'app', 'api']],
      [{ field: 'GENERATION', direction: 'ASC' }, ['app', 'batch', 'api', 'worker', 'web-admin']],
    ];
    for (const [orderBy, names] of cases) {
      // Two pages of two, then the rest: the cursors carry the ordering.
      const seen: string[] = [];
      let after: string | null = null;
      for (;;) {
        const data: Json = await query(STREAMS, { orderBy, first: 2, after });
        seen.push(...data.imageStreams.edges.map((e: Json) => e.node.name));
        if (!data.imageStreams.pageInfo.hasNextPage) break;
        after = data.imageStreams.pageInfo.endCursor;
      }
      expect(seen, JSON.stringify(orderBy)).toEqual(names);
    }
  });

  it('filters and orders Namespace.imageStreams the same way, with totalCount', async () => {
    const data = await query(/* GraphQL */ `{
      namespace(name: "${NS}") {
        imageStreams(filter: { labelSelector: "app=web" }, orderBy: { field: GENERATION, direction: DESC }, first: 2) {
          totalCount edges { node { name generation } }
        }
      }
    }`);
    expect(data.namespace.imageStreams).toEqual({
      totalCount: 3,
      edges: [
        { node: { name: 'web-admin', generation: 5 } },
        { node: { name: 'api', generation: 3 } },
      ],
    });
  });
});

describe('the tag list', () => {
  it('filters by kind', async () => {
    const cases: [string[], string[]][] = [
      [['PERMANENT'], ['pinned']],
      [['TRACKING'], ['stable']],
      [['REFERENCE'], ['upstream']],
      [['EXTERNAL'], ['broken', 'latest']],
      [['SCHEDULED'], ['nightly']],
      [['STATUS_ONLY'], ['pushed']],
      [
        ['TRACKING', 'SCHEDULED'],
        ['nightly', 'stable'],
      ],
      [[], []],
    ];
    for (const [kinds, names] of cases) {
      expect(await tagNames({ filter: { kinds } }), kinds.join()).toEqual({
        names,
        total: names.length,
      });
    }
  });

  it('filters failing imports, tags with an image, names and updated times', async () => {
    expect(await tagNames({ filter: { importFailing: true } })).toEqual({
      names: ['broken', 'nightly'],
      total: 2,
    });
    expect((await tagNames({ filter: { importFailing: false } })).total).toBe(5);
    expect(await tagNames({ filter: { hasImage: true } })).toEqual({
      names: ['latest', 'pinned', 'pushed', 'stable'],
      total: 4,
    });
    expect(await tagNames({ filter: { hasImage: false } })).toEqual({
      names: ['broken', 'nightly', 'upstream'],
      total: 3,
    });
    expect(await tagNames({ filter: { namePrefix: 'p' } })).toEqual({
      names: ['pinned', 'pushed'],
      total: 2,
    });
    expect(await tagNames({ filter: { nameContains: 'ea' } })).toEqual({
      names: ['upstream'],
      total: 1,
    });
    expect(
      await tagNames({
        filter: { updatedAfter: at(1).toISOString(), updatedBefore: at(4).toISOString() },
      }),
    ).toEqual({ names: ['nightly', 'stable'], total: 2 });
  });

  it('orders by updated time: the most recently updated failing tags first', async () => {
    expect(
      await tagNames({
        filter: { importFailing: true },
        orderBy: { field: 'UPDATED_AT', direction: 'DESC' },
      }),
    ).toEqual({ names: ['broken', 'nightly'], total: 2 });
    expect(
      (await tagNames({ orderBy: { field: 'NAME', direction: 'DESC' }, first: 3 })).names,
    ).toEqual(['upstream', 'stable', 'pushed']);
  });
});

describe('policy tags', () => {
  it('are POLICY, scheduled or not, and never counted as EXTERNAL or SCHEDULED', async () => {
    const stream = await seedStream(db, { namespace: NS, name: 'kinds' });
    const semver: TagSelectionPolicy = {
      kind: 'semver',
      range: '^1',
      includePrerelease: false,
      exclude: [],
    };
    const newest: TagSelectionPolicy = { kind: 'newestBuild', filter: null, exclude: [] };
    const repository = { kind: 'DockerImage', name: 'quay.io/x/app' } as const;
    await seedTag(db, stream.id, { name: 'semver', from: repository, policy: semver });
    await seedTag(db, stream.id, {
      name: 'newest',
      from: repository,
      policy: newest,
      importScheduled: true,
    });
    await seedTag(db, stream.id, { name: 'plain', from: { ...repository, name: 'quay.io/x/a:1' } });
    await seedTag(db, stream.id, {
      name: 'daily',
      from: { ...repository, name: 'quay.io/x/a:2' },
      importScheduled: true,
    });
    const KINDS = /* GraphQL */ `query($kinds: [TagKind!]) {
      imageStream(namespace: "${NS}", name: "kinds") {
        tags(filter: { kinds: $kinds }) { totalCount edges { node { name } } }
      }
      namespace(name: "${NS}") { tags(filter: { kinds: $kinds }, first: 50) { totalCount } }
    }`;
    const cases: [string[], string[]][] = [
      [['POLICY'], ['newest', 'semver']],
      [['EXTERNAL'], ['plain']],
      [['SCHEDULED'], ['daily']],
      [
        ['EXTERNAL', 'SCHEDULED'],
        ['daily', 'plain'],
      ],
      [
        ['POLICY', 'SCHEDULED'],
        ['daily', 'newest', 'semver'],
      ],
    ];
    for (const [kinds, names] of cases) {
      const data = await query(KINDS, { kinds });
      expect(
        {
          names: data.imageStream.tags.edges.map((e: Json) => e.node.name),
          total: data.imageStream.tags.totalCount,
        },
        kinds.join(),
      ).toEqual({ names, total: names.length });
    }
    // Across the namespace: the stream "app" has no policy tag, one scheduled and two external.
    expect((await query(KINDS, { kinds: ['POLICY'] })).namespace.tags.totalCount).toBe(2);
    expect((await query(KINDS, { kinds: ['SCHEDULED'] })).namespace.tags.totalCount).toBe(2);
    expect((await query(KINDS, { kinds: ['EXTERNAL'] })).namespace.tags.totalCount).toBe(3);
    // Each tag has exactly one kind: every kind together counts every tag once.
    const all = await query(KINDS, { kinds: null });
    const each = await query(KINDS, {
      kinds: [
        'PERMANENT',
        'TRACKING',
        'REFERENCE',
        'EXTERNAL',
        'SCHEDULED',
        'POLICY',
        'STATUS_ONLY',
      ],
    });
    expect(each.namespace.tags.totalCount).toBe(all.namespace.tags.totalCount);
  });
});

describe('the updated time of a tag', () => {
  it('moves with its history and its import condition', async () => {
    const stream = await db.query.imageStreams.findFirst({ where: { id: appStreamId } });
    const before = Date.now();
    await writeTransaction(db, (tx) =>
      recordTagEvent(
        tx,
        stream!,
        'pinned',
        { dockerImageReference: 'quay.io/x/app:2', image: null, generation: 1 },
        { cause: 'tag' },
      ),
    );
    const { names } = await tagNames({ orderBy: { field: 'UPDATED_AT', direction: 'DESC' } });
    expect(names[0]).toBe('pinned');
    const recent = await tagNames({
      filter: { updatedAfter: new Date(before - 1000).toISOString() },
    });
    expect(recent.names).toEqual(['pinned']);
    // A new import condition (as a failed import writes it) moves the tag too.
    const latest = await db.query.tags.findFirst({
      where: { streamId: appStreamId, name: 'latest' },
    });
    await db
      .insert(tagConditionsTable)
      .values({ tagId: latest!.id, type: 'ImportSuccess', status: 'False', generation: 1 });
    expect(
      (await tagNames({ orderBy: { field: 'UPDATED_AT', direction: 'DESC' }, first: 1 })).names,
    ).toEqual(['latest']);
    await db.delete(tagConditionsTable).where(eq(tagConditionsTable.tagId, latest!.id));
    await db
      .update(tags)
      .set({ updatedAt: at(1) })
      .where(eq(tags.id, latest!.id));
    // Back to where the other tests expect it.
    await db
      .update(tags)
      .set({ updatedAt: at(0) })
      .where(sql`name = 'pinned' and stream_id = ${appStreamId}`);
  });
});

describe('cursors', () => {
  it('a cursor from another ordering is CURSOR_ORDER_MISMATCH; a made-up one BAD_USER_INPUT', async () => {
    const first = await query(STREAMS, { orderBy: { field: 'NAME', direction: 'ASC' }, first: 1 });
    const cursor = first.imageStreams.pageInfo.endCursor;
    for (const orderBy of [
      { field: 'UPDATED_AT', direction: 'ASC' },
      { field: 'NAME', direction: 'DESC' },
    ]) {
      const result = await app.call(puller, STREAMS, { orderBy, first: 1, after: cursor });
      expect(result.errors?.[0]?.extensions).toMatchObject({
        code: 'CURSOR_ORDER_MISMATCH',
        field: 'after',
      });
    }
    // A stream-list cursor on the tag list.
    const onTags = await app.call(puller, TAGS, { first: 1, after: cursor });
    expect(onTags.errors?.[0]?.extensions).toMatchObject({ code: 'CURSOR_ORDER_MISMATCH' });
    const made = await app.call(puller, STREAMS, { first: 1, after: 'bm90IGEgY3Vyc29y' });
    expect(made.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'after' });
  });

  it('pages by updated time stay stable while tags are written between pages', async () => {
    const stream = await seedStream(db, { namespace: NS, name: 'churn' });
    const base = Date.UTC(2026, 1, 1);
    for (let n = 0; n < 30; n++) {
      const row = await seedTag(db, stream.id, { name: `t${String(n).padStart(2, '0')}` });
      // Pairs share a time: the id breaks the tie.
      await db
        .update(tags)
        .set({ updatedAt: new Date(base + Math.floor(n / 2) * 1000) })
        .where(eq(tags.id, row.id));
    }
    const CHURN = /* GraphQL */ `query($after: String) {
      imageStream(namespace: "${NS}", name: "churn") {
        tags(orderBy: { field: UPDATED_AT, direction: DESC }, first: 7, after: $after) {
          edges { node { name } } pageInfo { hasNextPage endCursor }
        }
      }
    }`;
    const seen: string[] = [];
    let after: string | null = null;
    let page = 0;
    for (;;) {
      const data: Json = await query(CHURN, { after });
      const connection = data.imageStream.tags;
      seen.push(...connection.edges.map((e: Json) => e.node.name));
      if (!connection.pageInfo.hasNextPage) break;
      after = connection.pageInfo.endCursor;
      page += 1;
      // Between pages: a new tag (newest, so before the cursor) and an old one moved to the front.
      await seedTag(db, stream.id, { name: `new${page}` });
      await db.execute(
        sql`update tags set updated_at = now() where stream_id = ${stream.id} and name = ${`t${String(page - 1).padStart(2, '0')}`}`,
      );
    }
    // Four pages: 7 + 7 + 7, then the 6 left once three tags moved ahead of the cursor.
    expect(page).toBe(3);
    // Every original tag that was not moved ahead of the cursor appears exactly once, in order.
    expect(new Set(seen).size).toBe(seen.length);
    const expected = Array.from({ length: 30 }, (_, n) => `t${String(29 - n).padStart(2, '0')}`);
    const moved = new Set(Array.from({ length: page }, (_, p) => `t${String(p).padStart(2, '0')}`));
    expect(seen.filter((name) => !moved.has(name))).toEqual(
      expected.filter((name) => !moved.has(name)),
    );
    expect(seen.filter((name) => name.startsWith('new'))).toEqual([]);
  });
});

describe('refusals', () => {
  it('a bad selector is a VALIDATION error naming the field', async () => {
    for (const labelSelector of ['app=', 'app in (a', 'Bad Key=x', 'app=web,', 'app>1']) {
      if (labelSelector === 'app=') continue; // the empty value is valid
      const result = await app.call(puller, STREAMS, { filter: { labelSelector } });
      expect(result.errors?.[0]?.extensions, labelSelector).toMatchObject({
        code: 'VALIDATION',
        field: 'filter.labelSelector',
      });
    }
  });

  it('bounds the filter: selector terms and name matches', async () => {
    const many = Array.from({ length: 21 }, (_, n) => `k${n}`).join(',');
    const terms = await app.call(puller, STREAMS, { filter: { labelSelector: many } });
    expect(terms.errors?.[0]?.extensions).toMatchObject({
      code: 'VALIDATION',
      field: 'filter.labelSelector',
    });
    const long = await app.call(puller, TAGS, { filter: { nameContains: 'x'.repeat(256) } });
    expect(long.errors?.[0]?.extensions).toMatchObject({
      code: 'VALIDATION',
      field: 'filter.nameContains',
    });
  });

  it('a caller without a role in the namespace reads nothing', async () => {
    const other = await app.member('elsewhere', 'IMAGE_PULLER');
    const result = await app.call(other, STREAMS, {});
    expect(result.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN' });
  });
});

describe('statements', () => {
  it('a filtered, ordered page runs one statement, and totalCount one more', async () => {
    const measure = async (first: number, count: boolean) => {
      app.statements.length = 0;
      await query(count ? TAGS : TAGS.replace('totalCount', ''), {
        filter: { importFailing: false, kinds: ['EXTERNAL', 'PERMANENT', 'TRACKING'] },
        orderBy: { field: 'UPDATED_AT', direction: 'DESC' },
        first,
      });
      // The caller's token and role bindings are read too; these are the list's own.
      return app.statements.filter((s) => /from "tags"/.test(s)).length;
    };
    expect(await measure(1, false)).toBe(1);
    expect(await measure(5, false)).toBe(1);
    expect(await measure(1, true)).toBe(2);
    expect(await measure(5, true)).toBe(2);
  });
});
