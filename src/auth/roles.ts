// Roles per namespace, mirroring OpenShift's: image-puller ⊂ editor ⊂ admin; cluster admins hold
// admin everywhere. A caller's groups include the ones OpenShift implies for its subject.
import DataLoader from 'dataloader';
import { and, eq, inArray, or, type SQL, type SQLWrapper, sql } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { roleBindings } from '../db/schema.ts';
import { NamespaceDirectory } from './places.ts';

export type Role = 'image-puller' | 'editor' | 'admin';

export const ROLES: readonly Role[] = ['image-puller', 'editor', 'admin'];

export interface Caller {
  /** A user name, or `system:serviceaccount:<namespace>:<name>`. */
  subject: string;
  groups: string[];
  clusterAdmin: boolean;
  /** The API token that authenticated the caller (null in open mode, for a JWT, the admin token). */
  tokenId: number | null;
  /** When the caller's credential expires (ms since the epoch); unset for credentials without expiry. */
  expiresAt?: number | null;
  /**
   * A robot token's scope: exactly this role in this namespace and no role anywhere else, whatever
   * role bindings name the subject or its groups. Unset for every other caller.
   */
  scope?: RoleScope | null;
}

/** The one namespace and role a robot token is limited to. */
export interface RoleScope {
  namespace: string;
  role: Role;
}

/** A scoped caller's role in `namespace`: its scope's role there, none elsewhere. */
function scopedRole(scope: RoleScope, namespace: string): Role | null {
  return scope.namespace === namespace ? scope.role : null;
}

/** Open mode (embedded development only): everyone is a cluster admin. */
export const OPEN_CALLER: Caller = {
  subject: 'system:anonymous',
  groups: [],
  clusterAdmin: true,
  tokenId: null,
};

/**
 * The group of image registries, as OpenShift's `system:registry` role is held by the integrated
 * registry's service account. Only a registry may record image stream mappings, in any namespace,
 * and a registry reads every namespace (image-puller everywhere), as the integrated registry reads
 * every image stream to serve pulls. A caller is in it only through its token's groups (issued by a cluster admin) or its identity
 * provider's groups claim; no role binding can put anyone in a group.
 */
export const REGISTRY_GROUP = 'system:registries';

/** Whether the caller acts as an image registry: a cluster admin, or in REGISTRY_GROUP. */
export function isRegistry(caller: Caller): boolean {
  if (caller.scope) return false;
  return caller.clusterAdmin || caller.groups.includes(REGISTRY_GROUP);
}

/** Whether `held` includes everything `needed` allows. */
export function roleAllows(held: Role | null, needed: Role): boolean {
  return held !== null && ROLES.indexOf(held) >= ROLES.indexOf(needed);
}

/**
 * The groups OpenShift puts a subject in besides its own: every caller is
 * `system:authenticated`; a service account is also in `system:serviceaccounts` and
 * `system:serviceaccounts:<its namespace>`.
 */
export function effectiveGroups(caller: Pick<Caller, 'subject' | 'groups'>): string[] {
  const groups = new Set([...caller.groups, 'system:authenticated']);
  const account = /^system:serviceaccount:([^:]+):[^:]+$/.exec(caller.subject);
  if (account) {
    groups.add('system:serviceaccounts');
    groups.add(`system:serviceaccounts:${account[1]}`);
  }
  return [...groups];
}

/** Role bindings that name one of `users`, or one of `groups`. */
function boundTo(users: string[], groups: string[]) {
  return or(
    and(eq(roleBindings.subjectKind, 'User'), inArray(roleBindings.subjectName, users)),
    and(eq(roleBindings.subjectKind, 'Group'), inArray(roleBindings.subjectName, groups)),
  );
}

/** Role bindings that name the caller: as a user, or through one of its groups. */
function boundToCaller(caller: Caller) {
  return boundTo([caller.subject], effectiveGroups(caller));
}

/** The strongest role the caller holds in `namespace`, or null. */
export async function roleIn(db: Db, caller: Caller, namespace: string): Promise<Role | null> {
  return (await rolesIn(db, [{ caller, namespace }]))[0]!;
}

/** A role question: the caller asking, about one namespace. */
export interface RoleQuestion {
  caller: Caller;
  namespace: string;
}

/**
 * Answers several role questions with one statement per namespace: the namespace's bindings
 * that name any of the callers (as a user or through a group), then each caller's own strongest.
 */
