// Authorizing the namespaces an operation touches: services turn parsed references into
// Authorized values here before they read or write anything in those namespaces.
import { parseImageStreamTagRef, type StreamTagRef } from '../domain/references.ts';
import { ForbiddenError, fail, fromDomain, ok, type Result } from '../errors.ts';
import { type Action, forbiddenNamespaceMessage } from './forbidden.ts';
import type { AccessChecker, Role } from './roles.ts';

declare const authorizedRole: unique symbol;

/**
 * A parsed reference whose namespace the caller holds `role` (or a stronger one) in. Only
 * `authorize` and `authorizeAll` make one, so a function that takes an `Authorized` value cannot
 * be reached with a namespace nobody checked.
 */
export type Authorized<T extends { namespace: string }> = T & {
  readonly [authorizedRole]: Role;
};

/** One namespace an operation needs a role in: the parsed target and the input field naming it. */
export interface Need<T extends { namespace: string }> {
  role: Role;
  target: T;
  /** The input field that named the namespace (reported on ForbiddenError). */
  field: string;
}

/** The error for a refused namespace; it names only what the caller sent. */
export function forbidden(
  access: AccessChecker,
  role: Role,
  namespace: string,
  field: string,
  action?: Action,
) {
  return new ForbiddenError(
    forbiddenNamespaceMessage(access.caller.subject, role, namespace, action),
    field,
  );
}

/** The target, marked authorized, when the caller holds `role` in its namespace. */
export async function authorize<T extends { namespace: string }>(
  access: AccessChecker,
  role: Role,
  target: T,
  field: string,
): Promise<Result<Authorized<T>>> {
  if (!(await access.can(role, target.namespace))) {
    return fail(forbidden(access, role, target.namespace, field));
  }
  return ok(target as Authorized<T>);
}

/**
 * Every target authorized, in the order given, or the first refusal. Roles are cached per request,
 * so naming one namespace many times asks the database once.
 */
export async function authorizeAll<T extends { namespace: string }>(
  access: AccessChecker,
  needs: readonly Need<T>[],
): Promise<Result<Authorized<T>[]>> {
  const out: Authorized<T>[] = [];
  for (const need of needs) {
    const checked = await authorize(access, need.role, need.target, need.field);
    if (!checked.ok) return checked;
    out.push(checked.value);
  }
  return ok(out);
}

/**
 * The `[ns/]stream:tag` a service's `ref` input names (`namespace` when it names none), parsed
 * and authorized: a VALIDATION error on `ref` when it does not parse, FORBIDDEN when the caller
 * lacks `role` in its namespace.
 */
export async function authorizeTagRef(
  access: AccessChecker,
  role: Role,
  input: { namespace: string; ref: string },
): Promise<Result<Authorized<StreamTagRef>>> {
  const parsed = parseImageStreamTagRef(input.ref, input.namespace, undefined, 'ref');
  if (!parsed.ok) return fail(fromDomain(parsed.error));
  return authorize(access, role, parsed.value, 'ref');
}

/** A bare namespace as a target, for operations that name one and nothing inside it. */
export function inNamespace(namespace: string): { namespace: string } {
  return { namespace };
}

/**
 * For services that act on the one namespace their input names: the failure to return when the
 * caller lacks `role` there, or null.
 */
export async function refusal(
  access: AccessChecker,
  role: Role,
  namespace: string,
  field = 'namespace',
  /** What the message says was refused (an image stream when not given). */
  action?: Action,
): Promise<Result<never> | null> {
  return (await access.can(role, namespace))
    ? null
    : fail(forbidden(access, role, namespace, field, action));
}
