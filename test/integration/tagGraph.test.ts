// The read side of the tag graph: streams, tags, history, images, short ids, tracking, namespaces.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type AnyDocument,
  documentText,
  graphql,
  type ResultOf,
  type VariablesOf,
} from '../../src/cli/graphql.ts';
import type { Db } from '../../src/db/client.ts';
import { ownStatements, startTestApp, type TestApp } from '../support/app.ts';
import {
  digestOf,
  MEDIA,
  type SeedEvent,
  seedImage,
  seedNamespace,
  seedStream,
  seedTag,
} from '../support/seed.ts';

let app: TestApp;
/**
 * Every read here is an image puller's, of the namespaces the seeds fill (`zeta` is empty) and of
 * two that do not exist: `none`, and `a`, which a malformed reference names.
 */
let reader: TestApp;

/** Runs an operation that must not produce GraphQL errors; returns its data. */
async function query<D extends AnyDocument>(
  document: D,
  variables?: VariablesOf<D>,
  caller = reader,
): Promise<ResultOf<D>> {
  const result = await caller.graphql<ResultOf<D>>(documentText(document), variables);
  expect(result.errors).toBeUndefined();
  return result.data!;
}

/** `value` as its union's `typename` member; fails the test when it is another, or null. */
function member<T extends { __typename?: string }, N extends NonNullable<T['__typename']>>(
  value: T | null | undefined,
  typename: N,
): Extract<T, { __typename?: N }> {
  expect(value?.__typename).toBe(typename);
  return value as Extract<T, { __typename?: N }>;
}

const HOST = 'registry.test:5000';

// Short-id material: A and B share the prefix `abc`; P (another stream) has `abc3`.
const A = digestOf('ruby-a', 'abc1');
const B = digestOf('ruby-b', 'abc2');
const C = digestOf('ruby-c', 'c0ffee');
const P = digestOf('python-p', 'abc3');
const LIST = digestOf('ruby-list', 'f00d');
const AMD64 = digestOf('ruby-amd64', 'bead');
const ARM64 = digestOf('ruby-arm64', 'dead');

const hub = (digest: string) => `docker.io/library/ruby@${digest}`;
const event = (image: string, generation: number, reference = hub(image)): SeedEvent => ({
  dockerImageReference: reference,
  image,
  generation,
});

