// What one import job may spend on registry requests: a wall-clock deadline and bytes read.
import { RegistryError } from './errors.ts';

/**
 * Shared by every request of one job (retries included). The deadline aborts whatever request
 * is in flight when it passes; bytes are counted as they arrive, so a body that would take the
 * job past its allowance is cut off mid-stream instead of being read whole first.
 */
export class RequestBudget {
  private readonly controller = new AbortController();
  private readonly timer: NodeJS.Timeout;
  private used = 0;

  constructor(
    /** Bytes of response bodies the job may read in total. */
    readonly maxBytes: number,
    /** Milliseconds from now until every request of the job is aborted. */
    readonly deadlineMs: number,
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
  }

  /** Aborted, with a `Timeout` RegistryError as its reason, once the deadline passes. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get bytesRead(): number {
    return this.used;
  }

  get bytesLeft(): number {
    return Math.max(0, this.maxBytes - this.used);
  }

  /** Throws the `Timeout` error once the deadline has passed. */
  checkDeadline(): void {
    if (this.controller.signal.aborted) throw this.controller.signal.reason;
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
