// Access control: who am I, API tokens (cluster admins), role bindings (namespace admins).
import { type Role, type RoleScope, readableNamespaces } from '../auth/roles.ts';
import { issueToken, revokeToken } from '../auth/tokens.ts';
import { builder } from '../builder.ts';
import { NotFoundError, unwrap, ValidationError } from '../errors.ts';
import {
  addRoleBinding,
  checkTokenInput,
  issueRobotToken,
  listRobotTokens,
  listRoleBindings,
  listTokens,
  ROBOT_DEFAULT_DAYS,
  ROBOT_MAX_DAYS,
  type RoleBindingInput,
  removeRoleBinding,
  revokeRobotToken,
} from '../services/accessControl.ts';
import { adminArgs, adminInput } from './access.ts';
import { CREATE_ERRORS, INPUT_ERRORS, REMOVE_ERRORS } from './errors.ts';
import { answeringMutation, byInput, namespaceList, objectPayload, refArgs } from './shapes.ts';

/** The most robot tokens robotTokens lists (revoked ones count until they are deleted). */
const MAX_ROBOT_TOKENS = 500;

export const RoleEnum = builder.enumType('Role', {
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
  namespace?: string | null;
  name?: string | null;
  role?: Role | null;
  expiresAt?: Date | null;
  lastUsedAt?: Date | null;
  createdBy?: string | null;
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
    namespace: t.exposeString('namespace', {
      nullable: true,
      description: "A robot token's namespace, the only one it has a role in; null otherwise.",
    }),
    name: t.exposeString('name', {
      nullable: true,
      description: "A robot token's name in its namespace.",
    }),
    role: t.expose('role', {
      type: RoleEnum,
      nullable: true,
      description: 'The role a robot token holds in its namespace.',
    }),
    expiresAt: t.expose('expiresAt', {
      type: 'DateTime',
      nullable: true,
      description: 'After this the token authenticates nothing; null: it does not expire.',
    }),
    lastUsedAt: t.expose('lastUsedAt', {
      type: 'DateTime',
      nullable: true,
      description: 'The last request it authenticated (recorded to the minute); null: never used.',
    }),
    createdBy: t.exposeString('createdBy', {
      nullable: true,
      description: 'Who issued it (recorded for robot tokens).',
    }),
  }),
});

const RoleScopeRef = builder.objectRef<RoleScope>('RoleScope').implement({
  description: 'The one namespace and role a robot token is limited to.',
  fields: (t) => ({
    namespace: t.exposeString('namespace'),
    role: t.field({ type: RoleEnum, resolve: (scope) => scope.role }),
  }),
});

const CreateRobotTokenInput = builder.inputType('CreateRobotTokenInput', {
  fields: (t) => ({
    namespace: t.string({ required: true }),
    name: t.string({
      required: true,
      description: 'A DNS label, unique among the live robot tokens of the namespace.',
    }),
    role: t.field({ type: RoleEnum, required: true }),
    expiresAt: t.field({
      type: 'DateTime',
      description: `When it stops working: default ${ROBOT_DEFAULT_DAYS} days from now, at most ${ROBOT_MAX_DAYS}.`,
    }),
    description: t.string({ defaultValue: '' }),
  }),
});

const RobotTokenPayload = builder
  .objectRef<{ token: string | null; record: TokenInfo }>('RobotTokenPayload')
  .implement({
    fields: (t) => ({
      token: t.exposeString('token', {
        nullable: true,
        description:
          'Send as `Authorization: Bearer <token>`. Only createRobotToken returns it, that once.',
      }),
      apiToken: t.field({ type: ApiToken, resolve: (p) => p.record }),
    }),
  });

const Me = builder
  .objectRef<{
    subject: string;
    groups: string[];
    clusterAdmin: boolean;
    namespaces: string[] | null;
    tokenId: number | null;
    expiresAt?: number | null;
    scope?: RoleScope | null;
  }>('Me')
  .implement({
    fields: (t) => ({
      tokenId: t.id({
        nullable: true,
        description: 'The API token the request came with; null for a JWT or the bootstrap token.',
        resolve: (me) => me.tokenId,
      }),
      expiresAt: t.field({
        type: 'DateTime',
        nullable: true,
        description: 'When the credential stops working; null: it does not expire.',
        resolve: (me) => (me.expiresAt == null ? null : new Date(me.expiresAt)),
      }),
      scope: t.field({
        type: RoleScopeRef,
        nullable: true,
        description: 'For a robot token, the namespace and role it is limited to.',
        resolve: (me) => me.scope ?? null,
      }),
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

const RoleBindingPayload = objectPayload('RoleBindingPayload', 'roleBinding', RoleBinding);

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
  robotTokens: namespaceList(t, {
    type: ApiToken,
    description: `The namespace's robot tokens, live and revoked, newest first (at most ${MAX_ROBOT_TOKENS}); namespace admins.`,
    scope: adminArgs,
    list: (db, access, namespace) => listRobotTokens(db, access, namespace, MAX_ROBOT_TOKENS),
  }),
  roleBindings: namespaceList(t, {
    type: RoleBinding,
    scope: adminArgs,
    list: listRoleBindings,
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
      // Only robot tokens have names that can collide.
      if (!issued) throw new Error('a token without a namespace was refused as a duplicate');
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
  createRobotToken: t.field({
    type: RobotTokenPayload,
    description:
      'Issues a token that holds one role in one namespace and nothing elsewhere, with an expiry; ' +
      'namespace admins (not robot tokens). The token is shown once.',
    authScopes: adminInput,
    args: { input: t.arg({ type: CreateRobotTokenInput, required: true }) },
    errors: { types: CREATE_ERRORS },
    resolve: async (_root, { input }, ctx) => {
      const issued = unwrap(
        await issueRobotToken(ctx.database.db, ctx.access, {
          namespace: input.namespace,
          name: input.name,
          role: input.role,
          description: input.description ?? '',
          expiresAt: input.expiresAt ?? null,
        }),
      );
      ctx.log.info(
        { tokenId: issued.record.id, namespace: input.namespace, robot: input.name },
        'robot token issued',
      );
      return issued;
    },
  }),
  revokeRobotToken: t.field({
    type: RobotTokenPayload,
    description: 'Revokes a live robot token by name; from the next request on it is refused.',
    authScopes: adminArgs,
    args: refArgs(t.arg),
    errors: { types: REMOVE_ERRORS },
    resolve: async (_root, args, ctx) => {
      const record = unwrap(
        await revokeRobotToken(ctx.database.db, ctx.access, args.namespace, args.name),
      );
      ctx.log.info({ tokenId: record.id, namespace: args.namespace }, 'robot token revoked');
      return { token: null, record };
    },
  }),
  addRoleBinding: answeringMutation(t, {
    description: '`oc policy add-role-to-user|add-role-to-group <role> <name> -n <namespace>`.',
    scope: adminInput,
    input: RoleBindingInputRef,
    payload: RoleBindingPayload,
    errors: INPUT_ERRORS,
    act: byInput(addRoleBinding),
    answer: (roleBinding) => ({ roleBinding }),
  }),
  removeRoleBinding: answeringMutation(t, {
    description: '`oc policy remove-role-from-user|remove-role-from-group`.',
    scope: adminInput,
    input: RoleBindingInputRef,
    payload: RoleBindingPayload,
    errors: REMOVE_ERRORS,
    act: byInput(removeRoleBinding),
    answer: (roleBinding) => ({ roleBinding }),
  }),
}));
