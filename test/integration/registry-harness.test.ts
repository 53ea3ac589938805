// Proves the registry and image helpers against the real docker-registry binary.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import { request } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  buildImage,
  deleteManifest,
  MANIFEST_ACCEPT,
  MEDIA_TYPES,
  pushImage,
  pushIndex,
  registryAuthHeader,
  SAMPLE_OCI_IMAGE,
} from '../support/images.ts';
import { type RunningRegistry, startRegistry, stopAllRegistries } from '../support/registry.ts';

const run = promisify(execFile);

function sha256(bytes: Uint8Array): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

async function getManifest(url: string, repo: string, reference: string, method = 'GET') {
  const response = await fetch(`${url}/v2/${repo}/manifests/${reference}`, {
    method,
    headers: { accept: MANIFEST_ACCEPT },
  });
  const body = Buffer.from(await response.arrayBuffer());
  return { response, body, digest: response.headers.get('docker-content-digest') };
}

describe('plain registry', () => {
  let registry: RunningRegistry;
  beforeAll(async () => {
    registry = await startRegistry();
  });
  afterAll(async () => {
    await registry.stop();
  });

  it('serves images pushed as OCI, Docker schema 2 and an index, by tag and by digest', async () => {
    const oci = await pushImage(registry.url, 'ns/app', 'oci', SAMPLE_OCI_IMAGE);
    const docker = await pushImage(
      registry.url,
      'ns/app',
      'docker',
      { content: 'docker' },
      {
        mediaType: 'docker',
      },
    );
    const index = await pushIndex(registry.url, 'ns/app', 'multi', [
      { platform: { os: 'linux', architecture: 'amd64' } },
      { platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } },
    ]);
    expect(docker.mediaType).toBe(MEDIA_TYPES.docker.manifest);

    for (const [tag, pushed] of [
      ['oci', oci],
      ['docker', docker],
      ['multi', index],
    ] as const) {
      for (const reference of [tag, pushed.digest]) {
        const { response, body, digest } = await getManifest(registry.url, 'ns/app', reference);
        expect(response.status).toBe(200);
        expect(response.headers.get('content-type')).toBe(pushed.mediaType);
        expect(digest).toBe(pushed.digest);
        expect(sha256(body)).toBe(pushed.digest);
        expect(body.equals(pushed.manifest)).toBe(true);
      }
      const head = await getManifest(registry.url, 'ns/app', tag, 'HEAD');
      expect(head.response.status).toBe(200);
      expect(head.digest).toBe(pushed.digest);
    }

    // Children were pushed untagged but are fetchable by digest, and the config blob is there.
    for (const child of index.children) {
      const { response, digest } = await getManifest(registry.url, 'ns/app', child.digest);
      expect(response.status).toBe(200);
      expect(digest).toBe(child.digest);
    }
    const blob = await fetch(`${registry.url}/v2/ns/app/blobs/${oci.configDigest}`);
    const config = await blob.json();
    expect(config).toMatchObject({ architecture: 'amd64', os: 'linux', author: 'tester' });
    expect(config.config.Labels).toEqual({ k: 'v' });

    const tags = await (await fetch(`${registry.url}/v2/ns/app/tags/list`)).json();
    expect([...tags.tags].sort()).toEqual(['docker', 'multi', 'oci']);
  });

  it('gives identical digests for identical inputs and different ones for other content', async () => {
    const first = await pushImage(registry.url, 'ns/same', 'a', { content: 'same' });
    const second = await pushImage(registry.url, 'ns/same', 'b', { content: 'same' });
    const other = await pushImage(registry.url, 'ns/same', 'c', { content: 'other' });
    expect(second.digest).toBe(first.digest);
    expect(other.digest).not.toBe(first.digest);
    expect(buildImage({ content: 'same' }, 'docker').digest).not.toBe(first.digest);
  });

  it('pushes by digest alone and deletes a manifest', async () => {
    const image = await pushImage(registry.url, 'ns/gone', null, { content: 'gone' });
    expect((await getManifest(registry.url, 'ns/gone', image.digest, 'HEAD')).response.status).toBe(
      200,
    );
    await deleteManifest(registry.url, 'ns/gone', image.digest);
    expect((await getManifest(registry.url, 'ns/gone', image.digest, 'HEAD')).response.status).toBe(
      404,
    );
  });
});

