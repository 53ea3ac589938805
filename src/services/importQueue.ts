// The import job queue on Postgres: claim with SKIP LOCKED, leases, retries with backoff.
//
// graphile-worker and pg-boss do this well, but their current majors need Node 22 and bring the
// `pg` driver beside postgres.js; the queue here is the few statements they run,
// after graphile-worker's getJobs.ts.
import { type SQL, sql } from 'drizzle-orm';
import { type Db, rowsOf, type Tx } from '../db/client.ts';
import type { importJobs } from '../db/schema.ts';

export type ImportJobRow = typeof importJobs.$inferSelect;

interface RawJob {
  id: number | string;
  namespace: string;
  stream: string;
  request: Record<string, unknown>;
  status: ImportJobRow['status'];
  attempts: number;
  max_attempts: number;
  run_at: Date | string;
  locked_by: string | null;
  locked_until: Date | string | null;
  last_error: string | null;
  result: Record<string, unknown> | null;
  created_at: Date | string;
  updated_at: Date | string;
  finished_at: Date | string | null;
}

function toJob(raw: RawJob): ImportJobRow {
  const date = (v: Date | string | null) => (v === null ? null : new Date(v));
  return {
    id: Number(raw.id),
    namespace: raw.namespace,
    stream: raw.stream,
    request: raw.request,
    status: raw.status,
    attempts: Number(raw.attempts),
    maxAttempts: Number(raw.max_attempts),
    runAt: new Date(raw.run_at),
    lockedBy: raw.locked_by,
    lockedUntil: date(raw.locked_until),
    lastError: raw.last_error,
    result: raw.result,
    createdAt: new Date(raw.created_at),
    updatedAt: new Date(raw.updated_at),
    finishedAt: date(raw.finished_at),
  };
}

/** The last_error of a job whose final attempt ended without reporting an outcome. */
export const ATTEMPTS_SPENT_ERROR =
  'its last attempt ended without an outcome (the worker stopped or lost its lease) and no attempts are left';

/**
 * Claims up to `limit` runnable jobs for `workerId`: queued ones that are due, and running ones
 * whose lease ran out (their worker died), leaving out `skipNamespaces`. A job among them that
 * has used all its attempts is marked failed instead, so a job that kills its worker is tried at
 * most `max_attempts` times, never again after. One statement, so two workers never get one job.
 */
export async function claimJobs(
  db: Db,
  workerId: string,
  limit: number,
  leaseMs: number,
  skipNamespaces: readonly string[] = [],
): Promise<ImportJobRow[]> {
  if (limit <= 0) return [];
  const statement = claimStatement(workerId, limit, leaseMs, skipNamespaces);
  return rowsOf<RawJob>(await db.execute(statement)).map(toJob);
}

/**
 * The claim. `import_jobs_runnable_idx` is (run_at, id) over queued and running jobs, the claim
 * order, so Postgres reads the index from the front and stops at the first rows it can lock:
 * a claim costs the same with ten queued jobs or a hundred thousand, with no sort.
 * Skipped namespaces are a filter on that scan: their due jobs are read past, not sorted.
 */
export function claimStatement(
  workerId: string,
  limit: number,
  leaseMs: number,
  skipNamespaces: readonly string[] = [],
): SQL {
  const skip =
    skipNamespaces.length === 0
      ? sql``
      : sql`and namespace not in (${sql.join(
          skipNamespaces.map((namespace) => sql`${namespace}`),
          sql`, `,
        )})`;
  return sql`
    with due as (
      select id, attempts >= max_attempts as spent from import_jobs
      where ((status = 'queued' and run_at <= now())
          or (status = 'running' and locked_until < now()))
        ${skip}
      order by run_at, id
      limit ${limit}
      for update skip locked
    ),
    spent as (
      update import_jobs j
      set status = 'failed', last_error = ${ATTEMPTS_SPENT_ERROR}, locked_by = null,
          locked_until = null, finished_at = now(), updated_at = now()
      from due where j.id = due.id and due.spent
      returning j.id
    )
    update import_jobs j
    set status = 'running', attempts = j.attempts + 1, locked_by = ${workerId},
        locked_until = now() + ${leaseMs} * interval '1 millisecond', updated_at = now()
    from due where j.id = due.id and not due.spent
    returning j.*`;
}