async function seedRuby(db: Db) {
  await seedImage(db, {
    digest: A,
    dockerImageReference: hub(A),
    architecture: 'amd64',
    os: 'linux',
    variant: 'v3',
    created: new Date('2024-02-01T10:00:00Z'),
    author: 'Ruby Team',
    size: 3_000_000_123,
    config: {
      cmd: ['irb'],
      entrypoint: ['/bin/sh', '-c'],
      env: ['PATH=/usr/bin', 'LANG=C.UTF-8'],
      labels: { 'org.opencontainers.image.version': '3.3', maintainer: 'ruby' },
      exposedPorts: ['8080/tcp'],
      user: '1001',
      workingDir: '/app',
      volumes: ['/data'],
    },
    layers: [
      { digest: digestOf('layer-base'), size: 3_000_000_000 },
      { digest: digestOf('layer-gems'), size: 100 },
      { digest: digestOf('layer-app'), size: 23 },
    ],
  });
  await seedImage(db, { digest: B, dockerImageReference: hub(B) });
  await seedImage(db, { digest: C, dockerImageReference: hub(C) });
  await seedImage(db, { digest: P, dockerImageReference: `docker.io/library/python@${P}` });
  await seedImage(db, {
    digest: AMD64,
    architecture: 'amd64',
    os: 'linux',
    layers: [{ digest: digestOf('layer-amd64'), size: 7 }],
  });
  await seedImage(db, {
    digest: LIST,
    dockerImageReference: hub(LIST),
    manifests: [
      { digest: AMD64, size: 500, os: 'linux', architecture: 'amd64' },
      { digest: ARM64, size: 501, os: 'linux', architecture: 'arm64', variant: 'v8' },
    ],
  });

  const ruby = await seedStream(db, { namespace: 'graph', name: 'ruby', generation: 6 });
  const python = await seedStream(db, { namespace: 'graph', name: 'python' });
  await seedTag(db, python.id, { name: '3', history: [event(A, 1), event(P, 1)] });

  const alias = (name: string) => ({ kind: 'ImageStreamTag' as const, name });
  const external = (name: string) => ({ kind: 'DockerImage' as const, name });
  // Inserted out of name order, so the listing has to sort.
  await seedTag(db, ruby.id, {
    name: 'prod',
    from: alias('stable'),
    fromNamespace: 'graph',
    history: [event(A, 1), event(B, 3)],
  });
  await seedTag(db, ruby.id, {
    name: '2.0',
    from: external('docker.io/library/ruby:2.0'),
    specGeneration: 2,
    annotations: { description: 'Ruby 2.0', 'a.b/c': 'x' },
    importInsecure: true,
    importScheduled: true,
    history: [event(A, 1), event(C, 1), event(A, 2), event(B, 2)],
    conditions: [{ status: 'True', generation: 2 }],
  });
  await seedTag(db, ruby.id, {
    name: 'latest',
    from: alias('2.0'),
    referencePolicy: 'Local',
    specGeneration: 3,
    history: [event(B, 3)],
  });
  await seedTag(db, ruby.id, {
    name: 'stable',
    from: alias('ruby:latest'),
    history: [event(B, 3)],
  });
  await seedTag(db, ruby.id, { name: 'beta', from: alias('2.0'), history: [event(B, 2)] });
  await seedTag(db, ruby.id, { name: 'edge', from: alias('gone'), history: [event(A, 1)] });
  await seedTag(db, ruby.id, { name: 'other', from: alias('python:3'), history: [event(C, 1)] });
  await seedTag(db, ruby.id, {
    name: 'pinned',
    from: { kind: 'ImageStreamImage', name: `ruby@${A}` },
    history: [event(A, 1)],
  });
  await seedTag(db, ruby.id, {
    name: 'pending',
    from: external('quay.io/x/y:1'),
    specGeneration: 5,
    history: [event(A, 4)],
  });
  await seedTag(db, ruby.id, {
    name: 'failed',
    from: external('quay.io/x/y:2'),
    specGeneration: 5,
    history: [event(A, 4)],
    conditions: [
      {
        status: 'False',
        reason: 'NotFound',
        message: 'manifest unknown',
        generation: 5,
        lastTransitionTime: new Date('2024-03-02T00:00:00Z'),
      },
    ],
  });
  await seedTag(db, ruby.id, {
    name: 'pushed',
    specGeneration: null,
    history: [event(C, 1, `${HOST}/graph/ruby@${C}`)],
  });
  await seedTag(db, ruby.id, {
    name: 'multi',
    from: external('docker.io/library/ruby:multi'),
    importMode: 'PreserveOriginal',
    history: [event(LIST, 1)],
  });
  await seedTag(db, ruby.id, {
    name: 'ref',
    from: external('quay.io/ext/ruby:9'),
    reference: true,
    referencePolicy: 'Local',
    history: [{ dockerImageReference: 'quay.io/ext/ruby:9', image: null, generation: 1 }],
  });
  await seedTag(db, ruby.id, {
    name: 'new',
    from: external('docker.io/library/ruby:new'),
    specGeneration: 6,
  });
}

/** A stream of `count` tags, each with a 7-item history over 7 shared images of 2 layers. */
async function seedBulk(db: Db, name: string, count: number, digests: string[]) {
  const stream = await seedStream(db, { namespace: 'bulk', name });
  for (let i = 0; i < count; i++) {
    await seedTag(db, stream.id, {
      name: `t${String(i).padStart(2, '0')}`,
      history: digests.map((digest, n) => event(digest, n + 1)),
      conditions: [{ status: 'True', generation: 7 }],
    });
  }
}

