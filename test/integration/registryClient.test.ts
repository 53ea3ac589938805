// RegistryClient against the real docker-registry: manifests, blobs and tags; Basic, Bearer and
// TLS; redirects that must not carry credentials; digest checks, size limits and retries.
import diagnostics_channel from 'node:diagnostics_channel';
import { cp } from 'node:fs/promises';
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryClient, type RegistryClientOptions } from '../../src/registry/client.ts';
import { RegistryError, type RegistryErrorReason } from '../../src/registry/errors.ts';
import { parseImageConfig } from '../../src/registry/manifests.ts';
import {
  type BuiltImage,
  type BuiltIndex,
  MEDIA_TYPES,
  pushImage,
  pushIndex,
  SAMPLE_OCI_IMAGE,
} from '../support/images.ts';
import { type RunningRegistry, startRegistry } from '../support/registry.ts';
import { startTokenServer, type TokenServer } from '../support/tokenServer.ts';

/** Everything this file starts, stopped in afterAll (a leftover fails the file). */
const stoppers = new Set<() => Promise<void>>();
const clients = new Set<RegistryClient>();

function track(stop: () => Promise<void>): () => Promise<void> {
  const once = async () => {
    stoppers.delete(once);
    await stop();
  };
  stoppers.add(once);
  return once;
}

async function registry(options: Parameters<typeof startRegistry>[0] = {}) {
  const started = await startRegistry(options);
  track(() => started.stop());
  return started;
}

function client(options: RegistryClientOptions): RegistryClient {
  const created = new RegistryClient(options);
  clients.add(created);
  return created;
}

/** How many connections undici opened while `fn` ran (its diagnostics channel). */
async function connectionsDuring(fn: () => Promise<void>): Promise<number> {
  let opened = 0;
  const count = () => {
    opened += 1;
  };
  diagnostics_channel.subscribe('undici:client:connected', count);
  try {
    await fn();
  } finally {
    diagnostics_channel.unsubscribe('undici:client:connected', count);
  }
  return opened;
}

