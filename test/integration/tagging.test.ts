// Tag mutations end to end on the real database: oc tag semantics, delete, rollback, mapping, prune.
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rowsOf } from '../../src/db/client.ts';
import { ownStatements, startTestApp, type TestApp } from '../support/app.ts';
import { digestOf, MAPPING_MUTATION, pushMapping } from '../support/mapping.ts';

/** The namespaces these tests write; `shared` is only read, as a tag source for `mine`. */
const NAMESPACES = ['bad', 'del', 'ext', 'gen', 'gens', 'loop', 'map', 'mine', 'nf', 'perm'];
NAMESPACES.push('prune', 'rb', 'ref', 'rv', 'short', 'stmts', 'track', 'upd');
let app: TestApp;
/** The least-privileged callers that should succeed: */
let editor: TestApp; // tags, deletes tags, rolls back, updates streams
let registry: TestApp; // reports pushes (createImageStreamMapping)
let admin: TestApp; // prunes images (cluster admins only)
beforeAll(async () => {
  app = await startTestApp();
  editor = app.as(await app.member(NAMESPACES, 'EDITOR', 'tagging-editor'));
  await app.grant('shared', 'IMAGE_PULLER', 'tagging-editor');
  registry = app.as(await app.registry());
  admin = app.as(app.adminToken);
});
afterAll(async () => {
  await app.stop();
});

interface HistoryItem {
  ref: string;
  image: string | null;
  generation: number;
}

async function history(namespace: string, stream: string, tag: string): Promise<HistoryItem[]> {
  const rows = rowsOf<{ ref: string; image: string | null; generation: number }>(
    await app.database.db.execute(sql`
      select h.docker_image_reference as ref, h.image_digest as image, h.generation
      from tag_history h join tags t on t.id = h.tag_id join image_streams s on s.id = t.stream_id
      where s.namespace = ${namespace} and s.name = ${stream} and t.name = ${tag}
      order by h.seq desc`),
  );
  return rows.map((r) => ({ ...r, generation: Number(r.generation) }));
}

async function spec(namespace: string, stream: string, tag: string) {
  const [row] = rowsOf<Record<string, unknown>>(
    await app.database.db.execute(sql`
      select t.from_kind, t.from_name, t.from_namespace, t.reference, t.spec_generation,
             t.import_scheduled, t.import_mode, t.reference_policy
      from tags t join image_streams s on s.id = t.stream_id
      where s.namespace = ${namespace} and s.name = ${stream} and t.name = ${tag}`),
  );
  return row;
}

async function eventCount(namespace: string): Promise<number> {
  const [row] = rowsOf<{ n: number }>(
    await app.database.db.execute(
      sql`select count(*)::int as n from events where namespace = ${namespace}`,
    ),
  );
  return Number(row!.n);
}

const push = (namespace: string, stream: string, tag: string, seed: string, ref?: string) =>
  pushMapping(registry, namespace, stream, tag, seed, ref);

const TAG = `mutation($input: TagInput!) {
  tag(input: $input) {
    __typename
    ... on TagPayload { results { message namespace stream tag importJobId } }
    ... on Error { code field message }
    ... on ValidationError { problems { field message } }
    ... on ConflictError { candidates }
  }
}`;

type TagResponse = {
  __typename: string;
  results?: {
    message: string;
    namespace: string;
    stream: string;
    tag: string;
    importJobId: string | null;
  }[];
  code?: string;
  field?: string;
  message?: string;
  candidates?: string[];
};

async function tag(input: Record<string, unknown>): Promise<TagResponse> {
  const result = await editor.graphql<{ tag: TagResponse }>(TAG, { input });
  expect(result.errors).toBeUndefined();
  return result.data!.tag;
}