beforeAll(async () => {
  app = await startTestApp();
  reader = app.as(
    await app.member(['alpha', 'bulk', 'graph', 'zeta', 'none', 'a'], 'IMAGE_PULLER'),
  );
  const db = app.database.db;
  await seedRuby(db);
  await seedStream(db, { namespace: 'alpha', name: 'a' });
  await seedNamespace(db, 'zeta');
  const digests: string[] = [];
  for (let n = 0; n < 7; n++) {
    digests.push(
      await seedImage(db, {
        digest: digestOf(`bulk-${n}`),
        layers: [
          { digest: digestOf(`bulk-${n}-base`), size: 10 },
          { digest: digestOf(`bulk-${n}-top`), size: 1 },
        ],
      }),
    );
  }
  await seedBulk(db, 'five', 5, digests);
  await seedBulk(db, 'ten', 10, digests);
});

afterAll(async () => {
  await app.stop();
});

const TAG = graphql(`
  query Tag($namespace: String!, $ref: String!) {
    imageStreamTag(namespace: $namespace, ref: $ref) {
      __typename
      ... on ImageStreamTag {
        id name stream { namespace name }
        spec {
          from { kind name namespace } reference referencePolicy { type }
          importPolicy { insecure scheduled importMode } generation annotations { key value }
        }
        image { digest } dockerImageReference pullSpec importPending dangling
        conditions { type status reason message generation lastTransitionTime }
      }
      ... on Error { message code field }
    }
  }
`);

async function tag(ref: string, namespace = 'graph', caller = reader) {
  return (await query(TAG, { namespace, ref }, caller)).imageStreamTag;
}

/** A tag the test expects to exist. */
const foundTag = async (ref: string, namespace = 'graph') =>
  member(await tag(ref, namespace), 'ImageStreamTag');

