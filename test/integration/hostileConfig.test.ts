// Imports from a registry that serves text no database can store (a NUL, a lone UTF-16
// surrogate) in an image config, a manifest or a tag name: the tag fails with `InvalidImage`,
// nothing of that image is stored, the job is not retried, and the other tags still import.
// Also: a registry failure's underlying cause reaches the server log, and no credential does.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { sql } from 'drizzle-orm';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rowsOf } from '../../src/db/client.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { type HostileRegistry, startHostileRegistry } from '../support/hostileRegistry.ts';
import { type BuiltImage, buildImage, buildIndex } from '../support/images.ts';
import { importAsEditor, type JobView, type TagView } from '../support/imports.ts';
import { authDocument, createPullSecret } from '../support/pullSecrets.ts';

const PUSH_TOKEN = 'hostile-push-token-0123456789abcdef';

let app: TestApp;
let registry: HostileRegistry;
/** Every log line the app wrote at warn or above, as parsed JSON. */
const logLines: Record<string, unknown>[] = [];
let logText = '';
beforeAll(async () => {
  registry = await startHostileRegistry();
  const sink = new Writable({
    write(chunk, _encoding, done) {
      logText += chunk.toString();
      for (const line of chunk.toString().split('\n')) if (line) logLines.push(JSON.parse(line));
      done();
    },
  });
  app = await startTestApp(
    {
      importMaxTags: 10,
      pushRegistries: [{ host: registry.host, token: PUSH_TOKEN, insecure: true }],
    },
    { log: pino({ level: 'warn' }, sink) },
  );
});
afterAll(async () => {
  await app?.stop();
  await registry?.stop();
});

/** importImage as an editor of `namespace`, then the app's worker until nothing is due. */
const importAs = (namespace: string, input: Record<string, unknown>) =>
  importAsEditor(app, namespace, input);

async function readTag(namespace: string, ref: string) {
  const viewer = await app.member(namespace, 'IMAGE_PULLER');
  const result = await app.call<{
    imageStreamTag: Pick<TagView, 'image' | 'conditions'> | null;
  }>(
    viewer,
    `query($ns: String!, $ref: String!) { imageStreamTag(namespace: $ns, ref: $ref) {
      ... on ImageStreamTag { image { digest } conditions { type status reason message } } } }`,
    { ns: namespace, ref },
  );
  expect(result.errors).toBeUndefined();
  return result.data!.imageStreamTag!;
}

/** How many image rows and layer rows hold `digest` (the content the registry served). */
async function storedImages(digest: string): Promise<number> {
  const [row] = rowsOf<{ n: number }>(
    await app.database.db.execute(
      sql`select count(*)::int as n from images where digest = ${digest}`,
    ),
  );
  return Number(row!.n);
}

async function expectHealthy(): Promise<void> {
  const response = await fetch(`${app.url}/healthz`);
  expect(response.status).toBe(200);
}

/** Serves `tags` as the tags/list of every repository. */
/**
 * Imports every tag of attack/<stream> (`all`) into `namespace` while the registry's tag list
 * says `tags`; the job as it ended.
 */
async function importListed(namespace: string, stream: string, tags: string[]): Promise<JobView> {
  registry.override = (_req, res, request) => {
    if (request.kind !== 'tags') return false;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ name: 'attack/mixed', tags }));
    return true;
  };
  try {
    return await importAs(namespace, {
      image: stream,
      from: `${registry.host}/attack/${stream}`,
      all: true,
    });
  } finally {
    registry.override = null;
  }
}

