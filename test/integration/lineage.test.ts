// Lineage of copied tags (docs/rules.md#lineage) in token mode: dev → stage → prod across
// namespaces, both edges, what a caller who cannot read one end sees, and statement counts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, startTestApp, type TestApp } from '../support/app.ts';
import { runCli, stopClis } from '../support/cli.ts';
import { pushMapping } from '../support/mapping.ts';

let app: TestApp;
/** Pulls from dev, edits stage and prod: promotes. */
let promoter: string;
/** Reads all three namespaces. */
let reader: string;
/** Reads stage only. */
let stageReader: string;
/** Reads dev and stage, not `hidden`. */
let devStageReader: string;

// biome-ignore lint/suspicious/noExplicitAny: GraphQL responses are checked by value below.
type Json = any;

const TAG = `mutation($input: TagInput!) {
  tag(input: $input) {
    __typename
    ... on TagPayload { results { message } }
    ... on Error { code message }
  }
}`;

const LINEAGE = `query($namespace: String!, $ref: String!, $first: Int) {
  imageStreamTag(namespace: $namespace, ref: $ref) {
    ... on ImageStreamTag {
      name
      promotedFrom { namespace stream tag generation imageStreamTag { name stream { namespace } } }
      promotedTo(first: $first) { name stream { namespace name } }
      history { nodes { generation copiedFrom { namespace stream tag generation } } }
    }
    ... on Error { code message }
  }
}`;

/** `oc tag` as `token`; fails the test unless it succeeds. */
async function tag(token: string, input: Record<string, unknown>): Promise<void> {
  const result = await app.call<{ tag: Json }>(token, TAG, { input });
  expect(result.errors).toBeUndefined();
  expect(result.data!.tag.__typename, JSON.stringify(result.data)).toBe('TagPayload');
}

async function lineage(token: string, namespace: string, ref: string, first?: number) {
  const result = await app.call<{ imageStreamTag: Json }>(token, LINEAGE, {
    namespace,
    ref,
    first,
  });
  expect(result.errors, JSON.stringify(result.errors)).toBeUndefined();
  return { tag: result.data!.imageStreamTag, body: JSON.stringify(result.data) };
}

/** A registry push (image stream mapping) of image `seed`, as the bootstrap admin. */
const push = (namespace: string, stream: string, tagName: string, seed: string) =>
  pushMapping(app, namespace, stream, tagName, seed, undefined, bearer(app.adminToken));

beforeAll(async () => {
  app = await startTestApp();
  for (const namespace of ['dev', 'stage', 'prod', 'hidden']) await app.stream(namespace, 'app');
  const promoterName = 'editor-stage-promoter';
  promoter = await app.member('stage', 'EDITOR', promoterName);
  await app.grant('prod', 'EDITOR', promoterName);
  await app.grant('hidden', 'EDITOR', promoterName);
  await app.grant('dev', 'IMAGE_PULLER', promoterName);
  reader = await app.member('dev', 'IMAGE_PULLER', 'reader-all');
  await app.grant('stage', 'IMAGE_PULLER', 'reader-all');
  await app.grant('prod', 'IMAGE_PULLER', 'reader-all');
  stageReader = await app.member('stage', 'IMAGE_PULLER');
  devStageReader = await app.member('dev', 'IMAGE_PULLER', 'reader-dev-stage');
  await app.grant('stage', 'IMAGE_PULLER', 'reader-dev-stage');

  // Three spec changes move dev/app to generation 4, so the source's generation differs from
  // the destinations' own. dev/app:1 then gets two images: the copy takes the second.
  for (const name of ['r1', 'r2', 'r3']) {
    await tag(app.adminToken, {
      namespace: 'dev',
      source: `quay.io/example/app:${name}`,
      destinations: [`app:${name}`],
      reference: true,
    });
  }
  await push('dev', 'app', '1', 'lineage-old');
  await push('dev', 'app', '1', 'lineage-new');
  await tag(promoter, { namespace: 'stage', source: 'dev/app:1', destinations: ['app:rc'] });
  await tag(promoter, { namespace: 'prod', source: 'stage/app:rc', destinations: ['app:live'] });
  // The newest copy of dev/app:1 goes where only the promoter and the admin may look.
  await tag(promoter, { namespace: 'hidden', source: 'dev/app:1', destinations: ['app:x'] });
});

afterAll(async () => {
  const left = await stopClis();
  await app.stop();
  expect(left, 'CLI processes left running').toBe(0);
});

