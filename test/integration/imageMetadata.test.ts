// Image metadata end to end in token mode: who may map, what a digest's metadata may be
// replaced with, what a hostile registry cannot make us store, and who may read an image.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { encodeGlobalID } from '@pothos/plugin-relay';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashToken } from '../../src/auth/tokens.ts';
import { rowsOf } from '../../src/db/client.ts';
import { startTestApp, TEST_ADMIN_TOKEN, type TestApp } from '../support/app.ts';
import { buildImage, pushImage, pushIndex } from '../support/images.ts';
import { importFrom } from '../support/imports.ts';
import { testIdentityProvider } from '../support/jwt.ts';
import { digestOf } from '../support/mapping.ts';
import { authDocument, createPullSecret } from '../support/pullSecrets.ts';
import { type RunningRegistry, startRegistry } from '../support/registry.ts';

const USER = 'puller';
const PASSWORD = 'correct horse battery staple';
/** The group whose members act as image registries. */
const REGISTRY_GROUP = 'system:registries';

let app: TestApp;
let open: RunningRegistry;
let guarded: RunningRegistry;
/** A caller in the registries group, holding no role anywhere. */
let registryToken: string;

beforeAll(async () => {
  [open, guarded] = await Promise.all([
    startRegistry(),
    startRegistry({ htpasswd: { user: USER, password: PASSWORD } }),
  ]);
  app = await startTestApp();
  registryToken = (await app.user('system:serviceaccount:default:registry', [REGISTRY_GROUP]))
    .token;
});
afterAll(async () => {
  await app.stop();
  await Promise.all([open.stop(), guarded.stop()]);
});

const MAP = `mutation($input: CreateImageStreamMappingInput!) {
  createImageStreamMapping(input: $input) {
    __typename
    ... on CreateImageStreamMappingPayload { imageCreated changedTags }
    ... on Error { code message }
  }
}`;

/** A mapping of `digest` that claims a hostile environment, entrypoint, layer and source. */
function forgedMapping(namespace: string, stream: string, tag: string, digest: string) {
  return {
    namespace,
    stream,
    tag,
    image: {
      digest,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      dockerImageReference: `evil.example/forged@${digest}`,
      config: { env: ['FORGED=1'], entrypoint: ['/forged'] },
      layers: [
        {
          digest: digestOf(`forged layer of ${digest}`),
          size: 1,
          mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
        },
      ],
    },
  };
}

const IMAGE_FIELDS = `digest metadataSource dockerImageReference
  config { env entrypoint } layers { digest } manifests { digest }`;

interface ImageView {
  digest: string;
  metadataSource: 'REGISTRY_VERIFIED' | 'DECLARED';
  dockerImageReference: string | null;
  config: { env: string[] | null; entrypoint: string[] | null } | null;
  layers: { digest: string }[];
  manifests: { digest: string }[];
}

async function imageAs(token: string, digest: string): Promise<ImageView | null> {
  const result = await app.call<{ image: ImageView | null }>(
    token,
    `query($d: String!) { image(digest: $d) { ${IMAGE_FIELDS} } }`,
    { d: digest },
  );
  expect(result.errors, JSON.stringify(result.errors)).toBeUndefined();
  return result.data!.image;
}

async function count(query: ReturnType<typeof sql>): Promise<number> {
  const [row] = rowsOf<{ n: number }>(await app.database.db.execute(query));
  return Number(row!.n);
}

/** How many rows anywhere hold `digest`: the image, its layers and entries, history items. */
async function rowsNaming(digest: string) {
  return {
    images: await count(sql`select count(*) as n from images where digest = ${digest}`),
    layers: await count(sql`select count(*) as n from image_layers where image_digest = ${digest}`),
    history: await count(sql`select count(*) as n from tag_history where image_digest = ${digest}`),
  };
}

