// ImageStream.images on a stream of 10,000 images on Postgres: each ordering reads its own index
// in order (no sort), a page and its count run a constant number of statements whatever its size,
// and what the stream_images triggers add to a bulk history insert.
import { performance } from 'node:perf_hooks';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Db, rowsOf } from '../../src/db/client.ts';
import { type StreamImageListArgs, streamImageListQuery } from '../../src/schema/streamImages.ts';
import { ownStatements, startTestApp, type TestApp } from '../support/app.ts';
import { builtStatement, explainPlan, planNodes } from '../support/plans.ts';
import { seedStream } from '../support/seed.ts';

// biome-ignore lint/suspicious/noExplicitAny: GraphQL responses are checked by value below.
type Json = Record<string, any>;

const NS = 'stream-image-plans';
const IMAGES = 10_000;
let app: TestApp;
let db: Db;
let puller: string;
const streams: Record<'big' | 'plain', number> = { big: 0, plain: 0 };
const insertMs: Record<'big' | 'plain', number> = { big: 0, plain: 0 };

/** 100 tags, then one history item per image, spread over them, in one statement; its time. */
async function fillHistory(streamId: number): Promise<number> {
  await db.execute(sql`
    insert into tags (stream_id, name, from_kind, from_name, spec_generation)
    select ${streamId}, 't' || g, 'DockerImage', 'quay.io/team/app:t' || g, 1
    from generate_series(1, 100) g`);
  const started = performance.now();
  await db.execute(sql`
    insert into tag_history (tag_id, seq, docker_image_reference, image_digest, generation, created)
    select t.id, g, 'quay.io/team/app@' || i.digest, i.digest, 1,
      timestamptz '2026-01-01' + g * interval '1 second'
    from generate_series(1, ${IMAGES}) g
    join tags t on t.stream_id = ${streamId} and t.name = 't' || (g % 100 + 1)
    join images i on i.digest = 'sha256:' || encode(sha256(g::text::bytea), 'hex')`);
  return performance.now() - started;
}

beforeAll(async () => {
  app = await startTestApp();
  db = app.database.db;
  // Every tenth image has no created time; the others one minute apart.
  await db.execute(sql`
    insert into images (digest, media_type, created)
    select 'sha256:' || encode(sha256(g::text::bytea), 'hex'),
      'application/vnd.oci.image.manifest.v1+json',
      case when g % 10 = 0 then null else timestamptz '2020-01-01' + g * interval '1 minute' end
    from generate_series(1, ${IMAGES}) g`);
  streams.big = (await seedStream(db, { namespace: NS, name: 'big' })).id;
  streams.plain = (await seedStream(db, { namespace: NS, name: 'plain' })).id;
  // The same insert without the stream_images trigger first (so a warmer cache favours the
  // one with it), for the trigger's cost.
  await db.execute(sql`alter table tag_history disable trigger tag_history_stream_images_insert`);
  try {
    insertMs.plain = await fillHistory(streams.plain);
  } finally {
    await db.execute(sql`alter table tag_history enable trigger tag_history_stream_images_insert`);
  }
  insertMs.big = await fillHistory(streams.big);
  await db.execute(sql`analyze stream_images`);
  await db.execute(sql`analyze images`);
  puller = await app.member(NS, 'IMAGE_PULLER');
}, 300_000);

afterAll(async () => {
  await app?.stop();
});

describe('a stream of 10,000 images', () => {
  it('keeps one row per image, and reports what the trigger adds to a bulk insert', async () => {
    const [row] = rowsOf<{ n: number }>(
      await db.execute(
        sql`select count(*)::int as n from stream_images where stream_id = ${streams.big}`,
      ),
    );
    expect(row!.n).toBe(IMAGES);
    console.info(
      `bulk insert of ${IMAGES} history items: ${insertMs.big.toFixed(0)} ms with the ` +
        `stream_images trigger, ${insertMs.plain.toFixed(0)} ms without`,
    );
  });

  it('reads each ordering from its index in order, without a sort', async () => {
    const cases: [StreamImageListArgs['orderBy'], string][] = [
      [null, 'stream_images_created_desc_idx'],
      [{ field: 'CREATED', direction: 'asc' }, 'stream_images_created_asc_idx'],
      [{ field: 'DIGEST', direction: 'asc' }, 'stream_images_pkey'],
      [{ field: 'DIGEST', direction: 'desc' }, 'stream_images_pkey'],
    ];
    for (const [orderBy, index] of cases) {
      const list = streamImageListQuery({ orderBy });
      const keys = Object.keys(list.query.orderBy).filter((key) => key !== 'ordering');
      const built = db.query.streamImages
        .findMany({
          columns: { digest: true, created: true },
          where: { streamId: streams.big, ...list.query.where },
          orderBy: (t, ops) =>
            keys.map((key) =>
              ops[list.query.orderBy[key] === 'desc' ? 'desc' : 'asc'](
                t[key as keyof typeof t] as never,
              ),
            ),
          limit: 21,
        })
        .toSQL();
      const statement = builtStatement(built);
      const plan = await explainPlan(db, statement);
      const nodes = planNodes(plan);
      expect(nodes, `${JSON.stringify(orderBy)}: ${nodes.join(' > ')}`).toContain(
        `Index Scan ${index}`,
      );
      expect(nodes.some((n) => n.startsWith('Sort'))).toBe(false);
      const rows = rowsOf<{ created: string | null }>(
        await db.execute(sql`select * from (${statement}) page`),
      );
      expect(rows).toHaveLength(21);
      if (orderBy?.field !== 'DIGEST') expect(rows.every((r) => r.created !== null)).toBe(true);
    }
  });

  it('a page runs the same statements whatever its size, with totalCount', async () => {
    const PAGE = /* GraphQL */ `query($first: Int, $after: String) {
      imageStream(namespace: "${NS}", name: "big") {
        images(first: $first, after: $after) {
          totalCount
          edges { node { digest historyItemCount firstSeen image { digest mediaType } currentTags { name } } }
          pageInfo { endCursor }
        }
      }
    }`;
    const measure = async (first: number, after: string | null = null) => {
      app.statements.length = 0;
      const result = await app.call<Json>(puller, PAGE, { first, after });
      expect(result.errors, JSON.stringify(result.errors)).toBeUndefined();
      const images = result.data!.imageStream.images;
      expect(images.totalCount).toBe(IMAGES);
      expect(images.edges).toHaveLength(first);
      expect(images.edges[0].node.currentTags.length).toBeLessThanOrEqual(1);
      return { count: ownStatements(app.statements).length, end: images.pageInfo.endCursor };
    };
    const one = await measure(1);
    const fifty = await measure(50);
    const later = await measure(50, fifty.end);
    expect(fifty.count).toBe(one.count);
    expect(later.count).toBe(one.count);
  });
});
