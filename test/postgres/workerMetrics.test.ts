// The worker process (npm run worker) serves its own imports on TAGRAPH_METRICS_PORT: Postgres
// only, as the worker and the gateway share the database from two processes.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  reservePort,
  spawnEntry,
  startTestApp,
  TEST_SECRET_KEY,
  type TestApp,
} from '../support/app.ts';
import { postgresFileDatabase } from '../support/database.ts';
import { pushImage } from '../support/images.ts';
import { callImportImage } from '../support/imports.ts';
import { parseMetrics, sampleValue } from '../support/metrics.ts';

const METRICS_TOKEN = 'metrics-token-0123456789abcdef';
const registryUrl = inject('registryUrl');
const registryHost = new URL(registryUrl).host;
const repo = (name: string) =>
  `metrics-${process.pid}-${Math.random().toString(36).slice(2, 8)}/${name}`;

let app: TestApp;
let editor: string;

beforeAll(async () => {
  app = await startTestApp();
  editor = await app.member('worker-metrics', 'EDITOR');
});

afterAll(async () => {
  await app?.stop();
});

describe('npm run worker', () => {
  it('serves its imports on TAGRAPH_METRICS_PORT, behind the metrics token', async () => {
    const repository = repo('worker');
    await pushImage(registryUrl, repository, 'v1', { content: 'worker v1' });
    const target = postgresFileDatabase();
    const port = await reservePort();
    const worker = spawnEntry('worker', {
      DATABASE_URL: target.url,
      TAGRAPH_SECRET_KEY: TEST_SECRET_KEY.toString('hex'),
      TAGRAPH_LOG_LEVEL: 'warn',
      TAGRAPH_EGRESS_ALLOW: '127.0.0.1:*',
      TAGRAPH_METRICS_PORT: String(port),
      TAGRAPH_METRICS_TOKEN: METRICS_TOKEN,
    });
    const url = `http://127.0.0.1:${port}/metrics`;
    const workerImports = async () => {
      const response = await fetch(url, {
        headers: { authorization: `Bearer ${METRICS_TOKEN}` },
      }).catch(() => null);
      if (response?.status !== 200) return -1;
      return sampleValue(parseMetrics(await response.text()), 'tagraph_imports_total', {
        result: 'success',
        registry: registryHost,
        cause: 'user',
      });
    };
    try {
      await expect.poll(workerImports, { timeout: 20_000 }).toBe(0);
      expect((await fetch(url)).status).toBe(401);
      // Queued through the gateway, which runs no worker; imported by the worker process.
      const queued = await callImportImage(app.as(editor), {
        namespace: 'worker-metrics',
        confirm: true,
        image: 'worker:v1',
        from: `${registryHost}/${repository}:v1`,
        insecure: true,
      });
      expect(queued.__typename).toBe('ImportImagePayload');
      await expect.poll(workerImports, { timeout: 20_000 }).toBe(1);
    } finally {
      worker.process.kill('SIGTERM');
      expect((await worker.exited).code, worker.output()).toBe(0);
    }
  });
});
