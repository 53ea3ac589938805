// A namespace's outgoing webhooks: create, change, enable, delete, list, the delivery log, redelivery and pings.
import { and, desc, eq, lt, sql } from 'drizzle-orm';
import type { AccessChecker } from '../auth/roles.ts';
import type { Db } from '../db/client.ts';
import { webhookDeliveries, webhooks } from '../db/schema.ts';
import { isDns1123Label, validateNamespace } from '../domain/names.ts';
import { type FieldProblem, invalid, ok, type Result } from '../errors.ts';
import { CHANGE_CAUSES, writeTransaction } from '../events/append.ts';
import { decrypt, encrypt } from '../secrets.ts';
import {
  generateSecret,
  pingMessage,
  secretProblem,
  signedHeaders,
  type WebhookFormat,
} from '../webhooks/payload.ts';
import {
  type EgressPolicy,
  type SendOutcome,
  urlProblem,
  type WebhookSender,
} from '../webhooks/send.ts';
import { namespacedObjects } from './namespacedObjects.ts';

/** Webhooks one namespace may have, which bounds the `webhooks` list. */
export const MAX_WEBHOOKS_PER_NAMESPACE = 100;
/** Values one filter list may hold. */
export const MAX_FILTER_VALUES = 100;

export type WebhookRow = typeof webhooks.$inferSelect;
export type DeliveryRow = typeof webhookDeliveries.$inferSelect;

/** As the API names them: change types and causes (ChangeType, ChangeCause). */
export interface WebhookFilter {
  streams: string[];
  tags: string[];
  types: string[];
  causes: string[];
}

const STORED_CAUSE = Object.fromEntries(
  Object.entries(CHANGE_CAUSES).map(([stored, api]) => [api, stored]),
) as Record<string, string>;
const API_CAUSE = CHANGE_CAUSES as Record<string, string>;

/** The filter as the API shows it (causes by their ChangeCause names). */
export function filterOf(row: WebhookRow): WebhookFilter {
  return { ...row.filter, causes: row.filter.causes.map((c) => API_CAUSE[c] ?? c) };
}

export interface WebhookInput {
  namespace: string;
  name: string;
  url?: string | null;
  filter?: { [K in keyof WebhookFilter]?: string[] | null | undefined } | null;
  secret?: string | null;
  format?: WebhookFormat | null;
}

/** Who may manage and inspect webhooks: editors of the namespace (URLs may carry tokens). */
const objects = namespacedObjects({
  table: webhooks,
  role: 'editor',
  resource: 'webhooks',
  noun: 'webhook',
  plural: 'webhooks',
  max: MAX_WEBHOOKS_PER_NAMESPACE,
});
const { refused } = objects;

function checkFilter(
  filter: NonNullable<WebhookInput['filter']>,
  problems: FieldProblem[],
): WebhookFilter {
  const lists = {
    streams: filter.streams ?? [],
    tags: filter.tags ?? [],
    types: filter.types ?? [],
    causes: filter.causes ?? [],
  };
  for (const [key, values] of Object.entries(lists)) {
    if (values.length > MAX_FILTER_VALUES) {
      problems.push({
        field: `filter.${key}`,
        message: `at most ${MAX_FILTER_VALUES} values per filter list`,
      });
    }
    if (values.some((v) => v.length === 0 || v.length > 255)) {
      problems.push({ field: `filter.${key}`, message: 'values must be 1-255 characters' });
    }
  }
  return {
    ...lists,
    causes: lists.causes.map((c) => STORED_CAUSE[c] ?? c),
  };
}

function checkInput(
  input: WebhookInput,
  egress: EgressPolicy,
  creating: boolean,
): { problems: FieldProblem[]; filter: WebhookFilter | null } {
  const problems: FieldProblem[] = [...(validateNamespace(input.namespace) ?? [])];
  if (!isDns1123Label(input.name)) {
    problems.push({
      field: 'name',
      message: `webhook name "${input.name}" must be a DNS-1123 label (lower case, digits, "-", at most 63)`,
    });
  }
  if (input.url != null) {
    const problem = urlProblem(input.url, egress);
    if (problem) problems.push({ field: 'url', message: problem });
  } else if (creating) {
    problems.push({ field: 'url', message: 'a url is required' });
  }
  if (input.secret != null) {
    const problem = secretProblem(input.secret);
    if (problem) problems.push({ field: 'secret', message: problem });
  }
  const filter = input.filter != null ? checkFilter(input.filter, problems) : null;
  return { problems, filter };
}

/**
 * Creates a webhook; it is sent the events committed from now on. Returns the secret when one
 * was generated (the only time it can be read).
 */
