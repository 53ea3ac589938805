// The one error type the registry client throws; its reason becomes an ImportSuccess condition reason.

export type RegistryErrorReason =
  | 'NotFound'
  | 'Unauthorized'
  | 'BadManifest'
  | 'DigestMismatch'
  | 'TooLarge'
  /**
   * A manifest or image config holds text no database can store (a NUL, a lone UTF-16
   * surrogate). Refused, not cleaned up: stored metadata stays what the digest verifies.
   */
  | 'InvalidImage'
  /** The import job ran past its deadline (the registry was too slow for it). */
  | 'Timeout'
  | 'Unavailable'
  | 'TLS'
  /** Refused by the SSRF guard: the host resolves to a private or special address. */
  | 'Blocked'
  | 'InternalError';

export interface RegistryErrorOptions {
  /** The HTTP status that caused it, when a response did. */
  status?: number;
  /** Whether trying again later may succeed. @default false */
  retryable?: boolean;
  cause?: unknown;
}

/**
 * A failure talking to a registry or reading what it served. The message is shown to users as
 * is: one sentence naming the image or registry and what went wrong, never a credential.
 */
export class RegistryError extends Error {
  override readonly name = 'RegistryError';
  readonly status?: number;
  readonly retryable: boolean;

  constructor(
    readonly reason: RegistryErrorReason,
    message: string,
    options: RegistryErrorOptions = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    if (options.status !== undefined) this.status = options.status;
    this.retryable = options.retryable ?? false;
  }
}