describe('lineage across namespaces', () => {
  it('records the source tag and its generation, and shows both edges dev → stage → prod', async () => {
    const dev = (await lineage(reader, 'dev', 'app:1')).tag;
    const stage = (await lineage(reader, 'stage', 'app:rc')).tag;
    const prod = (await lineage(reader, 'prod', 'app:live')).tag;
    const devGeneration = dev.history.nodes[0].generation;
    expect(devGeneration).toBe(4);
    expect(stage.history.nodes[0].generation).not.toBe(devGeneration);

    expect(dev.promotedFrom).toBeNull();
    expect(dev.promotedTo).toEqual([{ name: 'rc', stream: { namespace: 'stage', name: 'app' } }]);
    expect(dev.history.nodes.map((n: Json) => n.copiedFrom)).toEqual([null, null]);

    const fromDev = { namespace: 'dev', stream: 'app', tag: '1', generation: devGeneration };
    expect(stage.promotedFrom).toEqual({
      ...fromDev,
      imageStreamTag: { name: '1', stream: { namespace: 'dev' } },
    });
    expect(stage.history.nodes).toEqual([
      { generation: stage.history.nodes[0].generation, copiedFrom: fromDev },
    ]);
    expect(stage.promotedTo).toEqual([
      { name: 'live', stream: { namespace: 'prod', name: 'app' } },
    ]);

    expect(prod.promotedFrom).toEqual({
      namespace: 'stage',
      stream: 'app',
      tag: 'rc',
      generation: stage.history.nodes[0].generation,
      imageStreamTag: { name: 'rc', stream: { namespace: 'stage' } },
    });
    expect(prod.promotedTo).toEqual([]);
  });

  it('shows a caller nothing of a namespace it may not read, at either end', async () => {
    const { tag: stage, body } = await lineage(stageReader, 'stage', 'app:rc');
    expect(stage.promotedFrom).toBeNull();
    expect(stage.history.nodes.map((n: Json) => n.copiedFrom)).toEqual([null]);
    expect(stage.promotedTo).toEqual([]);
    expect(body).not.toMatch(/"dev"|"prod"|"live"/);
  });

  it('filters unreadable copies before the limit: they take no place in the list', async () => {
    // hidden/app:x is the newest copy of dev/app:1; a caller who cannot read `hidden` still gets
    // stage/app:rc as the first one.
    const { tag: dev, body } = await lineage(devStageReader, 'dev', 'app:1', 1);
    expect(dev.promotedTo).toEqual([{ name: 'rc', stream: { namespace: 'stage', name: 'app' } }]);
    expect(body).not.toMatch(/hidden/);
    const admin = (await lineage(app.adminToken, 'dev', 'app:1', 1)).tag;
    expect(admin.promotedTo).toEqual([{ name: 'x', stream: { namespace: 'hidden', name: 'app' } }]);
    const both = (await lineage(app.adminToken, 'dev', 'app:1')).tag;
    expect(both.promotedTo.map((t: Json) => t.stream.namespace)).toEqual(['hidden', 'stage']);
  });
});

describe('what records no lineage', () => {
  it('a tracking tag, a stream@id source, recordLineage: false, a push on top, a rollback', async () => {
    /** Tags `source` as `destination` in namespace stage, as the promoter. */
    const tagInStage = (source: string, destination: string, extra = {}) =>
      tag(promoter, { namespace: 'stage', source, destinations: [destination], ...extra });
    await app.stream('stage', 'other');
    await push('stage', 'other', 'src', 'other-src');
    const { digest } = await push('stage', 'other', 'src', 'other-src-2');
    // A tracking tag (alias) follows; its item is no copy.
    await tagInStage('other:src', 'other:follow', { alias: true });
    // A copy by image id names no tag.
    await tagInStage(`other@${digest}`, 'other:byid');
    // A copy as `tagraph apply` asks for it (the CLI test below applies a manifest).
    await tagInStage('other:src', 'other:applied', { recordLineage: false });
    // A copy, then a push on top: item 0 is the push's.
    await tagInStage('other:src', 'other:pushed');
    await push('stage', 'other', 'pushed', 'other-pushed');
    for (const name of ['follow', 'byid', 'applied', 'pushed']) {
      const { tag: t } = await lineage(reader, 'stage', `other:${name}`);
      expect(t.promotedFrom, name).toBeNull();
    }
    const pushed = (await lineage(reader, 'stage', 'other:pushed')).tag;
    expect(pushed.history.nodes.map((n: Json) => n.copiedFrom?.tag ?? null)).toEqual([null, 'src']);
    // Only the current copy counts as a promotion of other:src.
    const src = (await lineage(reader, 'stage', 'other:src')).tag;
    expect(src.promotedTo).toEqual([]);

    // A rollback to the copied item pushes a new item, which is no copy.
    const rolled = await app.call<{ rollbackTag: Json }>(
      promoter,
      `mutation { rollbackTag(input: { namespace: "stage", ref: "other:pushed", to: { index: 1 } }) {
        __typename } }`,
    );
    expect(rolled.data!.rollbackTag.__typename).toBe('RollbackTagPayload');
    const after = (await lineage(reader, 'stage', 'other:pushed')).tag;
    expect(after.history.nodes.map((n: Json) => n.copiedFrom?.tag ?? null)).toEqual([
      null,
      null,
      'src',
    ]);
  });
});