export async function createWebhook(
  db: Db,
  access: AccessChecker,
  key: Buffer,
  egress: EgressPolicy,
  input: WebhookInput,
): Promise<Result<{ webhook: WebhookRow; secret: string | null }>> {
  const denied = await refused(access, input.namespace, 'create');
  if (denied) return denied;
  const { problems, filter } = checkInput(input, egress, true);
  if (problems.length > 0) return invalid(problems);
  const generated = input.secret == null ? generateSecret() : null;
  const secret = input.secret ?? generated!;
  return writeTransaction(db, async (tx) => {
    const created = await objects.create(tx, {
      namespace: input.namespace,
      name: input.name,
      url: input.url!,
      filter: filter ?? { streams: [], tags: [], types: [], causes: [] },
      format: input.format ?? 'CLOUDEVENTS',
      encryptedSecret: encrypt(key, secret),
      // From now on: the newest position given so far (events not yet numbered come after).
      position: sql`(select coalesce(max(seq), 0) from events)`,
    });
    return created.ok ? ok({ webhook: created.value, secret: generated }) : created;
  });
}

/** Changes what is given of url, filter, secret and format. */
export async function updateWebhook(
  db: Db,
  access: AccessChecker,
  key: Buffer,
  egress: EgressPolicy,
  input: WebhookInput,
): Promise<Result<WebhookRow>> {
  const denied = await refused(access, input.namespace, 'update');
  if (denied) return denied;
  const { problems, filter } = checkInput(input, egress, false);
  if (problems.length > 0) return invalid(problems);
  return objects.update(db, input.namespace, input.name, {
    ...(input.url != null ? { url: input.url } : {}),
    ...(filter ? { filter } : {}),
    ...(input.format != null ? { format: input.format } : {}),
    ...(input.secret != null ? { encryptedSecret: encrypt(key, input.secret) } : {}),
    updatedAt: new Date(),
  });
}

/**
 * Enables (resuming where delivery stopped, retries starting afresh, any condition cleared) or
 * disables a webhook; disabling ends the lease of whichever process delivers to it.
 */
export async function setWebhookEnabled(
  db: Db,
  access: AccessChecker,
  namespace: string,
  name: string,
  enabled: boolean,
): Promise<Result<WebhookRow>> {
  const denied = await refused(access, namespace, 'update');
  if (denied) return denied;
  return objects.update(
    db,
    namespace,
    name,
    enabled
      ? {
          enabled: true,
          state: 'ACTIVE',
          conditionReason: '',
          conditionMessage: '',
          conditionTime: null,
          // Attempts keep counting (each attempt's number is unique per event); the retry
          // period starts afresh.
          failingSince: null,
          nextAttemptAt: sql`now()`,
          updatedAt: new Date(),
        }
      : { enabled: false, leaseId: null, leasedUntil: null, updatedAt: new Date() },
  );
}

export const deleteWebhook = objects.remove;

export const listWebhooks = objects.list;

export const getWebhook = objects.get;

/** A page of the delivery log, newest first: `first` rows with an id below `beforeId`. */
export async function listDeliveries(
  db: Db,
  webhookId: number,
  first: number,
  beforeId: number | null,
): Promise<{ rows: DeliveryRow[]; more: boolean }> {
  const rows = await db
    .select()
    .from(webhookDeliveries)
    .where(
      and(
        eq(webhookDeliveries.webhookId, webhookId),
        beforeId === null ? undefined : lt(webhookDeliveries.id, beforeId),
      ),
    )
    .orderBy(desc(webhookDeliveries.id))
    .limit(first + 1);
  return { rows: rows.slice(0, first), more: rows.length > first };
}

/**
 * Replays every matching event after position `since`: the webhook's position goes back there,
 * retries and conditions start afresh, and the lease of whichever process delivers to it ends
 * (its next write is refused), so the next claim walks from `since`.
 */
export async function redeliverWebhook(
  db: Db,
  webhookId: number,
  since: number,
): Promise<WebhookRow> {
  const [row] = await db
    .update(webhooks)
    .set({
      position: since,
      attempt: 0,
      failingSince: null,
      replay: sql`${webhooks.replay} + 1`,
      leaseId: null,
      leasedUntil: null,
      nextAttemptAt: sql`now()`,
      state: sql`case when ${webhooks.state} = 'FAILING' then 'ACTIVE' else ${webhooks.state} end`,
      updatedAt: new Date(),
    })
    .where(eq(webhooks.id, webhookId))
    .returning();
  return row!;
}

/** Sends a signed ping now (not through the queue) and records it in the delivery log. */
export async function pingWebhook(
  db: Db,
  key: Buffer,
  sender: WebhookSender,
  webhook: WebhookRow,
): Promise<SendOutcome> {
  const at = new Date();
  const message = pingMessage(webhook, webhook.format as WebhookFormat, at);
  const outcome = await sender.send(
    webhook.url,
    signedHeaders(decrypt(key, webhook.encryptedSecret), message, at),
    message.body,
  );
  const code = outcome.statusCode;
  await db.insert(webhookDeliveries).values({
    webhookId: webhook.id,
    eventSeq: null,
    attempt: 1,
    outcome: code !== null && code >= 200 && code < 300 ? 'SUCCEEDED' : 'FAILED',
    statusCode: code,
    durationMs: outcome.durationMs,
    error: outcome.error,
  });
  return outcome;
}
