// A gateway and a separate worker process on one Postgres: the worker imports what the gateway
// queued, and maps a push the gateway accepted with only the variables the README lists for it.
import { sql } from 'drizzle-orm';
import { describe, expect, inject, it } from 'vitest';
import { rowsOf } from '../../src/db/client.ts';
import { reservePort, spawnEntry, startTestApp, TEST_SECRET_KEY } from '../support/app.ts';
import { postgresFileDatabase } from '../support/database.ts';
import { pushImage } from '../support/images.ts';
import { callImportImage } from '../support/imports.ts';
import { startRegistry } from '../support/registry.ts';

const TOKEN = 'push-token-separate-worker-0123';

describe('separate worker', () => {
  it('`npm run worker` imports jobs queued through a gateway that runs no worker', async () => {
    const target = postgresFileDatabase();
    const registryUrl = inject('registryUrl');
    const repository = `remote-${process.pid}-${Date.now().toString(36)}/app`;
    const image = await pushImage(registryUrl, repository, 'v1', { content: 'remote' });
    const gateway = await startTestApp({ importWorker: false });
    const editor = gateway.as(await gateway.member('remote', 'EDITOR'));
    const worker = spawnEntry('worker', {
      DATABASE_URL: target.url,
      TAGRAPH_SECRET_KEY: TEST_SECRET_KEY.toString('hex'),
      TAGRAPH_LOG_LEVEL: 'info',
      TAGRAPH_EGRESS_ALLOW: '127.0.0.1:*',
    });
    try {
      const payload = await callImportImage(editor, {
        namespace: 'remote',
        image: 'app:v1',
        from: `${new URL(registryUrl).host}/${repository}:v1`,
        confirm: true,
        insecure: true,
        wait: true,
        timeoutSeconds: 30,
      });
      expect(payload.timedOut, worker.output()).toBe(false);
      expect(payload.job).toMatchObject({
        status: 'succeeded',
        images: [{ status: 'Success', digest: image.digest }],
      });
    } finally {
      worker.process.kill('SIGTERM');
      expect((await worker.exited).code, worker.output()).toBe(0);
      await gateway.stop();
    }
  });

  it('maps a push accepted by a gateway though the worker has no TAGRAPH_PUSH_REGISTRIES', {
    timeout: 90_000,
  }, async () => {
    const target = postgresFileDatabase();
    const port = await reservePort();
    const registry = await startRegistry({
      notifications: { url: `http://127.0.0.1:${port}/registry/events`, token: TOKEN },
    });
    // The gateway runs no worker; it knows the registry is plain HTTP.
    const gateway = await startTestApp({
      port,
      importWorker: false,
      pushRegistries: [{ host: registry.host, token: TOKEN, insecure: true }],
    });
    // Exactly what the README says a worker needs, and nothing about push registries.
    const worker = spawnEntry('worker', {
      DATABASE_URL: target.url,
      TAGRAPH_SECRET_KEY: TEST_SECRET_KEY.toString('hex'),
      TAGRAPH_EGRESS_ALLOW: '127.0.0.1:*',
      TAGRAPH_PUSH_REGISTRIES: '',
      TAGRAPH_LOG_LEVEL: 'info',
    });
    try {
      await expect.poll(() => worker.output(), { timeout: 30_000 }).toContain('importer started');
      const image = await pushImage(registry.url, 'separate/app', 'v1', { content: 'separate' });
      const digestOfTag = async () => {
        const data = await gateway.admin<{ imageStreamTag: { image?: { digest: string } } }>(
          `{ imageStreamTag(namespace: "separate", ref: "app:v1") {
              ... on ImageStreamTag { image { digest } } } }`,
        );
        return data.imageStreamTag?.image?.digest;
      };
      await expect.poll(digestOfTag, { timeout: 30_000, interval: 200 }).toBe(image.digest);
      const [job] = rowsOf<{ status: string }>(
        await gateway.database.db.execute(sql`select status from import_jobs`),
      );
      expect(job, worker.output()).toEqual({ status: 'succeeded' });
    } finally {
      worker.process.kill('SIGTERM');
      expect((await worker.exited).code, worker.output()).toBe(0);
      await gateway.stop();
      await registry.stop();
    }
  });
});