describe('the CLI', () => {
  it('tagraph tag records lineage; tagraph apply of the same copy records none', async () => {
    await push('stage', 'cli', 'v', 'cli-v');
    const cli = (args: string[], stdin?: string) =>
      runCli(['-n', 'stage', ...args], {
        url: app.url,
        env: { TAGRAPH_TOKEN: promoter },
        ...(stdin === undefined ? {} : { stdin }),
      });
    const tagged = await cli(['tag', 'cli:v', 'copies:tagged']);
    expect(tagged).toMatchObject({ code: 0, stderr: '' });
    const applied = await cli(
      ['apply', '-f', '-'],
      `apiVersion: image.openshift.io/v1
kind: ImageStream
metadata:
  name: applied
spec:
  tags:
  - name: copy
    from:
      kind: ImageStreamTag
      name: cli:v
`,
    );
    expect(applied).toMatchObject({ code: 0 });
    const copy = (await lineage(reader, 'stage', 'applied:copy')).tag;
    expect(copy.history.nodes).toHaveLength(1);
    expect(copy.promotedFrom).toBeNull();
    const viaTag = (await lineage(reader, 'stage', 'copies:tagged')).tag;
    expect(viaTag.promotedFrom).toMatchObject({ namespace: 'stage', stream: 'cli', tag: 'v' });
    const source = (await lineage(reader, 'stage', 'cli:v')).tag;
    expect(source.promotedTo).toEqual([
      { name: 'tagged', stream: { namespace: 'stage', name: 'copies' } },
    ]);
  });
});

describe('a deleted source', () => {
  it('keeps the names and generation, and links no later tag of the same name', async () => {
    await app.stream('dev', 'gone');
    await push('dev', 'gone', 'v', 'gone-1');
    await tag(promoter, { namespace: 'stage', source: 'dev/gone:v', destinations: ['app:gone'] });
    const before = (await lineage(reader, 'stage', 'app:gone')).tag.promotedFrom;
    expect(before.imageStreamTag).toEqual({ name: 'v', stream: { namespace: 'dev' } });

    const deleted = await app.call<{ deleteTag: Json }>(
      app.adminToken,
      `mutation { deleteTag(input: { namespace: "dev", ref: "gone:v" }) { __typename } }`,
    );
    expect(deleted.data!.deleteTag.__typename).toBe('DeleteTagPayload');
    await push('dev', 'gone', 'v', 'gone-2');

    const after = (await lineage(reader, 'stage', 'app:gone')).tag.promotedFrom;
    expect(after).toEqual({ ...before, imageStreamTag: null });
    expect((await lineage(reader, 'dev', 'gone:v')).tag.promotedTo).toEqual([]);
  });
});

describe('statements', () => {
  const STREAM = `query($namespace: String!, $name: String!, $first: Int!) {
    imageStream(namespace: $namespace, name: $name) {
      tags(first: $first) { nodes {
        name
        promotedFrom { namespace stream tag generation imageStreamTag { name } }
        promotedTo { name stream { namespace } }
        history(first: 3) { nodes { copiedFrom { tag generation imageStreamTag { name } } } }
      } }
    }
  }`;

  it('reads the lineage of N tags in a constant number of statements', async () => {
    await app.stream('dev', 'many');
    for (const stream of ['five', 'ten']) await app.stream('stage', stream);
    for (let i = 0; i < 10; i++) {
      await push('dev', 'many', `t${i}`, `many-${i}`);
      const destinations = i < 5 ? ['five:', 'ten:'].map((s) => `${s}t${i}`) : [`ten:t${i}`];
      for (const destination of destinations) {
        await tag(promoter, {
          namespace: 'stage',
          source: `dev/many:t${i}`,
          destinations: [destination],
        });
      }
    }
    const measure = async (namespace: string, name: string, first: number) => {
      // Warm the caller's token and roles, so only the query's own statements count.
      await app.call(reader, STREAM, { namespace, name, first });
      app.statements.length = 0;
      const result = await app.call<{ imageStream: Json }>(reader, STREAM, {
        namespace,
        name,
        first,
      });
      const count = app.statements.length;
      expect(result.errors, JSON.stringify(result.errors)).toBeUndefined();
      return { count, nodes: result.data!.imageStream.tags.nodes };
    };

    const five = await measure('stage', 'five', 5);
    const ten = await measure('stage', 'ten', 10);
    expect(ten.nodes).toHaveLength(10);
    for (const node of ten.nodes) {
      expect(node.promotedFrom).toMatchObject({ namespace: 'dev', stream: 'many', tag: node.name });
      expect(node.promotedFrom.imageStreamTag).toEqual({ name: node.name });
      expect(node.history.nodes[0].copiedFrom.imageStreamTag).toEqual({ name: node.name });
    }
    expect(ten.count).toBe(five.count);

    const fiveSources = await measure('dev', 'many', 5);
    const tenSources = await measure('dev', 'many', 10);
    expect(tenSources.nodes.map((n: Json) => n.promotedTo.length)).toEqual([
      2, 2, 2, 2, 2, 1, 1, 1, 1, 1,
    ]);
    expect(tenSources.count).toBe(fiveSources.count);
    // The token, one role read per namespace (dev, stage), the tags with their lineage and the
    // sources' stream, and the history pages of every tag in one more.
    expect(five.count).toBeLessThanOrEqual(5);
    expect(fiveSources.count).toBeLessThanOrEqual(5);
  });
});