async function rejection(promise: Promise<unknown>, reason: RegistryErrorReason) {
  const error = await promise.then(
    () => {
      throw new Error(`expected a ${reason} RegistryError, but it succeeded`);
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(RegistryError);
  expect((error as RegistryError).reason, (error as Error).message).toBe(reason);
  return error as RegistryError;
}

interface Front {
  url: string;
  host: string;
  requests: { method: string; path: string; headers: IncomingHttpHeaders }[];
  stop(): Promise<void>;
}

/** A node:http server standing in front of (or beside) the registry, recording what it gets. */
async function front(
  handle: (req: IncomingMessage, res: ServerResponse, self: Front) => void | Promise<void>,
): Promise<Front> {
  const self: Front = { url: '', host: '', requests: [], stop: async () => {} };
  const server = createServer((req, res) => {
    self.requests.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers });
    Promise.resolve(handle(req, res, self)).catch((error: unknown) => {
      res.writeHead(500);
      res.end(String(error));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  self.host = `127.0.0.1:${port}`;
  self.url = `http://${self.host}`;
  self.stop = track(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  return self;
}

/** Proxies to `origin`, optionally altering the body or dropping Content-Length. */
async function forward(
  req: IncomingMessage,
  res: ServerResponse,
  origin: string,
  options: { alter?: (body: Buffer) => Buffer; chunked?: boolean } = {},
): Promise<void> {
  const headers: Record<string, string> = {};
  for (const name of ['accept', 'authorization']) {
    const value = req.headers[name];
    if (typeof value === 'string') headers[name] = value;
  }
  const upstream = await fetch(new URL(req.url ?? '/', origin), {
    method: req.method,
    headers,
    redirect: 'manual',
  });
  let body: Buffer = Buffer.from(await upstream.arrayBuffer());
  if (options.alter) body = options.alter(body);
  const out: Record<string, string> = {};
  for (const name of ['content-type', 'docker-content-digest', 'www-authenticate', 'link']) {
    const value = upstream.headers.get(name);
    if (value) out[name] = value;
  }
  if (!options.chunked) {
    out['content-length'] =
      req.method === 'HEAD' ? (upstream.headers.get('content-length') ?? '0') : `${body.length}`;
  }
  res.writeHead(upstream.status, out);
  res.end(req.method === 'HEAD' ? undefined : body);
}

/** The registry's storage is plain files: copying them serves the same images elsewhere. */
async function copyImages(from: RunningRegistry, to: RunningRegistry): Promise<void> {
  await cp(join(from.dir, 'data'), join(to.dir, 'data'), { recursive: true });
}

let seed: RunningRegistry;
let oci: BuiltImage;
let docker: BuiltImage;
let ociIndex: BuiltIndex;
let dockerList: BuiltIndex;
const PAGED_TAGS = ['t1', 't2', 't3', 't4', 't5'];
const platforms = [
  { platform: { os: 'linux', architecture: 'amd64' } },
  { platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } },
];

beforeAll(async () => {
  seed = await registry();
  oci = await pushImage(seed.url, 'ns/app', 'oci', SAMPLE_OCI_IMAGE);
  docker = await pushImage(
    seed.url,
    'ns/app',
    'docker',
    { content: 'docker' },
    { mediaType: 'docker' },
  );
  ociIndex = await pushIndex(seed.url, 'ns/app', 'multi', platforms);
  dockerList = await pushIndex(seed.url, 'ns/app', 'dlist', platforms, { mediaType: 'docker' });
  for (const tag of PAGED_TAGS) await pushImage(seed.url, 'ns/paged', tag, { content: 'paged' });
});

afterAll(async () => {
  await Promise.all([...clients].map((c) => c.close()));
  const left = [...stoppers];
  await Promise.all(left.map((stop) => stop()));
  expect(stoppers.size).toBe(0);
});

describe('a plain-HTTP registry', () => {
  let plain: RegistryClient;
  beforeAll(() => {
    plain = client({ registry: seed.host, insecure: true });
  });

  it('fetches OCI and Docker manifests and indexes by tag and by digest, verified', async () => {
    for (const [tag, pushed, kind] of [
      ['oci', oci, 'image'],
      ['docker', docker, 'image'],
      ['multi', ociIndex, 'list'],
      ['dlist', dockerList, 'list'],
    ] as const) {
      for (const reference of [tag, pushed.digest]) {
        const fetched = await plain.getManifest('ns/app', reference);
        expect(fetched.digest).toBe(pushed.digest);
        expect(fetched.mediaType).toBe(pushed.mediaType);
        expect(Buffer.from(fetched.bytes).equals(pushed.manifest)).toBe(true);
        expect(fetched.manifest.kind).toBe(kind);
      }
    }
    const index = await plain.getManifest('ns/app', 'multi');
    expect(index.manifest.kind === 'list' && index.manifest.manifests).toEqual(
      ociIndex.children.map((child, i) => ({
        mediaType: MEDIA_TYPES.oci.manifest,
        digest: child.digest,
        size: child.size,
        os: 'linux',
        architecture: platforms[i]!.platform.architecture,
        variant: platforms[i]!.platform.variant ?? null,
      })),
    );
    const image = await plain.getManifest('ns/app', 'docker');
    expect(image.manifest.kind === 'image' && image.manifest.config.digest).toBe(
      docker.configDigest,
    );
  });

  it('answers HEAD with the digest, and null for a missing tag', async () => {
    expect(await plain.headManifest('ns/app', 'oci')).toEqual({
      digest: oci.digest,
      mediaType: MEDIA_TYPES.oci.manifest,
    });
    expect(await plain.headManifest('ns/app', dockerList.digest)).toEqual({
      digest: dockerList.digest,
      mediaType: MEDIA_TYPES.docker.index,
    });
    expect(await plain.headManifest('ns/app', 'missing')).toBeNull();
    expect(await plain.headManifest('ns/nothing-here', 'v1')).toBeNull();
  });

  it('keeps its connection across HEAD checks (the scheduler sends thousands)', async () => {
    const reused = client({ registry: seed.host, insecure: true });
    await reused.headManifest('ns/app', 'oci'); // finds the scheme and opens the connection
    const connected = await connectionsDuring(async () => {
      for (let i = 0; i < 10; i++) await reused.headManifest('ns/app', 'oci');
      for (let i = 0; i < 5; i++) await reused.getManifest('ns/app', 'oci');
    });
    expect(connected).toBe(0);
  });

  it('fetches blobs checked against their digest, and parses the config', async () => {
    const config = await plain.getBlob('ns/app', oci.configDigest);
    expect(Buffer.from(config).equals(oci.config)).toBe(true);
    expect(parseImageConfig(config)).toMatchObject({
      architecture: 'amd64',
      os: 'linux',
      author: 'tester',
      created: new Date('2024-01-01T00:00:00Z'),
      config: { cmd: ['/hello'], env: ['FOO=bar'], labels: { k: 'v' }, exposedPorts: ['80/tcp'] },
    });
    const layer = oci.layers[0]!;
    expect((await plain.getBlob('ns/app', layer.digest, layer.size)).length).toBe(layer.size);
  });

  it('reports what is missing as NotFound, naming the image and the registry', async () => {
    const tag = await rejection(plain.getManifest('ns/app', 'nope'), 'NotFound');
    expect(tag.message).toBe(`manifest ns/app:nope not found in ${seed.host}`);
    expect(tag.status).toBe(404);
    expect(tag.retryable).toBe(false);
    const missingBlob = `sha256:${'0'.repeat(64)}`;
    expect((await rejection(plain.getBlob('ns/app', missingBlob), 'NotFound')).message).toBe(
      `blob ns/app@${missingBlob} not found in ${seed.host}`,
    );
    expect((await rejection(plain.listTags('ns/none'), 'NotFound')).message).toBe(
      `the tags of ns/none not found in ${seed.host}`,
    );
  });

  it('lists tags across pages, following the Link header', async () => {
    // docker-registry 2.8 ignores `n` and `last` on tags/list (distribution 3 honours them), so a
    // front pages the real registry's list the way distribution 3 does: sorted, `?n=&last=`, and
    // a relative `Link: <…>; rel="next"`.
    const pager = await front(async (req, res) => {
      const url = new URL(req.url ?? '/', 'http://front');
      if (!url.pathname.endsWith('/tags/list')) return forward(req, res, seed.url);
      const upstream = await fetch(`${seed.url}${url.pathname}`);
      const { name, tags } = (await upstream.json()) as { name: string; tags: string[] };
      const n = Number(url.searchParams.get('n') ?? tags.length);
      const last = url.searchParams.get('last');
      const page = tags
        .sort()
        .filter((tag) => last === null || tag > last)
        .slice(0, n);
      const more = page.length > 0 && tags.some((tag) => tag > page.at(-1)!);
      res.writeHead(200, {
        'content-type': 'application/json',
        ...(more ? { link: `<${url.pathname}?n=${n}&last=${page.at(-1)}>; rel="next"` } : {}),
      });
      res.end(JSON.stringify({ name, tags: page }));
    });
    const paged = client({ registry: pager.host, insecure: true });
    expect(await paged.listTags('ns/paged', { pageSize: 2 })).toEqual({
      tags: PAGED_TAGS,
      truncated: false,
    });
    expect(pager.requests.map((r) => r.path).filter((p) => p.includes('/tags/'))).toEqual([
      '/v2/ns/paged/tags/list?n=2',
      '/v2/ns/paged/tags/list?n=2&last=t2',
      '/v2/ns/paged/tags/list?n=2&last=t4',
    ]);
    expect((await plain.listTags('ns/paged')).tags.sort()).toEqual(PAGED_TAGS);
    // The caps hold across pages: no page after the one that reached them is asked for.
    const before = pager.requests.length;
    expect(await paged.listTags('ns/paged', { pageSize: 2, maxTags: 3 })).toEqual({
      tags: ['t1', 't2', 't3'],
      truncated: true,
    });
    expect(await paged.listTags('ns/paged', { pageSize: 2, maxTags: 4 })).toEqual({
      tags: ['t1', 't2', 't3', 't4'],
      truncated: true,
    });
    // 40 bytes: the first page (`{"name":"ns/paged","tags":["t1","t2"]}`, 38 bytes) whole, and of
    // the second only what fits, which holds no complete name.
    expect(await paged.listTags('ns/paged', { pageSize: 2, maxBytes: 40 })).toEqual({
      tags: ['t1', 't2'],
      truncated: true,
    });
    expect(pager.requests.slice(before).filter((r) => r.path.includes('/tags/'))).toHaveLength(6);
  });

  it('fails with TLS, suggesting insecure, when the registry speaks only HTTP', async () => {
    const secureOnly = client({ registry: seed.host, retries: 0 });
    const error = await rejection(secureOnly.ping(), 'TLS');
    expect(error.message).toContain(`TLS connection to ${seed.host} for the /v2/ endpoint failed`);
    expect(error.message).toContain('does not seem to speak TLS; mark the registry insecure');
  });

  it('fails with Unavailable when nothing listens', async () => {
    const closed = await front(() => {});
    await closed.stop();
    const nobody = client({ registry: closed.host, insecure: true, retries: 0 });
    const error = await rejection(nobody.getManifest('ns/app', 'oci'), 'Unavailable');
    expect(error.retryable).toBe(true);
    expect(error.message).toContain(`could not reach ${closed.host}`);
  });
});

describe('Basic auth', () => {
  const auth = { user: 'alice', password: 's3cret-pw' };
  let secured: RunningRegistry;
  let pushed: BuiltImage;
  beforeAll(async () => {
    secured = await registry({ htpasswd: auth });
    pushed = await pushImage(secured.url, 'ns/app', 'oci', { content: 'private' }, { auth });
  });

  it('authenticates with the right credentials', async () => {
    const alice = client({
      registry: secured.host,
      insecure: true,
      credential: { username: auth.user, password: auth.password },
    });
    await alice.ping();
    expect((await alice.getManifest('ns/app', 'oci')).digest).toBe(pushed.digest);
    expect((await alice.listTags('ns/app')).tags).toEqual(['oci']);
  });

  it('fails with Unauthorized for wrong credentials or none, never echoing them', async () => {
    const wrong = client({
      registry: secured.host,
      insecure: true,
      credential: { username: auth.user, password: 'wrong-pw' },
    });
    const rejected = await rejection(wrong.getManifest('ns/app', 'oci'), 'Unauthorized');
    expect(rejected.status).toBe(401);
    expect(rejected.message).toContain(`${secured.host} denied access to manifest ns/app:oci`);
    expect(rejected.message).not.toContain('wrong-pw');

    const anonymous = client({ registry: secured.host, insecure: true });
    expect((await rejection(anonymous.getManifest('ns/app', 'oci'), 'Unauthorized')).message).toBe(
      `${secured.host} requires authentication for manifest ns/app:oci, and no credentials were configured`,
    );
  });
});

describe('TLS', () => {
  let tls: RunningRegistry;
  beforeAll(async () => {
    tls = await registry({ tls: true });
    await copyImages(seed, tls);
  });

  it('rejects a self-signed certificate with reason TLS', async () => {
    const error = await rejection(
      client({ registry: tls.host }).getManifest('ns/app', 'oci'),
      'TLS',
    );
    expect(error.message).toContain(`TLS connection to ${tls.host} for manifest ns/app:oci`);
    expect(error.message).toContain(
      "give the registry's CA certificate, or mark the registry insecure",
    );
  });

  it('trusts the certificate given as ca', async () => {
    const trusted = client({ registry: tls.host, ca: tls.caCert! });
    expect((await trusted.getManifest('ns/app', 'oci')).digest).toBe(oci.digest);
  });

  it('skips verification with insecure, staying on HTTPS', async () => {
    const insecure = client({ registry: tls.host, insecure: true });
    expect((await insecure.getManifest('ns/app', 'docker')).digest).toBe(docker.digest);
  });
});

describe('Bearer token auth', () => {
  const account = { username: 'bob', password: 'hunter2-pw' };
  let tokens: TokenServer;
  let guarded: RunningRegistry;
  beforeAll(async () => {
    tokens = await startTokenServer({ ...account, refreshToken: 'refresh-me' });
    track(() => tokens.stop());
    guarded = await registry({ tokenAuth: tokens.tokenAuth });
    await copyImages(seed, guarded);
  });

  it('gets a token for the repository and reuses it while it is valid', async () => {
    const bob = client({ registry: guarded.host, insecure: true, credential: account });
    const before = tokens.requests.length;
    expect((await bob.getManifest('ns/app', 'oci')).digest).toBe(oci.digest);
    expect(tokens.requests.slice(before)).toEqual([
      {
        method: 'GET',
        scopes: ['repository:ns/app:pull'],
        authorization: `Basic ${Buffer.from('bob:hunter2-pw').toString('base64')}`,
      },
    ]);
    expect((await bob.getManifest('ns/app', oci.digest)).digest).toBe(oci.digest);
    expect((await bob.getBlob('ns/app', oci.configDigest)).length).toBe(oci.config.length);
    expect(tokens.requests.length).toBe(before + 1);

    expect((await bob.listTags('ns/paged')).tags.sort()).toEqual(PAGED_TAGS);
    expect(tokens.requests.length).toBe(before + 2);
    expect(tokens.requests.at(-1)!.scopes).toEqual(['repository:ns/paged:pull']);
  });

  it('exchanges an identity token with the OAuth2 POST', async () => {
    const sso = client({
      registry: guarded.host,
      insecure: true,
      credential: { username: '<token>', password: '', identityToken: 'refresh-me' },
    });
    expect((await sso.getManifest('ns/app', 'multi')).digest).toBe(ociIndex.digest);
    expect(tokens.requests.at(-1)).toMatchObject({ method: 'POST', authorization: undefined });
  });

  it('fails with Unauthorized when the token service refuses', async () => {
    const wrong = client({
      registry: guarded.host,
      insecure: true,
      credential: { ...account, password: 'nope-pw' },
    });
    const rejected = await rejection(wrong.getManifest('ns/app', 'oci'), 'Unauthorized');
    expect(rejected.message).toBe(
      `the token service of ${guarded.host} rejected the credentials for manifest ns/app:oci`,
    );
    const anonymous = client({ registry: guarded.host, insecure: true });
    expect((await rejection(anonymous.ping(), 'Unauthorized')).message).toMatch(
      /requires credentials .* none were configured/,
    );
  });
});

describe('redirects and origins', () => {
  it('follows a redirect to another origin', async () => {
    const redirector = await front((req, res) => {
      res.writeHead(307, { location: `${seed.url}${req.url}` });
      res.end();
    });
    const viaRedirect = client({ registry: redirector.host, insecure: true });
    const fetched = await viaRedirect.getManifest('ns/app', 'oci');
    expect(fetched.digest).toBe(oci.digest);
    const seen = redirector.requests.find((r) => r.path === '/v2/ns/app/manifests/oci');
    expect(seen?.headers.accept).toContain(MEDIA_TYPES.oci.manifest);
  });

  for (const scheme of ['Basic', 'Bearer'] as const) {
    it(`sends ${scheme} credentials to the registry but not where it redirects blobs`, async () => {
      const storage = await front((req, res) => forward(req, res, seed.url));
      const basic = `Basic ${Buffer.from('carol:pw-123').toString('base64')}`;
      const granted = scheme === 'Basic' ? basic : 'Bearer front-token';
      const guard = await front((req, res, self) => {
        if (req.url?.startsWith('/token')) {
          const ok = req.headers.authorization === basic;
          res.writeHead(ok ? 200 : 401, { 'content-type': 'application/json' });
          res.end(ok ? JSON.stringify({ token: 'front-token', expires_in: 300 }) : '{}');
          return;
        }
        if (req.headers.authorization !== granted) {
          res.writeHead(401, {
            'www-authenticate':
              scheme === 'Basic'
                ? 'Basic realm="front"'
                : `Bearer realm="${self.url}/token",service="front",scope="repository:ns/app:pull"`,
          });
          res.end();
          return;
        }
        if (req.url?.includes('/blobs/')) {
          res.writeHead(307, { location: `${storage.url}${req.url}` });
          res.end();
          return;
        }
        return forward(req, res, seed.url);
      });
      const carol = client({
        registry: guard.host,
        insecure: true,
        credential: { username: 'carol', password: 'pw-123' },
      });
      const config = await carol.getBlob('ns/app', oci.configDigest);
      expect(Buffer.from(config).equals(oci.config)).toBe(true);
      const blobAtGuard = guard.requests.filter((r) => r.path.includes('/blobs/'));
      expect(blobAtGuard.at(-1)?.headers.authorization).toBe(granted);
      expect(storage.requests).toHaveLength(1);
      expect(storage.requests[0]!.path).toBe(`/v2/ns/app/blobs/${oci.configDigest}`);
      expect(storage.requests[0]!.headers.authorization).toBeUndefined();
    });
  }

  it('computes the scope itself, and treats a 401 with a fresh token as final', async () => {
    const stubborn = await front((req, res, self) => {
      if (req.url?.startsWith('/token')) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ access_token: 'useless' }));
        return;
      }
      res.writeHead(401, { 'www-authenticate': `Bearer realm="${self.url}/token",service="s"` });
      res.end();
    });
    const dave = client({
      registry: stubborn.host,
      insecure: true,
      credential: { username: 'dave', password: 'pw' },
    });
    const [first, second] = await Promise.all([
      rejection(dave.getManifest('ns/app', 'oci'), 'Unauthorized'),
      rejection(dave.getManifest('ns/app', 'docker'), 'Unauthorized'),
    ]);
    expect(first.message).toMatch(/denied access to manifest ns\/app:oci \(HTTP 401\)/);
    expect(second.status).toBe(401);
    const tokenRequests = stubborn.requests.filter((r) => r.path.startsWith('/token'));
    // One token for both parallel requests, asked for the scope the client worked out.
    expect(tokenRequests.map((r) => r.path)).toEqual([
      '/token?service=s&scope=repository%3Ans%2Fapp%3Apull&account=dave',
    ]);
    const withToken = stubborn.requests.filter((r) => r.headers.authorization === 'Bearer useless');
    expect(withToken).toHaveLength(2);
  });

  it('refuses a tag page link that points at another origin', async () => {
    const elsewhere = await front((_req, res) => {
      res.writeHead(200, {
        'content-type': 'application/json',
        link: '<http://127.0.0.1:1/v2/ns/app/tags/list?last=a>; rel="next"',
      });
      res.end(JSON.stringify({ name: 'ns/app', tags: ['a'] }));
    });
    const error = await rejection(
      client({ registry: elsewhere.host, insecure: true }).listTags('ns/app'),
      'InternalError',
    );
    expect(error.message).toContain('refusing to follow');
  });
});

