// What an import failure looks like to users: a condition reason, a sentence, and a retry hint.
import { type Logger, stdSerializers } from 'pino';
import { RegistryError } from '../registry/errors.ts';

export interface Failure {
  reason: string;
  message: string;
  /** Whether another attempt may succeed (registry down, rate limited). */
  retryable: boolean;
}

/** A failure that is not the registry's: a bad stored reference, a stream deleted meanwhile. */
export class ImportFailure extends Error {
  override readonly name = 'ImportFailure';
  constructor(
    readonly reason: string,
    message: string,
    readonly retryable = false,
  ) {
    super(message);
  }
}

/**
 * Why a job stopped before its outcome: the worker is stopping (`shutdown`), or the job is no
 * longer leased to it (`lease-lost`: taken over, or not renewed in time). A cancelled job writes
 * nothing of its own; the abort signal of the job carries one of these as its reason.
 */
export class ImportCancelled extends Error {
  override readonly name = 'ImportCancelled';
  constructor(
    readonly kind: 'shutdown' | 'lease-lost',
    message: string,
  ) {
    super(message);
  }
}

/** Rethrows the job's cancellation when `signal` was aborted or `error` is one. */
export function rethrowIfCancelled(error: unknown, signal: AbortSignal | undefined): void {
  if (error instanceof ImportCancelled) throw error;
  if (signal?.aborted) throw signal.reason;
}

export function describeFailure(error: unknown): Failure {
  if (error instanceof RegistryError || error instanceof ImportFailure) {
    return { reason: error.reason, message: error.message, retryable: error.retryable };
  }
  // Anything else is our own fault (a database error, a bug): its text may hold SQL, so users get
  // a fixed sentence and the server log (logImportFailure) gets the error.
  return {
    reason: 'InternalError',
    message: 'internal error while importing; the server log has the details',
    retryable: true,
  };
}

/**
 * Logs what a failure's user-facing message leaves out. A registry failure's cause chain (the
 * system error, the address a name resolved to) at warn; an unexpected error whole, at error. A
 * RegistryError without a cause, or an ImportFailure, says everything in its message.
 */
export function logImportFailure(
  log: Logger,
  error: unknown,
  fields: Record<string, unknown>,
): void {
  if (!(error instanceof RegistryError) && !(error instanceof ImportFailure)) {
    log.error({ ...fields, err: error }, 'import failed unexpectedly');
    return;
  }
  if (!(error instanceof RegistryError) || error.cause === undefined) return;
  log.warn(
    { ...fields, reason: error.reason, error: stdSerializers.errWithCause(error) },
    'registry request failed',
  );
}