describe('image stream mapping and the history push rule', () => {
  it('creates the stream and the tag on first push, and records the image', async () => {
    const { digest, payload } = await push('map', 'app', 'v1', 'map-1');
    expect(payload).toMatchObject({
      __typename: 'CreateImageStreamMappingPayload',
      changedTags: ['v1'],
      imageCreated: true,
      imageStream: { name: 'app', generation: 1 },
    });
    expect(await history('map', 'app', 'v1')).toEqual([
      { ref: `registry.test:5000/map/app@${digest}`, image: digest, generation: 1 },
    ]);
  });

  it('writes nothing and logs no event when the same image is pushed again', async () => {
    await push('map', 'same', 'v1', 'same-1');
    const before = await eventCount('map');
    const { payload } = await push('map', 'same', 'v1', 'same-1');
    expect(payload).toMatchObject({ changedTags: [], imageCreated: false });
    expect(await history('map', 'same', 'v1')).toHaveLength(1);
    expect(await eventCount('map')).toBe(before);
  });

  it('pushes a new item for a new image, and again when switching back to an old one', async () => {
    const a = await push('map', 'timeline', 'v1', 'tl-a');
    const b = await push('map', 'timeline', 'v1', 'tl-b');
    await push('map', 'timeline', 'v1', 'tl-a');
    expect((await history('map', 'timeline', 'v1')).map((h) => h.image)).toEqual([
      a.digest,
      b.digest,
      a.digest,
    ]);
  });

  it('replaces item 0 in place when the same image arrives under another reference', async () => {
    const { digest } = await push('map', 'moved', 'v1', 'moved-1');
    await push('map', 'moved', 'v1', 'moved-1', `mirror.test/map/moved@${digest}`);
    expect(await history('map', 'moved', 'v1')).toEqual([
      { ref: `mirror.test/map/moved@${digest}`, image: digest, generation: 1 },
    ]);
  });

  it('refuses a stale expectedResourceVersion on an existing stream', async () => {
    await push('map', 'guarded', 'v1', 'guarded-1');
    const result = await registry.graphql<{ createImageStreamMapping: Record<string, unknown> }>(
      MAPPING_MUTATION,
      {
        input: {
          namespace: 'map',
          stream: 'guarded',
          tag: 'v2',
          expectedResourceVersion: '424242',
          image: {
            digest: digestOf('guarded-2'),
            mediaType: 'application/vnd.oci.image.manifest.v1+json',
            dockerImageReference: `registry.test:5000/map/guarded@${digestOf('guarded-2')}`,
          },
        },
      },
    );
    expect(result.data!.createImageStreamMapping).toMatchObject({
      __typename: 'ConflictError',
      field: 'expectedResourceVersion',
    });
    expect(await history('map', 'guarded', 'v2')).toEqual([]);
  });

  it('rejects a malformed digest with a typed error naming the field', async () => {
    const result = await registry.graphql<{ createImageStreamMapping: Record<string, unknown> }>(
      MAPPING_MUTATION,
      {
        input: {
          namespace: 'map',
          stream: 'bad',
          tag: 'v1',
          image: { digest: 'sha256:nothex', mediaType: 'x', dockerImageReference: 'r/x@sha256:1' },
        },
      },
    );
    expect(result.data!.createImageStreamMapping).toMatchObject({
      __typename: 'ValidationError',
      field: 'image.digest',
    });
  });
});

