// Outgoing webhooks: manage a namespace's targets, read their delivery log, redeliver from a cursor, send a ping.
import { GraphQLError } from 'graphql';
import { builder, MAX_PAGE_SIZE } from '../builder.ts';
import type { AppContext } from '../context.ts';
import type { Db } from '../db/client.ts';
import { NotFoundError, ok, type Result } from '../errors.ts';
import { decodeCursor, encodeCursor } from '../events/cursor.ts';
import { logBounds } from '../events/retention.ts';
import {
  createWebhook,
  type DeliveryRow,
  deleteWebhook,
  filterOf,
  getWebhook,
  listDeliveries,
  listWebhooks,
  pingWebhook,
  redeliverWebhook,
  setWebhookEnabled,
  updateWebhook,
  type WebhookFilter,
  type WebhookInput,
  type WebhookRow,
} from '../services/webhooks.ts';
import { EgressPolicy, type SendOutcome, WebhookSender } from '../webhooks/send.ts';
import { editArgs, editInput, valueOrGraphQLError } from './access.ts';
import { ACT_ERRORS, CREATE_ERRORS, REMOVE_ERRORS } from './errors.ts';
import { ChangeCause, ChangeType } from './events.ts';
import {
  answeringMutation,
  byName,
  inputMutation,
  type MutationFields,
  namespacedObject,
  namespaceList,
  objectPayload,
  refArgs,
  refFields,
} from './shapes.ts';

/** One egress policy and one sender (for pings) per configuration, i.e. per process. */
const senders = new WeakMap<object, { egress: EgressPolicy; sender: WebhookSender }>();
function outbound(ctx: AppContext) {
  let entry = senders.get(ctx.config);
  if (!entry) {
    const egress = new EgressPolicy(ctx.config.egressAllow);
    entry = { egress, sender: new WebhookSender(egress, ctx.config.webhooks.timeoutMs) };
    senders.set(ctx.config, entry);
  }
  return entry;
}

const WebhookFormatEnum = builder.enumType('WebhookFormat', {
  description: 'The body of a delivery (docs/webhooks.md).',
  values: {
    CLOUDEVENTS: {
      description: 'A CloudEvents 1.0 event in structured mode (application/cloudevents+json).',
    },
    JSON: { description: 'The TagChangeEvent fields as a plain JSON object (application/json).' },
  },
});

const WebhookStateEnum = builder.enumType('WebhookState', {
  values: {
    ACTIVE: { description: 'Delivering (or waiting to retry).' },
    FAILING: {
      description:
        'An event was retried for the whole retry period without success; delivery is paused until the webhook is enabled again or redelivered.',
    },
    GONE: { description: 'The target answered 410 Gone; the webhook was disabled.' },
  },
});

const WebhookFilterRef = builder.objectRef<WebhookFilter>('WebhookFilter').implement({
  description: 'Which tag changes are sent; an empty list matches everything.',
  fields: (t) => ({
    streams: t.exposeStringList('streams'),
    tags: t.exposeStringList('tags'),
    types: t.field({ type: [ChangeType], resolve: (f) => f.types as never }),
    causes: t.field({ type: [ChangeCause], resolve: (f) => f.causes as never }),
  }),
});

interface ConditionShape {
  reason: string;
  message: string;
  time: Date | null;
}

const WebhookCondition = builder.objectRef<ConditionShape>('WebhookCondition').implement({
  description: 'Why a webhook is not ACTIVE.',
  fields: (t) => ({
    reason: t.exposeString('reason'),
    message: t.exposeString('message'),
    time: t.expose('time', { type: 'DateTime', nullable: true }),
  }),
});

