// The importer's metrics on /metrics: imports by result, reason, registry and cause, registry
// request timings and errors (real docker-registry imports), and the queue and scheduler gauges.
// The worker process's own metrics listener is tested on Postgres (test/postgres/workerMetrics.test.ts).
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { BoundedLabels } from '../../src/importer/metrics.ts';
import { reservePort, startTestApp, type TestApp } from '../support/app.ts';
import { pushImage } from '../support/images.ts';
import { drainImports, JOB_FIELDS, type JobView } from '../support/imports.ts';
import { parseMetrics, type Sample, sampleValue } from '../support/metrics.ts';

const METRICS_TOKEN = 'metrics-token-0123456789abcdef';
const registryUrl = inject('registryUrl');
const registryHost = new URL(registryUrl).host;
const repo = (name: string) =>
  `metrics-${process.pid}-${Math.random().toString(36).slice(2, 8)}/${name}`;

const IMPORT = `mutation($input: ImportImageInput!) {
  importImage(input: $input) {
    __typename
    ... on ImportImagePayload { job { ${JOB_FIELDS} } }
    ... on Error { code message }
  }
}`;

let app: TestApp;
let editor: string;

beforeAll(async () => {
  app = await startTestApp({ metrics: { token: METRICS_TOKEN, port: null } });
  editor = await app.member('metrics', 'EDITOR');
});

afterAll(async () => {
  await app?.stop();
});

async function scrape(): Promise<Sample[]> {
  const response = await app.yoga.fetch(`${app.url}/metrics`, {
    headers: { authorization: `Bearer ${METRICS_TOKEN}` },
  });
  expect(response.status).toBe(200);
  return parseMetrics(await response.text());
}

/** importImage as the editor; returns the queued job's id. */
async function queueImport(input: Record<string, unknown>): Promise<string> {
  const result = await app.call<{ importImage: { __typename: string; job?: JobView } }>(
    editor,
    IMPORT,
    { input: { namespace: 'metrics', confirm: true, ...input } },
  );
  expect(result.errors).toBeUndefined();
  expect(result.data!.importImage.__typename).toBe('ImportImagePayload');
  return result.data!.importImage.job!.id;
}

describe('import metrics', () => {
  it('counts a successful import and a missing tag by result, reason, registry and cause, and times their registry requests', async () => {
    const repository = repo('app');
    await pushImage(registryUrl, repository, 'v1', { content: 'metrics v1' });
    const before = await scrape();
    const imports = (labels: Record<string, string>, samples: Sample[]) =>
      sampleValue(samples, 'tagraph_imports_total', { registry: registryHost, ...labels });

    await queueImport({
      image: 'app:v1',
      from: `${registryHost}/${repository}:v1`,
      insecure: true,
    });
    await queueImport({
      image: 'app:gone',
      from: `${registryHost}/${repository}:missing`,
      insecure: true,
    });
    expect(await drainImports(app)).toBe(2);

    const after = await scrape();
    expect(
      imports({ result: 'success', reason: '', cause: 'user' }, after) -
        imports({ result: 'success', reason: '', cause: 'user' }, before),
    ).toBe(1);
    expect(
      imports({ result: 'failure', reason: 'NotFound', cause: 'user' }, after) -
        imports({ result: 'failure', reason: 'NotFound', cause: 'user' }, before),
    ).toBe(1);
    const requests = (status: string, samples: Sample[]) =>
      sampleValue(samples, 'tagraph_registry_request_duration_seconds_count', {
        registry: registryHost,
        method: 'GET',
        status,
      });
    // The manifest and the config blob of the image; the manifest of the missing tag.
    expect(requests('2xx', after) - requests('2xx', before)).toBeGreaterThanOrEqual(2);
    expect(requests('4xx', after) - requests('4xx', before)).toBeGreaterThanOrEqual(1);
    // A 404 is the image's problem, not the registry's.
    expect(
      sampleValue(after, 'tagraph_registry_request_errors_total', { registry: registryHost }),
    ).toBe(0);
  });

  it('labels a scheduled re-import with cause scheduled', async () => {
    const repository = repo('scheduled');
    await pushImage(registryUrl, repository, 'v1', { content: 'scheduled v1' });
    await queueImport({
      image: 'scheduled:v1',
      from: `${registryHost}/${repository}:v1`,
      insecure: true,
      scheduled: true,
    });
    await drainImports(app);
    const before = await scrape();
    await pushImage(registryUrl, repository, 'v1', { content: 'scheduled v2' });
    await app.database.db.execute(sql`
      update tags set next_import_at = now() - interval '1 second'
      from image_streams s where s.id = tags.stream_id and s.name = 'scheduled'`);
    expect(await app.importer.scheduler.runOnce()).toEqual({ checked: 1, queued: 1 });
    expect(await drainImports(app)).toBe(1);
    const after = await scrape();
    const scheduled = (samples: Sample[]) =>
      sampleValue(samples, 'tagraph_imports_total', {
        result: 'success',
        registry: registryHost,
        cause: 'scheduled',
      });
    expect(scheduled(after) - scheduled(before)).toBe(1);
    // The scheduler's HEAD check is a registry request too.
    const heads = (samples: Sample[]) =>
      sampleValue(samples, 'tagraph_registry_request_duration_seconds_count', {
        registry: registryHost,
        method: 'HEAD',
        status: '2xx',
      });
    expect(heads(after) - heads(before)).toBe(1);
  });

  it('counts a registry that does not answer as a network error of that registry', async () => {
    const port = await reservePort();
    const host = `127.0.0.1:${port}`;
    await queueImport({ image: 'down:v1', from: `${host}/nobody/home:v1` });
    await drainImports(app);
    const samples = await scrape();
    expect(
      sampleValue(samples, 'tagraph_registry_request_errors_total', {
        registry: host,
        kind: 'network',
      }),
    ).toBeGreaterThanOrEqual(1);
    expect(
      sampleValue(samples, 'tagraph_imports_total', {
        result: 'failure',
        reason: 'Unavailable',
        registry: host,
        cause: 'user',
      }),
    ).toBe(1);
  });
});

