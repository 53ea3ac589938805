// Imports from private and TLS registries, with real docker-registry processes.
// The rules: docs/rules.md#pull-secrets-which-key-serves-an-image and #insecure-registries.

import { createServer, type Socket } from 'node:net';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reservePort, startTestApp, type TestApp } from '../support/app.ts';
import { pushImage } from '../support/images.ts';
import { getTag, importFrom, importNow } from '../support/imports.ts';
import { authDocument, createPullSecret } from '../support/pullSecrets.ts';
import { type RunningRegistry, startRegistry } from '../support/registry.ts';

const USER = 'puller';
const PASSWORD = 'correct horse battery staple';

const NAMESPACES = [
  'priv',
  'priv-keys',
  'priv-other',
  'priv-sched',
  'ssrf',
  'tls',
  'tls-annotated',
];
NAMESPACES.push('tls-ca');
let app: TestApp;
/** Pull secrets, streams and imports here are an editor's (its token serves every app here). */
let editor: string;
let basic: RunningRegistry;
let tls: RunningRegistry;
beforeAll(async () => {
  [basic, tls] = await Promise.all([
    startRegistry({ htpasswd: { user: USER, password: PASSWORD } }),
    startRegistry({ tls: true }),
  ]);
  app = await startTestApp();
  editor = await app.member(NAMESPACES, 'EDITOR');
});
afterAll(async () => {
  await app.stop();
  await Promise.all([basic.stop(), tls.stop()]);
});

/** Pushes to the Basic-auth registry need its user. */
const AS_USER = { auth: { user: USER, password: PASSWORD } };

describe('a registry with Basic auth', () => {
  it('without a pull secret the import fails as Unauthorized; with one it succeeds', async () => {
    const pushed = await pushImage(
      basic.url,
      'team/private',
      'v1',
      { content: 'secret app' },
      AS_USER,
    );
    const input = {
      namespace: 'priv',
      image: 'private:v1',
      from: `${basic.host}/team/private:v1`,
      confirm: true,
      insecure: true,
    };
    const denied = await importNow(app.as(editor), input);
    expect(denied.status).toBe('failed');
    expect(denied.images[0]).toMatchObject({ status: 'Failure', reason: 'Unauthorized' });
    expect(denied.images[0]!.message).not.toContain(PASSWORD);

    await createPullSecret(
      app.as(editor),
      'priv',
      'registry',
      authDocument(basic.host, USER, PASSWORD),
    );
    const allowed = await importNow(app.as(editor), { namespace: 'priv', image: 'private:v1' });
    expect(allowed.status).toBe('succeeded');
    const tag = await getTag(app.as(editor), 'priv', 'private:v1');
    expect(tag.image?.digest).toBe(pushed.digest);
    expect(tag.conditions).toEqual([]);
  });

  it('scheduled checks HEAD a private registry with the secret, read once per pass', async () => {
    for (const tag of ['a', 'b', 'c']) {
      await pushImage(basic.url, 'team/watched', tag, { content: `watched ${tag}` }, AS_USER);
    }
    await createPullSecret(
      app.as(editor),
      'priv-sched',
      'registry',
      authDocument(basic.host, USER, PASSWORD),
    );
    for (const tag of ['a', 'b', 'c']) {
      const job = await importFrom(
        app.as(editor),
        'priv-sched',
        `watched:${tag}`,
        `${basic.host}/team/watched:${tag}`,
        { scheduled: true },
      );
      expect(job.status).toBe('succeeded');
    }
    await app.database.db.execute(sql`
      update tags set next_import_at = now() - interval '1 second'
      from image_streams s where s.id = tags.stream_id and s.namespace = 'priv-sched'`);
    app.statements.length = 0;
    // Unchanged: each HEAD got through with the secret (a refused one would queue an import).
    expect(await app.importer.scheduler.runOnce()).toEqual({ checked: 3, queued: 0 });
    expect(app.statements.filter((q) => /from "pull_secrets"/.test(q))).toHaveLength(1);
  });

  it('the longest matching key wins: a wrong broad key loses to a right narrower one', async () => {
    await pushImage(basic.url, 'team/narrow', 'v1', { content: 'narrow' }, AS_USER);
    await createPullSecret(
      app.as(editor),
      'priv-keys',
      'broad',
      authDocument(basic.host, USER, 'wrong'),
    );
    await createPullSecret(
      app.as(editor),
      'priv-keys',
      'narrow',
      authDocument(`${basic.host}/team/narrow`, USER, PASSWORD),
    );
    const job = await importFrom(
      app.as(editor),
      'priv-keys',
      'narrow:v1',
      `${basic.host}/team/narrow:v1`,
    );
    expect(job.status).toBe('succeeded');
    // A secret of another namespace is never used.
    const other = await importFrom(
      app.as(editor),
      'priv-other',
      'narrow:v1',
      `${basic.host}/team/narrow:v1`,
    );
    expect(other.images[0]).toMatchObject({ status: 'Failure', reason: 'Unauthorized' });
  });
});