describe('tag (oc tag)', () => {
  it('makes a permanent tag that pins the source image', async () => {
    const first = await push('perm', 'ruby', '2.0', 'ruby-2.0-a');
    const result = await tag({
      namespace: 'perm',
      source: 'ruby:2.0',
      destinations: ['ruby:static-2.0'],
    });
    expect(result.results).toEqual([
      {
        message: `Tag ruby:static-2.0 set to ruby@${first.digest}.`,
        namespace: 'perm',
        stream: 'ruby',
        tag: 'static-2.0',
        importJobId: null,
      },
    ]);
    expect(await spec('perm', 'ruby', 'static-2.0')).toMatchObject({
      from_kind: 'ImageStreamImage',
      from_name: `ruby@${first.digest}`,
    });
    await push('perm', 'ruby', '2.0', 'ruby-2.0-b');
    expect((await history('perm', 'ruby', 'static-2.0')).map((h) => h.image)).toEqual([
      first.digest,
    ]);
  });

  it('pins a full digest in a handful of statements, each switch pushing one item', async () => {
    const a = await push('stmts', 'src', 'a', 'stmts-a');
    const b = await push('stmts', 'src', 'b', 'stmts-b');
    // First write creates the destination stream; the switches after it are the steady state.
    await tag({ namespace: 'stmts', source: `src@${a.digest}`, destinations: ['dest:x'] });
    const counts: number[] = [];
    for (const digest of [b.digest, a.digest, b.digest]) {
      app.statements.length = 0;
      const result = await tag({
        namespace: 'stmts',
        source: `src@${digest}`,
        destinations: ['dest:x'],
      });
      expect(result.results![0]!.message).toBe(`Tag dest:x set to src@${digest}.`);
      counts.push(ownStatements(app.statements).length);
    }
    expect((await history('stmts', 'dest', 'x')).map((h) => h.image)).toEqual([
      b.digest,
      a.digest,
      b.digest,
      a.digest,
    ]);
    // Lock the stream, resolve the source, read and write the spec (with the generation and
    // resource version in one update), read the tag with its item 0, push the item, events.
    // (The lock and the source's read share a round trip, as do the generation and the spec.)
    expect(new Set(counts).size).toBe(1);
    expect(counts[0]).toBeLessThanOrEqual(8);
  });

  it('makes a tracking tag that follows every change of its source, transitively', async () => {
    const a = await push('track', 'py', '3.6', 'py-a');
    expect(
      (
        await tag({
          namespace: 'track',
          source: 'py:3.6',
          destinations: ['py:latest'],
          alias: true,
        })
      ).results![0]!.message,
    ).toBe('Tag py:latest set up to track py:3.6.');
    await tag({ namespace: 'track', source: 'py:latest', destinations: ['py:prod'], alias: true });
    expect((await history('track', 'py', 'prod')).map((h) => h.image)).toEqual([a.digest]);
    const b = await push('track', 'py', '3.6', 'py-b');
    expect((await history('track', 'py', 'latest')).map((h) => h.image)).toEqual([
      b.digest,
      a.digest,
    ]);
    expect((await history('track', 'py', 'prod')).map((h) => h.image)).toEqual([
      b.digest,
      a.digest,
    ]);
    // A follower's items carry its own spec generation.
    const latestSpec = await spec('track', 'py', 'latest');
    expect((await history('track', 'py', 'latest'))[0]!.generation).toBe(
      Number(latestSpec!.spec_generation),
    );
  });

  it('refuses a tracking tag that would loop, track itself, or cross streams', async () => {
    await push('loop', 'app', 'a', 'loop-a');
    await tag({ namespace: 'loop', source: 'app:a', destinations: ['app:b'], alias: true });
    const loop = await tag({
      namespace: 'loop',
      source: 'app:b',
      destinations: ['app:a'],
      alias: true,
    });
    expect(loop).toMatchObject({ __typename: 'ValidationError', field: 'source' });
    expect(loop.message).toMatch(/cycle|loop/i);
    const self = await tag({
      namespace: 'loop',
      source: 'app:b',
      destinations: ['app:b'],
      alias: true,
    });
    expect(self.__typename).toBe('ValidationError');
    await push('loop', 'other', 'x', 'loop-other');
    const cross = await tag({
      namespace: 'loop',
      source: 'other:x',
      destinations: ['app:c'],
      alias: true,
    });
    expect(cross.__typename).toBe('ValidationError');
    expect(await spec('loop', 'app', 'c')).toBeUndefined();
  });

  it('makes a reference tag with a history item and no digest', async () => {
    const result = await tag({
      namespace: 'ref',
      source: 'quay.io/org/tool:1.2',
      destinations: ['tool:1.2'],
      reference: true,
    });
    expect(result.results![0]).toMatchObject({
      importJobId: null,
      message: 'Tag tool:1.2 set to quay.io/org/tool:1.2.',
    });
    expect(await history('ref', 'tool', '1.2')).toEqual([
      { ref: 'quay.io/org/tool:1.2', image: null, generation: 1 },
    ]);
    expect(await spec('ref', 'tool', '1.2')).toMatchObject({
      from_kind: 'DockerImage',
      reference: true,
    });
  });

  it('queues an import for an external tag and leaves history alone', async () => {
    const result = await tag({
      namespace: 'ext',
      source: 'docker.io/library/busybox:1.36',
      destinations: ['busybox:1.36'],
      scheduled: true,
    });
    expect(result.results![0]!.importJobId).not.toBeNull();
    expect(result.results![0]!.message).toBe(
      'Tag busybox:1.36 set to import docker.io/library/busybox:1.36 periodically.',
    );
    expect(await history('ext', 'busybox', '1.36')).toEqual([]);
    expect(await spec('ext', 'busybox', '1.36')).toMatchObject({ import_scheduled: true });
    const [job] = rowsOf<{ status: string; request: { tags: string[] } }>(
      await app.database.db.execute(
        sql`select status, request from import_jobs where id = ${Number(result.results![0]!.importJobId)}`,
      ),
    );
    expect(job).toMatchObject({ status: 'queued', request: { tags: ['1.36'] } });
  });

  it('bumps generations only when from, reference or importMode change', async () => {
    await tag({
      namespace: 'gen',
      source: 'quay.io/a/b:1',
      destinations: ['s:t'],
      reference: true,
    });
    const g1 = Number((await spec('gen', 's', 't'))!.spec_generation);
    await tag({
      namespace: 'gen',
      source: 'quay.io/a/b:1',
      destinations: ['s:t'],
      reference: true,
      referencePolicy: 'Local',
    });
    expect(Number((await spec('gen', 's', 't'))!.spec_generation)).toBe(g1);
    await tag({
      namespace: 'gen',
      source: 'quay.io/a/b:2',
      destinations: ['s:t'],
      reference: true,
    });
    expect(Number((await spec('gen', 's', 't'))!.spec_generation)).toBe(g1 + 1);
  });

  it('gives each spec tag one tag writes into an existing stream its own next generation', async () => {
    await tag({
      namespace: 'gens',
      source: 'quay.io/a/b:1',
      destinations: ['s:a'],
      reference: true,
    });
    const streamGeneration = async () => {
      const [row] = rowsOf<{ generation: number }>(
        await app.database.db.execute(
          sql`select generation from image_streams where namespace = 'gens' and name = 's'`,
        ),
      );
      return Number(row!.generation);
    };
    const before = await streamGeneration();
    await tag({
      namespace: 'gens',
      source: 'quay.io/a/b:2',
      destinations: ['s:c', 'other:x', 's:a', 's:b'],
      reference: true,
    });
    // In lock order (gens/other:x, gens/s:a, gens/s:b, gens/s:c): each spec change of stream s
    // takes the generation after the one before it.
    const generations = await Promise.all(
      ['a', 'b', 'c'].map(async (t) => Number((await spec('gens', 's', t))!.spec_generation)),
    );
    expect(generations).toEqual([before + 1, before + 2, before + 3]);
    expect(await streamGeneration()).toBe(before + 3);
  });

  it('resolves a short image id and reports an ambiguous one with its candidates', async () => {
    // 17 images: by pigeonhole two share their first hex digit, making a one-digit id ambiguous.
    const pushed: { digest: string }[] = [];
    for (let i = 0; i < 17; i++) pushed.push(await push('short', 'lib', `t${i}`, `short-${i}`));
    const pair = pushed.flatMap((a, i) =>
      pushed
        .slice(i + 1)
        .filter((b) => b.digest[7] === a.digest[7])
        .map((b) => [a, b] as const),
    )[0]!;
    const images = [...pair];
    const [one, two] = images as [{ digest: string }, { digest: string }];
    const ok = await tag({
      namespace: 'short',
      source: `lib@${one.digest.slice(7, 19)}`,
      destinations: ['lib:pinned'],
    });
    expect(ok.results![0]!.message).toBe(`Tag lib:pinned set to lib@${one.digest}.`);
    const ambiguous = await tag({
      namespace: 'short',
      source: `lib@${one.digest.slice(7, 8)}`,
      destinations: ['lib:x'],
    });
    expect(ambiguous).toMatchObject({ __typename: 'ConflictError', field: 'source' });
    expect(ambiguous.candidates).toEqual(expect.arrayContaining([one.digest, two.digest]));
    const missing = await tag({
      namespace: 'short',
      source: 'lib@ffffffffffff0000',
      destinations: ['lib:x'],
    });
    expect(missing.__typename).toBe('NotFoundError');
  });

  it('tags across namespaces, recording the source namespace', async () => {
    const { digest } = await push('shared', 'base', 'v1', 'shared-base');
    const result = await tag({
      namespace: 'mine',
      source: 'shared/base:v1',
      destinations: ['base:v1'],
    });
    expect(result.results![0]!.message).toBe(`Tag base:v1 set to shared/base@${digest}.`);
    expect(await spec('mine', 'base', 'v1')).toMatchObject({
      from_namespace: 'shared',
      from_name: `base@${digest}`,
    });
  });

  it('gives the exact message for an invalid import mode', async () => {
    const result = await tag({
      namespace: 'bad',
      source: 'quay.io/a/b:1',
      destinations: ['x:y'],
      importMode: 'Fancy',
    });
    expect(result).toMatchObject({
      __typename: 'ValidationError',
      field: 'importMode',
      message: 'valid ImportMode values are Legacy or PreserveOriginal',
    });
  });

  it.each([
    [{ source: 'ruby:2.0', destinations: ['ruby:x'], scheduled: true }, 'scheduled'],
    [{ source: 'ruby:2.0', destinations: ['ruby:x'], alias: true, reference: true }, 'reference'],
    [{ source: 'quay.io/a/b:1', destinations: ['ruby:x'], alias: true }, 'alias'],
    [{ source: 'ruby:2.0', destinations: ['Bad Name:x'] }, 'destinations.0'],
    [{ source: 'ruby:2.0', destinations: [] }, 'destinations'],
  ])('rejects %j on field %s and writes nothing', async (input, field) => {
    const result = await tag({ namespace: 'bad', ...input });
    expect(result.__typename).toBe('ValidationError');
    expect(result.field).toBe(field);
  });

  it('answers not found for a missing source tag', async () => {
    const result = await tag({ namespace: 'nf', source: 'nothing:here', destinations: ['x:y'] });
    expect(result).toMatchObject({ __typename: 'NotFoundError', field: 'source' });
    expect(await eventCount('nf')).toBe(0);
  });

  it('refuses a stale expectedResourceVersion and changes nothing', async () => {
    await push('rv', 'app', 'v1', 'rv-1');
    const result = await tag({
      namespace: 'rv',
      source: 'app:v1',
      destinations: ['app:v2'],
      expectedResourceVersion: '999999',
    });
    expect(result).toMatchObject({ __typename: 'ConflictError', field: 'expectedResourceVersion' });
    expect(await spec('rv', 'app', 'v2')).toBeUndefined();
  });
});

