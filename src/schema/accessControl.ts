// Access control: who am I, API tokens (cluster admins), role bindings (namespace admins).
import { readableNamespaces } from '../auth/roles.ts';
import { issueToken, revokeToken } from '../auth/tokens.ts';
import { builder } from '../builder.ts';
import { NotFoundError, unwrap, ValidationError } from '../errors.ts';
import {
  addRoleBinding,
  checkTokenInput,
  listRoleBindings,
  listTokens,
  type RoleBindingInput,
  removeRoleBinding,
} from '../services/accessControl.ts';
import { valueOrGraphQLError } from './access.ts';
import { INPUT_ERRORS, REMOVE_ERRORS } from './errors.ts';

const RoleEnum = builder.enumType('Role', {
  description:
    'OpenShift roles in a namespace: IMAGE_PULLER (system:image-puller) reads streams, tags, images and events and may use them as a tag source; EDITOR adds tag, import and pull secrets; ADMIN adds role bindings and deleting streams.',
  values: {
    IMAGE_PULLER: { value: 'image-puller' },
    EDITOR: { value: 'editor' },
    ADMIN: { value: 'admin' },
  } as const,
});

const SubjectKindEnum = builder.enumType('SubjectKind', { values: ['User', 'Group'] as const });

const RoleBinding = builder.objectRef<RoleBindingInput>('RoleBinding').implement({
  authScopes: (binding) => ({ admin: binding.namespace }),
  fields: (t) => ({
    namespace: t.exposeString('namespace'),
    role: t.field({ type: RoleEnum, resolve: (b) => b.role }),
    subjectKind: t.field({ type: SubjectKindEnum, resolve: (b) => b.subjectKind }),
    subjectName: t.exposeString('subjectName'),
  }),
});

interface TokenInfo {
  id: number;
  subject: string;
  groups: string[];
  clusterAdmin: boolean;
  description: string;
  createdAt: Date;
  revokedAt: Date | null;
}

