// The import worker: claims jobs with bounded concurrency (in all, and per namespace), keeps
// their leases, cancels them on stop or a lost lease, records outcomes.
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { type Coalesced, coalesceLogged } from '../coalesce.ts';
import type { Database } from '../db/client.ts';
import { jobActor } from '../domain/actors.ts';
import { actingAs } from '../events/append.ts';
import { RepeatedFailureLog } from '../log.ts';
import { IMPORT_JOBS_CHANNEL } from '../services/importJobs.ts';
import {
  claimJobs,
  completeJob,
  failJob,
  type ImportJobRow,
  leaseOf,
  releaseJob,
} from '../services/importQueue.ts';
import { inSpan } from '../tracing.ts';
import { ImportCancelled } from './failure.ts';
import { type ClaimedJob, parseClaimedJob } from './jobRequest.ts';
import { LeaseKeeper } from './lease.ts';
import { importCause } from './metrics.ts';

export type JobOutcome =
  | { ok: true; result: Record<string, unknown> }
  /** `retry: false` for failures another attempt cannot fix (bad input, not found). */
  | { ok: false; error: string; result: Record<string, unknown> | null; retry: boolean };

/**
 * Runs one attempt. `signal` is aborted, with an ImportCancelled as its reason, when the worker
 * stops or loses the job's lease; the executor then rejects with that reason (or any error) and
 * writes nothing more.
 */
export type JobExecutor = (job: ClaimedJob, signal: AbortSignal) => Promise<JobOutcome>;

export interface WorkerOptions {
  /** Jobs run at once by this process. @default 4 */
  concurrency?: number;
  /**
   * Jobs of one namespace run at once by this process, so one namespace's slow jobs cannot
   * hold every slot. @default concurrency (no separate limit)
   */
  namespaceConcurrency?: number;
  /** A job whose worker stops renewing this lease is taken over by another. @default 60000 */
  leaseMs?: number;
  /** Poll for jobs as a fallback to NOTIFY. @default 1000 */
  pollMs?: number;
  /** Multiplies retry backoff (tests shrink it). @default 1 */
  backoffScale?: number;
  workerId?: string;
}

export class ImportWorker {
  readonly workerId: string;
  private readonly concurrency: number;
  private readonly namespaceConcurrency: number;
  private readonly leaseMs: number;
  private readonly pollMs: number;
  private readonly backoffScale: number;
  private readonly active = new Set<Promise<void>>();
  /** The leases of the jobs running now, to cancel them on stop. */
  private readonly leases = new Set<LeaseKeeper>();
  /** Running jobs by namespace (namespaces with none are absent). */
  private readonly perNamespace = new Map<string, number>();
  private readonly claimer: Coalesced;
  private stopped = true;
  private timer: NodeJS.Timeout | null = null;
  private unlisten: (() => Promise<void>) | null = null;

  constructor(
    private readonly database: Database,
    private readonly log: Logger,
    private readonly execute: JobExecutor,
    options: WorkerOptions = {},
  ) {
    this.workerId = options.workerId ?? `worker-${process.pid}-${randomUUID().slice(0, 8)}`;
    this.concurrency = options.concurrency ?? 4;
    this.namespaceConcurrency = Math.min(
      options.namespaceConcurrency ?? this.concurrency,
      this.concurrency,
    );
    this.leaseMs = options.leaseMs ?? 60_000;
    this.pollMs = options.pollMs ?? 1000;
    this.backoffScale = options.backoffScale ?? 1;
    const failures = new RepeatedFailureLog(this.log, 'claiming import jobs');
    this.claimer = coalesceLogged(() => this.claim(), failures);
  }

  async start(): Promise<void> {
    this.stopped = false;
    this.unlisten = await this.database.listen(IMPORT_JOBS_CHANNEL, () => this.poke());
    this.timer = setInterval(() => this.poke(), this.pollMs);
    this.timer.unref();
    this.poke();
  }

  /** Jobs this worker is running now. */
  get runningCount(): number {
    return this.active.size;
  }

  /** Resolves once no claim is in flight (a test waits for it before it enqueues). */
  async claimsIdle(): Promise<void> {
    await this.claimer.idle();
  }

  /**
   * Stops claiming, cancels the jobs in hand (their registry requests are aborted) and waits for
   * them to hand their jobs back to the queue.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    const unlisten = this.unlisten;
    this.unlisten = null;
    await unlisten?.().catch(() => {});
    await this.claimer.idle();
    const stopping = new ImportCancelled('shutdown', 'the worker is stopping');
    for (const lease of this.leases) lease.cancel(stopping);
    await Promise.allSettled([...this.active]);
  }

  /** Claims what is due now and runs it to the end (tests drain the queue with this). */
  async runOnce(): Promise<number> {
    const started = await this.claimAvailable(() => true);
    await Promise.all(started);
    return started.length;
  }

  private poke(): void {
    if (!this.stopped) this.claimer.poke();
  }

  private async claim(): Promise<void> {
    await this.claimAvailable(() => !this.stopped);
  }

