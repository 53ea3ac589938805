// Webhook receivers: registries call a namespace's URL on a push, and its following tags are re-checked at once.
import { builder } from '../builder.ts';
import {
  createReceiver,
  deleteReceiver,
  listReceivers,
  type ReceiverRow,
} from '../services/receivers.ts';
import { adminArgs, adminInput } from './access.ts';
import { CREATE_ERRORS, REMOVE_ERRORS } from './errors.ts';
import {
  answeringMutation,
  byName,
  inputMutation,
  namespacedObject,
  namespaceList,
  objectPayload,
  refFields,
} from './shapes.ts';

/** Where calls go: the gateway's own origin and `/hooks/<token>` (push/receivers.ts). */
const HOOK_PATH = '/hooks/';

const ReceiverKindEnum = builder.enumType('ReceiverKind', {
  description: 'Which registry calls the receiver, and so how its calls are read and checked.',
  values: {
    DOCKER_HUB: {
      description: 'Docker Hub repository webhooks (unsigned: the URL is the credential).',
    },
    QUAY: {
      description: 'Quay repository push notifications (unsigned: the URL is the credential).',
    },
    HARBOR: {
      description: "Harbor project webhooks; the secret goes in the webhook's Auth Header.",
    },
    GITHUB: {
      description: 'GitHub package events (ghcr.io), signed with the secret (X-Hub-Signature-256).',
    },
    GENERIC: {
      description:
        'Any caller: a JSON {repository, tag}, signed with the secret over timestamp and body (docs/webhooks.md).',
    },
  },
});

const Receiver = namespacedObject<ReceiverRow>('Receiver', 'admin', {
  description:
    'An inbound registry webhook of a namespace. Neither its token nor its secret is readable after creation.',
  fields: (t) => ({
    kind: t.field({ type: ReceiverKindEnum, resolve: (r) => r.kind as 'GENERIC' }),
    registry: t.exposeString('registry', {
      nullable: true,
      description: 'The registry host repositories are read on, when the payload does not say.',
    }),
    signed: t.boolean({
      description: 'Whether calls must carry the secret (a signature or, for Harbor, the header).',
      resolve: (r) => r.encryptedSecret !== null,
    }),
    createdBy: t.exposeString('createdBy', { nullable: true }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    lastCalledAt: t.expose('lastCalledAt', {
      type: 'DateTime',
      nullable: true,
      description: 'The last call that was accepted.',
    }),
  }),
});

const CreateReceiverInput = builder.inputType('CreateReceiverInput', {
  fields: (t) => ({
    ...refFields(t),
    kind: t.field({ type: ReceiverKindEnum, required: true }),
    registry: t.string({
      required: false,
      description:
        'The registry host (with port) the pushed repository is on, for a mirror or a self-hosted registry; by default Docker Hub, quay.io (or docker_url), Harbor resource_url, ghcr.io; GENERIC reads the host from the repository.',
    }),
  }),
});

const ReceiverRefInput = builder.inputType('ReceiverRefInput', { fields: refFields });

const CreateReceiverPayload = builder
  .objectRef<{ receiver: ReceiverRow; token: string; secret: string | null }>(
    'CreateReceiverPayload',
  )
  .implement({
    fields: (t) => ({
      receiver: t.field({ type: Receiver, resolve: (p) => p.receiver }),
      path: t.string({
        description:
          "Where the registry POSTs, below this gateway's public origin: /hooks/<token>. Shown this once; the token is the credential.",
        resolve: (p) => `${HOOK_PATH}${p.token}`,
      }),
      secret: t.exposeString('secret', {
        nullable: true,
        description:
          'The signing secret, shown this once; null for kinds that cannot sign (Docker Hub, Quay).',
      }),
    }),
  });

const ReceiverPayload = objectPayload('ReceiverPayload', 'receiver', Receiver);

builder.queryFields((t) => ({
  receivers: namespaceList(t, {
    scope: adminArgs,
    description: "A namespace's webhook receivers, by name (at most 50); admins only.",
    type: Receiver,
    list: listReceivers,
  }),
}));

builder.mutationFields((t) => ({
  createReceiver: inputMutation(t, {
    scope: adminInput,
    description:
      "A URL a registry calls on a push: the namespace's scheduled and policy tags following the pushed repository are re-checked at once (cause WEBHOOK).",
    payload: CreateReceiverPayload,
    input: CreateReceiverInput,
    errors: CREATE_ERRORS,
    act: (ctx, input) => createReceiver(ctx.database.db, ctx.access, ctx.secretKey, input),
  }),
  deleteReceiver: answeringMutation(t, {
    scope: adminInput,
    input: ReceiverRefInput,
    payload: ReceiverPayload,
    errors: REMOVE_ERRORS,
    act: byName(deleteReceiver),
    answer: (receiver) => ({ receiver }),
  }),
}));
