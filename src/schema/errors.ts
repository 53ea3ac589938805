// The GraphQL shapes of expected failures: an `Error` interface and one type per kind.
import { builder } from '../builder.ts';
import {
  ConflictError,
  type FieldProblem,
  ForbiddenError,
  NotFoundError,
  ValidationError,
} from '../errors.ts';

export const ErrorInterface = builder.interfaceRef<Error & { code: string; field: string | null }>(
  'Error',
);
ErrorInterface.implement({
  description: 'An expected failure of a mutation: bad input, a missing object, a conflict.',
  fields: (t) => ({
    message: t.exposeString('message'),
    code: t.exposeString('code'),
    field: t.exposeString('field', {
      nullable: true,
      description: 'The input field at fault, as a path from the mutation input.',
    }),
  }),
});

export const FieldProblemRef = builder.objectRef<FieldProblem>('FieldProblem').implement({
  fields: (t) => ({
    field: t.exposeString('field'),
    message: t.exposeString('message'),
  }),
});

builder.objectType(ValidationError, {
  name: 'ValidationError',
  interfaces: [ErrorInterface],
  fields: (t) => ({
    problems: t.field({ type: [FieldProblemRef], resolve: (e) => e.problems }),
  }),
});

builder.objectType(NotFoundError, { name: 'NotFoundError', interfaces: [ErrorInterface] });

builder.objectType(ConflictError, {
  name: 'ConflictError',
  interfaces: [ErrorInterface],
  fields: (t) => ({
    candidates: t.exposeStringList('candidates', {
      description: 'For an ambiguous short image id: the digests it matched.',
    }),
  }),
});

builder.objectType(ForbiddenError, { name: 'ForbiddenError', interfaces: [ErrorInterface] });

// The error types a mutation can return, named by what it does; each list's order is the order of
// the members in the mutation's result union.

/** Changing an object that must exist: bad input, no such object, a conflict, a refused namespace. */
export const EDIT_ERRORS = [ValidationError, NotFoundError, ConflictError, ForbiddenError];
/** Creating an object: bad input, one of that name already there, a refused namespace. */
export const CREATE_ERRORS = [ValidationError, ConflictError, ForbiddenError];
/** Acting on an object that must exist, with no version to conflict on. */
export const ACT_ERRORS = [ValidationError, NotFoundError, ForbiddenError];
/** Deleting an object that must exist, optionally at an expected version. */
export const DELETE_ERRORS = [NotFoundError, ConflictError, ForbiddenError];
/** Removing something by its name alone: no such thing, or a refused namespace. */
export const REMOVE_ERRORS = [NotFoundError, ForbiddenError];
/** Checking input in a namespace: bad input or a refused namespace. */
export const INPUT_ERRORS = [ValidationError, ForbiddenError];