const DELETE_TAG = `mutation($input: DeleteTagInput!) {
  deleteTag(input: $input) {
    __typename
    ... on DeleteTagPayload { message danglingFollowers }
    ... on Error { code field message }
  }
}`;

describe('deleteTag', () => {
  it('removes spec and history and reports tags left dangling', async () => {
    await push('del', 'py', '3.6', 'del-py');
    await tag({ namespace: 'del', source: 'py:3.6', destinations: ['py:latest'], alias: true });
    const result = await editor.graphql<{ deleteTag: Record<string, unknown> }>(DELETE_TAG, {
      input: { namespace: 'del', ref: 'py:3.6' },
    });
    expect(result.data!.deleteTag).toEqual({
      __typename: 'DeleteTagPayload',
      message: 'Deleted tag del/py:3.6.',
      danglingFollowers: ['latest'],
    });
    expect(await spec('del', 'py', '3.6')).toBeUndefined();
    expect(await history('del', 'py', 'latest')).toHaveLength(1);
    // A push to the follower's stream still works with the dangling tag around.
    await push('del', 'py', '3.7', 'del-py-37');
    const again = await editor.graphql<{ deleteTag: Record<string, unknown> }>(DELETE_TAG, {
      input: { namespace: 'del', ref: 'py:3.6' },
    });
    expect(again.data!.deleteTag).toMatchObject({ __typename: 'NotFoundError', field: 'ref' });
  });

  it('refuses a stale expectedResourceVersion as a conflict and keeps the tag', async () => {
    await push('del', 'kept', 'v1', 'del-kept');
    const result = await editor.graphql<{ deleteTag: Record<string, unknown> }>(DELETE_TAG, {
      input: { namespace: 'del', ref: 'kept:v1', expectedResourceVersion: '999999' },
    });
    expect(result.data!.deleteTag).toMatchObject({
      __typename: 'ConflictError',
      field: 'expectedResourceVersion',
    });
    expect(await history('del', 'kept', 'v1')).toHaveLength(1);
  });

  it('answers a missing stream, as a missing tag, with NOT_FOUND on the ref it was named by', async () => {
    for (const [document, input] of [
      [DELETE_TAG, { namespace: 'del', ref: 'nostream:v1' }],
      [ROLLBACK, { namespace: 'del', ref: 'nostream:v1', to: { index: 1 } }],
    ] as const) {
      const result = await editor.graphql<Record<string, Record<string, unknown>>>(document, {
        input,
      });
      expect(Object.values(result.data!)[0]).toMatchObject({
        __typename: 'NotFoundError',
        field: 'ref',
        message: 'image stream del/nostream not found',
      });
    }
  });
});

