// Role bindings (`oc policy add-role-to-user|group`) and API tokens, validated and stored.

import { and, asc, desc, eq, isNull } from 'drizzle-orm';
import { refusal } from '../auth/authorize.ts';
import type { AccessChecker, Role } from '../auth/roles.ts';
import { issueToken } from '../auth/tokens.ts';
import type { Db } from '../db/client.ts';
import { apiTokens, roleBindings } from '../db/schema.ts';
import { validateNamespace } from '../domain/names.ts';
import {
  conflict,
  denied,
  fail,
  invalid,
  notFound,
  ok,
  type Result,
  ValidationError,
} from '../errors.ts';
import { guarded } from './guards.ts';

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

/** Who may manage a namespace's role bindings: its admins. */
const bindingRefusal = (access: AccessChecker, namespace: string, verb: string) =>
  refusal(access, 'admin', namespace, 'namespace', { verb, resource: 'rolebindings' });

/** A change to one role binding, made once the caller is known to be an admin of its namespace. */
const bindingChange = (
  verb: string,
  change: (db: Db, input: RoleBindingInput) => Promise<Result<RoleBindingInput>>,
) =>
  guarded(
    (access, input: RoleBindingInput) => bindingRefusal(access, input.namespace, verb),
    change,
  );

/**
 * Grants a role; granting one that exists already changes nothing. The caller must be an admin
 * of the namespace.
 */
export const addRoleBinding = bindingChange('create', async (db, input) => {
  const invalid = check(input);
  if (invalid) return fail(invalid);
  await db.insert(roleBindings).values(input).onConflictDoNothing();
  return ok(input);
});

/** Removes a grant; the caller must be an admin of the namespace. */
export const removeRoleBinding = bindingChange('delete', async (db, input) => {
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
    return notFound(
      `${input.subjectKind.toLowerCase()} ${input.subjectName} has no role ${input.role} in ${input.namespace}`,
    );
  }
  return ok(input);
});

/** The namespace's grants; the caller must be an admin of the namespace. */
export const listRoleBindings = guarded(
  (access, namespace: string) => bindingRefusal(access, namespace, 'list'),
  async (db, namespace): Promise<Result<RoleBindingInput[]>> => {
    const rows = await db
      .select({
        namespace: roleBindings.namespace,
        role: roleBindings.role,
        subjectKind: roleBindings.subjectKind,
        subjectName: roleBindings.subjectName,
      })
      .from(roleBindings)
      .where(eq(roleBindings.namespace, namespace))
      .orderBy(
        asc(roleBindings.role),
        asc(roleBindings.subjectKind),
        asc(roleBindings.subjectName),
      );
    return ok(rows);
  },
);

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
  return db.select(ROBOT_COLUMNS).from(apiTokens).orderBy(asc(apiTokens.id));
}

/** A robot token's name: a DNS-1123 label, as Kubernetes names service accounts. */
const ROBOT_NAME = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const DAY_MS = 86_400_000;
/** A robot token's lifetime when none is asked for, and the longest one allowed. */
export const ROBOT_DEFAULT_DAYS = 90;
export const ROBOT_MAX_DAYS = 366;

export interface RobotTokenRequest {
  namespace: string;
  name: string;
  role: Role;
  description: string;
  expiresAt: Date | null;
}

/** The subject a robot token acts as (what history items and logs record). */
export function robotSubject(namespace: string, name: string): string {
  return `system:robot:${namespace}:${name}`;
}

const ROBOT_COLUMNS = {
  id: apiTokens.id,
  subject: apiTokens.subject,
  groups: apiTokens.groups,
  clusterAdmin: apiTokens.clusterAdmin,
  description: apiTokens.description,
  createdAt: apiTokens.createdAt,
  revokedAt: apiTokens.revokedAt,
  namespace: apiTokens.namespace,
  name: apiTokens.name,
  role: apiTokens.role,
  expiresAt: apiTokens.expiresAt,
  lastUsedAt: apiTokens.lastUsedAt,
  createdBy: apiTokens.createdBy,
} as const;