describe('imageStreamTag', () => {
  it('returns the spec, item 0 and conditions of a tag', async () => {
    expect(await tag('ruby:2.0')).toMatchObject({
      __typename: 'ImageStreamTag',
      name: '2.0',
      stream: { namespace: 'graph', name: 'ruby' },
      spec: {
        from: { kind: 'DockerImage', name: 'docker.io/library/ruby:2.0', namespace: null },
        reference: false,
        referencePolicy: { type: 'Source' },
        importPolicy: { insecure: true, scheduled: true, importMode: 'Legacy' },
        generation: 2,
        annotations: [
          { key: 'a.b/c', value: 'x' },
          { key: 'description', value: 'Ruby 2.0' },
        ],
      },
      image: { digest: B },
      dockerImageReference: hub(B),
      pullSpec: hub(B),
      importPending: false,
      dangling: false,
      conditions: [
        { type: 'ImportSuccess', status: 'True', reason: '', message: '', generation: 2 },
      ],
    });
  });

  it('has a null spec for a status-only tag, which is never import pending', async () => {
    expect(await tag('ruby:pushed')).toMatchObject({
      spec: null,
      image: { digest: C },
      importPending: false,
      conditions: [],
    });
  });

  it('reports a failed import condition and the PreserveOriginal mode', async () => {
    expect(await tag('ruby:failed')).toMatchObject({
      conditions: [
        {
          type: 'ImportSuccess',
          status: 'False',
          reason: 'NotFound',
          message: 'manifest unknown',
          generation: 5,
          lastTransitionTime: '2024-03-02T00:00:00.000Z',
        },
      ],
    });
    expect((await foundTag('ruby:multi')).spec?.importPolicy.importMode).toBe('PreserveOriginal');
    expect((await foundTag('ruby:pinned')).spec?.from).toEqual({
      kind: 'ImageStreamImage',
      name: `ruby@${A}`,
      namespace: null,
    });
  });

  it('computes importPending from spec, item 0 and condition generations', async () => {
    // 5 > item 0's 4, no condition.
    expect((await foundTag('ruby:pending')).importPending).toBe(true);
    // 5 > item 0's 4, but the failed import recorded generation 5.
    expect((await foundTag('ruby:failed')).importPending).toBe(false);
    // A spec with no history yet.
    expect((await foundTag('ruby:new')).importPending).toBe(true);
    // 3 == item 0's 3.
    expect((await foundTag('ruby:latest')).importPending).toBe(false);
  });

  it('gives the pull spec per reference policy', async () => {
    expect((await foundTag('ruby:2.0')).pullSpec).toBe(hub(B));
    expect((await foundTag('ruby:latest')).pullSpec).toBe(`${HOST}/graph/ruby@${B}`);
    // A reference tag has no digest to pin, so even Local points at the source.
    expect(await tag('ruby:ref')).toMatchObject({
      image: null,
      dockerImageReference: 'quay.io/ext/ruby:9',
      pullSpec: 'quay.io/ext/ruby:9',
      spec: { reference: true, referencePolicy: { type: 'Local' } },
    });
    expect(await tag('ruby:new')).toMatchObject({
      image: null,
      dockerImageReference: null,
      pullSpec: null,
    });
  });

  it('answers null for a missing tag or stream, and for a ref in another namespace', async () => {
    expect(await tag('ruby:nope')).toBeNull();
    expect(await tag('nope:2.0')).toBeNull();
    expect(await tag('ruby:2.0', 'alpha')).toBeNull();
    expect((await foundTag('graph/ruby:2.0', 'alpha')).name).toBe('2.0');
  });

  it.each([
    ['ruby', 'ref', /\[<namespace>\/\]<stream>:<tag>/],
    ['ruby:bad tag!', 'ref', /tag/],
    ['Ruby:2.0', 'ref', /.+/],
  ])('refuses the malformed ref %j with a ValidationError', async (ref, field, message) => {
    const result = member(await tag(ref), 'ValidationError');
    expect(result).toMatchObject({ __typename: 'ValidationError', code: 'VALIDATION', field });
    expect(result.message).toMatch(message);
  });

  it('refuses a malformed namespace on the namespace argument', async () => {
    // No one holds a role in a namespace with an invalid name: a cluster admin reaches the check.
    expect(await tag('ruby:2.0', 'Bad_NS', app.as(app.adminToken))).toMatchObject({
      __typename: 'ValidationError',
      field: 'namespace',
    });
  });

  it('refetches tags and images through node(id)', async () => {
    const { id } = await foundTag('ruby:latest');
    const node = await query(
      graphql(
        `query($id: ID!) { node(id: $id) { __typename ... on ImageStreamTag { name image { id } } } }`,
      ),
      { id },
    );
    expect(node.node).toMatchObject({ __typename: 'ImageStreamTag', name: 'latest' });
    const image = await query(
      graphql(`query($id: ID!) { node(id: $id) { __typename ... on Image { digest } } }`),
      { id: member(node.node, 'ImageStreamTag').image!.id },
    );
    expect(image.node).toEqual({ __typename: 'Image', digest: B });
  });
});

describe('history', () => {
  const HISTORY = graphql(`
    query History($first: Int, $after: String, $last: Int) {
      imageStreamTag(namespace: "graph", ref: "ruby:2.0") {
        __typename
        ... on ImageStreamTag {
          history(first: $first, after: $after, last: $last) {
            edges { node { created dockerImageReference generation image { digest } } }
            pageInfo { hasNextPage hasPreviousPage endCursor }
          }
        }
      }
    }
  `);
  const page = async (variables: Record<string, unknown>) =>
    member((await query(HISTORY, variables)).imageStreamTag, 'ImageStreamTag').history;

  it('lists newest first and pages with cursors', async () => {
    const first = await page({ first: 2 });
    expect(first.pageInfo.hasNextPage).toBe(true);
    expect(first.edges.map((e) => [e.node.image?.digest, e.node.generation])).toEqual([
      [B, 2],
      [A, 2],
    ]);
    expect(first.edges[0]!.node.dockerImageReference).toBe(hub(B));
    const second = await page({ first: 2, after: first.pageInfo.endCursor });
    expect(second.pageInfo.hasNextPage).toBe(false);
    expect(second.edges.map((e) => [e.node.image?.digest, e.node.generation])).toEqual([
      [C, 1],
      [A, 1],
    ]);
    const created = [...first.edges, ...second.edges].map((e) => Date.parse(e.node.created));
    expect(created).toEqual([...created].sort((x, y) => y - x));
    expect(new Set(created).size).toBe(4);
  });

  it('takes the oldest item with last: 1', async () => {
    const oldest = await page({ last: 1 });
    expect(oldest.edges.map((e) => [e.node.image?.digest, e.node.generation])).toEqual([[A, 1]]);
    expect(oldest.pageInfo.hasPreviousPage).toBe(true);
  });

  it('keeps a reference tag event without an image, and an empty history as empty', async () => {
    const result = await query(
      graphql(`{
      ref: imageStreamTag(namespace: "graph", ref: "ruby:ref") {
        __typename
        ... on ImageStreamTag { history { edges { node { dockerImageReference image { digest } } } } }
      }
      new: imageStreamTag(namespace: "graph", ref: "ruby:new") {
        __typename
        ... on ImageStreamTag { history { edges { node { generation } } } }
      }
    }`),
    );
    expect(member(result.ref, 'ImageStreamTag').history.edges).toEqual([
      { node: { dockerImageReference: 'quay.io/ext/ruby:9', image: null } },
    ]);
    expect(member(result.new, 'ImageStreamTag').history).toEqual({ edges: [] });
  });
});