const ROLLBACK = `mutation($input: RollbackTagInput!) {
  rollbackTag(input: $input) {
    __typename
    ... on RollbackTagPayload { message historyIndex }
    ... on Error { code field message }
  }
}`;

describe('rollbackTag', () => {
  it('points the tag at an old item by index, generation or digest, pushing a new item', async () => {
    const a = await push('rb', 'app', 'v', 'rb-a');
    const b = await push('rb', 'app', 'v', 'rb-b');
    const byIndex = await editor.graphql<{ rollbackTag: Record<string, unknown> }>(ROLLBACK, {
      input: { namespace: 'rb', ref: 'app:v', to: { index: 1 } },
    });
    expect(byIndex.data!.rollbackTag).toMatchObject({
      __typename: 'RollbackTagPayload',
      historyIndex: 1,
    });
    expect((await history('rb', 'app', 'v')).map((h) => h.image)).toEqual([
      a.digest,
      b.digest,
      a.digest,
    ]);
    const byDigest = await editor.graphql<{ rollbackTag: Record<string, unknown> }>(ROLLBACK, {
      input: { namespace: 'rb', ref: 'app:v', to: { digest: b.digest.slice(7, 20) } },
    });
    expect(byDigest.data!.rollbackTag).toMatchObject({ __typename: 'RollbackTagPayload' });
    expect((await history('rb', 'app', 'v'))[0]!.image).toBe(b.digest);
    expect(await spec('rb', 'app', 'v')).toMatchObject({
      from_kind: 'ImageStreamImage',
      from_name: `app@${b.digest}`,
    });
  });

  it('reports a missing history item and an ambiguous request', async () => {
    await push('rb', 'two', 'v', 'rb2-a');
    const missing = await editor.graphql<{ rollbackTag: Record<string, unknown> }>(ROLLBACK, {
      input: { namespace: 'rb', ref: 'two:v', to: { index: 7 } },
    });
    expect(missing.data!.rollbackTag).toMatchObject({ __typename: 'NotFoundError' });
    const both = await editor.graphql<{ rollbackTag: Record<string, unknown> }>(ROLLBACK, {
      input: { namespace: 'rb', ref: 'two:v', to: { index: 0, generation: 1 } },
    });
    expect(both.data!.rollbackTag).toMatchObject({ __typename: 'ValidationError', field: 'to' });
  });
});