export async function rolesIn(
  db: Db,
  questions: readonly RoleQuestion[],
): Promise<(Role | null)[]> {
  const callersByNamespace = new Map<string, Caller[]>();
  for (const { caller, namespace } of questions) {
    if (caller.clusterAdmin || caller.scope) continue;
    const callers = callersByNamespace.get(namespace) ?? [];
    callers.push(caller);
    callersByNamespace.set(namespace, callers);
  }
  const bindingsByNamespace = new Map<string, NamingBinding[]>();
  await Promise.all(
    [...callersByNamespace].map(async ([namespace, callers]) => {
      const users = [...new Set(callers.map((caller) => caller.subject))];
      const groups = [...new Set(callers.flatMap(effectiveGroups))];
      const rows = await db
        .select({
          subjectKind: roleBindings.subjectKind,
          subjectName: roleBindings.subjectName,
          role: roleBindings.role,
        })
        .from(roleBindings)
        .where(and(eq(roleBindings.namespace, namespace), boundTo(users, groups)));
      bindingsByNamespace.set(namespace, rows);
    }),
  );
  return questions.map(({ caller, namespace }) => {
    if (caller.scope) return scopedRole(caller.scope, namespace);
    return caller.clusterAdmin ? 'admin' : callerRole(bindingsByNamespace.get(namespace)!, caller);
  });
}

/** The caller's role from a namespace's bindings that name it; a registry reads everywhere. */
function callerRole(bindings: NamingBinding[], caller: Caller): Role | null {
  const bound = strongestRole(bindings, caller);
  return isRegistry(caller) && !roleAllows(bound, 'image-puller') ? 'image-puller' : bound;
}

interface NamingBinding {
  subjectKind: 'User' | 'Group';
  subjectName: string;
  role: Role;
}

function strongestRole(bindings: NamingBinding[], caller: Caller): Role | null {
  const groups = new Set(effectiveGroups(caller));
  let best: Role | null = null;
  for (const { subjectKind, subjectName, role } of bindings) {
    const names = subjectKind === 'User' ? subjectName === caller.subject : groups.has(subjectName);
    if (names && !roleAllows(best, role)) best = role;
  }
  return best;
}

/**
 * Fresh role answers for live subscriptions, shared by all of them: the re-checks that deliveries
 * of one event ask for in the same tick go to the database together (DataLoader's batch), one
 * statement per namespace instead of one per subscription, so a change fanned out to many
 * callers does not queue a hundred reads on the pool before it is sent. Nothing is cached
 * between batches: every answer is read after it was asked for.
 */
export function freshRoleLoader(db: Db): DataLoader<RoleQuestion, Role | null> {
  return new DataLoader((questions) => rolesIn(db, questions), { cache: false });
}

/**
 * Every namespace each caller holds at least image-puller in (null: all, a cluster admin or a
 * registry), for many callers in one statement: the bindings that name any of them, then each
 * caller's own.
 */
export async function readableNamespacesOf(
  db: Db,
  callers: readonly Caller[],
): Promise<(string[] | null)[]> {
  const bound = callers.filter((caller) => !isRegistry(caller) && !caller.scope);
  const rows =
    bound.length === 0
      ? []
      : await db
          .selectDistinct({
            namespace: roleBindings.namespace,
            subjectKind: roleBindings.subjectKind,
            subjectName: roleBindings.subjectName,
          })
          .from(roleBindings)
          .where(
            boundTo(
              [...new Set(bound.map((caller) => caller.subject))],
              [...new Set(bound.flatMap(effectiveGroups))],
            ),
          );
  return callers.map((caller) => {
    if (caller.scope) return [caller.scope.namespace];
    if (isRegistry(caller)) return null;
    const groups = new Set(effectiveGroups(caller));
    const names = (row: (typeof rows)[number]) =>
      row.subjectKind === 'User' ? row.subjectName === caller.subject : groups.has(row.subjectName);
    return [...new Set(rows.filter(names).map((row) => row.namespace))];
  });
}

/**
 * Fresh readable-namespace answers for live subscriptions over several namespaces, batched as
 * freshRoleLoader's are: one statement for every caller asking in the same tick, nothing cached.
 */
export function freshReadableLoader(db: Db): DataLoader<Caller, string[] | null> {
  return new DataLoader((callers) => readableNamespacesOf(db, callers), {
    cache: false,
    maxBatchSize: 500,
  });
}

/** Every namespace where the caller holds at least image-puller (null: all, a cluster admin or a registry). */
export async function readableNamespaces(db: Db, caller: Caller): Promise<string[] | null> {
  if (caller.scope) return [caller.scope.namespace];
  if (isRegistry(caller)) return null;
  const rows = await db
    .selectDistinct({ namespace: roleBindings.namespace })
    .from(roleBindings)
    .where(boundToCaller(caller));
  return rows.map((row) => row.namespace);
}

