// Subscriptions with interleaved transactions (Postgres only: PGlite has one connection, so its
// transactions cannot interleave): an event that took its id first but committed last reaches a
// subscriber after the later one (docs/model.md, Events).
import { sql } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { appendEvents, writeTransaction } from '../../src/events/append.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { insertEventAndHold } from '../support/events.ts';
import { subscribeWs } from '../support/subscriptions.ts';

let app: TestApp;
/** Subscribes and polls: an image puller of `late`. */
let reader: string;
beforeAll(async () => {
  app = await startTestApp();
  reader = await app.member('late', 'IMAGE_PULLER');
});
afterAll(async () => {
  await app.stop();
});

/** Waits until the hub has exactly `count` subscribers. */
async function subscribers(count: number): Promise<void> {
  await expect.poll(() => app.events.subscriberCount).toBe(count);
}

const TAG_CHANGED = `subscription($namespace: String!) {
  tagChanged(namespace: $namespace) { cursor tag }
}`;
type Next = { data?: { tagChanged: { cursor: string; tag: string } }; errors?: unknown[] };

describe('subscriptions', () => {
  afterEach(async () => {
    await subscribers(0);
  });

  it('delivers an event that took its id first but committed last, after the other (docs/model.md, Events)', async () => {
    const sub = subscribeWs<Next>(app.url, TAG_CHANGED, { namespace: 'late' }, { token: reader });
    await subscribers(1);
    // T1 inserts its event (the lower id) and stays open; T2 inserts a later id and commits.
    const t1 = await insertEventAndHold(app.database, 'late', 't1');
    await writeTransaction(app.database.db, async (tx) => {
      appendEvents(tx, [
        { namespace: 'late', stream: 's', tag: 't2', type: 'ADDED', cause: 'tag' },
      ]);
    });
    // The reader has passed T2's event before T1 commits: with positions = ids it would now be
    // past T1's id for good.
    expect((await sub.waitFor(1, 10_000)).map((r) => r.data!.tagChanged.tag)).toEqual(['t2']);
    await t1.commit();
    app.events.poke(); // T1's plain insert sent no NOTIFY
    const both = await sub.waitFor(2, 10_000);
    expect(both.map((r) => r.data!.tagChanged.tag)).toEqual(['t2', 't1']);
    const rows = (await app.database.db.execute(
      sql`select tag, id, seq from events where namespace = 'late' order by seq`,
    )) as unknown as { tag: string; id: string; seq: string }[];
    expect(rows.map((r) => r.tag)).toEqual(['t2', 't1']);
    expect(Number(rows[1]!.id)).toBeLessThan(Number(rows[0]!.id));
    const positions = both.map((r) =>
      Number(Buffer.from(r.data!.tagChanged.cursor, 'base64url').toString().split(':')[1]),
    );
    expect(positions).toEqual(rows.map((r) => Number(r.seq)));
    // The polling log pages in the same order.
    const page = await app
      .as(reader)
      .graphql<{ tagEvents: { events: { tag: string }[] } }>(
        `{ tagEvents(namespace: "late") { events { tag } } }`,
      );
    expect(page.data!.tagEvents.events.map((e) => e.tag)).toEqual(['t2', 't1']);
    await sub.stop();
  });
});
