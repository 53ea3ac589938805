// imageDiff end to end in token mode: images pushed to a real registry, imported into two
// namespaces, compared by a caller who may only pull (docs/images.md#comparing-two-images).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_DIFF_ENTRIES } from '../../src/domain/imageDiff.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import {
  type BuiltImage,
  type BuiltIndex,
  type ImageSpec,
  imageSize,
  pushImage,
  pushIndex,
} from '../support/images.ts';
import { drainImports } from '../support/imports.ts';
import { type RunningRegistry, startRegistry } from '../support/registry.ts';

const A = 'diff-a';
const B = 'diff-b';

let app: TestApp;
let registry: RunningRegistry;
/** IMAGE_PULLER in both namespaces: the least-privileged caller a cross-namespace diff needs. */
let puller: string;
/** IMAGE_PULLER in A only. */
let pullerOfA: string;
let v1: BuiltImage;
let v2: BuiltImage;
let list1: BuiltIndex;
let list2: BuiltIndex;
let manyEnv: BuiltImage;

const V1: ImageSpec = {
  content: ['base layer', 'app v1'],
  config: {
    Env: ['PATH=/usr/bin', 'MODE=dev', 'OLD=1'],
    Labels: { team: 'shop', version: '1' },
    Entrypoint: ['/app'],
    Cmd: ['serve'],
    ExposedPorts: { '80/tcp': {} },
    User: 'root',
    WorkingDir: '/srv',
  },
};
const V2: ImageSpec = {
  content: ['base layer', 'app v2', 'assets'],
  config: {
    Env: ['PATH=/usr/bin', 'MODE=prod', 'NEW=2'],
    Labels: { team: 'shop', version: '2', tier: 'web' },
    Entrypoint: ['/app', '--fast'],
    Cmd: ['serve'],
    ExposedPorts: { '8080/tcp': {}, '9090/tcp': {} },
    User: 'app',
    WorkingDir: '/srv',
  },
};

/** Imports `from` into `namespace/stream:tag` as an editor there, and waits for it. */
async function importInto(
  editor: string,
  namespace: string,
  image: string,
  from: string,
  importMode = 'Legacy',
) {
  const queued = await app.call<{ importImage: { __typename: string } }>(
    editor,
    `mutation($input: ImportImageInput!) { importImage(input: $input) { __typename } }`,
    { input: { namespace, image, from, importMode, confirm: true, insecure: true } },
  );
  expect(queued.data?.importImage.__typename, JSON.stringify(queued)).toBe('ImportImagePayload');
}

beforeAll(async () => {
  registry = await startRegistry();
  app = await startTestApp();
  [v1, v2, manyEnv] = await Promise.all([
    pushImage(registry.url, 'shop/app', 'v1', V1),
    pushImage(registry.url, 'shop/app', 'v2', V2),
    pushImage(registry.url, 'shop/many', 'v1', {
      config: { Env: Array.from({ length: MAX_DIFF_ENTRIES + 20 }, (_, i) => `VAR${i}=${i}`) },
    }),
  ]);
  // One after the other: the two lists share an identical child, and the registry refuses
  // (DIGEST_INVALID) two uploads of one blob into one repository at the same time.
  list1 = await pushIndex(registry.url, 'shop/multi', 'v1', [
    { platform: { os: 'linux', architecture: 'amd64' }, spec: { content: 'same on amd64' } },
    { platform: { os: 'linux', architecture: 'arm64' }, spec: { content: 'arm64 one' } },
    { platform: { os: 'linux', architecture: 's390x' }, spec: { content: 's390x' } },
  ]);
  list2 = await pushIndex(registry.url, 'shop/multi', 'v2', [
    { platform: { os: 'linux', architecture: 'amd64' }, spec: { content: 'same on amd64' } },
    { platform: { os: 'linux', architecture: 'arm64' }, spec: { content: 'arm64 two' } },
    {
      platform: { os: 'linux', architecture: 'arm', variant: 'v7' },
      spec: { content: 'arm v7' },
    },
  ]);
  const editorOfA = await app.member(A, 'EDITOR');
  const editorOfB = await app.member(B, 'EDITOR');
  await importInto(editorOfA, A, 'app:v1', `${registry.host}/shop/app:v1`);
  await importInto(editorOfB, B, 'app:v2', `${registry.host}/shop/app:v2`);
  await importInto(editorOfA, A, 'multi:v1', `${registry.host}/shop/multi:v1`, 'PreserveOriginal');
  await importInto(editorOfB, B, 'multi:v2', `${registry.host}/shop/multi:v2`, 'PreserveOriginal');
  await importInto(editorOfB, B, 'many:v1', `${registry.host}/shop/many:v1`);
  await drainImports(app);
  puller = await app.member(A, 'IMAGE_PULLER', 'diff-puller');
  await app.grant(B, 'IMAGE_PULLER', 'diff-puller');
  pullerOfA = await app.member(A, 'IMAGE_PULLER');
}, 120_000);
afterAll(async () => {
  await app?.stop();
  await registry?.stop();
});