describe('tracking', () => {
  const TRACKING = graphql(`
    query Tracking($ref: String!) {
      imageStreamTag(namespace: "graph", ref: $ref) {
        ... on ImageStreamTag {
          follows { name image { digest } }
          dangling
          followers { name }
          chain: followers(transitive: true) { name follows { name } }
        }
      }
    }
  `);
  const tracking = async (ref: string) =>
    (await query(TRACKING, { ref })).imageStreamTag as {
      follows: { name: string; image: { digest: string } | null } | null;
      dangling: boolean;
      followers: { name: string }[];
      chain: { name: string; follows: { name: string } | null }[];
    };

  it('lists direct followers sorted, and transitive ones breadth first', async () => {
    const source = await tracking('ruby:2.0');
    expect(source.follows).toBeNull();
    expect(source.followers.map((f) => f.name)).toEqual(['beta', 'latest']);
    expect(source.chain).toEqual([
      { name: 'beta', follows: { name: '2.0' } },
      { name: 'latest', follows: { name: '2.0' } },
      { name: 'stable', follows: { name: 'latest' } },
      { name: 'prod', follows: { name: 'stable' } },
    ]);
  });

  it('resolves follows by bare tag, stream:tag and explicit same namespace', async () => {
    expect((await tracking('ruby:latest')).follows).toEqual({ name: '2.0', image: { digest: B } });
    expect((await tracking('ruby:stable')).follows?.name).toBe('latest');
    const prod = await tracking('ruby:prod');
    expect(prod.follows?.name).toBe('stable');
    expect(prod.followers).toEqual([]);
    expect((await tracking('ruby:stable')).chain.map((f) => f.name)).toEqual(['prod']);
  });

  it('reports a tag tracking a deleted tag as dangling, not as following', async () => {
    const edge = await tracking('ruby:edge');
    expect(edge).toMatchObject({ follows: null, dangling: true, followers: [] });
    expect((await foundTag('ruby:edge')).image).toEqual({ digest: A });
  });

  it('does not treat another stream or a pinned image as tracking', async () => {
    expect(await tracking('ruby:other')).toMatchObject({ follows: null, dangling: false });
    expect(await tracking('ruby:pinned')).toMatchObject({ follows: null, dangling: false });
    expect((await tracking('python:3')).followers).toEqual([]);
  });
});

