// Pull secrets: create, replace and delete; only names, registries and times are readable.

import { builder } from '../builder.ts';
import type { AppContext } from '../context.ts';
import {
  deletePullSecret,
  listPullSecrets,
  type PullSecretInfo,
  savePullSecret,
} from '../services/pullSecrets.ts';
import { editInput, readArgs } from './access.ts';
import { ACT_ERRORS, CREATE_ERRORS, REMOVE_ERRORS } from './errors.ts';
import {
  answeringMutation,
  byName,
  namespacedObject,
  namespaceList,
  objectPayload,
  refFields,
} from './shapes.ts';

const PullSecret = namespacedObject<PullSecretInfo>('PullSecret', 'read', {
  description:
    'Registry credentials of a namespace, used when importing. The credentials themselves are never readable.',
  fields: (t) => ({
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
    ...refFields(t),
    document: t.string({
      required: true,
      description:
        'A docker config.json or podman auth.json: {"auths": {"quay.io": {"auth": "…"}}}',
    }),
  }),
});

const DeletePullSecretInput = builder.inputType('DeletePullSecretInput', { fields: refFields });

const PullSecretPayload = objectPayload('PullSecretPayload', 'pullSecret', PullSecret);

/** Saves the input's secret; `replace`: one of that name must exist, else it must not. */
const save =
  (replace: boolean) =>
  (ctx: AppContext, input: { namespace: string; name: string; document: string }) =>
    savePullSecret(ctx.database.db, ctx.access, ctx.secretKey, input, replace);

builder.queryFields((t) => ({
  pullSecrets: namespaceList(t, { scope: readArgs, type: PullSecret, list: listPullSecrets }),
}));

builder.mutationFields((t) => ({
  createPullSecret: answeringMutation(t, {
    scope: editInput,
    input: PullSecretInput,
    payload: PullSecretPayload,
    errors: CREATE_ERRORS,
    act: save(false),
    answer: (pullSecret) => ({ pullSecret }),
  }),
  replacePullSecret: answeringMutation(t, {
    scope: editInput,
    input: PullSecretInput,
    payload: PullSecretPayload,
    errors: ACT_ERRORS,
    act: save(true),
    answer: (pullSecret) => ({ pullSecret }),
  }),
  deletePullSecret: answeringMutation(t, {
    scope: editInput,
    input: DeletePullSecretInput,
    payload: PullSecretPayload,
    errors: REMOVE_ERRORS,
    act: byName(deletePullSecret),
    answer: (pullSecret) => ({ pullSecret }),
  }),
}));
