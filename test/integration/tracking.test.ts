// Which tag a tag tracks is derived from its `from` by the database on every write: follows,
// followers and dangling agree with the tracking rules for every form of source, and follow
// later changes to a tag's source and deletions of the tracked tag.
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tags } from '../../src/db/schema.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { seedStream, seedTag } from '../support/seed.ts';

const NS = 'tracking';
let app: TestApp;
let reader: TestApp;
let streamId: number;

interface TagNode {
  name: string;
  dangling: boolean;
  follows: { name: string } | null;
  followers: { name: string }[];
  chain: { name: string }[];
}

async function graph(): Promise<Map<string, TagNode>> {
  const result = await reader.graphql<{ imageStream: { tags: { nodes: TagNode[] } } }>(
    `{ imageStream(namespace: "${NS}", name: "app") { tags(first: 50) { nodes {
        name dangling follows { name } followers { name } chain: followers(transitive: true) { name }
      } } } }`,
  );
  expect(result.errors).toBeUndefined();
  return new Map(result.data!.imageStream.tags.nodes.map((n) => [n.name, n]));
}

const names = (list: { name: string }[]) => list.map((t) => t.name);

beforeAll(async () => {
  app = await startTestApp();
  const db = app.database.db;
  const stream = await seedStream(db, { namespace: NS, name: 'app' });
  streamId = stream.id;
  await seedStream(db, { namespace: NS, name: 'other' });
  const istag = (name: string, fromNamespace: string | null = null) => ({
    from: { kind: 'ImageStreamTag' as const, name },
    fromNamespace,
  });
  await seedTag(db, stream.id, {
    name: 'base',
    from: { kind: 'DockerImage', name: 'quay.io/a/b:1' },
  });
  await seedTag(db, stream.id, { name: 'plain', ...istag('base') });
  await seedTag(db, stream.id, { name: 'qualified', ...istag('app:plain') });
  await seedTag(db, stream.id, { name: 'own-namespace', ...istag('base', NS) });
  await seedTag(db, stream.id, { name: 'other-stream', ...istag('other:base') });
  await seedTag(db, stream.id, { name: 'other-namespace', ...istag('base', 'elsewhere') });
  await seedTag(db, stream.id, { name: 'gone', ...istag('deleted') });
  reader = app.as(await app.member(NS, 'IMAGE_PULLER'));
});

afterAll(() => app?.stop());

describe('tracking derived from a tag source', () => {
  it('follows a same-stream source in each form, and nothing in another stream or namespace', async () => {
    const tagsByName = await graph();
    expect(tagsByName.get('plain')?.follows?.name).toBe('base');
    expect(tagsByName.get('qualified')?.follows?.name).toBe('plain');
    expect(tagsByName.get('own-namespace')?.follows?.name).toBe('base');
    expect(tagsByName.get('other-stream')?.follows).toBeNull();
    expect(tagsByName.get('other-namespace')?.follows).toBeNull();
    expect(tagsByName.get('other-stream')?.dangling).toBe(false);
    expect(tagsByName.get('gone')).toMatchObject({ follows: null, dangling: true });
    expect(names(tagsByName.get('base')!.followers)).toEqual(['own-namespace', 'plain']);
    expect(names(tagsByName.get('base')!.chain)).toEqual(['own-namespace', 'plain', 'qualified']);
  });

  it('follows a changed source, ignores a value written by hand, and reports a deleted source', async () => {
    const db = app.database.db;
    await db.update(tags).set({ fromName: 'app:base' }).where(eq(tags.name, 'other-stream'));
    await db.update(tags).set({ tracksTag: 'base' }).where(eq(tags.name, 'other-namespace'));
    let tagsByName = await graph();
    expect(tagsByName.get('other-stream')?.follows?.name).toBe('base');
    expect(tagsByName.get('other-namespace')?.follows).toBeNull();

    await db.execute(sql`delete from tags where stream_id = ${streamId} and name = 'base'`);
    tagsByName = await graph();
    for (const name of ['plain', 'own-namespace', 'other-stream']) {
      expect(tagsByName.get(name)).toMatchObject({ follows: null, dangling: true });
    }
    expect(tagsByName.get('qualified')?.follows?.name).toBe('plain');
    expect(names(tagsByName.get('plain')!.followers)).toEqual(['qualified']);
  });
});