describe('imageStreamImage', () => {
  const STREAM_IMAGE = graphql(`
    query StreamImage($namespace: String!, $ref: String!) {
      imageStreamImage(namespace: $namespace, ref: $ref) {
        __typename
        ... on ImageStreamImage {
          name namespace digest dockerImageReference stream { name } image { digest }
        }
        ... on Error { message code field }
        ... on ConflictError { candidates }
      }
    }
  `);
  const streamImage = async (ref: string, namespace = 'graph') =>
    (await query(STREAM_IMAGE, { namespace, ref })).imageStreamImage;
  /** An image the test expects to be found. */
  const foundImage = async (ref: string, namespace = 'graph') =>
    member(await streamImage(ref, namespace), 'ImageStreamImage');

  it.each([
    ['the full digest', `ruby@${A}`],
    ['a sha256: prefix', 'ruby@sha256:abc1'],
    ['a hex prefix', 'ruby@abc1'],
    ['an uppercase prefix', 'ruby@ABC1'],
  ])('resolves %s', async (_case, ref) => {
    expect(await streamImage(ref)).toEqual({
      __typename: 'ImageStreamImage',
      name: `ruby@${A}`,
      namespace: 'graph',
      digest: A,
      dockerImageReference: hub(A),
      stream: { name: 'ruby' },
      image: { digest: A },
    });
  });

  it('lists sorted candidates for an ambiguous prefix, from this stream only', async () => {
    const result = member(await streamImage('ruby@abc'), 'ConflictError');
    expect(result).toMatchObject({
      __typename: 'ConflictError',
      code: 'CONFLICT',
      field: 'ref',
      candidates: [A, B],
    });
    expect(result.message).toMatch(/ambiguous/);
  });

  it('answers null when nothing in the stream matches', async () => {
    // P starts with abc3, but only the python stream's history has it.
    expect(await streamImage('ruby@abc3')).toBeNull();
    expect(await streamImage('ruby@ffff')).toBeNull();
    expect(await streamImage('nope@abc1')).toBeNull();
    expect((await foundImage('python@abc3')).digest).toBe(P);
  });

  it('finds the children of a manifest list in the history', async () => {
    expect(await streamImage('ruby@dead')).toMatchObject({
      digest: ARM64,
      dockerImageReference: hub(ARM64),
      image: null,
    });
    expect(await streamImage('ruby@bead')).toMatchObject({
      digest: AMD64,
      dockerImageReference: hub(AMD64),
      image: { digest: AMD64 },
    });
    expect((await foundImage('ruby@f00d')).digest).toBe(LIST);
  });

  it('reads `ns/stream@id` across namespaces', async () => {
    expect((await foundImage('graph/ruby@c0ffee', 'alpha')).digest).toBe(C);
  });

  it.each([['ruby'], ['ruby@xyz'], ['ruby@sha256:'], ['a/b/ruby@abc1']])(
    'refuses the malformed ref %j with a ValidationError',
    async (ref) => {
      expect(await streamImage(ref)).toMatchObject({ __typename: 'ValidationError', field: 'ref' });
    },
  );
});

