// Keeping one running job's lease: renewals, and the job's abort signal when the lease is lost.
import type { Logger } from 'pino';
import type { Db, Tx } from '../db/client.ts';
import { RepeatedFailureLog } from '../log.ts';
import { extendLease, holdsLease, type JobLease } from '../services/importQueue.ts';
import { ImportCancelled } from './failure.ts';

/**
 * Renews the lease every third of its length. The job's signal is aborted with `lease-lost` when
 * a renewal finds the job no longer leased to this worker, or when no renewal succeeded before
 * the lease would run out: timed from when the last successful renewal (or the claim) was sent,
 * which is never later than the database's own clock put the expiry, so the job stops before
 * another worker may claim it.
 */
export class LeaseKeeper {
  private readonly controller = new AbortController();
  private readonly beat: NodeJS.Timeout;
  private expiry: NodeJS.Timeout;
  private renewing = false;
  private readonly failures: RepeatedFailureLog;

  constructor(
    private readonly db: Db,
    readonly lease: JobLease,
    private readonly leaseMs: number,
    /** The job's logger (with its id); renewal failures are logged at warn. */
    log: Logger,
    /** performance.now() when the claim that granted the lease was sent. */
    claimedAt: number,
  ) {
    this.failures = new RepeatedFailureLog(
      log,
      'renewing the lease of an import job',
      Date.now,
      'warn',
    );
    this.expiry = this.expireAt(claimedAt + leaseMs);
    this.beat = setInterval(() => this.renew(), leaseMs / 3);
    this.beat.unref();
  }

  /** Aborted when the job must stop: its reason is an ImportCancelled. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Stops the job (a no-op once it is stopped); `reason` reaches everything it awaits. */
  cancel(reason: ImportCancelled): void {
    if (!this.controller.signal.aborted) this.controller.abort(reason);
  }

  /** Stops renewing (the job is over). */
  dispose(): void {
    clearInterval(this.beat);
    clearTimeout(this.expiry);
  }

  private renew(): void {
    if (this.renewing || this.signal.aborted) return;
    this.renewing = true;
    const sentAt = performance.now();
    extendLease(this.db, this.lease, this.leaseMs)
      .then((held) => {
        if (!held) {
          this.cancel(
            new ImportCancelled(
              'lease-lost',
              'the job is no longer leased to this worker (another worker took it over)',
            ),
          );
          return;
        }
        this.failures.succeeded();
        clearTimeout(this.expiry);
        if (!this.signal.aborted) this.expiry = this.expireAt(sentAt + this.leaseMs);
      })
      .catch((error: unknown) => this.failures.failed(error))
      .finally(() => {
        this.renewing = false;
      });
  }

  private expireAt(at: number): NodeJS.Timeout {
    const timer = setTimeout(
      () => {
        this.cancel(
          new ImportCancelled(
            'lease-lost',
            `the lease could not be renewed within ${this.leaseMs} ms, so another worker may take the job over`,
          ),
        );
      },
      Math.max(0, at - performance.now()),
    );
    timer.unref();
    return timer;
  }
}

/** Writes an import's outcome only while the attempt still holds its job (inside the write). */
export type LeaseFence = (tx: Tx) => Promise<void>;

/**
 * The fence for `lease`: throws the job's cancellation when `signal` was aborted, and a
 * `lease-lost` ImportCancelled when the job is no longer this attempt's, rolling the write back.
 */
export function leaseFence(lease: JobLease, signal: AbortSignal): LeaseFence {
  return async (tx) => {
    signal.throwIfAborted();
    if (!(await holdsLease(tx, lease))) {
      throw new ImportCancelled(
        'lease-lost',
        'the lease ended before the outcome was written (another worker may hold the job)',
      );
    }
  };
}