const DIFF = `query($from: String!, $to: String!) {
  imageDiff(from: $from, to: $to) {
    __typename
    ... on ImageDiff {
      from { namespace name digest mediaType metadataSource }
      to { namespace name digest mediaType metadataSource }
      identical
      config {
        env { added { key value } addedCount removed { key value } removedCount
              changed { key before after } changedCount }
        labels { added { key value } addedCount removed { key value } removedCount
                 changed { key before after } changedCount }
        entrypoint { before after }
        cmd { before after }
        user { before after }
        workingDir { before after }
        exposedPorts { added addedCount removed removedCount }
        volumes { addedCount removedCount }
      }
      layers { added { digest size mediaType position } addedCount
               removed { digest size mediaType position } removedCount commonCount }
      sizeDelta { fromBytes toBytes bytes }
      platforms {
        added { os architecture variant digest } addedCount
        removed { os architecture variant digest } removedCount
        changed { os architecture variant fromDigest toDigest } changedCount
        unchangedCount
      }
    }
    ... on Error { code field message }
  }
}`;

// biome-ignore lint/suspicious/noExplicitAny: the answer's shape is what the test asserts
type Answer = any;

async function diffAs(token: string, from: string, to: string): Promise<Answer> {
  const result = await app.call<{ imageDiff: Answer }>(token, DIFF, { from, to });
  expect(result.errors, JSON.stringify(result.errors)).toBeUndefined();
  return result.data!.imageDiff;
}

