// What one import job may spend on registry requests: a wall-clock deadline and bytes read.
import { RegistryError } from './errors.ts';

/**
 * Shared by every request of one job (retries included). The deadline, or the job's own abort
 * signal (its worker stopping or losing the job), aborts whatever request is in flight; bytes
 * are counted as they arrive, so a body that would take the job past its allowance is cut off
 * mid-stream instead of being read whole first.
 */
export class RequestBudget {
  private readonly controller = new AbortController();
  private readonly timer: NodeJS.Timeout;
  private readonly aborted: AbortSignal;
  private used = 0;

  constructor(
    /** Bytes of response bodies the job may read in total. */
    readonly maxBytes: number,
    /** Milliseconds from now until every request of the job is aborted. */
    readonly deadlineMs: number,
    /** Aborts every request of the job too, with this signal's reason (the job was cancelled). */
    cancel?: AbortSignal,
  ) {
    const seconds = Math.round(deadlineMs / 100) / 10;
    this.timer = setTimeout(() => {
      this.controller.abort(
        new RegistryError(
          'Timeout',
          `the import job ran past its deadline of ${seconds} s; the registry was too slow`,
          { retryable: true },
        ),
      );
    }, deadlineMs);
    this.timer.unref();
    this.aborted = cancel
      ? AbortSignal.any([this.controller.signal, cancel])
      : this.controller.signal;
  }

  /**
   * Aborted once the deadline passes (its reason a `Timeout` RegistryError) or the job is
   * cancelled (the cancel signal's reason).
   */
  get signal(): AbortSignal {
    return this.aborted;
  }

  get bytesRead(): number {
    return this.used;
  }

  get bytesLeft(): number {
    return Math.max(0, this.maxBytes - this.used);
  }

  /** Throws the `Timeout` error once the deadline has passed, or the cancellation. */
  checkDeadline(): void {
    if (this.aborted.aborted) throw this.aborted.reason;
  }

  /** Counts bytes read for `subject`; throws `TooLarge` once the job is past its allowance. */
  charge(bytes: number, subject: string): void {
    this.used += bytes;
    if (this.used > this.maxBytes) throw this.exceeded(subject);
  }

  /** The error for a body that would take the job past its allowance. */
  exceeded(subject: string): RegistryError {
    return new RegistryError(
      'TooLarge',
      `reading ${subject} would take the import job past its budget of ${this.maxBytes} bytes read from registries`,
    );
  }

  /** Stops the deadline timer (the job is over). */
  dispose(): void {
    clearTimeout(this.timer);
  }
}