const ApiToken = builder.objectRef<TokenInfo>('ApiToken').implement({
  description: 'An API token; the token itself is shown only once, by createToken.',
  fields: (t) => ({
    id: t.exposeID('id'),
    subject: t.exposeString('subject'),
    groups: t.exposeStringList('groups'),
    clusterAdmin: t.exposeBoolean('clusterAdmin'),
    description: t.exposeString('description'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    revokedAt: t.expose('revokedAt', { type: 'DateTime', nullable: true }),
  }),
});

const Me = builder
  .objectRef<{
    subject: string;
    groups: string[];
    clusterAdmin: boolean;
    namespaces: string[] | null;
  }>('Me')
  .implement({
    fields: (t) => ({
      subject: t.exposeString('subject'),
      groups: t.exposeStringList('groups'),
      clusterAdmin: t.exposeBoolean('clusterAdmin'),
      namespaces: t.exposeStringList('namespaces', {
        nullable: true,
        description: 'Namespaces with a role; null for a cluster admin (all).',
      }),
    }),
  });

const CreateTokenInput = builder.inputType('CreateTokenInput', {
  fields: (t) => ({
    subject: t.string({
      required: true,
      description: 'A user, or `system:serviceaccount:<namespace>:<name>`.',
    }),
    groups: t.stringList({ defaultValue: [] }),
    clusterAdmin: t.boolean({ defaultValue: false }),
    description: t.string({ defaultValue: '' }),
  }),
});

const CreateTokenPayload = builder
  .objectRef<{ token: string; info: TokenInfo }>('CreateTokenPayload')
  .implement({
    fields: (t) => ({
      token: t.exposeString('token', {
        description:
          'Send as `Authorization: Bearer <token>`. Shown this once; only a hash is kept.',
      }),
      apiToken: t.field({ type: ApiToken, resolve: (p) => p.info }),
    }),
  });

const RevokeTokenPayload = builder.objectRef<{ id: number }>('RevokeTokenPayload').implement({
  description: 'The token no longer authenticates anything, from the next request on.',
  fields: (t) => ({ id: t.exposeID('id') }),
});

const RoleBindingInputRef = builder.inputType('RoleBindingInput', {
  fields: (t) => ({
    namespace: t.string({ required: true }),
    role: t.field({ type: RoleEnum, required: true }),
    subjectKind: t.field({ type: SubjectKindEnum, required: true }),
    subjectName: t.string({
      required: true,
      description:
        'e.g. `alice`, `system:serviceaccount:project-a:default`, `system:serviceaccounts:project-a`.',
    }),
  }),
});

const RoleBindingPayload = builder
  .objectRef<{ roleBinding: RoleBindingInput }>('RoleBindingPayload')
  .implement({
    fields: (t) => ({ roleBinding: t.field({ type: RoleBinding, resolve: (p) => p.roleBinding }) }),
  });

builder.queryFields((t) => ({
  me: t.field({
    type: Me,
    description: 'Who the token belongs to.',
    resolve: async (_root, _args, ctx) => ({
      ...ctx.access.caller,
      namespaces: await readableNamespaces(ctx.database.db, ctx.access.caller),
    }),
  }),
  apiTokens: t.field({
    type: [ApiToken],
    authScopes: { clusterAdmin: true },
    resolve: (_root, _args, ctx) => listTokens(ctx.database.db),
  }),
  roleBindings: t.field({
    type: [RoleBinding],
    authScopes: (_root, args) => ({ admin: args.namespace }),
    args: { namespace: t.arg.string({ required: true }) },
    resolve: async (_root, args, ctx) =>
      valueOrGraphQLError(await listRoleBindings(ctx.database.db, ctx.access, args.namespace)),
  }),
}));

builder.mutationFields((t) => ({
  createToken: t.field({
    type: CreateTokenPayload,
    authScopes: { clusterAdmin: true },
    args: { input: t.arg({ type: CreateTokenInput, required: true }) },
    errors: { types: [ValidationError] },
    resolve: async (_root, { input }, ctx) => {
      const request = {
        subject: input.subject,
        groups: input.groups ?? [],
        clusterAdmin: input.clusterAdmin ?? false,
        description: input.description ?? '',
      };
      const invalid = checkTokenInput(request);
      if (invalid) throw invalid;
      const issued = await issueToken(ctx.database.db, request);
      ctx.log.info({ tokenId: issued.id, subject: request.subject }, 'API token issued');
      return {
        token: issued.token,
        info: { id: issued.id, ...request, createdAt: new Date(), revokedAt: null },
      };
    },
  }),
  revokeToken: t.field({
    type: RevokeTokenPayload,
    authScopes: { clusterAdmin: true },
    args: { id: t.arg.id({ required: true }) },
    errors: { types: [NotFoundError] },
    resolve: async (_root, args, ctx) => {
      const id = Number(args.id);
      if (!Number.isSafeInteger(id) || !(await revokeToken(ctx.database.db, id))) {
        throw new NotFoundError(`no live token with id ${args.id}`, 'id');
      }
      ctx.log.info({ tokenId: id }, 'API token revoked');
      return { id };
    },
  }),
  addRoleBinding: t.field({
    type: RoleBindingPayload,
    description: '`oc policy add-role-to-user|add-role-to-group <role> <name> -n <namespace>`.',
    authScopes: (_root, args) => ({ admin: args.input.namespace }),
    args: { input: t.arg({ type: RoleBindingInputRef, required: true }) },
    errors: { types: INPUT_ERRORS },
    resolve: async (_root, { input }, ctx) => ({
      roleBinding: unwrap(await addRoleBinding(ctx.database.db, ctx.access, input)),
    }),
  }),
  removeRoleBinding: t.field({
    type: RoleBindingPayload,
    description: '`oc policy remove-role-from-user|remove-role-from-group`.',
    authScopes: (_root, args) => ({ admin: args.input.namespace }),
    args: { input: t.arg({ type: RoleBindingInputRef, required: true }) },
    errors: { types: REMOVE_ERRORS },
    resolve: async (_root, { input }, ctx) => ({
      roleBinding: unwrap(await removeRoleBinding(ctx.database.db, ctx.access, input)),
    }),
  }),
}));