describe('verification, limits and retries', () => {
  it('fails with DigestMismatch when a byte of a manifest or blob changes in transit', async () => {
    const flip = (body: Buffer) => {
      const altered = Buffer.from(body);
      altered[altered.length - 3]! ^= 1;
      return altered;
    };
    const tamperer = await front((req, res) =>
      forward(req, res, seed.url, req.method === 'GET' ? { alter: flip } : {}),
    );
    const victim = client({ registry: tamperer.host, insecure: true });
    const byTag = await rejection(victim.getManifest('ns/app', 'oci'), 'DigestMismatch');
    expect(byTag.message).toContain(`not the expected ${oci.digest}`);
    await rejection(victim.getManifest('ns/app', docker.digest), 'DigestMismatch');
    await rejection(victim.getBlob('ns/app', oci.configDigest), 'DigestMismatch');
  });

  it('fails with TooLarge over the limit, with or without Content-Length', async () => {
    const small = client({ registry: seed.host, insecure: true, maxManifestBytes: 100 });
    const declared = await rejection(small.getManifest('ns/app', 'oci'), 'TooLarge');
    expect(declared.message).toBe(
      `manifest ns/app:oci from ${seed.host} is ${oci.size} bytes, over the limit of 100 bytes`,
    );
    const chunked = await front((req, res) => forward(req, res, seed.url, { chunked: true }));
    const streamed = client({ registry: chunked.host, insecure: true, maxManifestBytes: 100 });
    expect((await rejection(streamed.getManifest('ns/app', 'oci'), 'TooLarge')).message).toContain(
      'more than 100 bytes',
    );
    await rejection(small.getBlob('ns/app', oci.configDigest, 10), 'TooLarge');
  });

  it('retries a 503 after its Retry-After', async () => {
    let refused = 0;
    const flaky = await front((req, res) => {
      if (req.url?.includes('/manifests/') && refused++ === 0) {
        res.writeHead(503, { 'retry-after': '1' });
        res.end();
        return;
      }
      return forward(req, res, seed.url);
    });
    const patient = client({ registry: flaky.host, insecure: true });
    const started = Date.now();
    expect((await patient.getManifest('ns/app', 'oci')).digest).toBe(oci.digest);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(flaky.requests.filter((r) => r.path.includes('/manifests/'))).toHaveLength(2);
  });

  it('gives up with a retryable Unavailable when the registry stays down', async () => {
    const down = await front((req, res) => {
      res.writeHead(req.url === '/v2/' ? 200 : 503, { 'retry-after': '0' });
      res.end();
    });
    const once = client({ registry: down.host, insecure: true, retries: 1 });
    const error = await rejection(once.getManifest('ns/app', 'oci'), 'Unavailable');
    expect(error).toMatchObject({ status: 503, retryable: true });
    expect(error.message).toBe(`${down.host} answered HTTP 503 for manifest ns/app:oci`);
    expect(down.requests.filter((r) => r.path.includes('/manifests/'))).toHaveLength(2);
  });
});