describe('queue and scheduler gauges', () => {
  it('report the queued jobs, how long the oldest due one has waited, and how late the scheduler is', async () => {
    // Nothing left from the tests above: every job has ended or waits out a retry's backoff.
    await app.database.db.execute(sql`delete from import_jobs`);
    // Scrapes within a second share one database read: poll for a fresh one.
    await expect
      .poll(async () => sampleValue(await scrape(), 'tagraph_import_jobs_queued'))
      .toBe(0);
    expect(sampleValue(await scrape(), 'tagraph_import_queue_oldest_due_seconds')).toBe(0);

    const repository = repo('queued');
    for (const tag of ['a', 'b', 'c']) {
      await queueImport({
        image: `queued:${tag}`,
        from: `${registryHost}/${repository}:${tag}`,
        insecure: true,
      });
    }
    // The oldest became due two minutes ago; the worker is not running, so none is claimed.
    await app.database.db.execute(sql`
      update import_jobs set run_at = now() - interval '120 seconds'
      where id = (select min(id) from import_jobs)`);
    await app.database.db.execute(sql`
      update tags set import_scheduled = true, next_import_at = now() - interval '300 seconds'
      from image_streams s where s.id = tags.stream_id and s.name = 'queued' and tags.name = 'b'`);
    await expect
      .poll(async () => sampleValue(await scrape(), 'tagraph_import_jobs_queued'))
      .toBe(3);
    const samples = await scrape();
    expect(sampleValue(samples, 'tagraph_import_jobs_running')).toBe(0);
    const oldest = sampleValue(samples, 'tagraph_import_queue_oldest_due_seconds');
    expect(oldest).toBeGreaterThanOrEqual(120);
    expect(oldest).toBeLessThan(180);
    const lag = sampleValue(samples, 'tagraph_import_scheduler_lag_seconds');
    expect(lag).toBeGreaterThanOrEqual(300);
    expect(lag).toBeLessThan(360);
  });
});

describe('BoundedLabels', () => {
  it('keeps the first values and calls every later one other', () => {
    const labels = new BoundedLabels(2);
    expect(['a', 'b', 'c', 'a', 'd', 'b'].map((v) => labels.label(v))).toEqual([
      'a',
      'b',
      'other',
      'a',
      'other',
      'b',
    ]);
  });
});