describe('registry variants', () => {
  afterEach(async () => {
    await stopAllRegistries();
  });

  it('requires Basic credentials with htpasswd', async () => {
    const auth = { user: 'alice', password: 's3cret' };
    const registry = await startRegistry({ htpasswd: auth });
    const anonymous = await fetch(`${registry.url}/v2/`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toMatch(/^Basic /);
    const authorized = await fetch(`${registry.url}/v2/`, {
      headers: { authorization: registryAuthHeader(auth.user, auth.password) },
    });
    expect(authorized.status).toBe(200);

    const image = await pushImage(registry.url, 'ns/private', 'v1', { content: 'p' }, { auth });
    const manifest = await fetch(`${registry.url}/v2/ns/private/manifests/v1`, {
      method: 'HEAD',
      headers: { accept: MANIFEST_ACCEPT, authorization: registryAuthHeader('alice', 's3cret') },
    });
    expect(manifest.headers.get('docker-content-digest')).toBe(image.digest);
  });

  it('serves HTTPS that verifies against the returned CA certificate', async () => {
    const registry = await startRegistry({ tls: true });
    expect(registry.url).toBe(`https://${registry.host}`);
    expect(registry.caCert).toContain('BEGIN CERTIFICATE');
    // Global fetch cannot take a CA without undici's Agent (not installed), so use node:https.
    const status = await new Promise<number | undefined>((resolve, reject) => {
      request(`${registry.url}/v2/`, { ca: registry.caCert }, (response) => {
        response.resume();
        resolve(response.statusCode);
      })
        .on('error', reject)
        .end();
    });
    expect(status).toBe(200);
  });

  it('sends push notifications with the shared token', async () => {
    const events: { authorization?: string; body: string }[] = [];
    const receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk) => {
        body += chunk;
      });
      req.on('end', () => {
        events.push({ authorization: req.headers.authorization, body });
        res.end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = receiver.address() as AddressInfo;
      const registry = await startRegistry({
        notifications: { url: `http://127.0.0.1:${port}/registry/events`, token: 'shared' },
      });
      const image = await pushImage(registry.url, 'ns/notified', 'v1', { content: 'n' });
      await expect.poll(() => events.length).toBeGreaterThan(0);
      expect(events[0]!.authorization).toBe('Bearer shared');
      const [event] = JSON.parse(events[0]!.body).events;
      expect(event).toMatchObject({
        action: 'push',
        target: { repository: 'ns/notified', tag: 'v1', digest: image.digest },
      });
    } finally {
      await new Promise((resolve) => receiver.close(resolve));
    }
  });

  it('demands Bearer tokens with tokenAuth', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tagraph-issuer-'));
    try {
      const rootCertBundle = join(dir, 'issuer.crt');
      // biome-ignore format: argv pairs read better packed
      await run('openssl', [
        'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
        '-keyout', join(dir, 'issuer.key'), '-out', rootCertBundle, '-days', '1',
        '-subj', '/CN=test-issuer',
      ]);
      const realm = 'http://127.0.0.1:9/token';
      const registry = await startRegistry({
        tokenAuth: { realm, service: 'test-registry', issuer: 'test-issuer', rootCertBundle },
      });
      const response = await fetch(`${registry.url}/v2/`);
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toBe(
        `Bearer realm="${realm}",service="test-registry"`,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('reports a clear error when the registry cannot start', async () => {
    await expect(
      startRegistry({
        tokenAuth: { realm: 'x', service: 's', issuer: 'i', rootCertBundle: '/nope' },
      }),
    ).rejects.toThrow(/exited with code 2 before listening.*root certificate bundle/s);
  });
});
