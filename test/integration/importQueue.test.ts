// The import job queue on the real database: claiming, leases, retries, wake-up by NOTIFY.
import { sql } from 'drizzle-orm';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeTransaction } from '../../src/events/append.ts';
import { ImportWorker, type JobOutcome } from '../../src/importer/worker.ts';
import { enqueueImport } from '../../src/services/importJobs.ts';
import {
  ATTEMPTS_SPENT_ERROR,
  backoffSeconds,
  claimJobs,
  claimStatement,
  getJob,
  type ImportJobRow,
} from '../../src/services/importQueue.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { explainPlan } from '../support/plans.ts';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(async () => {
  await app.stop();
});

const silent = pino({ level: 'silent' });

/** Carries a result out of a transaction that must not commit. */
class RolledBack extends Error {}

async function enqueue(stream: string, namespace = 'q'): Promise<number> {
  return writeTransaction(app.database.db, (tx) =>
    enqueueImport(tx, { namespace, stream, tags: ['latest'], cause: 'import' }),
  );
}

/** Ends the lease of a running job now, as if its worker had died holding it. */
async function expireLease(id: number): Promise<void> {
  await app.database.db.execute(
    sql`update import_jobs set locked_until = now() - interval '1 second' where id = ${id}`,
  );
}

/** Makes a queued job due now, as if its backoff had run out. */
async function makeDue(id: number): Promise<void> {
  await app.database.db.execute(sql`update import_jobs set run_at = now() where id = ${id}`);
}

