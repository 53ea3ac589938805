// `tagraph policy add-role-to-user|add-role-to-group|remove-role-from-user|remove-role-from-group
// <role> <name>... -n <namespace>` (oc policy), and the role names oc users know.
import type { Command } from 'commander';
import { unwrap } from '../client.ts';
import { contextOf, type Io, toJson } from '../context.ts';
import { ADD_ROLE_BINDING, REMOVE_ROLE_BINDING } from '../documents.ts';
import { UsageError } from '../errors.ts';
import { parseOutput } from '../flags.ts';

/** oc's cluster role names (and plain spellings) to tagraph's roles. */
const ROLES: Record<string, 'IMAGE_PULLER' | 'EDITOR' | 'ADMIN'> = {
  'system:image-puller': 'IMAGE_PULLER',
  'image-puller': 'IMAGE_PULLER',
  edit: 'EDITOR',
  editor: 'EDITOR',
  'system:image-builder': 'EDITOR',
  admin: 'ADMIN',
};

const MUTATIONS = { add: ADD_ROLE_BINDING, remove: REMOVE_ROLE_BINDING } as const;

function roleOf(name: string) {
  const role = ROLES[name];
  if (!role) {
    throw new UsageError(`unknown role ${name}: use one of ${Object.keys(ROLES).join(', ')}`);
  }
  return role;
}

function register(policy: Command, io: Io, verb: 'add' | 'remove', kind: 'User' | 'Group'): void {
  const name = `${verb}-role-${verb === 'add' ? 'to' : 'from'}-${kind.toLowerCase()}`;
  policy
    .command(name)
    .summary(
      `${verb === 'add' ? 'grant' : 'revoke'} a role in the namespace for ${kind.toLowerCase()}s`,
    )
    .argument('<role>', `${Object.keys(ROLES).join(', ')}`)
    .argument('<names...>', kind === 'User' ? 'users or service accounts' : 'groups')
    .option('-o, --output <format>', 'json')
    .action(
      async (roleName: string, names: string[], options: { output?: string }, self: Command) => {
        const format = parseOutput(options.output, ['json']);
        const role = roleOf(roleName);
        const ctx = contextOf(self, io);
        const done = [];
        for (const subjectName of names) {
          const data = await ctx.client.request(MUTATIONS[verb], {
            input: { namespace: ctx.namespace, role, subjectKind: kind, subjectName },
          });
          done.push(
            unwrap('addRoleBinding' in data ? data.addRoleBinding : data.removeRoleBinding),
          );
        }
        if (format.kind === 'json') {
          io.out(toJson(done));
          return;
        }
        const quoted = names.map((n) => `"${n}"`).join(', ');
        io.out(
          `clusterrole.rbac.authorization.k8s.io/${roleName} ${verb === 'add' ? 'added' : 'removed'}: ${quoted}\n`,
        );
      },
    );
}

export function registerPolicy(program: Command, io: Io): void {
  const policy = program
    .command('policy')
    .summary('grant and revoke roles in a namespace (oc policy)')
    .description(
      'Roles: system:image-puller (read, and use as a tag source from another namespace),\n' +
        'edit (tag, import, pull secrets), admin (role bindings, delete streams).',
    );
  for (const verb of ['add', 'remove'] as const) {
    for (const kind of ['User', 'Group'] as const) register(policy, io, verb, kind);
  }
}
