// The import worker: claims jobs with bounded concurrency (in all, and per namespace), keeps
// their leases, records outcomes.
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { type Coalesced, coalesce } from '../coalesce.ts';
import type { Database } from '../db/client.ts';
import { RepeatedFailureLog } from '../log.ts';
import { IMPORT_JOBS_CHANNEL } from '../services/importJobs.ts';
import { inSpan } from '../tracing.ts';
import { importCause } from './metrics.ts';
import { claimJobs, completeJob, extendLease, failJob, type ImportJobRow } from './queue.ts';

export type JobOutcome =
  | { ok: true; result: Record<string, unknown> }
  /** `retry: false` for failures another attempt cannot fix (bad input, not found). */
  | { ok: false; error: string; result: Record<string, unknown> | null; retry: boolean };

export type JobExecutor = (job: ImportJobRow) => Promise<JobOutcome>;

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
    this.claimer = coalesce(
      () => this.claim().then(() => failures.succeeded()),
      (error) => failures.failed(error),
    );
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

  /** Stops claiming and waits for the jobs in hand to finish. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.unlisten?.().catch(() => {});
    await this.claimer.idle();
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
      const jobs = await claimJobs(this.database.db, this.workerId, limit, this.leaseMs, full);
      for (const job of jobs) started.push(this.launch(job));
      if (jobs.length < limit) break;
    }
    return started;
  }

  private launch(job: ImportJobRow): Promise<void> {
    this.perNamespace.set(job.namespace, (this.perNamespace.get(job.namespace) ?? 0) + 1);
    const running: Promise<void> = this.run(job).finally(() => {
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
  private run(job: ImportJobRow): Promise<void> {
    const request = job.request as { cause?: string };
    return inSpan(
      'import job',
      {
        'tagraph.import.job_id': job.id,
        'tagraph.import.attempt': job.attempts,
        'tagraph.import.cause': importCause(request.cause),
      },
      () => this.runJob(job),
    );
  }

  private async runJob(job: ImportJobRow): Promise<void> {
    const log = this.log.child({ jobId: job.id, attempt: job.attempts });
    // Renew the lease at a third of its length, so one missed beat does not lose the job.
    const heartbeat = setInterval(() => {
      void extendLease(this.database.db, job.id, this.workerId, this.leaseMs).catch(() => {});
    }, this.leaseMs / 3);
    heartbeat.unref();
    try {
      let outcome: JobOutcome;
      try {
        outcome = await this.execute(job);
      } catch (error) {
        outcome = { ok: false, error: (error as Error).message, result: null, retry: true };
      }
      if (outcome.ok) {
        await completeJob(this.database.db, job.id, this.workerId, outcome.result);
        log.info('import job succeeded');
      } else {
        const exhausted = outcome.retry ? job : { ...job, attempts: job.maxAttempts };
        const next = await failJob(
          this.database.db,
          exhausted,
          this.workerId,
          outcome.error,
          outcome.result,
          this.backoffScale,
        );
        log.warn({ error: outcome.error, next }, 'import job failed');
      }
    } finally {
      clearInterval(heartbeat);
    }
  }
}
