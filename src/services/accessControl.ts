// Role bindings (`oc policy add-role-to-user|group`) and API tokens, validated and stored.

import { and, asc, eq } from 'drizzle-orm';
import { refusal } from '../auth/authorize.ts';
import type { AccessChecker, Role } from '../auth/roles.ts';
import type { Db } from '../db/client.ts';
import { apiTokens, roleBindings } from '../db/schema.ts';
import { validateNamespace } from '../domain/names.ts';
import { fail, NotFoundError, ok, type Result, ValidationError } from '../errors.ts';

export type SubjectKind = 'User' | 'Group';

export interface RoleBindingInput {
  namespace: string;
  role: Role;
  subjectKind: SubjectKind;
  subjectName: string;
}

const SUBJECT = /^[^\s/]{1,253}$/;

function check(input: RoleBindingInput): ValidationError | null {
  const problems = [...(validateNamespace(input.namespace) ?? [])];
  if (!SUBJECT.test(input.subjectName)) {
    problems.push({
      field: input.subjectKind === 'User' ? 'user' : 'group',
      message: 'must be 1 to 253 characters without spaces or slashes',
    });
  }
  return problems.length > 0 ? new ValidationError(problems) : null;
}

/**
 * Grants a role; granting one that exists already changes nothing. The caller must be an admin
 * of the namespace.
 */
export async function addRoleBinding(
  db: Db,
  access: AccessChecker,
  input: RoleBindingInput,
): Promise<Result<RoleBindingInput>> {
  const refused = await refusal(access, 'admin', input.namespace, 'namespace', {
    verb: 'create',
    resource: 'rolebindings',
  });
  if (refused) return fail(refused);
  const invalid = check(input);
  if (invalid) return fail(invalid);
  await db.insert(roleBindings).values(input).onConflictDoNothing();
  return ok(input);
}

/** Removes a grant; the caller must be an admin of the namespace. */
export async function removeRoleBinding(
  db: Db,
  access: AccessChecker,
  input: RoleBindingInput,
): Promise<Result<RoleBindingInput>> {
  const refused = await refusal(access, 'admin', input.namespace, 'namespace', {
    verb: 'delete',
    resource: 'rolebindings',
  });
  if (refused) return fail(refused);
  const removed = await db
    .delete(roleBindings)
    .where(
      and(
        eq(roleBindings.namespace, input.namespace),
        eq(roleBindings.role, input.role),
        eq(roleBindings.subjectKind, input.subjectKind),
        eq(roleBindings.subjectName, input.subjectName),
      ),
    )
    .returning({ namespace: roleBindings.namespace });
  if (removed.length === 0) {
    return fail(
      new NotFoundError(
        `${input.subjectKind.toLowerCase()} ${input.subjectName} has no role ${input.role} in ${input.namespace}`,
      ),
    );
  }
  return ok(input);
}

/** The namespace's grants; the caller must be an admin of the namespace. */
export async function listRoleBindings(
  db: Db,
  access: AccessChecker,
  namespace: string,
): Promise<Result<RoleBindingInput[]>> {
  const refused = await refusal(access, 'admin', namespace, 'namespace', {
    verb: 'list',
    resource: 'rolebindings',
  });
  if (refused) return fail(refused);
  const rows = await db
    .select({
      namespace: roleBindings.namespace,
      role: roleBindings.role,
      subjectKind: roleBindings.subjectKind,
      subjectName: roleBindings.subjectName,
    })
    .from(roleBindings)
    .where(eq(roleBindings.namespace, namespace))
    .orderBy(asc(roleBindings.role), asc(roleBindings.subjectKind), asc(roleBindings.subjectName));
  return ok(rows);
}

export function checkTokenInput(input: {
  subject: string;
  groups: string[];
}): ValidationError | null {
  const problems = [];
  if (!SUBJECT.test(input.subject)) {
    problems.push({
      field: 'subject',
      message: 'must be 1 to 253 characters without spaces or slashes',
    });
  }
  for (const [i, group] of input.groups.entries()) {
    if (!SUBJECT.test(group)) problems.push({ field: `groups.${i}`, message: 'not a group name' });
  }
  return problems.length > 0 ? new ValidationError(problems) : null;
}

export async function listTokens(db: Db) {
  return db
    .select({
      id: apiTokens.id,
      subject: apiTokens.subject,
      groups: apiTokens.groups,
      clusterAdmin: apiTokens.clusterAdmin,
      description: apiTokens.description,
      createdAt: apiTokens.createdAt,
      revokedAt: apiTokens.revokedAt,
    })
    .from(apiTokens)
    .orderBy(asc(apiTokens.id));
}
