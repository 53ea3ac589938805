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
  return {
    reason: 'InternalError',
    message: `internal error: ${(error as Error)?.message ?? String(error)}`,
    retryable: true,
  };
}

/**
 * Logs at warn what a registry failure's message leaves out: its cause chain (the system error,
 * the address a name resolved to). Users see only the message; operators find the rest here.
 * A RegistryError without a cause says everything in its message and is not logged again.
 */
export function logRegistryCause(
  log: Logger,
  error: unknown,
  fields: Record<string, unknown>,
): void {
  if (!(error instanceof RegistryError) || error.cause === undefined) return;
  log.warn(
    { ...fields, reason: error.reason, error: stdSerializers.errWithCause(error) },
    'registry request failed',
  );
}
