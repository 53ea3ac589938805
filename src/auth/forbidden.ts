// FORBIDDEN messages in `oc`'s words: who may not do what to which resource in which namespace,
// naming only what the caller sent.
import { type GraphQLResolveInfo, getNamedType } from 'graphql';
import type { Role } from './roles.ts';

/** The role a namespace scope of the schema asks for, as role bindings name it. */
const ROLE_OF_SCOPE: Record<string, string> = {
  read: 'IMAGE_PULLER',
  edit: 'EDITOR',
  editAll: 'EDITOR',
  admin: 'ADMIN',
};

export const ROLE_NAMES: Record<Role, string> = {
  'image-puller': 'IMAGE_PULLER',
  editor: 'EDITOR',
  admin: 'ADMIN',
};

/** Leading words of mutation field names, as the verbs `oc` and Kubernetes use. */
const MUTATION_VERBS: Record<string, string> = {
  create: 'create',
  add: 'create',
  delete: 'delete',
  remove: 'delete',
  update: 'update',
  set: 'update',
  replace: 'update',
  rollback: 'update',
  tag: 'update',
  prune: 'delete',
  revoke: 'delete',
  run: 'update',
};

/** A resource name the way Kubernetes spells them: lower case, plural. */
function resourceName(words: string[]): string {
  const name = words.join('').toLowerCase();
  if (name === '' || name === 'tag') return 'imagestreamtags';
  if (name.endsWith('s')) return name;
  return /[^aeiou]y$/.test(name) ? `${name.slice(0, -1)}ies` : `${name}s`;
}

const camelWords = (name: string) => name.split(/(?=[A-Z])/);

/**
 * The verb and resource of the field the caller was refused: for a root field, from its name
 * (`imageStreams` → list imagestreams, `createImageStream` → create imagestreams,
 * `tagChanged` → watch tags); for a field inside the result, the type it returns.
 */
export function verbAndResource(info: GraphQLResolveInfo): { verb: string; resource: string } {
  const operation = info.operation.operation;
  const root = info.path.prev === undefined;
  if (!root) {
    const type = getNamedType(info.returnType).name.replace(/Connection$/, '');
    return { verb: 'get', resource: resourceName(camelWords(type)) };
  }
  const words = camelWords(info.fieldName);
  if (operation === 'subscription') {
    return { verb: 'watch', resource: resourceName(words.filter((w) => w !== 'Changed')) };
  }
  if (operation === 'mutation') {
    const [first = '', ...rest] = words;
    if (first === 'import') return { verb: 'create', resource: 'imagestreamimports' };
    const verb = MUTATION_VERBS[first];
    if (verb) return { verb, resource: resourceName(rest) };
    return { verb: 'update', resource: resourceName(words) };
  }
  return {
    verb: info.fieldName.endsWith('s') ? 'list' : 'get',
    resource: resourceName(words),
  };
}

interface ScopeFailure {
  kind: string;
  scope?: string;
  parameter?: unknown;
  failures?: ScopeFailure[];
}

/** The first scope that failed, depth first (a map of scopes fails on each of its own). */
function firstScope(failure: ScopeFailure | undefined): ScopeFailure | undefined {
  if (!failure) return undefined;
  if (failure.scope !== undefined) return failure;
  for (const inner of failure.failures ?? []) {
    const found = firstScope(inner);
    if (found) return found;
  }
  return undefined;
}

/**
 * The message of a refused field, e.g. `forbidden: User "alice" cannot list resource
 * "imagestreams" in the namespace "ns1" (it needs the role IMAGE_PULLER there)`. The namespace
 * is named only when the caller named it (a root field's arguments); inside a result, naming the
 * namespace of an object the caller may not read would tell that it exists.
 */
export function forbiddenFieldMessage(
  subject: string,
  info: GraphQLResolveInfo,
  failure: unknown,
): string {
  const { verb, resource } = verbAndResource(info);
  const who = `forbidden: User "${subject}" cannot ${verb} resource "${resource}"`;
  const scope = firstScope(failure as ScopeFailure | undefined);
  const role = scope?.scope ? ROLE_OF_SCOPE[scope.scope] : undefined;
  const root = info.path.prev === undefined;
  if (scope?.scope === 'clusterAdmin') return `${who} at the cluster scope (cluster admins only)`;
  if (scope?.scope === 'registry')
    return `${who}: only image registries (cluster admins and the group system:registries) may`;
  if (role && root) {
    const named = Array.isArray(scope?.parameter)
      ? scope.parameter.map((n) => `"${String(n)}"`).join(', ')
      : `"${String(scope?.parameter)}"`;
    const where = Array.isArray(scope?.parameter) ? 'in the namespaces' : 'in the namespace';
    return `${who} ${where} ${named} (it needs the role ${role} there)`;
  }
  if (role) return `${who} in a namespace it may not read`;
  return `${who}`;
}

/** What a caller was refused, as `oc` says it: a verb and a resource. */
export interface Action {
  verb: string;
  resource: string;
}

/** What a service refusal is about when the service does not say: an image stream. */
const STREAM_ACTION: Record<Role, Action> = {
  'image-puller': { verb: 'get', resource: 'imagestreams' },
  editor: { verb: 'update', resource: 'imagestreams' },
  admin: { verb: 'delete', resource: 'imagestreams' },
};

/** The message of a namespace a service refused: the caller, what it may not do, where. */
export function forbiddenNamespaceMessage(
  subject: string,
  role: Role,
  namespace: string,
  action: Action = STREAM_ACTION[role],
): string {
  return `forbidden: User "${subject}" cannot ${action.verb} resource "${action.resource}" in the namespace "${namespace}" (it needs the role ${ROLE_NAMES[role]} there)`;
}
