// Cancelling import jobs: stopping the worker and losing a lease abort the registry request in
// flight and write nothing; heartbeat failures are logged; a malformed job request fails its job.
import { Writable } from 'node:stream';
import { sql } from 'drizzle-orm';
import type { Logger } from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { rowsOf } from '../../src/db/client.ts';
import { createImportExecutor } from '../../src/importer/execute.ts';
import { RegistryClients } from '../../src/importer/registries.ts';
import { ImportWorker } from '../../src/importer/worker.ts';
import { createLogger } from '../../src/log.ts';
import { EgressPolicy } from '../../src/registry/egress.ts';
import { ATTEMPTS_SPENT_ERROR, getJob, type ImportJobRow } from '../../src/services/importQueue.ts';
import { startTestApp, TEST_SECRET_KEY, type TestApp, testConfig } from '../support/app.ts';
import { type HostileRegistry, startHostileRegistry } from '../support/hostileRegistry.ts';
import { type BuiltImage, buildImage } from '../support/images.ts';
import { getTagAsPuller, JOB_FIELDS, type JobView } from '../support/imports.ts';

/** A pino destination that keeps every record, parsed, for the test to look for. */
class CapturedLog extends Writable {
  readonly records: Record<string, unknown>[] = [];
  override _write(chunk: Buffer, _encoding: string, done: () => void): void {
    for (const line of chunk.toString().split('\n')) {
      if (line.trim()) this.records.push(JSON.parse(line));
    }
    done();
  }
  find(msg: string | RegExp, fields: Record<string, unknown> = {}) {
    return this.records.find(
      (r) =>
        (typeof msg === 'string' ? r.msg === msg : msg.test(String(r.msg))) &&
        Object.entries(fields).every(([key, value]) => r[key] === value),
    );
  }
}

const captured = new CapturedLog();
const log: Logger = createLogger('info', captured);

let app: TestApp;
let registry: HostileRegistry;
let image: BuiltImage;
beforeAll(async () => {
  registry = await startHostileRegistry();
  image = buildImage({ content: 'cancel' });
  registry.addImage('v1', image);
  app = await startTestApp({}, { log });
});
afterAll(async () => {
  await app?.stop();
  await registry?.stop();
});

interface Stall {
  /** Resolves when the first stalled request has arrived. */
  arrived: Promise<void>;
  /** Resolves (with performance.now()) when the client closed the first one's socket. */
  closed: Promise<number>;
  /** Requests stalled so far, and how many of them the client has closed. */
  counts(): { held: number; closed: number };
  /** Answers the stalled requests after all, normally, and lets later ones through. */
  release(): void;
}

/**
 * Holds requests of `kind` (`manifest`: no answer at all; `blob`: headers and one byte of the
 * body, then nothing) until released or the client goes away: the first only, or `every` one.
 */
function stall(kind: 'manifest' | 'blob', every = false): Stall {
  let arrive!: () => void;
  let close!: (at: number) => void;
  const held: (() => void)[] = [];
  let closed = 0;
  let released = false;
  const arrived = new Promise<void>((resolve) => {
    arrive = resolve;
  });
  const firstClosed = new Promise<number>((resolve) => {
    close = resolve;
  });
  registry.override = (_req, res, request) => {
    if (request.kind !== kind || released || (held.length > 0 && !every)) return false;
    const body = kind === 'manifest' ? image.manifest : image.config;
    const headers = {
      'content-type': kind === 'manifest' ? image.mediaType : 'application/octet-stream',
      'content-length': body.length,
      ...(kind === 'manifest' ? { 'docker-content-digest': image.digest } : {}),
    };
    let sent = 0;
    if (kind === 'blob') {
      res.writeHead(200, headers);
      res.write(body.subarray(0, 1));
      sent = 1;
    }
    held.push(() => {
      if (res.destroyed) return;
      if (!res.headersSent) res.writeHead(200, headers);
      res.end(body.subarray(sent));
    });
    res.on('close', () => {
      closed++;
      close(performance.now());
    });
    arrive();
    return true;
  };
  return {
    arrived,
    closed: firstClosed,
    counts: () => ({ held: held.length, closed }),
    release: () => {
      released = true;
      for (const answer of held) answer();
    },
  };
}

/** Queues an import of `<stream>:v1` from the hostile registry, as an editor of `namespace`. */
async function enqueue(namespace: string, stream: string) {
  const editor = await app.member(namespace, 'EDITOR');
  const result = await app.call<{ importImage: { __typename: string; job: JobView } }>(
    editor,
    `mutation($input: ImportImageInput!) { importImage(input: $input) {
      __typename ... on ImportImagePayload { job { ${JOB_FIELDS} } } ... on Error { message } } }`,
    {
      input: {
        namespace,
        image: `${stream}:v1`,
        from: `${registry.host}/cancel/${stream}:v1`,
        confirm: true,
        insecure: true,
      },
    },
  );
  expect(result.errors).toBeUndefined();
  expect(result.data!.importImage.__typename).toBe('ImportImagePayload');
  return Number(result.data!.importImage.job.id);
}