  /**
   * Claims jobs while slots are free, leaving out namespaces at their limit. Each claim asks for
   * no more jobs than the namespace with the least room left could take, so a claim never
   * returns more jobs of one namespace than it may run; a short claim means nothing else is due.
   */
  private async claimAvailable(proceed: () => boolean): Promise<Promise<void>[]> {
    const started: Promise<void>[] = [];
    while (proceed()) {
      const free = this.concurrency - this.active.size;
      const full: string[] = [];
      let room = this.namespaceConcurrency;
      for (const [namespace, running] of this.perNamespace) {
        const left = this.namespaceConcurrency - running;
        if (left <= 0) full.push(namespace);
        else room = Math.min(room, left);
      }
      const limit = Math.min(free, room);
      if (limit <= 0) break;
      const claimedAt = performance.now();
      const jobs = await claimJobs(this.database.db, this.workerId, limit, this.leaseMs, full);
      for (const job of jobs) started.push(this.launch(job, claimedAt));
      if (jobs.length < limit) break;
    }
    return started;
  }

  private launch(job: ImportJobRow, claimedAt: number): Promise<void> {
    this.perNamespace.set(job.namespace, (this.perNamespace.get(job.namespace) ?? 0) + 1);
    const running: Promise<void> = this.run(job, claimedAt).finally(() => {
      const left = (this.perNamespace.get(job.namespace) ?? 1) - 1;
      if (left > 0) this.perNamespace.set(job.namespace, left);
      else this.perNamespace.delete(job.namespace);
      this.active.delete(running);
      this.poke();
    });
    this.active.add(running);
    return running;
  }

  /** One job in a trace of its own: its SQL and registry requests are its spans' children. */
  private run(job: ImportJobRow, claimedAt: number): Promise<void> {
    const parsed = parseClaimedJob(job);
    return inSpan(
      'import job',
      {
        'tagraph.import.job_id': job.id,
        'tagraph.import.attempt': job.attempts,
        'tagraph.import.cause': importCause(parsed.ok ? parsed.job.request.cause : undefined),
      },
      async () => {
        const log = this.log.child({ jobId: job.id, attempt: job.attempts });
        if (parsed.ok) {
          const job = parsed.job;
          return actingAs(jobActor(job.request.actor), () => this.runJob(job, claimedAt, log));
        }
        // Another attempt reads the same row: failed for good, with what is wrong in it.
        log.warn(
          { reason: parsed.error.reason, error: parsed.error.message },
          'import job failed: its request is malformed',
        );
        await failJob(this.database.db, job, this.workerId, parsed.error.message, null, 1, false);
      },
    );
  }

  private async runJob(job: ClaimedJob, claimedAt: number, log: Logger): Promise<void> {
    const lease = new LeaseKeeper(this.database.db, leaseOf(job), this.leaseMs, log, claimedAt);
    this.leases.add(lease);
    try {
      let outcome: JobOutcome;
      try {
        outcome = await this.execute(job, lease.signal);
      } catch (error) {
        const cancelled = cancellation(error, lease.signal);
        if (cancelled) return await this.abandon(lease, cancelled, log);
        outcome = { ok: false, error: (error as Error).message, result: null, retry: true };
      }
      // An outcome that arrived after the lease was lost is not this worker's to write.
      const cancelled = cancellation(null, lease.signal);
      if (cancelled?.kind === 'lease-lost') return await this.abandon(lease, cancelled, log);
      if (outcome.ok) {
        await completeJob(this.database.db, lease.lease, outcome.result);
        log.info('import job succeeded');
      } else {
        const next = await failJob(
          this.database.db,
          job,
          this.workerId,
          outcome.error,
          outcome.result,
          this.backoffScale,
          outcome.retry,
        );
        log.warn({ error: outcome.error, next }, 'import job failed');
      }
    } finally {
      lease.dispose();
      this.leases.delete(lease);
    }
  }

  /**
   * A cancelled attempt writes no outcome. Stopping hands the job back to the queue at once; a
   * lost lease leaves the job to whichever worker holds it now, or to the next claim.
   */
  private async abandon(lease: LeaseKeeper, why: ImportCancelled, log: Logger): Promise<void> {
    if (why.kind === 'lease-lost') {
      log.warn(
        { reason: why.message },
        'import job cancelled: its lease was lost; nothing written',
      );
      return;
    }
    try {
      const released = await releaseJob(this.database.db, lease.lease);
      log.info(
        { released },
        'import job cancelled: the worker is stopping; handed back to the queue',
      );
    } catch (error) {
      // The lease runs out on its own and the next claim takes the job over.
      log.warn({ err: error }, 'import job cancelled at stop, and could not be handed back');
    }
  }
}

/** The job's cancellation, if `error` is one or the job's signal was aborted. */
function cancellation(error: unknown, signal: AbortSignal): ImportCancelled | null {
  if (error instanceof ImportCancelled) return error;
  return signal.aborted && signal.reason instanceof ImportCancelled ? signal.reason : null;
}