describe('an image config with unstorable text', () => {
  it('fails those tags of an `all` import with InvalidImage and imports the good one', async () => {
    const good = buildImage({ content: 'good', config: { Env: ['PATH=/bin'] } });
    const nulEnv = buildImage({
      content: 'nul-env',
      config: { Env: ['PATH=/bin', 'SECRET=a\u0000b'] },
    });
    const surrogateKey = buildImage({
      content: 'surrogate-label',
      config: { Labels: { ok: 'yes', '\uD800key': 'value' } },
    });
    // The config blob carries the escapes as JSON text, as a registry would serve them.
    expect(nulEnv.config.toString()).toContain('a\\u0000b');
    expect(surrogateKey.config.toString()).toContain('\\ud800key');
    registry.addImage('good', good);
    registry.addImage('nul-env', nulEnv);
    registry.addImage('surrogate-label', surrogateKey);
    const job = await importListed('hostile-all', 'mixed', ['good', 'nul-env', 'surrogate-label']);

    // Not retried: a registry serving the same bytes again cannot make them storable.
    expect(job).toMatchObject({ status: 'failed', attempts: 1 });
    expect([...job.tags].sort()).toEqual(['good', 'nul-env', 'surrogate-label']);
    expect(job.additionalTags).toEqual([]);
    const byTag = Object.fromEntries(job.images.map((image) => [image.tag, image]));
    expect(byTag.good).toMatchObject({ status: 'Success', digest: good.digest });
    expect(byTag['nul-env']).toMatchObject({ status: 'Failure', reason: 'InvalidImage' });
    expect(byTag['nul-env']!.message).toMatch(/config\.Env\[1\] contains a NUL character/);
    expect(byTag['nul-env']!.message).toContain(nulEnv.configDigest);
    expect(byTag['surrogate-label']).toMatchObject({ status: 'Failure', reason: 'InvalidImage' });
    expect(byTag['surrogate-label']!.message).toMatch(
      /a key of config\.Labels contains a lone UTF-16 surrogate/,
    );

    for (const [tag, image] of [
      ['nul-env', nulEnv],
      ['surrogate-label', surrogateKey],
    ] as [string, BuiltImage][]) {
      const view = await readTag('hostile-all', `mixed:${tag}`);
      expect(view.image).toBeNull();
      expect(view.conditions).toEqual([
        expect.objectContaining({ type: 'ImportSuccess', status: 'False', reason: 'InvalidImage' }),
      ]);
      expect(await storedImages(image.digest)).toBe(0);
    }
    expect((await readTag('hostile-all', 'mixed:good')).image?.digest).toBe(good.digest);
    expect(await storedImages(good.digest)).toBe(1);
    await expectHealthy();
  });

  it('fails a single-tag import without a retry, and a later good import of the tag works', async () => {
    const author = buildImage({ content: 'author', author: 'mallory\u0000' });
    registry.addImage('author', author);
    const job = await importAs('hostile-one', {
      image: 'one:v1',
      from: `${registry.host}/attack/one:author`,
    });
    expect(job).toMatchObject({ status: 'failed', attempts: 1 });
    expect(job.images).toEqual([
      expect.objectContaining({ tag: 'v1', status: 'Failure', reason: 'InvalidImage' }),
    ]);
    expect(job.images[0]!.message).toMatch(
      /holds text that cannot be stored: author contains a NUL character/,
    );
    expect(await storedImages(author.digest)).toBe(0);

    // The registry's tag is fixed; importing the same source again (as oc refuses to change a
    // tag's source through import-image) records the good image.
    const fixed = buildImage({ content: 'author', author: 'mallory' });
    registry.addImage('author', fixed);
    const again = await importAs('hostile-one', {
      image: 'one:v1',
      from: `${registry.host}/attack/one:author`,
    });
    expect(again.status).toBe('succeeded');
    const view = await readTag('hostile-one', 'one:v1');
    expect(view.image?.digest).toBe(fixed.digest);
    expect(view.conditions).toEqual([]);
    await expectHealthy();
  });
});

describe('a tag listing with unstorable names', () => {
  it('leaves those names out and imports the others', async () => {
    const plain = buildImage({ content: 'plain' });
    registry.addImage('plain', plain);
    const job = await importListed('hostile-names', 'names', [
      'plain',
      'bad\u0000tag',
      'lone\uDC00',
      '\u0000',
    ]);
    expect(job).toMatchObject({ status: 'succeeded', attempts: 1, tags: ['plain'] });
    expect(job.additionalTags).toEqual([]);
    expect((await readTag('hostile-names', 'names:plain')).image?.digest).toBe(plain.digest);
    await expectHealthy();
  });
});