/** The tag as a puller of its namespace sees it: image, history and conditions. */
const readTag = (namespace: string, ref: string) => getTagAsPuller(app, namespace, ref);

async function jobRow(id: number): Promise<ImportJobRow> {
  const job = await getJob(app.database.db, id);
  expect(job).not.toBeNull();
  return job!;
}

/** A worker of its own over the app's database, with a lease short enough to lose in a test. */
function leaseWorker(leaseMs: number) {
  const config = testConfig();
  const clients = new RegistryClients();
  const worker = new ImportWorker(
    app.database,
    log,
    createImportExecutor({
      database: app.database,
      log,
      registry: {
        secretKey: TEST_SECRET_KEY,
        ca: null,
        timeoutMs: config.registryTimeoutMs,
        egress: new EgressPolicy(config.egressAllow),
        clients,
      },
      serverPlatform: config.serverPlatform,
      intervalMs: config.importIntervalMs,
      pushRegistries: [],
      budget: config.importBudget,
    }),
    { leaseMs, pollMs: 50, workerId: `lease-worker-${leaseMs}` },
  );
  return {
    worker,
    async stop() {
      await worker.stop();
      clients.clear();
    },
  };
}

/** Marks the job as another worker's, as a claim after an expired lease would have. */
async function stealLease(id: number): Promise<void> {
  await app.database.db.execute(
    sql`update import_jobs set locked_by = 'thief', locked_until = now() + interval '10 minutes'
        where id = ${id}`,
  );
}

/** Waits for the worker's log that job `id` was cancelled for its lost lease. */
const lostLeaseLogged = (id: number) =>
  vi.waitFor(() =>
    expect(
      captured.find('import job cancelled: its lease was lost; nothing written', { jobId: id }),
    ).toBeDefined(),
  );

/** The import wrote nothing to `ref` of namespace stolen: no image, history or condition. */
async function expectStolenTagUntouched(ref: string): Promise<void> {
  const tag = await readTag('stolen', ref);
  expect(tag.image).toBeNull();
  expect(tag.history.nodes).toEqual([]);
  expect(tag.conditions).toEqual([]);
}

describe('a lost lease', () => {
  it('aborts the registry request in flight when a renewal finds the job taken, and writes nothing', async () => {
    const id = await enqueue('stolen', 'heartbeat');
    const blob = stall('blob');
    const { worker, stop } = leaseWorker(900);
    try {
      await worker.start();
      await blob.arrived;
      await stealLease(id);
      const stolenAt = performance.now();
      const closedAt = await blob.closed;
      console.info(
        `lease stolen: the stalled blob request was closed ${Math.round(closedAt - stolenAt)} ms later (renewals every 300 ms)`,
      );
      expect(closedAt - stolenAt).toBeLessThan(3000);
      await lostLeaseLogged(id);
      // The row is the thief's as the steal left it; the tag has neither an image nor a condition.
      expect(await jobRow(id)).toMatchObject({
        status: 'running',
        lockedBy: 'thief',
        attempts: 1,
        lastError: null,
        result: null,
      });
      await expectStolenTagUntouched('heartbeat:v1');
    } finally {
      blob.release();
      registry.override = null;
      await stop();
    }
  });

  it('refuses to record an import whose lease was taken before the renewal noticed', async () => {
    const id = await enqueue('stolen', 'fence');
    const manifest = stall('manifest');
    // Renewals every 20 s: the fetch ends long before one could notice the steal.
    const { worker, stop } = leaseWorker(60_000);
    try {
      await worker.start();
      await manifest.arrived;
      await stealLease(id);
      manifest.release();
      await lostLeaseLogged(id);
      // The image was read whole (the manifest, then its config) and not recorded.
      expect(
        registry.requests.filter((r) => r.path === `/v2/cancel/fence/blobs/${image.configDigest}`),
      ).toHaveLength(1);
      expect(await jobRow(id)).toMatchObject({ status: 'running', lockedBy: 'thief' });
      await expectStolenTagUntouched('fence:v1');
    } finally {
      manifest.release();
      registry.override = null;
      await stop();
    }
  });

  it('logs failed renewals with the job id, cancels each attempt as its lease runs out, and fails the job when none are left', async () => {
    // The database refuses this job's renewals (and nothing else): what a renewal meets when the
    // database is unreachable, as far as the worker can tell.
    await app.database.db.execute(sql`
      create function refuse_renewal() returns trigger language plpgsql as $$
      begin
        if old.status = 'running' and new.status = 'running' and old.locked_by = new.locked_by
           and old.attempts = new.attempts and old.stream = 'refused' then
          raise exception 'renewal refused by the test';
        end if;
        return new;
      end $$`);
    await app.database.db.execute(sql`
      create trigger refuse_renewal before update on import_jobs
      for each row execute function refuse_renewal()`);
    const id = await enqueue('refused', 'refused');
    const manifests = stall('manifest', true);
    const { worker, stop } = leaseWorker(900);
    try {
      const started = performance.now();
      await worker.start();
      const closedAt = await manifests.closed;
      console.info(
        `renewals refused: the stalled request was closed ${Math.round(closedAt - started)} ms after the worker started (lease 900 ms)`,
      );
      const failed = captured.find('renewing the lease of an import job failed', { jobId: id });
      expect(failed).toMatchObject({ level: 40, attempt: 1 });
      expect((failed!.err as { message: string }).message).toMatch(/renewal refused by the test/);
      // Each attempt stalls, cannot renew, is cancelled; the next claim takes the job over; the
      // claim after the fifth marks it failed.
      await vi.waitFor(
        async () =>
          expect(await jobRow(id)).toMatchObject({
            status: 'failed',
            attempts: 5,
            lastError: ATTEMPTS_SPENT_ERROR,
          }),
        { timeout: 20_000, interval: 100 },
      );
      const cancelled = captured.records.filter(
        (r) =>
          r.jobId === id && r.msg === 'import job cancelled: its lease was lost; nothing written',
      );
      expect(cancelled.map((r) => r.attempt)).toEqual([1, 2, 3, 4, 5]);
      expect(cancelled[0]!.reason).toMatch(/could not be renewed within 900 ms/);
      expect(manifests.counts()).toEqual({ held: 5, closed: 5 });
      const tag = await readTag('refused', 'refused:v1');
      expect(tag.image).toBeNull();
      expect(tag.conditions).toEqual([]);
    } finally {
      manifests.release();
      registry.override = null;
      await stop();
      await app.database.db.execute(sql`drop trigger refuse_renewal on import_jobs`);
      await app.database.db.execute(sql`drop function refuse_renewal()`);
    }
  });
});