describe('createImageStreamMapping is for registries only', () => {
  it("an editor's or a namespace admin's mapping is FORBIDDEN and writes nothing", async () => {
    const editor = await app.member('map-tenant', 'EDITOR');
    const admin = await app.member('map-tenant', 'ADMIN');
    // A namespace admin may bind the registries group to a role; that puts nobody in it.
    await app.call(
      admin,
      `mutation { addRoleBinding(input: { namespace: "map-tenant", role: EDITOR,
        subjectKind: Group, subjectName: "${REGISTRY_GROUP}" }) { __typename } }`,
    );
    const digest = digestOf('editor mapping');
    for (const token of [editor, admin]) {
      const result = await app.call(token, MAP, {
        input: forgedMapping('map-tenant', 'app', 'v1', digest),
      });
      expect(result.errors?.[0]?.extensions?.code, JSON.stringify(result)).toBe('FORBIDDEN');
      expect(result.data ?? null).toBeNull();
    }
    expect(await rowsNaming(digest)).toEqual({ images: 0, layers: 0, history: 0 });
    expect(
      await count(sql`select count(*) as n from image_streams where namespace = 'map-tenant'`),
    ).toBe(0);
  });

  it('a caller in the system:registries group maps into any namespace, as DECLARED', async () => {
    const digest = digestOf('registry mapping');
    const result = await app.call<{ createImageStreamMapping: Record<string, unknown> }>(
      registryToken,
      MAP,
      { input: forgedMapping('registry-target', 'app', 'v1', digest) },
    );
    expect(result.errors, JSON.stringify(result.errors)).toBeUndefined();
    expect(result.data!.createImageStreamMapping).toEqual({
      __typename: 'CreateImageStreamMappingPayload',
      imageCreated: true,
      changedTags: ['v1'],
    });
    const stored = await imageAs(app.adminToken, digest);
    expect(stored).toMatchObject({ metadataSource: 'DECLARED', config: { env: ['FORGED=1'] } });
  });
  it("an identity provider's groups claim can make a caller a registry", async () => {
    const idp = await testIdentityProvider();
    const withJwt = await startTestApp({
      auth: {
        mode: 'token',
        adminTokenHash: hashToken(TEST_ADMIN_TOKEN),
        jwt: idp.settings,
      },
    });
    try {
      const sign = (subject: string, groups: string[]) => idp.sign(subject, { groups });
      const map = (token: string, tag: string) =>
        withJwt.call<{ createImageStreamMapping: { __typename: string } }>(token, MAP, {
          input: forgedMapping('jwt-target', 'app', tag, digestOf(`jwt ${tag}`)),
        });
      const user = await map(await sign('someone', ['developers']), 'v1');
      expect(user.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
      const registry = await map(await sign('registry', [REGISTRY_GROUP]), 'v2');
      expect(registry.errors, JSON.stringify(registry.errors)).toBeUndefined();
      expect(registry.data!.createImageStreamMapping.__typename).toBe(
        'CreateImageStreamMappingPayload',
      );
    } finally {
      await withJwt.stop();
    }
  });
});

describe('a digest keeps verified metadata', () => {
  it('a verified import replaces forged declared metadata; a later mapping changes nothing', async () => {
    const real = await pushImage(open.url, 'victim/app', 'v1', {
      content: 'the real app',
      config: { Env: ['REAL=1'], Entrypoint: ['/real'] },
    });
    // A forgery declared first, under a tag of a namespace the victim never sees.
    const forged = await app.call<{ createImageStreamMapping: { __typename: string } }>(
      registryToken,
      MAP,
      { input: forgedMapping('decoy', 'app', 'v1', real.digest) },
    );
    expect(forged.data?.createImageStreamMapping.__typename, JSON.stringify(forged)).toBe(
      'CreateImageStreamMappingPayload',
    );

    const victim = await app.member('victim', 'EDITOR');
    const job = await importFrom(app.as(victim), 'victim', 'app:v1', `${open.host}/victim/app:v1`);
    expect(job.status).toBe('succeeded');
    const expected: ImageView = {
      digest: real.digest,
      metadataSource: 'REGISTRY_VERIFIED',
      dockerImageReference: `${open.host}/victim/app@${real.digest}`,
      config: { env: ['REAL=1'], entrypoint: ['/real'] },
      layers: real.layers.map((layer) => ({ digest: layer.digest })),
      manifests: [],
    };
    expect(await imageAs(victim, real.digest)).toEqual(expected);

    // Declaring it again, even through a new tag, cannot overwrite what was verified.
    const again = await app.call<{ createImageStreamMapping: { __typename: string } }>(
      registryToken,
      MAP,
      { input: forgedMapping('decoy', 'app', 'v2', real.digest) },
    );
    expect(again.data?.createImageStreamMapping.__typename).toBe('CreateImageStreamMappingPayload');
    expect(await imageAs(victim, real.digest)).toEqual(expected);
    expect((await rowsNaming(real.digest)).layers).toBe(real.layers.length);
  });
});

/** A registry that serves what `routes` says for GET paths, 404 otherwise, and logs paths. */
async function hostileRegistry(
  routes: Record<string, { body: Buffer; headers?: Record<string, string> }>,
) {
  const requested: string[] = [];
  const server: Server = createServer((req, res) => {
    requested.push(req.url ?? '');
    if (req.url === '/v2/') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
      return;
    }
    const route = routes[req.url ?? ''];
    if (!route) {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end('{"errors":[{"code":"NOT_FOUND"}]}');
      return;
    }
    res.writeHead(200, { 'content-length': String(route.body.length), ...route.headers });
    res.end(req.method === 'HEAD' ? undefined : route.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    host: `127.0.0.1:${port}`,
    requested,
    stop: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

describe('a hostile registry', () => {
  it('serving a config blob that does not match its digest fails the import and stores nothing', async () => {
    const real = buildImage({ content: 'tampered', config: { Env: ['REAL=1'] } });
    const tampered = Buffer.from(real.config.toString().replace('REAL=1', 'EVIL=1'));
    expect(tampered.equals(real.config)).toBe(false);
    const manifest = {
      body: real.manifest,
      headers: { 'content-type': real.mediaType, 'docker-content-digest': real.digest },
    };
    const hostile = await hostileRegistry({
      '/v2/evil/app/manifests/v1': manifest,
      [`/v2/evil/app/manifests/${real.digest}`]: manifest,
      [`/v2/evil/app/blobs/${real.configDigest}`]: { body: tampered },
    });
    try {
      const editor = await app.member('hostile', 'EDITOR');
      const job = await importFrom(
        app.as(editor),
        'hostile',
        'app:v1',
        `${hostile.host}/evil/app:v1`,
      );
      expect(hostile.requested).toContain(`/v2/evil/app/blobs/${real.configDigest}`);
      expect(job.status).toBe('failed');
      expect(job.images).toEqual([
        expect.objectContaining({ tag: 'v1', status: 'Failure', reason: 'DigestMismatch' }),
      ]);
      expect(job.images[0]!.message).toContain(`not the expected ${real.configDigest}`);
      expect(await rowsNaming(real.digest)).toEqual({ images: 0, layers: 0, history: 0 });
      const tag = await app.call<{
        imageStreamTag: { image: unknown; conditions: { status: string; reason: string }[] };
      }>(
        editor,
        `{ imageStreamTag(namespace: "hostile", ref: "app:v1") {
          ... on ImageStreamTag { image { digest } conditions { status reason } } } }`,
      );
      expect(tag.data!.imageStreamTag).toEqual({
        image: null,
        conditions: [{ status: 'False', reason: 'DigestMismatch' }],
      });
    } finally {
      await hostile.stop();
    }
  });

  it('serving a manifest that does not hash to the pinned digest fails the import too', async () => {
    const asked = buildImage({ content: 'asked for' });
    const other = buildImage({ content: 'served instead' });
    const hostile = await hostileRegistry({
      [`/v2/evil/app/manifests/${asked.digest}`]: {
        body: other.manifest,
        headers: { 'content-type': other.mediaType, 'docker-content-digest': asked.digest },
      },
      [`/v2/evil/app/blobs/${other.configDigest}`]: { body: other.config },
    });
    try {
      const editor = await app.member('hostile-pin', 'EDITOR');
      const job = await importFrom(
        app.as(editor),
        'hostile-pin',
        'app:v1',
        `${hostile.host}/evil/app@${asked.digest}`,
      );
      expect(job.images).toEqual([
        expect.objectContaining({ status: 'Failure', reason: 'DigestMismatch' }),
      ]);
      expect(await rowsNaming(asked.digest)).toEqual({ images: 0, layers: 0, history: 0 });
      expect(await rowsNaming(other.digest)).toEqual({ images: 0, layers: 0, history: 0 });
    } finally {
      await hostile.stop();
    }
  });
});

describe("another tenant's image", () => {
  let secret: { digest: string; child: string };
  let shared: string;
  let attacker: string;

  beforeAll(async () => {
    const auth = { auth: { user: USER, password: PASSWORD } };
    const pushed = await pushImage(
      guarded.url,
      'team/secret',
      'v1',
      { content: 'secret app', config: { Env: ['PASSWORD=hunter2'] } },
      auth,
    );
    const index = await pushIndex(
      guarded.url,
      'team/secret',
      'multi',
      [
        { platform: { os: 'linux', architecture: 'amd64' }, spec: { content: 'secret amd64' } },
        { platform: { os: 'linux', architecture: 'arm64' }, spec: { content: 'secret arm64' } },
      ],
      auth,
    );
    secret = { digest: pushed.digest, child: index.children[0]!.digest };
    shared = (await pushImage(open.url, 'library/base', 'v1', { content: 'shared base' })).digest;

    const owner = await app.member('owner', 'EDITOR');
    await createPullSecret(
      app.as(owner),
      'owner',
      'registry',
      authDocument(guarded.host, USER, PASSWORD),
    );
    const imports = [
      { image: 'secret:v1', from: `${guarded.host}/team/secret:v1` },
      {
        image: 'secret:multi',
        from: `${guarded.host}/team/secret:multi`,
        importMode: 'PreserveOriginal',
      },
      { image: 'base:v1', from: `${open.host}/library/base:v1` },
    ];
    for (const input of imports) {
      const { image, from, ...extra } = input;
      const job = await importFrom(app.as(owner), 'owner', image, from, extra);
      expect(job.status, JSON.stringify(job)).toBe('succeeded');
    }

    attacker = await app.member('attacker', 'EDITOR');
    const job = await importFrom(
      app.as(attacker),
      'attacker',
      'base:v1',
      `${open.host}/library/base:v1`,
    );
    expect(job.status).toBe('succeeded');
  });

  it('is not readable by digest, through image(digest) or node(id)', async () => {
    expect(await imageAs(attacker, secret.digest)).toBeNull();
    expect(await imageAs(attacker, secret.child)).toBeNull();
    for (const digest of [secret.digest, secret.child]) {
      const viaNode = await app.call(
        attacker,
        `query($id: ID!) { node(id: $id) { ... on Image { config { env } } } }`,
        { id: encodeGlobalID('Image', digest) },
      );
      expect(viaNode.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
      expect(viaNode.data?.node ?? null).toBeNull();
    }
    // The owner does see them (the checks above are not vacuous).
    const owner = await app.member('owner', 'IMAGE_PULLER');
    expect((await imageAs(owner, secret.digest))?.config?.env).toEqual(['PASSWORD=hunter2']);
    expect((await imageAs(owner, secret.child))?.digest).toBe(secret.child);
  });

  it('cannot be brought into the attacker namespace by mapping, tagging or importing it', async () => {
    const mapped = await app.call(attacker, MAP, {
      input: forgedMapping('attacker', 'stolen', 'v1', secret.digest),
    });
    expect(mapped.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');

    const tag = (source: string) =>
      app.call<{ tag: { __typename: string } }>(
        attacker,
        `mutation($source: String!) { tag(input: { namespace: "attacker", source: $source,
          destinations: ["stolen:v1"] }) { __typename } }`,
        { source },
      );
    expect((await tag(`owner/secret@${secret.digest}`)).data?.tag.__typename).toBe(
      'ForbiddenError',
    );
    expect((await tag(`base@${secret.digest}`)).data?.tag.__typename).toBe('NotFoundError');
    expect((await tag(`base@${secret.child}`)).data?.tag.__typename).toBe('NotFoundError');

    // The registry decides who may pull: without the owner's credentials the import fails.
    const job = await importFrom(
      app.as(attacker),
      'attacker',
      'stolen:v1',
      `${guarded.host}/team/secret@${secret.digest}`,
    );
    expect(job.images).toEqual([
      expect.objectContaining({ status: 'Failure', reason: 'Unauthorized' }),
    ]);

    expect(await imageAs(attacker, secret.digest)).toBeNull();
    expect(
      await count(sql`select count(*) as n from tag_history h join tags t on t.id = h.tag_id
        join image_streams s on s.id = t.stream_id
        where s.namespace = 'attacker' and h.image_digest in (${secret.digest}, ${secret.child})`),
    ).toBe(0);
  });

  it('is not reachable through a ref naming its namespace in the lookup fields', async () => {
    const streamImage = await app.call(
      attacker,
      `query($ref: String!) { imageStreamImage(namespace: "attacker", ref: $ref) {
        ... on ImageStreamImage { image { config { env } } } } }`,
      { ref: `owner/secret@${secret.digest}` },
    );
    expect(streamImage.errors?.[0]?.extensions?.code, JSON.stringify(streamImage)).toBe(
      'FORBIDDEN',
    );
    expect(streamImage.data?.imageStreamImage ?? null).toBeNull();
    const streamTag = await app.call(
      attacker,
      `{ imageStreamTag(namespace: "attacker", ref: "owner/secret:v1") {
        ... on ImageStreamTag { image { config { env } } } } }`,
    );
    expect(streamTag.errors?.[0]?.extensions?.code, JSON.stringify(streamTag)).toBe('FORBIDDEN');
    expect(streamTag.data?.imageStreamTag ?? null).toBeNull();
  });

  it('is not reachable as an entry of a declared manifest list', async () => {
    const list = digestOf('a declared list naming the secret');
    const mapped = await app.call<{ createImageStreamMapping: { __typename: string } }>(
      registryToken,
      MAP,
      {
        input: {
          namespace: 'attacker',
          stream: 'lists',
          tag: 'v1',
          image: {
            digest: list,
            mediaType: 'application/vnd.oci.image.index.v1+json',
            dockerImageReference: `evil.example/list@${list}`,
            manifests: [
              {
                digest: secret.child,
                mediaType: 'application/vnd.oci.image.manifest.v1+json',
                size: 1,
                os: 'linux',
                architecture: 'amd64',
              },
            ],
          },
        },
      },
    );
    expect(mapped.data?.createImageStreamMapping.__typename).toBe(
      'CreateImageStreamMappingPayload',
    );
    const result = await app.call<{
      image: { manifests: { digest: string; image: unknown }[] } | null;
    }>(
      attacker,
      `query($d: String!) { image(digest: $d) { manifests { digest image { config { env } } } } }`,
      { d: list },
    );
    expect(result.errors).toBeUndefined();
    expect(result.data!.image).toEqual({ manifests: [{ digest: secret.child, image: null }] });
    expect(await imageAs(attacker, secret.child)).toBeNull();

    // Nor as `stream@id` of the stream holding the declared list: not looked up, not tagged.
    const lookup = await app.call<{ imageStreamImage: unknown }>(
      attacker,
      `query($ref: String!) { imageStreamImage(namespace: "attacker", ref: $ref) {
        ... on ImageStreamImage { image { config { env } } } } }`,
      { ref: `lists@${secret.child}` },
    );
    expect(lookup).toEqual({ data: { imageStreamImage: null } });
    const tagged = await app.call<{ tag: { __typename: string } }>(
      attacker,
      `mutation($source: String!) { tag(input: { namespace: "attacker", source: $source,
        destinations: ["stolen:from-list"] }) { __typename } }`,
      { source: `lists@${secret.child}` },
    );
    expect(tagged.data?.tag.__typename).toBe('NotFoundError');
    expect(await imageAs(attacker, secret.child)).toBeNull();
  });

  it('streamTags of a shared image lists only tags the caller may read', async () => {
    const result = await app.call<{
      image: { streamTags: { tag: { name: string; stream: { namespace: string } } }[] };
    }>(
      attacker,
      `query($d: String!) { image(digest: $d) {
        streamTags { tag { name stream { namespace } } } } }`,
      { d: shared },
    );
    expect(result.errors).toBeUndefined();
    expect(result.data!.image.streamTags).toEqual([
      { tag: { name: 'v1', stream: { namespace: 'attacker' } } },
    ]);
    const all = await app.admin<{ image: { streamTags: unknown[] } }>(
      `query($d: String!) { image(digest: $d) { streamTags { current } } }`,
      { d: shared },
    );
    expect(all.image.streamTags).toHaveLength(2);
  });
});