/**
 * SQL that holds where the caller holds at least `needed` in `namespace` (a column or an
 * expression), as `AccessChecker.can` answers: a robot token its scope's role in its namespace
 * only, a cluster admin every role everywhere, a registry image-puller everywhere, anyone else the
 * strongest role its bindings (as a user or through a group) give; null: every namespace.
 */
export function roleNamespaceSql(caller: Caller, needed: Role, namespace: SQLWrapper): SQL | null {
  if (caller.scope) {
    return roleAllows(caller.scope.role, needed)
      ? sql`${namespace} = ${caller.scope.namespace}`
      : sql`false`;
  }
  if (caller.clusterAdmin || (needed === 'image-puller' && isRegistry(caller))) return null;
  const allowing = ROLES.filter((role) => roleAllows(role, needed));
  const held = allowing.length === ROLES.length ? undefined : inArray(roleBindings.role, allowing);
  return sql`exists (select 1 from ${roleBindings} where ${roleBindings.namespace} = ${namespace}
    and ${and(boundToCaller(caller), held)})`;
}

/**
 * SQL that holds where the caller holds at least image-puller in `namespace`, for filtering
 * inside one statement before a limit applies; null: every namespace (a cluster admin or a
 * registry). The same bindings as `rolesIn` reads: every role allows reading.
 */
export function readableNamespaceSql(caller: Caller, namespace: SQLWrapper): SQL | null {
  return roleNamespaceSql(caller, 'image-puller', namespace);
}

/** Answers role questions for one request, asking the database once per namespace. */
export class AccessChecker {
  private readonly roles = new Map<string, Promise<Role | null>>();
  /** Namespaces of streams and tags met in this request (type-level authorization reads them). */
  readonly places: NamespaceDirectory;

  constructor(
    readonly db: Db,
    readonly caller: Caller,
    /** Where fresh answers come from; shared across requests to batch them (freshRoleLoader). */
    private readonly fresh?: DataLoader<RoleQuestion, Role | null>,
    /** Where fresh readable sets come from, shared likewise (freshReadableLoader). */
    private readonly freshReadable?: DataLoader<Caller, string[] | null>,
  ) {
    this.places = new NamespaceDirectory(db);
  }

  role(namespace: string): Promise<Role | null> {
    let role = this.roles.get(namespace);
    if (!role) {
      role = roleIn(this.db, this.caller, namespace);
      this.roles.set(namespace, role);
    }
    return role;
  }

  async can(needed: Role, namespace: string): Promise<boolean> {
    return roleAllows(await this.role(namespace), needed);
  }

  /**
   * Reads the caller's roles in every namespace not asked about yet, in one statement, so a list
   * that spans many namespaces checks each of its objects without a statement per namespace.
   */
  async preload(namespaces: Iterable<string>): Promise<void> {
    const missing = [...new Set(namespaces)].filter((namespace) => !this.roles.has(namespace));
    if (missing.length === 0 || this.caller.clusterAdmin) return;
    const { scope } = this.caller;
    if (scope) {
      for (const namespace of missing) {
        this.roles.set(namespace, Promise.resolve(scopedRole(scope, namespace)));
      }
      return;
    }
    const bindings = await this.db
      .select({
        namespace: roleBindings.namespace,
        subjectKind: roleBindings.subjectKind,
        subjectName: roleBindings.subjectName,
        role: roleBindings.role,
      })
      .from(roleBindings)
      .where(and(inArray(roleBindings.namespace, missing), boundToCaller(this.caller)));
    for (const namespace of missing) {
      if (this.roles.has(namespace)) continue;
      const own = bindings.filter((binding) => binding.namespace === namespace);
      this.roles.set(namespace, Promise.resolve(callerRole(own, this.caller)));
    }
  }

  /** A fresh answer, bypassing this request's cache (subscriptions re-check at delivery). */
  async canNow(needed: Role, namespace: string): Promise<boolean> {
    const role = this.fresh
      ? await this.fresh.load({ caller: this.caller, namespace })
      : await roleIn(this.db, this.caller, namespace);
    return roleAllows(role, needed);
  }

  /** A fresh read of every namespace the caller may read (null: all); subscriptions re-check with it. */
  async readableNow(): Promise<string[] | null> {
    return this.freshReadable
      ? this.freshReadable.load(this.caller)
      : (await readableNamespacesOf(this.db, [this.caller]))[0]!;
  }
}
