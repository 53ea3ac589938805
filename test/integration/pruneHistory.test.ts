// A namespace admin prunes the namespace's old tag history under retention rules (kept count,
// minimum age, stream and tag-name scope), dry run first; each tag that loses items gets a change
// event with cause PRUNE, and the cluster-wide pruneImages emits the same events.
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rowsOf } from '../../src/db/client.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { seedAgedHistory, seedStream } from '../support/seed.ts';

const NS = 'retention';
const OTHER = 'retention-other';

let app: TestApp;
let admin: TestApp;

/** A tag with `items` history items (generation 1 oldest), all a week old but the newest. */
const seedHistory = (streamId: number, tag: string, items: number, digestSeed = tag) =>
  seedAgedHistory(app.database.db, streamId, tag, {
    items,
    repository: `quay.io/r/${tag}`,
    digestSeed,
  });

async function historyCounts(): Promise<Record<string, number>> {
  const rows = rowsOf<{ key: string; n: number }>(
    await app.database.db.execute(sql`
      select s.namespace || '/' || s.name || ':' || t.name as key, count(h.id)::int as n
      from tags t join image_streams s on s.id = t.stream_id
      left join tag_history h on h.tag_id = t.id group by 1 order by 1`),
  );
  return Object.fromEntries(rows.map((r) => [r.key, Number(r.n)]));
}

const PRUNE = `mutation($input: PruneTagHistoryInput!) { pruneTagHistory(input: $input) {
  __typename
  ... on PruneTagHistoryPayload { dryRun historyItemCount historyItems { stream tag index } }
  ... on ValidationError { problems { field } }
  ... on Error { code }
} }`;

type PrunePayload = {
  __typename: string;
  dryRun?: boolean;
  historyItemCount?: number;
  historyItems?: { stream: string; tag: string; index: number }[];
  problems?: { field: string }[];
  code?: string;
};

async function prune(caller: TestApp, input: Record<string, unknown>): Promise<PrunePayload> {
  const result = await caller.graphql<{ pruneTagHistory: PrunePayload }>(PRUNE, {
    input: { namespace: NS, ...input },
  });
  expect(result.errors).toBeUndefined();
  return result.data!.pruneTagHistory;
}

beforeAll(async () => {
  app = await startTestApp();
  const web = await seedStream(app.database.db, { namespace: NS, name: 'web' });
  const api = await seedStream(app.database.db, { namespace: NS, name: 'api' });
  const other = await seedStream(app.database.db, { namespace: OTHER, name: 'web' });
  await seedHistory(web.id, 'v1', 6);
  await seedHistory(web.id, 'v2', 6);
  await seedHistory(web.id, 'main', 6);
  await seedHistory(api.id, 'v1', 6, 'api-v1');
  await seedHistory(other.id, 'v1', 6, 'other-v1');
  admin = app.as(await app.member(NS, 'ADMIN'));
});

afterAll(() => app?.stop());

describe('pruneTagHistory', () => {
  it('reports in a dry run and writes nothing', async () => {
    const before = await historyCounts();
    const report = await prune(admin, { keepTagRevisions: 2 });
    expect(report).toMatchObject({ __typename: 'PruneTagHistoryPayload', dryRun: true });
    // Four tags of the namespace, each with items 2..5 old enough (item 0 is new, 1 is kept).
    expect(report.historyItemCount).toBe(16);
    expect(
      report.historyItems!.filter((i) => i.stream === 'web' && i.tag === 'v1').map((i) => i.index),
    ).toEqual([2, 3, 4, 5]);
    expect(await historyCounts()).toEqual(before);
  });

  it('removes only what its scope names, keeps item 0, and emits a PRUNE event per tag', async () => {
    const report = await prune(admin, {
      keepTagRevisions: 1,
      streams: ['web'],
      includeTags: ['v*'],
      excludeTags: ['v2'],
      dryRun: false,
    });
    expect(report).toMatchObject({ dryRun: false, historyItemCount: 5 });
    expect(await historyCounts()).toEqual({
      [`${NS}/api:v1`]: 6,
      [`${NS}/web:main`]: 6,
      [`${NS}/web:v1`]: 1,
      [`${NS}/web:v2`]: 6,
      [`${OTHER}/web:v1`]: 6,
    });
    await expect
      .poll(async () => {
        const page = await admin.graphql<{
          tagEvents: {
            events: { type: string; cause: string; tag: string; prunedGenerations: number[] }[];
          };
        }>(
          `{ tagEvents(namespace: "${NS}", filter: { causes: [PRUNE] }) {
            events { type cause tag prunedGenerations } } }`,
        );
        return page.data?.tagEvents.events;
      })
      .toEqual([
        { type: 'UPDATED', cause: 'PRUNE', tag: 'v1', prunedGenerations: [5, 4, 3, 2, 1] },
      ]);
  });

  it('keeps items younger than the minimum age', async () => {
    const report = await prune(admin, { keepTagRevisions: 1, keepYoungerThanMinutes: 8 * 24 * 60 });
    expect(report.historyItemCount).toBe(0);
  });

  it('refuses an editor, and bad rules by field', async () => {
    const editor = app.as(await app.member(NS, 'EDITOR'));
    const refused = await editor.graphql<{ pruneTagHistory: PrunePayload | null }>(PRUNE, {
      input: { namespace: NS },
    });
    expect(refused.errors?.[0]?.extensions?.code ?? refused.data?.pruneTagHistory?.code).toBe(
      'FORBIDDEN',
    );
    const invalid = await prune(admin, { keepTagRevisions: 0, includeTags: ['a/b'] });
    expect(invalid.problems!.map((p) => p.field).sort()).toEqual([
      'includeTags.0',
      'keepTagRevisions',
    ]);
  });
});

describe('pruneImages', () => {
  it('emits a PRUNE event for every tag that loses history items', async () => {
    const result = await app.admin<{ pruneImages: { historyItems: unknown[] } }>(
      `mutation { pruneImages(input: { keepTagRevisions: 3, dryRun: false }) {
        ... on PruneImagesPayload { historyItems { tag } } } }`,
    );
    expect(result.pruneImages.historyItems.length).toBeGreaterThan(0);
    await expect
      .poll(async () => {
        const page = await app.admin<{ tagEvents: { events: { stream: string; tag: string }[] } }>(
          `{ tagEvents(namespace: "${OTHER}", filter: { causes: [PRUNE] }) { events { stream tag } } }`,
        );
        return page.tagEvents.events;
      })
      .toEqual([{ stream: 'web', tag: 'v1' }]);
  });
});
