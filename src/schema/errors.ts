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

const FieldProblemRef = builder.objectRef<FieldProblem>('FieldProblem').implement({
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