/**
 * One attempt of a job as its worker holds it. `attempt` is the claim's count of attempts, so a
 * worker that claims the same job again (its lease ran out meanwhile) tells the two apart.
 */
export interface JobLease {
  jobId: number;
  workerId: string;
  attempt: number;
}

/** The lease a claimed job was handed (claimJobs sets `lockedBy` and `attempts`). */
export function leaseOf(job: Pick<ImportJobRow, 'id' | 'lockedBy' | 'attempts'>): JobLease {
  return { jobId: job.id, workerId: job.lockedBy ?? '', attempt: job.attempts };
}

/** This attempt's job, while the lease is still its own. */
function held(lease: JobLease): SQL {
  return sql`id = ${lease.jobId} and locked_by = ${lease.workerId}
    and attempts = ${lease.attempt} and status = 'running'`;
}

/** Extends the lease of a job this worker still holds; false when it lost the job. */
export async function extendLease(db: Db, lease: JobLease, leaseMs: number): Promise<boolean> {
  const rows = rowsOf<{ id: number }>(
    await db.execute(sql`
      update import_jobs set locked_until = now() + ${leaseMs} * interval '1 millisecond'
      where ${held(lease)}
      returning id`),
  );
  return rows.length > 0;
}

/**
 * Inside a transaction that writes an import's outcome: whether the lease is still held and
 * unexpired, and if so keeps it so until the transaction ends (a row lock the claim skips and a
 * renewal waits for). A worker that lost its job therefore never commits an outcome for it.
 */
export async function holdsLease(tx: Tx, lease: JobLease): Promise<boolean> {
  const rows = rowsOf<{ id: number }>(
    await tx.execute(sql`
      select id from import_jobs
      where ${held(lease)} and locked_until > now()
      for share`),
  );
  return rows.length > 0;
}

/**
 * Hands a job back to the queue, due now, when its worker stops before the job's outcome: the
 * attempt stays counted (a job that gets its worker stopped every time still runs out of
 * attempts), and the next claim by any worker takes it.
 */
export async function releaseJob(db: Db, lease: JobLease): Promise<boolean> {
  const rows = rowsOf<{ id: number }>(
    await db.execute(sql`
      update import_jobs
      set status = 'queued', run_at = now(), locked_by = null, locked_until = null,
          updated_at = now()
      where ${held(lease)}
      returning id`),
  );
  return rows.length > 0;
}

/** Seconds before retry n (1-based): e^min(n, 10), as graphile-worker backs off (2.7 s … 6 h). */
export function backoffSeconds(attempts: number): number {
  return Math.exp(Math.min(attempts, 10));
}

export async function completeJob(
  db: Db,
  lease: JobLease,
  result: Record<string, unknown>,
): Promise<void> {
  await db.execute(sql`
    update import_jobs
    set status = 'succeeded', result = ${JSON.stringify(result)}::text::jsonb, last_error = null,
        locked_by = null, locked_until = null, finished_at = now(), updated_at = now()
    where ${held(lease)}`);
}

/**
 * Records a failed attempt: back to the queue after a backoff while attempts remain and `retry`
 * allows, otherwise failed for good. `result` keeps what was learnt (per-image reasons) either way.
 */
export async function failJob(
  db: Db,
  job: Pick<ImportJobRow, 'id' | 'attempts' | 'maxAttempts'>,
  workerId: string,
  error: string,
  result: Record<string, unknown> | null,
  backoffScale = 1,
  retry = true,
): Promise<'retry' | 'failed'> {
  const final = !retry || job.attempts >= job.maxAttempts;
  const delayMs = Math.round(backoffSeconds(job.attempts) * 1000 * backoffScale);
  await db.execute(sql`
    update import_jobs
    set status = ${final ? 'failed' : 'queued'}::import_job_status,
        last_error = ${error},
        result = ${result === null ? null : JSON.stringify(result)}::text::jsonb,
        run_at = now() + ${delayMs} * interval '1 millisecond',
        locked_by = null, locked_until = null, updated_at = now(),
        finished_at = ${final ? sql`now()` : sql`null`}
    where ${held({ jobId: job.id, workerId, attempt: job.attempts })}`);
  return final ? 'failed' : 'retry';
}

export async function getJob(db: Db, jobId: number): Promise<ImportJobRow | null> {
  const rows = rowsOf<RawJob>(await db.execute(sql`select * from import_jobs where id = ${jobId}`));
  return rows[0] ? toJob(rows[0]) : null;
}