const Webhook = namespacedObject<WebhookRow>('Webhook', 'edit', {
  description:
    'An HTTP endpoint that is POSTed every matching tag change of its namespace, signed (Standard Webhooks). The secret is never readable.',
  fields: (t) => ({
    url: t.exposeString('url'),
    format: t.field({ type: WebhookFormatEnum, resolve: (w) => w.format as 'JSON' }),
    filter: t.field({ type: WebhookFilterRef, resolve: filterOf }),
    enabled: t.exposeBoolean('enabled'),
    state: t.field({ type: WebhookStateEnum, resolve: (w) => w.state as 'ACTIVE' }),
    condition: t.field({
      type: WebhookCondition,
      nullable: true,
      resolve: (w) =>
        w.conditionReason
          ? { reason: w.conditionReason, message: w.conditionMessage, time: w.conditionTime }
          : null,
    }),
    deliveredThrough: t.string({
      description:
        'The cursor of the last event this webhook has been sent or that its filter skipped.',
      resolve: (w) => encodeCursor(w.position),
    }),
    nextAttemptAt: t.expose('nextAttemptAt', {
      type: 'DateTime',
      description: 'When the next retry is due (in the past when none is pending).',
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
  }),
});

const WebhookDelivery = builder.objectRef<DeliveryRow>('WebhookDelivery').implement({
  description: 'One attempt to deliver one event (or a ping) to a webhook.',
  fields: (t) => ({
    eventCursor: t.string({
      nullable: true,
      description: 'The cursor of the event delivered; null for a ping.',
      resolve: (d) => (d.eventSeq === null ? null : encodeCursor(d.eventSeq)),
    }),
    attempt: t.exposeInt('attempt', { description: 'The attempt at this event, from 1.' }),
    outcome: t.exposeString('outcome', { description: 'SENDING, SUCCEEDED or FAILED.' }),
    statusCode: t.exposeInt('statusCode', { nullable: true }),
    durationMs: t.exposeInt('durationMs', { nullable: true }),
    error: t.exposeString('error', { nullable: true }),
    nextRetryAt: t.expose('nextRetryAt', { type: 'DateTime', nullable: true }),
    time: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

interface DeliveryPage {
  deliveries: DeliveryRow[];
  endCursor: string | null;
  hasNextPage: boolean;
}

const WebhookDeliveryPage = builder.objectRef<DeliveryPage>('WebhookDeliveryPage').implement({
  description: 'Deliveries, newest first; pass `endCursor` as `after` for older ones.',
  fields: (t) => ({
    deliveries: t.field({ type: [WebhookDelivery], resolve: (p) => p.deliveries }),
    endCursor: t.exposeString('endCursor', { nullable: true }),
    hasNextPage: t.exposeBoolean('hasNextPage'),
  }),
});

const WebhookFilterInput = builder.inputType('WebhookFilterInput', {
  fields: (t) => ({
    streams: t.stringList({ required: false }),
    tags: t.stringList({ required: false }),
    types: t.field({ type: [ChangeType], required: false }),
    causes: t.field({ type: [ChangeCause], required: false }),
  }),
});

const CreateWebhookInput = builder.inputType('CreateWebhookInput', {
  fields: (t) => ({
    ...refFields(t),
    url: t.string({
      required: true,
      description: 'An http:// or https:// URL; redirects are not followed.',
    }),
    filter: t.field({ type: WebhookFilterInput, required: false }),
    secret: t.string({
      required: false,
      description:
        'A Standard Webhooks secret (`whsec_` and 24-64 bytes, base64). Write-only; generated (and returned once) when left out.',
    }),
    format: t.field({ type: WebhookFormatEnum, required: false, defaultValue: 'CLOUDEVENTS' }),
  }),
});

const UpdateWebhookInput = builder.inputType('UpdateWebhookInput', {
  description: 'What is given changes; what is left out stays.',
  fields: (t) => ({
    ...refFields(t),
    url: t.string({ required: false }),
    filter: t.field({ type: WebhookFilterInput, required: false }),
    secret: t.string({ required: false, description: 'A new secret (write-only).' }),
    format: t.field({ type: WebhookFormatEnum, required: false }),
  }),
});

const WebhookRefInput = builder.inputType('WebhookRefInput', { fields: refFields });

const RedeliverWebhookInput = builder.inputType('RedeliverWebhookInput', {
  fields: (t) => ({
    ...refFields(t),
    since: t.string({
      required: true,
      description:
        'An event cursor: every matching event after it is sent again, in order (within the event retention).',
    }),
  }),
});

const CreateWebhookPayload = builder
  .objectRef<{ webhook: WebhookRow; secret: string | null }>('CreateWebhookPayload')
  .implement({
    fields: (t) => ({
      webhook: t.field({ type: Webhook, resolve: (p) => p.webhook }),
      secret: t.exposeString('secret', {
        nullable: true,
        description:
          'The generated secret, shown this once (null when the secret was given). Keep it to verify signatures.',
      }),
    }),
  });

const WebhookPayload = objectPayload('WebhookPayload', 'webhook', Webhook);

const TestWebhookPayload = builder
  .objectRef<{ webhook: WebhookRow; outcome: SendOutcome }>('TestWebhookPayload')
  .implement({
    fields: (t) => ({
      webhook: t.field({ type: Webhook, resolve: (p) => p.webhook }),
      succeeded: t.boolean({
        resolve: (p) =>
          p.outcome.statusCode !== null &&
          p.outcome.statusCode >= 200 &&
          p.outcome.statusCode < 300,
      }),
      statusCode: t.int({ nullable: true, resolve: (p) => p.outcome.statusCode }),
      durationMs: t.int({ resolve: (p) => p.outcome.durationMs }),
      error: t.string({ nullable: true, resolve: (p) => p.outcome.error }),
    }),
  });

const DELIVERY_PREFIX = 'delivery:';

function deliveryCursor(id: number): string {
  return Buffer.from(`${DELIVERY_PREFIX}${id}`).toString('base64url');
}

function badCursor(arg: string): GraphQLError {
  return new GraphQLError(`"${arg}" is not a cursor this server issued`, {
    extensions: { code: 'BAD_CURSOR', field: arg },
  });
}

/** The delivery id in an `after` cursor of webhookDeliveries. */
function decodeDeliveryCursor(cursor: string): number {
  const text = Buffer.from(cursor, 'base64url').toString();
  const id = Number(text.slice(DELIVERY_PREFIX.length));
  if (!text.startsWith(DELIVERY_PREFIX) || !Number.isSafeInteger(id) || id <= 0) {
    throw badCursor('after');
  }
  return id;
}

/** The event position in `since`; BAD_CURSOR, CURSOR_EXPIRED (trimmed) or CURSOR_UNKNOWN (beyond the log). */
async function eventPosition(ctx: AppContext, cursor: string, arg: string): Promise<number> {
  const id = decodeCursor(cursor);
  if (id === null) throw badCursor(arg);
  const { trimmedThrough, newest } = await logBounds(ctx.database);
  if (id > newest) {
    throw new GraphQLError(`"${arg}" is beyond the end of this server's event log`, {
      extensions: { code: 'CURSOR_UNKNOWN', field: arg },
    });
  }
  if (id < trimmedThrough) {
    const hours = Math.round(ctx.config.eventRetentionMs / 3_600_000);
    throw new GraphQLError(
      `"${arg}" is older than the event retention window (${hours} h): the events after it are gone`,
      { extensions: { code: 'CURSOR_EXPIRED', field: arg } },
    );
  }
  return id;
}

/** createWebhook's or updateWebhook's `act`: `save` the input, a left-out filter as none. */
const saving =
  <Value>(
    save: (
      db: Db,
      access: AppContext['access'],
      key: Buffer,
      egress: EgressPolicy,
      input: WebhookInput,
    ) => Promise<Result<Value>>,
  ) =>
  (ctx: AppContext, input: WebhookInput) =>
    save(ctx.database.db, ctx.access, ctx.secretKey, outbound(ctx).egress, {
      ...input,
      filter: input.filter ?? null,
    });

/** enableWebhook or disableWebhook: whether the webhook delivers. */
const enabledField = (t: MutationFields, enabled: boolean, description: string) =>
  answeringMutation(t, {
    scope: editInput,
    description,
    input: WebhookRefInput,
    payload: WebhookPayload,
    errors: REMOVE_ERRORS,
    act: byName((db, access, namespace, name) =>
      setWebhookEnabled(db, access, namespace, name, enabled),
    ),
    answer: (webhook) => ({ webhook }),
  });

builder.queryFields((t) => ({
  webhooks: namespaceList(t, {
    scope: editArgs,
    description: `A namespace's webhooks, by name (at most 100); editors only.`,
    type: Webhook,
    list: listWebhooks,
  }),
  webhook: t.field({
    authScopes: editArgs,
    type: Webhook,
    nullable: true,
    args: refArgs(t.arg),
    resolve: async (_root, args, ctx) => {
      const found = await getWebhook(ctx.database.db, ctx.access, args.namespace, args.name);
      if (!found.ok && found.error instanceof NotFoundError) return null;
      return valueOrGraphQLError(found);
    },
  }),
  webhookDeliveries: t.field({
    authScopes: editArgs,
    description: `A webhook's delivery log, newest first.`,
    type: WebhookDeliveryPage,
    args: {
      namespace: t.arg.string({ required: true }),
      webhook: t.arg.string({ required: true }),
      first: t.arg.int({ required: false, defaultValue: 20 }),
      after: t.arg.string({ required: false }),
    },
    resolve: async (_root, args, ctx) => {
      const first = args.first ?? 20;
      if (first < 1 || first > MAX_PAGE_SIZE) {
        throw new GraphQLError(`"first" must be 1-${MAX_PAGE_SIZE}`, {
          extensions: { code: 'BAD_USER_INPUT', field: 'first' },
        });
      }
      const before = args.after == null ? null : decodeDeliveryCursor(args.after);
      const webhook = valueOrGraphQLError(
        await getWebhook(ctx.database.db, ctx.access, args.namespace, args.webhook),
      );
      const page = await listDeliveries(ctx.database.db, webhook.id, first, before);
      const last = page.rows.at(-1);
      return {
        deliveries: page.rows,
        endCursor: last ? deliveryCursor(last.id) : null,
        hasNextPage: page.more,
      };
    },
  }),
}));

/** An `act` on the input's webhook: `then` runs once the caller may see it and it exists. */
const onWebhook =
  <Input extends { namespace: string; name: string }, Value>(
    then: (ctx: AppContext, webhook: WebhookRow, input: Input) => Promise<Value>,
  ) =>
  async (ctx: AppContext, input: Input): Promise<Result<Value>> => {
    const found = await getWebhook(ctx.database.db, ctx.access, input.namespace, input.name);
    return found.ok ? ok(await then(ctx, found.value, input)) : found;
  };

builder.mutationFields((t) => ({
  createWebhook: inputMutation(t, {
    scope: editInput,
    payload: CreateWebhookPayload,
    input: CreateWebhookInput,
    errors: CREATE_ERRORS,
    act: saving(createWebhook),
  }),
  updateWebhook: answeringMutation(t, {
    scope: editInput,
    input: UpdateWebhookInput,
    payload: WebhookPayload,
    errors: ACT_ERRORS,
    act: saving(updateWebhook),
    answer: (webhook) => ({ webhook }),
  }),
  enableWebhook: enabledField(
    t,
    true,
    'Resumes delivery where it stopped; clears FAILING and GONE.',
  ),
  disableWebhook: enabledField(
    t,
    false,
    'Stops delivery; events keep their place until enabled again (within the event retention).',
  ),
  deleteWebhook: answeringMutation(t, {
    scope: editInput,
    input: WebhookRefInput,
    payload: WebhookPayload,
    errors: REMOVE_ERRORS,
    act: byName(deleteWebhook),
    answer: (webhook) => ({ webhook }),
  }),
  testWebhook: inputMutation(t, {
    scope: editInput,
    description: 'Sends a signed ping now and answers how the target responded.',
    payload: TestWebhookPayload,
    input: WebhookRefInput,
    errors: REMOVE_ERRORS,
    act: onWebhook(async (ctx, webhook) => ({
      webhook,
      outcome: await pingWebhook(ctx.database.db, ctx.secretKey, outbound(ctx).sender, webhook),
    })),
  }),
  redeliverWebhook: inputMutation(t, {
    scope: editInput,
    description:
      'Sends again, in order, every matching event after the cursor `since` (CURSOR_EXPIRED when the log was trimmed past it).',
    payload: WebhookPayload,
    input: RedeliverWebhookInput,
    errors: REMOVE_ERRORS,
    act: onWebhook(async (ctx, webhook, input) => {
      const since = await eventPosition(ctx, input.since, 'since');
      return { webhook: await redeliverWebhook(ctx.database.db, webhook.id, since) };
    }),
  }),
}));