describe('a manifest with unstorable text', () => {
  it('fails a preserved index whose child platform holds a NUL, storing none of it', async () => {
    const index = buildIndex([
      { platform: { os: 'linux', architecture: 'amd64' }, spec: { content: 'idx-a' } },
      { platform: { os: 'linux\u0000', architecture: 'arm64' }, spec: { content: 'idx-b' } },
    ]);
    registry.addIndex('platform', index);
    const job = await importAs('hostile-index', {
      image: 'idx:v1',
      from: `${registry.host}/attack/idx:platform`,
      importMode: 'PreserveOriginal',
    });
    expect(job).toMatchObject({ status: 'failed', attempts: 1 });
    expect(job.images[0]).toMatchObject({ status: 'Failure', reason: 'InvalidImage' });
    expect(job.images[0]!.message).toMatch(
      /manifest holds text that cannot be stored: manifests\[1\]\.platform\.os contains a NUL/,
    );
    for (const digest of [index.digest, ...index.children.map((c) => c.digest)]) {
      expect(await storedImages(digest)).toBe(0);
    }
    const view = await readTag('hostile-index', 'idx:v1');
    expect(view.conditions).toEqual([
      expect.objectContaining({ type: 'ImportSuccess', status: 'False', reason: 'InvalidImage' }),
    ]);
  });
});

describe('a push of an image with unstorable text', () => {
  it('fails the push import with InvalidImage, once, storing nothing', async () => {
    const image = buildImage({ content: 'pushed', config: { WorkingDir: '/app\uDBFF' } });
    registry.addImage('v1', image);
    const response = await fetch(`${app.url}/registry/events`, {
      method: 'POST',
      headers: {
        'content-type': 'application/vnd.docker.distribution.events.v1+json',
        authorization: `Bearer ${PUSH_TOKEN}`,
      },
      body: JSON.stringify({
        events: [
          {
            id: 'hostile-push-1',
            action: 'push',
            target: {
              mediaType: image.mediaType,
              digest: image.digest,
              repository: 'pushed/hostile',
              tag: 'v1',
            },
          },
        ],
      }),
    });
    expect(await response.json()).toMatchObject({ queued: 1 });
    while ((await app.importer.worker.runOnce()) > 0) {}
    const [job] = rowsOf<{ status: string; attempts: number; result: { images: object[] } }>(
      await app.database.db.execute(
        sql`select status, attempts, result from import_jobs
            where namespace = 'pushed' and stream = 'hostile'`,
      ),
    );
    expect(job).toMatchObject({ status: 'failed', attempts: 1 });
    expect(job!.result.images).toEqual([
      expect.objectContaining({ tag: 'v1', status: 'Failure', reason: 'InvalidImage' }),
    ]);
    expect(JSON.stringify(job!.result.images)).toMatch(/config\.WorkingDir contains a lone/);
    expect(await storedImages(image.digest)).toBe(0);
    await expectHealthy();
  });
});

describe('the log of a registry failure', () => {
  it("has the failure's cause at warn level, and not the pull secret sent with it", async () => {
    const user = 'cause-user';
    const password = 'never-logged-Passw0rd!';
    // A token endpoint on a port nothing listens on: the credential is sent, the connect fails.
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise((resolve) => closed.close(resolve));
    registry.override = (_req, res, request) => {
      if (request.kind === 'tags' || request.kind === 'other') return false;
      res.writeHead(401, {
        'www-authenticate': `Bearer realm="http://127.0.0.1:${port}/token",service="hostile"`,
        'content-type': 'application/json',
      });
      res.end('{"errors":[{"code":"UNAUTHORIZED"}]}');
      return true;
    };
    const basic = Buffer.from(`${user}:${password}`).toString('base64');
    try {
      const editor = await app.member('hostile-log', 'EDITOR');
      await createPullSecret(
        app.as(editor),
        'hostile-log',
        'hostile',
        authDocument(registry.host, user, password),
      );
      const job = await importAs('hostile-log', {
        image: 'locked:v1',
        from: `${registry.host}/attack/locked:v1`,
      });
      expect(job.images[0]).toMatchObject({ status: 'Failure', reason: 'Unavailable' });
      // The user sees that the registry could not be reached, not the socket error.
      expect(job.images[0]!.message).not.toMatch(/ECONNREFUSED|127\.0\.0\.1:\d+\/token/);
    } finally {
      registry.override = null;
    }
    const line = logLines.find(
      (l) => l.msg === 'registry request failed' && l.tag === 'v1' && l.reason === 'Unavailable',
    );
    expect(line, logText).toBeDefined();
    expect(line!.level).toBe(40);
    expect((line!.error as { cause?: unknown }).cause).toMatchObject({
      code: 'ECONNREFUSED',
      address: '127.0.0.1',
      port,
    });
    for (const secret of [password, basic]) expect(logText).not.toContain(secret);
  });
});