describe('image', () => {
  const IMAGE = graphql(`
    query Image($digest: String!) {
      image(digest: $digest) {
        digest mediaType dockerImageReference architecture os variant created author size
        config {
          cmd entrypoint env labels { key value } exposedPorts user workingDir volumes
        }
        layers { digest size mediaType }
        manifests { digest mediaType size os architecture variant image { digest layers { size } } }
      }
    }
  `);

  it('returns metadata, config and layers base first', async () => {
    const { image } = await query(IMAGE, { digest: A });
    expect(image).toEqual({
      digest: A,
      mediaType: MEDIA.manifest,
      dockerImageReference: hub(A),
      architecture: 'amd64',
      os: 'linux',
      variant: 'v3',
      created: '2024-02-01T10:00:00.000Z',
      author: 'Ruby Team',
      size: 3_000_000_123,
      config: {
        cmd: ['irb'],
        entrypoint: ['/bin/sh', '-c'],
        env: ['PATH=/usr/bin', 'LANG=C.UTF-8'],
        labels: [
          { key: 'maintainer', value: 'ruby' },
          { key: 'org.opencontainers.image.version', value: '3.3' },
        ],
        exposedPorts: ['8080/tcp'],
        user: '1001',
        workingDir: '/app',
        volumes: ['/data'],
      },
      layers: [
        { digest: digestOf('layer-base'), size: 3_000_000_000, mediaType: MEDIA.layer },
        { digest: digestOf('layer-gems'), size: 100, mediaType: MEDIA.layer },
        { digest: digestOf('layer-app'), size: 23, mediaType: MEDIA.layer },
      ],
      manifests: [],
    });
  });

  it('lists the children of a manifest list in order, with the imported ones', async () => {
    const { image } = await query(IMAGE, { digest: LIST });
    expect(image).toMatchObject({ mediaType: MEDIA.index, config: null, layers: [] });
    expect(image!.manifests).toEqual([
      {
        digest: AMD64,
        mediaType: MEDIA.manifest,
        size: 500,
        os: 'linux',
        architecture: 'amd64',
        variant: null,
        image: { digest: AMD64, layers: [{ size: 7 }] },
      },
      {
        digest: ARM64,
        mediaType: MEDIA.manifest,
        size: 501,
        os: 'linux',
        architecture: 'arm64',
        variant: 'v8',
        image: null,
      },
    ]);
  });

  it("loads a child image's columns that its list row does not carry", async () => {
    // ImageManifest.image resolves with the child's digest alone: every other column of the
    // child must be loaded, not read off the row (schema/loadedColumns.ts takes only columns
    // the row has).
    const { image } = await query(
      graphql(`query($digest: String!) { image(digest: $digest) { manifests { image {
        digest mediaType dockerImageReference architecture os size created } } } }`),
      { digest: LIST },
    );
    const { image: child } = await query(
      graphql(`query($digest: String!) { image(digest: $digest) {
        digest mediaType dockerImageReference architecture os size created } }`),
      { digest: AMD64 },
    );
    expect(child).toMatchObject({
      digest: AMD64,
      mediaType: MEDIA.manifest,
      architecture: 'amd64',
    });
    expect(image!.manifests[0]!.image).toEqual(child);
  });

  it('answers null for an unknown digest', async () => {
    expect((await query(IMAGE, { digest: digestOf('never') })).image).toBeNull();
  });

  it('lists the tags that point at an image now and in their history', async () => {
    const { image } = await query(
      graphql(`query($digest: String!) { image(digest: $digest) {
        streamTags { current historyIndex tag { name stream { namespace name } } } } }`),
      { digest: A },
    );
    const uses = image!.streamTags.map((u) => [
      `${u.tag.stream.name}:${u.tag.name}`,
      u.current,
      u.historyIndex,
    ]);
    expect(uses).toEqual([
      ['python:3', false, 1],
      // A is items 1 and 3 of 2.0: the newest counts.
      ['ruby:2.0', false, 1],
      ['ruby:edge', true, 0],
      ['ruby:failed', true, 0],
      ['ruby:pending', true, 0],
      ['ruby:pinned', true, 0],
      ['ruby:prod', false, 1],
    ]);
  });
});