const PRUNE = `mutation($input: PruneImagesInput) {
  pruneImages(input: $input) {
    __typename
    ... on PruneImagesPayload { dryRun images historyItems { namespace stream tag index image } }
    ... on Error { field message }
  }
}`;

describe('pruneImages', () => {
  it('keeps everything younger than the minimum age by default', async () => {
    await push('prune', 'young', 'v', 'young-a');
    await push('prune', 'young', 'v', 'young-b');
    const result = await admin.graphql<{ pruneImages: { dryRun: boolean; images: string[] } }>(
      PRUNE,
      {
        input: { keepTagRevisions: 1 },
      },
    );
    expect(result.data!.pruneImages.dryRun).toBe(true);
    expect(result.data!.pruneImages.images).not.toContain(digestOf('young-a'));
  });

  it('reports, then removes, old history items and unreferenced images', async () => {
    const a = await push('prune', 'old', 'v', 'old-a');
    const b = await push('prune', 'old', 'v', 'old-b');
    const c = await push('prune', 'old', 'v', 'old-c');
    // Make them old enough.
    await app.database.db.execute(sql`update tag_history set created = now() - interval '2 hours'`);
    await app.database.db.execute(sql`update images set created_at = now() - interval '2 hours'`);
    const input = { keepTagRevisions: 2, keepYoungerThanMinutes: 60 };
    const dry = await admin.graphql<{
      pruneImages: { images: string[]; historyItems: { stream: string; image: string }[] };
    }>(PRUNE, { input });
    const oldItems = dry.data!.pruneImages.historyItems.filter((h) => h.stream === 'old');
    expect(oldItems.map((h) => h.image)).toEqual([a.digest]);
    expect(dry.data!.pruneImages.images).toContain(a.digest);
    expect(dry.data!.pruneImages.images).not.toContain(b.digest);
    expect(await history('prune', 'old', 'v')).toHaveLength(3);
    await admin.graphql(PRUNE, { input: { ...input, dryRun: false } });
    expect((await history('prune', 'old', 'v')).map((h) => h.image)).toEqual([c.digest, b.digest]);
    const [gone] = rowsOf<{ n: number }>(
      await app.database.db.execute(
        sql`select count(*)::int as n from images where digest = ${a.digest}`,
      ),
    );
    expect(Number(gone!.n)).toBe(0);
  });

  it('refuses keepTagRevisions below 1', async () => {
    const result = await admin.graphql<{ pruneImages: Record<string, unknown> }>(PRUNE, {
      input: { keepTagRevisions: 0 },
    });
    expect(result.data!.pruneImages).toMatchObject({
      __typename: 'ValidationError',
      field: 'keepTagRevisions',
    });
  });
});

describe('updateImageStream', () => {
  const UPDATE = `mutation($input: UpdateImageStreamInput!) {
    updateImageStream(input: $input) {
      __typename
      ... on ImageStreamPayload { imageStream { generation labels { key value } lookupPolicy { local } resourceVersion } }
      ... on Error { code field }
    }
  }`;

  it('replaces labels without a new generation; image lookup is a spec change', async () => {
    await push('upd', 'web', 'v1', 'upd-1');
    const labels = await editor.graphql<{
      updateImageStream: { imageStream: Record<string, unknown> };
    }>(UPDATE, {
      input: { namespace: 'upd', name: 'web', labels: [{ key: 'team', value: 'a' }] },
    });
    expect(labels.data!.updateImageStream.imageStream).toMatchObject({
      generation: 1,
      labels: [{ key: 'team', value: 'a' }],
    });
    const lookup = await editor.graphql<{
      updateImageStream: { imageStream: Record<string, unknown> };
    }>(UPDATE, {
      input: { namespace: 'upd', name: 'web', lookupPolicy: { local: true } },
    });
    expect(lookup.data!.updateImageStream.imageStream).toMatchObject({
      generation: 2,
      lookupPolicy: { local: true },
    });
  });
});
