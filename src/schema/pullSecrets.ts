// Pull secrets: create, replace and delete; only names, registries and times are readable.

import { builder } from '../builder.ts';
import { unwrap } from '../errors.ts';
import {
  deletePullSecret,
  listPullSecrets,
  type PullSecretInfo,
  savePullSecret,
} from '../services/pullSecrets.ts';
import { editInput, readArgs, valueOrGraphQLError } from './access.ts';
import { ACT_ERRORS, CREATE_ERRORS, REMOVE_ERRORS } from './errors.ts';

const PullSecret = builder.objectRef<PullSecretInfo>('PullSecret').implement({
  authScopes: (secret) => ({ read: secret.namespace }),
  description:
    'Registry credentials of a namespace, used when importing. The credentials themselves are never readable.',
  fields: (t) => ({
    namespace: t.exposeString('namespace'),
    name: t.exposeString('name'),
    registries: t.exposeStringList('registries', {
      description:
        'The keys of the `auths` document, e.g. `quay.io` or `registry.example.com/team`.',
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
  }),
});

const PullSecretInput = builder.inputType('PullSecretInput', {
  fields: (t) => ({
    namespace: t.string({ required: true }),
    name: t.string({ required: true }),
    document: t.string({
      required: true,
      description:
        'A docker config.json or podman auth.json: {"auths": {"quay.io": {"auth": "…"}}}',
    }),
  }),
});

const DeletePullSecretInput = builder.inputType('DeletePullSecretInput', {
  fields: (t) => ({
    namespace: t.string({ required: true }),
    name: t.string({ required: true }),
  }),
});

const PullSecretPayload = builder
  .objectRef<{ pullSecret: PullSecretInfo }>('PullSecretPayload')
  .implement({
    fields: (t) => ({ pullSecret: t.field({ type: PullSecret, resolve: (p) => p.pullSecret }) }),
  });

builder.queryFields((t) => ({
  pullSecrets: t.field({
    authScopes: readArgs,
    type: [PullSecret],
    args: { namespace: t.arg.string({ required: true }) },
    resolve: async (_root, args, ctx) =>
      valueOrGraphQLError(await listPullSecrets(ctx.database.db, ctx.access, args.namespace)),
  }),
}));

builder.mutationFields((t) => ({
  createPullSecret: t.field({
    authScopes: editInput,
    type: PullSecretPayload,
    args: { input: t.arg({ type: PullSecretInput, required: true }) },
    errors: { types: CREATE_ERRORS },
    resolve: async (_root, { input }, ctx) => ({
      pullSecret: unwrap(
        await savePullSecret(ctx.database.db, ctx.access, ctx.secretKey, input, false),
      ),
    }),
  }),
  replacePullSecret: t.field({
    authScopes: editInput,
    type: PullSecretPayload,
    args: { input: t.arg({ type: PullSecretInput, required: true }) },
    errors: { types: ACT_ERRORS },
    resolve: async (_root, { input }, ctx) => ({
      pullSecret: unwrap(
        await savePullSecret(ctx.database.db, ctx.access, ctx.secretKey, input, true),
      ),
    }),
  }),
  deletePullSecret: t.field({
    authScopes: editInput,
    type: PullSecretPayload,
    args: { input: t.arg({ type: DeletePullSecretInput, required: true }) },
    errors: { types: REMOVE_ERRORS },
    resolve: async (_root, { input }, ctx) => ({
      pullSecret: unwrap(
        await deletePullSecret(ctx.database.db, ctx.access, input.namespace, input.name),
      ),
    }),
  }),
}));