/** A token as the API shows it: every column but the hash. */
export type TokenRecord = Pick<typeof apiTokens.$inferSelect, keyof typeof ROBOT_COLUMNS>;

/** A robot token asks for no more than its issuer may grant, nor to be issued by a robot. */
async function robotRefusal(access: AccessChecker, namespace: string, verb: string) {
  const refused = await refusal(access, 'admin', namespace, 'namespace', {
    verb,
    resource: 'robottokens',
  });
  if (refused) return refused;
  if (access.caller.scope) {
    return denied(
      'a robot token cannot issue, list or revoke robot tokens: use a namespace admin’s credential',
      'namespace',
    );
  }
  return null;
}

/**
 * Issues a robot token for a namespace: it holds `role` there and nothing anywhere else, until it
 * expires (90 days unless asked; at most 366) or is revoked. The caller must be an admin of the
 * namespace, and not itself a robot.
 */
export async function issueRobotToken(
  db: Db,
  access: AccessChecker,
  input: RobotTokenRequest,
  now = new Date(),
): Promise<Result<{ token: string; record: TokenRecord }>> {
  const refused = await robotRefusal(access, input.namespace, 'create');
  if (refused) return refused;
  const problems = [...(validateNamespace(input.namespace) ?? [])];
  if (!ROBOT_NAME.test(input.name)) {
    problems.push({
      field: 'name',
      message: 'must be 1 to 63 lowercase letters, digits or "-", starting and ending alphanumeric',
    });
  }
  const expiresAt = input.expiresAt ?? new Date(now.getTime() + ROBOT_DEFAULT_DAYS * DAY_MS);
  if (expiresAt.getTime() <= now.getTime()) {
    problems.push({ field: 'expiresAt', message: 'must be in the future' });
  } else if (expiresAt.getTime() > now.getTime() + ROBOT_MAX_DAYS * DAY_MS) {
    problems.push({ field: 'expiresAt', message: `must be at most ${ROBOT_MAX_DAYS} days ahead` });
  }
  if (input.description.length > 1000) {
    problems.push({ field: 'description', message: 'must be at most 1000 characters' });
  }
  if (problems.length > 0) return invalid(problems);
  const issued = await issueToken(db, {
    subject: robotSubject(input.namespace, input.name),
    groups: [],
    clusterAdmin: false,
    description: input.description,
    namespace: input.namespace,
    name: input.name,
    role: input.role,
    expiresAt,
    createdBy: access.caller.subject,
  });
  if (!issued) {
    return conflict(
      `namespace ${input.namespace} has a live robot token named ${input.name}: revoke it first`,
      'name',
    );
  }
  const [record] = await db
    .select(ROBOT_COLUMNS)
    .from(apiTokens)
    .where(eq(apiTokens.id, issued.id));
  return ok({ token: issued.token, record: record! });
}

/** A namespace's robot tokens, live and revoked, newest first (at most `limit`). */
export async function listRobotTokens(
  db: Db,
  access: AccessChecker,
  namespace: string,
  limit: number,
): Promise<Result<TokenRecord[]>> {
  const refused = await robotRefusal(access, namespace, 'list');
  if (refused) return refused;
  const rows = await db
    .select(ROBOT_COLUMNS)
    .from(apiTokens)
    .where(eq(apiTokens.namespace, namespace))
    .orderBy(desc(apiTokens.id))
    .limit(limit);
  return ok(rows);
}

/** Revokes a namespace's live robot token by name; from the next request on it is refused. */
export async function revokeRobotToken(
  db: Db,
  access: AccessChecker,
  namespace: string,
  name: string,
  now = new Date(),
): Promise<Result<TokenRecord>> {
  const refused = await robotRefusal(access, namespace, 'delete');
  if (refused) return refused;
  const [row] = await db
    .update(apiTokens)
    .set({ revokedAt: now })
    .where(
      and(
        eq(apiTokens.namespace, namespace),
        eq(apiTokens.name, name),
        isNull(apiTokens.revokedAt),
      ),
    )
    .returning(ROBOT_COLUMNS);
  if (!row) {
    return notFound(`namespace ${namespace} has no live robot token named ${name}`, 'name');
  }
  return ok(row);
}
