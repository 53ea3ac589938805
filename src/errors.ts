// Expected failures: returned by services, surfaced by the schema as typed errors in payloads.

export interface FieldProblem {
  /** The offending input field, as a path from the mutation input (e.g. `name`, `labels.0.key`). */
  field: string;
  message: string;
}

abstract class UserError extends Error {
  abstract readonly code: string;
  constructor(
    message: string,
    /** The input field at fault, when one is. */
    readonly field: string | null = null,
  ) {
    super(message);
  }
}

export class ValidationError extends UserError {
  readonly code = 'VALIDATION';
  constructor(readonly problems: FieldProblem[]) {
    super(problems.map((p) => p.message).join('; '), problems[0]?.field ?? null);
  }
}

export class NotFoundError extends UserError {
  readonly code = 'NOT_FOUND';
}

export class ConflictError extends UserError {
  readonly code = 'CONFLICT';
  constructor(
    message: string,
    field: string | null = null,
    /** For ambiguous short ids: the digests that matched. */
    readonly candidates: string[] = [],
  ) {
    super(message, field);
  }
}

export class ForbiddenError extends UserError {
  readonly code = 'FORBIDDEN';
}

export type ExpectedError = ValidationError | NotFoundError | ConflictError | ForbiddenError;

/**
 * A value, or the failure a caller must handle instead of catching a throw. Services fail with an
 * ExpectedError (the default); the pure rules in src/domain fail with a DomainError, which a
 * service turns into an ExpectedError with fromDomain.
 */
export type Result<T, E = ExpectedError> = { ok: true; value: T } | { ok: false; error: E };

export const ok = <T, E = never>(value: T): Result<T, E> => ({ ok: true, value });
export const fail = <T = never, E = ExpectedError>(error: E): Result<T, E> => ({
  ok: false,
  error,
});

/**
 * The failures services return, by kind, so a service says `return notFound(message, 'name')`
 * instead of wrapping a new error class in fail() at each call.
 */
export const invalid = (problems: FieldProblem[]): Result<never> =>
  fail(new ValidationError(problems));
export const notFound = (message: string, field: string | null = null): Result<never> =>
  fail(new NotFoundError(message, field));
export const conflict = (message: string, field: string | null = null): Result<never> =>
  fail(new ConflictError(message, field));
export const denied = (message: string, field: string | null = null): Result<never> =>
  fail(new ForbiddenError(message, field));

/** For resolvers: the value, or the typed error thrown for the errors plugin to return. */
export function unwrap<T>(result: Result<T>): T {
  if (!result.ok) throw result.error;
  return result.value;
}

/** The typed error for a pure rule's failure (src/domain results carry a code and a field). */
export function fromDomain(error: {
  code: 'VALIDATION' | 'NOT_FOUND' | 'CONFLICT';
  message: string;
  field?: string | undefined;
  problems?: FieldProblem[];
  candidates?: string[];
}): ExpectedError {
  const field = error.field ?? null;
  switch (error.code) {
    case 'VALIDATION':
      return new ValidationError(
        error.problems?.length ? error.problems : [{ field: field ?? '', message: error.message }],
      );
    case 'NOT_FOUND':
      return new NotFoundError(error.message, field);
    case 'CONFLICT':
      return new ConflictError(error.message, field, error.candidates ?? []);
  }
}