describe('a TLS registry', () => {
  it('verifies certificates: an unknown CA fails, insecure or a trusted CA succeeds', async () => {
    const pushed = await pushImageTls(tls, 'tls/app', 'v1');
    const from = `${tls.host}/tls/app:v1`;
    const refused = await importNow(app.as(editor), {
      namespace: 'tls',
      image: 'app:v1',
      from,
      confirm: true,
    });
    expect(refused.status).toBe('failed');
    expect(refused.images[0]).toMatchObject({ status: 'Failure', reason: 'TLS' });

    const insecure = await importFrom(app.as(editor), 'tls', 'insecure:v1', from);
    expect(insecure.images[0]).toMatchObject({ status: 'Success', digest: pushed });

    const trusting = await startTestApp({ registryCa: tls.caCert!, importWorker: false });
    try {
      const trusted = await importNow(trusting.as(editor), {
        namespace: 'tls-ca',
        image: 'app:v1',
        from,
        confirm: true,
      });
      expect(trusted.images[0]).toMatchObject({ status: 'Success', digest: pushed });
    } finally {
      await trusting.stop();
    }
  });

  it('the stream annotation openshift.io/image.insecureRepository=true makes its tags insecure', async () => {
    const pushed = await pushImageTls(tls, 'tls/annotated', 'v1');
    const created = await app.as(editor).graphql<{ createImageStream: { __typename: string } }>(
      `mutation { createImageStream(input: { namespace: "tls-annotated", name: "app",
        annotations: [{ key: "openshift.io/image.insecureRepository", value: "true" }] }) { __typename } }`,
    );
    expect(created.data?.createImageStream.__typename).toBe('ImageStreamPayload');
    const job = await importNow(app.as(editor), {
      namespace: 'tls-annotated',
      image: 'app:v1',
      from: `${tls.host}/tls/annotated:v1`,
    });
    expect(job.images[0]).toMatchObject({ status: 'Success', digest: pushed });
  });
});

/** Pushes over HTTPS trusting the registry's own certificate; returns the digest. */
async function pushImageTls(registry: RunningRegistry, repository: string, tag: string) {
  const content = `${repository} ${tag}`;
  return (await pushImage(registry.url, repository, tag, { content }, { ca: registry.caCert }))
    .digest;
}

describe('the SSRF guard', () => {
  it('refuses loopback registries unless allow-listed, by address and by name', async () => {
    const guarded = await startTestApp({ egressAllow: [], importWorker: false });
    try {
      await pushImage(basic.url, 'team/guarded', 'v1', { content: 'guarded' }, AS_USER);
      const port = basic.host.split(':')[1];
      for (const host of [`127.0.0.1:${port}`, `localhost:${port}`]) {
        const job = await importFrom(
          guarded.as(editor),
          'ssrf',
          `guarded:${host.startsWith('localhost') ? 'name' : 'ip'}`,
          `${host}/team/guarded:v1`,
        );
        expect(job.images[0]).toMatchObject({ status: 'Failure', reason: 'Blocked' });
        expect(job.images[0]!.message).toContain('TAGRAPH_EGRESS_ALLOW');
      }
    } finally {
      await guarded.stop();
    }
  });

  it('tells a caller only "not allowed" or "could not reach": no resolved address, no port state', async () => {
    // An allow-list entry without a port opens 443 and 80 only; the test registry is elsewhere.
    const app = await startTestApp({ egressAllow: ['127.0.0.1'], registryTimeoutMs: 300 });
    const open = await startTestApp({ egressAllow: ['127.0.0.1:*'], registryTimeoutMs: 300 });
    // A port where something accepts connections and never answers, and one where nothing listens.
    const sockets = new Set<Socket>();
    const silent = createServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => {});
    });
    await new Promise<void>((done) => silent.listen(0, '127.0.0.1', done));
    const silentPort = (silent.address() as { port: number }).port;
    const closedPort = await reservePort();
    try {
      // Both apps share this file's database: a namespace each.
      await app.stream('egress', 'probe');
      await open.stream('egress-open', 'probe');
      const as = async (tenants: TestApp, namespace: string) =>
        tenants.as(await tenants.member(namespace, 'EDITOR'));
      const reachable = await as(open, 'egress-open');
      const imported = async (tenants: TestApp, tag: string, from: string) => {
        const job = await importFrom(
          tenants,
          tenants === reachable ? 'egress-open' : 'egress',
          `probe:${tag}`,
          from,
        );
        return job.images[0]!;
      };
      const guarded = await as(app, 'egress');
      const registryPort = basic.host.split(':')[1];
      const portNotAllowed = await imported(guarded, 'ip', `127.0.0.1:${registryPort}/team/x:v1`);
      const byName = await imported(guarded, 'name', `localhost:${registryPort}/team/x:v1`);
      for (const image of [portNotAllowed, byName]) {
        expect(image).toMatchObject({ status: 'Failure', reason: 'Blocked' });
        expect(image.message).toContain('is not an allowed address');
      }
      // localhost resolved to 127.0.0.1 or ::1: the caller is not told which.
      expect(byName.message).not.toMatch(/127\.0\.0\.1|::1/);

      // Each is retried with backoff before it fails (about ten seconds each).
      const refused = await imported(reachable, 'refused', `127.0.0.1:${closedPort}/team/x:v1`);
      const timedOut = await imported(reachable, 'silent', `127.0.0.1:${silentPort}/team/x:v1`);
      for (const image of [refused, timedOut]) {
        expect(image).toMatchObject({ status: 'Failure', reason: 'Unavailable' });
        expect(image.message).not.toMatch(/ECONN|refused|time|answer|reset|E[A-Z]{4,}/i);
      }
      // The same words whether the port was closed or silent.
      expect(refused.message!.replace(String(closedPort), 'PORT').replace('refused', 'x')).toBe(
        timedOut.message!.replace(String(silentPort), 'PORT').replace('silent', 'x'),
      );
    } finally {
      for (const socket of sockets) socket.destroy();
      silent.close();
      await app.stop();
      await open.stop();
    }
  }, 90_000);
});
