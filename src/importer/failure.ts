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