describe('import job queue', () => {
  it('never gives one job to two workers', async () => {
    const ids = [await enqueue('a1'), await enqueue('a2'), await enqueue('a3')];
    const [first, second] = await Promise.all([
      claimJobs(app.database.db, 'w1', 2, 60_000),
      claimJobs(app.database.db, 'w2', 2, 60_000),
    ]);
    const claimed = [...first!, ...second!].map((j) => j.id).filter((id) => ids.includes(id));
    expect(new Set(claimed).size).toBe(claimed.length);
    expect(claimed.sort()).toEqual(ids.sort());
    for (const job of [...first!, ...second!]) expect(job.status).toBe('running');
  });

  it('hands a job whose lease ran out to another worker', async () => {
    const id = await enqueue('lease');
    const dead = await claimJobs(app.database.db, 'dead-worker', 10, 60_000);
    expect(dead.map((j) => j.id)).toContain(id);
    expect(await claimJobs(app.database.db, 'other', 10, 60_000)).toEqual([]);
    await expireLease(id);
    const taken = await claimJobs(app.database.db, 'other', 10, 60_000);
    const job = taken.find((j) => j.id === id)!;
    expect(job).toMatchObject({ lockedBy: 'other', attempts: 2, status: 'running' });
  });

  it('retries a failed job with backoff, then gives up after its attempts', async () => {
    const id = await enqueue('flaky');
    const calls: number[] = [];
    const worker = new ImportWorker(
      app.database,
      silent,
      async (job): Promise<JobOutcome> => {
        if (job.id === id) calls.push(job.attempts);
        return {
          ok: false,
          error: `boom ${job.attempts}`,
          result: { attempt: job.attempts },
          retry: true,
        };
      },
      { concurrency: 10 },
    );
    await worker.runOnce();
    let job = (await getJob(app.database.db, id))!;
    expect(job).toMatchObject({ status: 'queued', attempts: 1, lastError: 'boom 1' });
    for (let attempt = 1; attempt < 5; attempt++) {
      // Back in the queue a backoff after the failure (both times are the database's now()).
      expect(job.runAt.getTime() - job.updatedAt.getTime()).toBe(
        Math.round(backoffSeconds(attempt) * 1000),
      );
      // Not due yet: another pass leaves it alone.
      await worker.runOnce();
      expect(calls).toHaveLength(attempt);
      await makeDue(id);
      await worker.runOnce();
      job = (await getJob(app.database.db, id))!;
    }
    expect(job).toMatchObject({
      status: 'failed',
      attempts: 5,
      lastError: 'boom 5',
      result: { attempt: 5 },
    });
    expect(job.finishedAt).not.toBeNull();
    expect(calls).toEqual([1, 2, 3, 4, 5]);
  });

  it('fails a job at once when another attempt cannot help', async () => {
    const id = await enqueue('hopeless');
    const worker = new ImportWorker(
      app.database,
      silent,
      async () => ({
        ok: false,
        error: 'not found',
        result: null,
        retry: false,
      }),
      { concurrency: 10 },
    );
    await worker.runOnce();
    expect(await getJob(app.database.db, id)).toMatchObject({ status: 'failed', attempts: 1 });
  });

  it('never claims a job again once its attempts are spent, even one whose worker died', async () => {
    const id = await enqueue('crashes-its-worker');
    // Each attempt kills its worker: the job is claimed, and its lease runs out.
    for (let attempt = 1; attempt <= 5; attempt++) {
      const claimed = await claimJobs(app.database.db, `doomed-${attempt}`, 50, 60_000);
      expect(claimed.find((j) => j.id === id)).toMatchObject({ attempts: attempt });
      await expireLease(id);
    }
    const after = await claimJobs(app.database.db, 'survivor', 50, 60_000);
    expect(after.map((j) => j.id)).not.toContain(id);
    expect(await getJob(app.database.db, id)).toMatchObject({
      status: 'failed',
      attempts: 5,
      lockedBy: null,
      lastError: ATTEMPTS_SPENT_ERROR,
    });
    expect((await getJob(app.database.db, id))!.finishedAt).not.toBeNull();
    // Restarts keep claiming: the job stays failed.
    expect(
      (await claimJobs(app.database.db, 'restarted', 50, 60_000)).map((j) => j.id),
    ).not.toContain(id);
  });

  it('runs another namespace while one namespace holds its slots', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const started: string[] = [];
    const worker = new ImportWorker(
      app.database,
      silent,
      async (job): Promise<JobOutcome> => {
        started.push(`${job.namespace}/${job.stream}`);
        // The slow namespace's jobs hold their slot until the test lets them go.
        if (job.namespace === 'fair-slow') await gate;
        return { ok: true, result: {} };
      },
      { concurrency: 2, namespaceConcurrency: 1, pollMs: 50 },
    );
    const slow = [await enqueue('s1', 'fair-slow'), await enqueue('s2', 'fair-slow')];
    const other = await enqueue('o1', 'fair-other');
    await worker.start();
    try {
      await expect
        .poll(async () => (await getJob(app.database.db, other))?.status, { timeout: 5000 })
        .toBe('succeeded');
      // The second slow job waits for the first: one slot per namespace.
      expect((await getJob(app.database.db, slow[0]!))!.status).toBe('running');
      expect((await getJob(app.database.db, slow[1]!))!.status).toBe('queued');
      expect(started.filter((s) => s.startsWith('fair-slow/'))).toEqual(['fair-slow/s1']);
    } finally {
      release();
      await worker.stop();
    }
  });

  it('claims from the front of the runnable index, not by sorting the whole queue', async () => {
    // A backlog of due jobs, analyzed as autovacuum would, inside a transaction rolled back at
    // the end, so no other test or worker ever sees it.
    const plan = await app.database.db
      .transaction(async (tx) => {
        await tx.execute(sql`
          insert into import_jobs (namespace, stream, request, run_at)
          select 'q', 'backlog' || g, '{}'::jsonb, now() - interval '1 minute'
          from generate_series(1, 3000) g`);
        await tx.execute(sql`analyze import_jobs`);
        const plan = await explainPlan(tx, claimStatement('w', 4, 60_000));
        throw new RolledBack(JSON.stringify(plan));
      })
      .catch((error: unknown) => {
        if (error instanceof RolledBack) return error.message;
        throw error;
      });
    expect(plan).toContain('"Index Name":"import_jobs_runnable_idx"');
    // Neither a sort nor an incremental one: jobs enqueued together share a run_at, and sorting
    // that group by id read all of it.
    expect(plan).not.toMatch(/"Node Type":"(Incremental )?Sort"/);
    expect(plan).not.toContain('"Node Type":"Seq Scan"');
  });

  it('wakes on NOTIFY, runs jobs two at a time and no more, and records the result', async () => {
    const namespace = 'notified';
    let running = 0;
    let peak = 0;
    const done: number[] = [];
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const worker = new ImportWorker(
      app.database,
      silent,
      async (job: ImportJobRow) => {
        // Whatever earlier tests left queued runs through; only this test's jobs are counted.
        if (job.namespace !== namespace) return { ok: true, result: {} };
        running++;
        peak = Math.max(peak, running);
        // Each job holds its slot until the test lets them all go.
        await gate;
        running--;
        done.push(job.id);
        return { ok: true, result: { imported: job.stream } };
      },
      // A poll far longer than the test: only NOTIFY can wake it.
      { concurrency: 2, pollMs: 600_000 },
    );
    await worker.start();
    try {
      // The claim at start, and any it set off, are over: the worker sleeps until notified.
      await expect.poll(() => worker.runningCount).toBe(0);
      await worker.claimsIdle();
      const ids: number[] = [];
      for (let i = 0; i < 5; i++) ids.push(await enqueue(`n${i}`, namespace));
      // NOTIFY woke it, and it filled both slots...
      await expect.poll(() => running, { timeout: 5000 }).toBe(2);
      // ...and claimed nothing more while they were full.
      await worker.claimsIdle();
      const statuses = await Promise.all(
        ids.map(async (id) => (await getJob(app.database.db, id))!.status),
      );
      expect(statuses.filter((s) => s === 'running')).toHaveLength(2);
      expect(statuses.filter((s) => s === 'queued')).toHaveLength(3);
      release();
      await expect.poll(() => done.length, { timeout: 5000 }).toBe(5);
    } finally {
      release();
      await worker.stop();
    }
    expect(peak).toBe(2);
    expect(await getJob(app.database.db, done[0]!)).toMatchObject({
      status: 'succeeded',
      result: { imported: expect.stringMatching(/^n\d$/) },
    });
  });
});