describe('imageDiff', () => {
  it('compares config, layers and size of tags in two namespaces, for a caller who may pull both', async () => {
    const diff = await diffAs(puller, `${A}/app:v1`, `${B}/app:v2`);
    expect(diff.__typename, JSON.stringify(diff)).toBe('ImageDiff');
    expect(diff.from).toEqual({
      namespace: A,
      name: 'app:v1',
      digest: v1.digest,
      mediaType: v1.mediaType,
      metadataSource: 'REGISTRY_VERIFIED',
    });
    expect(diff.to).toMatchObject({ namespace: B, name: 'app:v2', digest: v2.digest });
    expect(diff.identical).toBe(false);
    expect(diff.config).toEqual({
      env: {
        added: [{ key: 'NEW', value: '2' }],
        addedCount: 1,
        removed: [{ key: 'OLD', value: '1' }],
        removedCount: 1,
        changed: [{ key: 'MODE', before: 'dev', after: 'prod' }],
        changedCount: 1,
      },
      labels: {
        added: [{ key: 'tier', value: 'web' }],
        addedCount: 1,
        removed: [],
        removedCount: 0,
        changed: [{ key: 'version', before: '1', after: '2' }],
        changedCount: 1,
      },
      entrypoint: { before: ['/app'], after: ['/app', '--fast'] },
      cmd: null,
      user: { before: 'root', after: 'app' },
      workingDir: null,
      exposedPorts: {
        added: ['8080/tcp', '9090/tcp'],
        addedCount: 2,
        removed: ['80/tcp'],
        removedCount: 1,
      },
      volumes: { addedCount: 0, removedCount: 0 },
    });
    // The base layer is shared; v1's app layer is gone; v2's app and assets layers are new.
    expect(diff.layers).toEqual({
      added: v2.layers.slice(1).map((l, i) => ({ ...l, position: i + 1 })),
      addedCount: 2,
      removed: [{ ...v1.layers[1]!, position: 1 }],
      removedCount: 1,
      commonCount: 1,
    });
    expect(diff.sizeDelta).toEqual({
      fromBytes: imageSize(v1),
      toBytes: imageSize(v2),
      bytes: imageSize(v2) - imageSize(v1),
    });
    // Two single images of one platform: that platform changed image.
    expect(diff.platforms).toMatchObject({
      changed: [
        {
          os: 'linux',
          architecture: 'amd64',
          variant: null,
          fromDigest: v1.digest,
          toDigest: v2.digest,
        },
      ],
      addedCount: 0,
      removedCount: 0,
      unchangedCount: 0,
    });
  });

  it('takes stream@id references, a short id included, and reports the digest it resolved', async () => {
    const byTag = await diffAs(puller, `${A}/app:v1`, `${B}/app:v2`);
    const byId = await diffAs(
      puller,
      `${A}/app@${v1.digest.slice(7, 19)}`,
      `${B}/app@${v2.digest}`,
    );
    expect(byId.from.name).toBe(`app@${v1.digest}`);
    expect(byId.to.name).toBe(`app@${v2.digest}`);
    expect({ ...byId, from: null, to: null }).toEqual({ ...byTag, from: null, to: null });
  });

  it('finds nothing between an image and itself', async () => {
    const diff = await diffAs(puller, `${A}/app:v1`, `${A}/app@${v1.digest}`);
    expect(diff.identical).toBe(true);
    expect(diff.layers).toMatchObject({ addedCount: 0, removedCount: 0, commonCount: 2 });
    expect(diff.sizeDelta.bytes).toBe(0);
    expect(diff.config.env).toMatchObject({ addedCount: 0, removedCount: 0, changedCount: 0 });
    expect(diff.platforms).toMatchObject({ changedCount: 0, unchangedCount: 1 });
  });

  it('compares the platforms of two manifest lists, with their entries’ digests', async () => {
    const diff = await diffAs(puller, `${A}/multi:v1`, `${B}/multi:v2`);
    expect(diff.__typename, JSON.stringify(diff)).toBe('ImageDiff');
    expect(diff.from.digest).toBe(list1.digest);
    expect(diff.to.digest).toBe(list2.digest);
    const [amd64, arm64a, s390x] = list1.children;
    const [, arm64b, armv7] = list2.children;
    expect(diff.platforms).toEqual({
      added: [{ os: 'linux', architecture: 'arm', variant: 'v7', digest: armv7!.digest }],
      addedCount: 1,
      removed: [{ os: 'linux', architecture: 's390x', variant: null, digest: s390x!.digest }],
      removedCount: 1,
      changed: [
        {
          os: 'linux',
          architecture: 'arm64',
          variant: null,
          fromDigest: arm64a!.digest,
          toDigest: arm64b!.digest,
        },
      ],
      changedCount: 1,
      unchangedCount: 1,
    });
    expect(amd64!.digest).toBe(list2.children[0]!.digest);
    // A list has no config or layers of its own; its entries are compared by digest instead.
    expect(diff.layers).toMatchObject({ addedCount: 0, removedCount: 0, commonCount: 0 });
    expect(diff.config.entrypoint).toBeNull();

    // The changed entry can be compared next, through the list's stream.
    const child = await diffAs(
      puller,
      `${A}/multi@${arm64a!.digest}`,
      `${B}/multi@${arm64b!.digest}`,
    );
    expect(child.layers).toMatchObject({ addedCount: 1, removedCount: 1, commonCount: 0 });
    expect(child.platforms).toMatchObject({ changedCount: 1, unchangedCount: 0 });
  });

  it(`returns at most ${MAX_DIFF_ENTRIES} entries of a list, with the complete count`, async () => {
    const diff = await diffAs(puller, `${A}/app:v1`, `${B}/many:v1`);
    expect(diff.to.digest).toBe(manyEnv.digest);
    expect(diff.config.env.added).toHaveLength(MAX_DIFF_ENTRIES);
    expect(diff.config.env.addedCount).toBe(MAX_DIFF_ENTRIES + 20);
    expect(diff.config.env.removedCount).toBe(3);
  });

  it('refuses a caller who may read only one of the namespaces, whichever side names the other', async () => {
    for (const [from, to, field] of [
      [`${A}/app:v1`, `${B}/app:v2`, 'to'],
      [`${B}/app:v2`, `${A}/app:v1`, 'from'],
      // Not even whether the other side exists is told.
      [`${A}/app:v1`, `${B}/nothing:here`, 'to'],
    ] as const) {
      const answer = await diffAs(pullerOfA, from, to);
      expect(answer).toMatchObject({ __typename: 'ForbiddenError', code: 'FORBIDDEN', field });
      expect(answer.message).toContain(`"${B}"`);
      expect(answer.message).toContain('IMAGE_PULLER');
      expect(JSON.stringify(answer)).not.toContain(v2.digest);
    }
  });

  it('is a ValidationError for malformed references, naming each field', async () => {
    const answer = await diffAs(puller, 'app:v1', `${B}/app@not-hex`);
    expect(answer).toMatchObject({ __typename: 'ValidationError', code: 'VALIDATION' });
    const problems = await app.call<{ imageDiff: { problems: { field: string }[] } }>(
      puller,
      `query { imageDiff(from: "app:v1", to: "${B}/app@not-hex") {
        ... on ValidationError { problems { field } } } }`,
    );
    expect(problems.data!.imageDiff.problems.map((p) => p.field)).toEqual(['from', 'to']);
  });

  it('is a NotFoundError for a tag, stream or id that names no image', async () => {
    for (const [to, message] of [
      [`${B}/app:nope`, 'not found'],
      [`${B}/nostream:v1`, 'not found'],
      [`${B}/app@${'f'.repeat(12)}`, 'matches the id'],
    ] as const) {
      const answer = await diffAs(puller, `${A}/app:v1`, to);
      expect(answer, to).toMatchObject({ __typename: 'NotFoundError', field: 'to' });
      expect(answer.message).toContain(message);
    }
  });

  it('runs a bounded number of SQL statements for one diff', async () => {
    for (const [from, to] of [
      [`${A}/app:v1`, `${B}/app:v2`],
      [`${A}/app@${v1.digest}`, `${B}/app@${v2.digest}`],
    ] as const) {
      app.statements.length = 0;
      const diff = await diffAs(puller, from, to);
      expect(diff.__typename).toBe('ImageDiff');
      const statements = [...app.statements];
      console.info(`imageDiff ${from} → ${to}: ${statements.length} statements`);
      // Token lookup, a role per namespace, the two resolutions, one load of both images.
      expect(statements.length, statements.join('\n')).toBeLessThanOrEqual(
        from.includes('@') ? 10 : 6,
      );
    }
  });
});