describe('a malformed job request', () => {
  it('fails its job with InvalidRequest, once and logged, without running it', async () => {
    const rows = rowsOf<{ id: number }>(
      await app.database.db.execute(sql`
        insert into import_jobs (namespace, stream, request)
        values ('malformed', 'bad', '{"tags": "v1", "cause": "whatever"}'::jsonb),
               ('malformed', 'worse', '[1, 2]'::jsonb)
        returning id`),
    );
    const [bad, worse] = rows.map((row) => Number(row.id));
    const before = registry.requests.length;
    while ((await app.importer.worker.runOnce()) > 0) {}
    const badJob = await jobRow(bad!);
    expect(badJob).toMatchObject({ status: 'failed', attempts: 1 });
    expect(badJob.lastError).toMatch(/^import job \d+ has a malformed request: tags: .*; cause: /);
    expect((await jobRow(worse!)).lastError).toMatch(/malformed request: \(request\): /);
    expect(
      captured.find('import job failed: its request is malformed', { jobId: bad }),
    ).toMatchObject({ level: 40, reason: 'InvalidRequest' });
    expect(registry.requests.length).toBe(before);
  });
});

describe('stopping the worker', () => {
  it('aborts the registry request in flight at once and hands the job back to the queue', async () => {
    const id = await enqueue('stopping', 'stalled');
    const manifest = stall('manifest');
    try {
      await app.importer.worker.start();
      await manifest.arrived;
      const started = performance.now();
      await app.importer.stop(8000);
      const stoppedMs = performance.now() - started;
      const closedMs = (await manifest.closed) - started;
      console.info(
        `stop with a stalled registry: the request was closed after ${Math.round(closedMs)} ms, stop() returned after ${Math.round(stoppedMs)} ms`,
      );
      // The stall never ends by itself: without the abort neither would stop() nor the request.
      expect(stoppedMs).toBeLessThan(2000);
      expect(closedMs).toBeLessThan(2000);
      // Back in the queue, due now, the attempt counted; nothing recorded on the tag.
      const row = await jobRow(id);
      expect(row).toMatchObject({
        status: 'queued',
        attempts: 1,
        lockedBy: null,
        lockedUntil: null,
        lastError: null,
      });
      expect(row.runAt.getTime()).toBeLessThanOrEqual(Date.now());
      expect(captured.find(/the worker is stopping; handed back/, { jobId: id })).toMatchObject({
        released: true,
      });
      const tag = await readTag('stopping', 'stalled:v1');
      expect(tag.image).toBeNull();
      expect(tag.conditions).toEqual([]);
    } finally {
      manifest.release();
      registry.override = null;
    }
  });
});
