// Which role each root field needs, by the namespace its arguments name (plugin-scope-auth). These
// are the first line only: the services authorize every namespace they parse out of references.
import { GraphQLError } from 'graphql';
import type { Result } from '../errors.ts';
/** The namespace of `[ns/]stream:tag` or `[ns/]stream@id`, else the given default. */
export function namespaceOfRef(ref: string, fallback: string): string {
  const slash = ref.indexOf('/');
  return slash > 0 ? ref.slice(0, slash) : fallback;
}

type WithNamespace = { namespace: string };

/** image-puller in `args.namespace`. */
export const readArgs = (_root: unknown, args: WithNamespace) => ({ read: args.namespace });

/** editor in `args.namespace`. */
export const editArgs = (_root: unknown, args: WithNamespace) => ({ edit: args.namespace });

/** admin of `args.namespace`. */
export const adminArgs = (_root: unknown, args: WithNamespace) => ({ admin: args.namespace });

/** editor in `args.input.namespace`. */
export const editInput = (_root: unknown, args: { input: WithNamespace }) => ({
  edit: args.input.namespace,
});

/** admin of `args.input.namespace`. */
export const adminInput = (_root: unknown, args: { input: WithNamespace }) => ({
  admin: args.input.namespace,
});

/** editor where `args.input.ref` (`[ns/]stream:tag`) points. */
export const editRef = (_root: unknown, args: { input: WithNamespace & { ref: string } }) => ({
  edit: namespaceOfRef(args.input.ref, args.input.namespace),
});

/** image-puller where `args.ref` (`[ns/]stream:tag` or `[ns/]stream@id`) points. */
export const readRef = (_root: unknown, args: WithNamespace & { ref: string }) => ({
  read: namespaceOfRef(args.ref, args.namespace),
});

/** editor where `args.input.image` (`[ns/]stream[:tag]`) points. */
export const editImage = (_root: unknown, args: { input: WithNamespace & { image: string } }) => ({
  edit: namespaceOfRef(args.input.image, args.input.namespace),
});

/**
 * A positive integer id (import jobs, tokens, paging keys), or a typed BAD_USER_INPUT error naming
 * the argument: never NaN reaching a query.
 */
export function integerId(value: string, arg: string): number {
  if (/^[1-9][0-9]{0,15}$/.test(value)) {
    const id = Number(value);
    if (Number.isSafeInteger(id)) return id;
  }
  throw new GraphQLError(`"${arg}" must be a positive integer id`, {
    extensions: { code: 'BAD_USER_INPUT', field: arg },
  });
}

/**
 * For fields without an error union (lists, connections): the value, or the expected error as a
 * GraphQLError carrying its code (`FORBIDDEN`, `VALIDATION`, …) and field.
 */
export function valueOrGraphQLError<T>(result: Result<T>): T {
  if (result.ok) return result.value;
  throw new GraphQLError(result.error.message, {
    extensions: { code: result.error.code, field: result.error.field },
  });
}