describe('image streams', () => {
  it('lists tags sorted by name with cursors, and finds one by name', async () => {
    const LIST_TAGS =
      graphql(`query($after: String) { imageStream(namespace: "graph", name: "ruby") {
      tags(first: 5, after: $after) { nodes { name } pageInfo { hasNextPage endCursor } }
    } }`);
    const names: string[] = [];
    const sizes: number[] = [];
    let after: string | null = null;
    for (let i = 0; i < 5; i++) {
      const { tags }: NonNullable<ResultOf<typeof LIST_TAGS>['imageStream']> = (
        await query(LIST_TAGS, { after })
      ).imageStream!;
      sizes.push(tags.nodes.length);
      names.push(...tags.nodes.map((n) => n.name));
      if (!tags.pageInfo.hasNextPage) break;
      after = tags.pageInfo.endCursor;
    }
    expect(names).toEqual([
      '2.0',
      'beta',
      'edge',
      'failed',
      'latest',
      'multi',
      'new',
      'other',
      'pending',
      'pinned',
      'prod',
      'pushed',
      'ref',
      'stable',
    ]);
    expect(sizes).toEqual([5, 5, 4]);
    const one = await query(
      graphql(`{ imageStream(namespace: "graph", name: "ruby") {
      found: tag(name: "latest") { name image { digest } } missing: tag(name: "nope") { name } } }`),
    );
    expect(one.imageStream).toEqual({
      found: { name: 'latest', image: { digest: B } },
      missing: null,
    });
  });

  it('counts distinct images across all histories', async () => {
    const result = await query(
      graphql(`{
      ruby: imageStream(namespace: "graph", name: "ruby") { uniqueImageCount }
      python: imageStream(namespace: "graph", name: "python") { uniqueImageCount }
      empty: imageStream(namespace: "alpha", name: "a") { uniqueImageCount }
    }`),
    );
    // ruby: A, B, C and the list; a list's children are not counted.
    expect(result).toEqual({
      ruby: { uniqueImageCount: 4 },
      python: { uniqueImageCount: 2 },
      empty: { uniqueImageCount: 0 },
    });
  });

  it('runs a constant number of statements however many tags a stream has', async () => {
    const STREAM = graphql(`
      query Stream($name: String!) {
        imageStream(namespace: "bulk", name: $name) {
          name
          tags(first: 20) {
            edges { node {
              name image { digest } dockerImageReference importPending
              history(first: 5) { edges { node {
                dockerImageReference generation image { digest size layers { digest size } }
              } } }
            } }
          }
        }
      }
    `);
    const measure = async (caller: TestApp, name: string, tags: number) => {
      caller.statements.length = 0;
      const { imageStream } = await query(STREAM, { name }, caller);
      const count = ownStatements(caller.statements).length;
      expect(imageStream!.tags.edges).toHaveLength(tags);
      for (const { node } of imageStream!.tags.edges) {
        expect(node.image!.digest).toBe(digestOf('bulk-6'));
        expect(node.history.edges.map((e) => e.node.generation)).toEqual([7, 6, 5, 4, 3]);
        expect(node.history.edges[0]!.node.image!.layers).toHaveLength(2);
      }
      return {
        count,
        compiled: caller.statements.filter((s) => s.includes(' as readable,')).length,
      };
    };
    // The ordinary execution (batched loads over drizzle): an app with compiled reads off.
    const off = await startTestApp({ compiledReads: false });
    try {
      const ordinary = off.as(reader.token);
      // A new app's first request also loads what later requests find cached.
      await measure(ordinary, 'five', 5);
      const five = await measure(ordinary, 'five', 5);
      expect(await measure(ordinary, 'ten', 10)).toEqual(five);
      expect(five).toEqual({ count: expect.any(Number), compiled: 0 });
      expect(five.count).toBeLessThanOrEqual(2);
    } finally {
      await off.stop();
    }
    // Compiled reads (the default): the document's first request proves it on the ordinary
    // path; from then on one statement answers it, whatever the stream's size.
    expect((await measure(reader, 'five', 5)).compiled).toBe(0);
    const five = await measure(reader, 'five', 5);
    expect(await measure(reader, 'ten', 10)).toEqual(five);
    expect(five).toEqual({ count: 0, compiled: 1 });
  });
});

describe('namespaces', () => {
  it('lists namespaces sorted by name with their stream counts', async () => {
    const LIST_NS = graphql(`query($after: String) {
      namespaces(first: 2, after: $after) { nodes { name imageStreamCount } pageInfo { hasNextPage endCursor } }
    }`);
    const first = (await query(LIST_NS, { after: null })).namespaces;
    expect(first.nodes).toEqual([
      { name: 'alpha', imageStreamCount: 1 },
      { name: 'bulk', imageStreamCount: 2 },
    ]);
    expect(first.pageInfo.hasNextPage).toBe(true);
    const second = (await query(LIST_NS, { after: first.pageInfo.endCursor })).namespaces;
    expect(second.nodes).toEqual([
      { name: 'graph', imageStreamCount: 2 },
      { name: 'zeta', imageStreamCount: 0 },
    ]);
    expect(second.pageInfo.hasNextPage).toBe(false);
  });

  it("gets one namespace with its streams sorted by name, and null when it doesn't exist", async () => {
    const result = await query(
      graphql(`{
      graph: namespace(name: "graph") { name imageStreams { nodes { name } } }
      none: namespace(name: "none") { name }
    }`),
    );
    expect(result).toEqual({
      graph: { name: 'graph', imageStreams: { nodes: [{ name: 'python' }, { name: 'ruby' }] } },
      none: null,
    });
  });
});
