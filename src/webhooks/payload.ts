// Webhook request bodies (CloudEvents 1.0 structured JSON, or plain JSON) and their Standard Webhooks signature headers.
import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { CHANGE_CAUSES } from '../events/append.ts';
import { encodeCursor } from '../events/cursor.ts';
import type { StoredEvent } from '../events/hub.ts';

export type WebhookFormat = 'CLOUDEVENTS' | 'JSON';

/** The prefix of a Standard Webhooks secret; what follows is the key, base64. */
export const SECRET_PREFIX = 'whsec_';

/** A fresh signing secret: 32 random bytes, in the Standard Webhooks form. */
export function generateSecret(): string {
  return `${SECRET_PREFIX}${randomBytes(32).toString('base64')}`;
}

/** Null when `secret` is usable (`whsec_` and 24 to 64 bytes of base64 key), else why not. */
export function secretProblem(secret: string): string | null {
  if (!secret.startsWith(SECRET_PREFIX)) return `the secret must start with "${SECRET_PREFIX}"`;
  const key = secret.slice(SECRET_PREFIX.length);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(key)) return 'the secret key must be base64';
  const bytes = Buffer.from(key, 'base64').length;
  if (bytes < 24 || bytes > 64) return 'the secret key must be 24 to 64 bytes (base64)';
  return null;
}

/** The head of a tag before or after a change, as TagChangeEvent exposes it. */
interface Head {
  digest: string | null;
  dockerImageReference: string;
}

function head(value: unknown): Head | null {
  if (!value || typeof value !== 'object') return null;
  const stored = value as { digest?: string | null; reference?: string };
  return { digest: stored.digest ?? null, dockerImageReference: stored.reference ?? '' };
}

/** The plain JSON body of an event: the fields of TagChangeEvent. */
export function eventData(event: StoredEvent): Record<string, unknown> {
  const failure = event.payload.importFailure as { reason: string; message: string } | undefined;
  return {
    kind: 'TagChangeEvent',
    cursor: encodeCursor(event.seq),
    type: event.type,
    cause: CHANGE_CAUSES[event.cause as keyof typeof CHANGE_CAUSES] ?? 'UPDATE',
    time: event.at.toISOString(),
    namespace: event.namespace,
    stream: event.stream,
    tag: event.tag ?? '',
    previous: head(event.payload.previous),
    current: head(event.payload.current),
    importFailure: failure ? { reason: failure.reason, message: failure.message } : null,
    actor: event.actor ?? null,
  };
}

export interface OutgoingMessage {
  /** The webhook-id header: the same for every attempt and replay of one event to one target. */
  id: string;
  body: string;
  contentType: string;
}

/** The CloudEvents `type` of a change: `io.tagraph.tag.added`, `.updated`, `.deleted`. */
export function cloudEventType(type: string): string {
  return `io.tagraph.tag.${type.toLowerCase()}`;
}

/**
 * The message for `event` to webhook `webhookId`. CloudEvents 1.0 structured mode
 * (application/cloudevents+json): the required attributes `specversion`, `id` (the event's
 * cursor, unique within its source), `source` (the stream) and `type`, with `subject` (the tag),
 * `time`, `datacontenttype` and the JSON body as `data`.
 */
export function eventMessage(
  webhookId: number,
  format: WebhookFormat,
  event: StoredEvent,
): OutgoingMessage {
  const data = eventData(event);
  const id = `msg_${webhookId}_${event.seq}`;
  return message(id, format, data, {
    id: data.cursor as string,
    source: `/namespaces/${event.namespace}/imagestreams/${event.stream}`,
    type: cloudEventType(event.type),
    subject: event.tag ?? '',
  });
}

/** The ping testWebhook sends: `io.tagraph.webhook.ping`, or `{kind: "Ping"}` in plain JSON. */
export function pingMessage(
  webhook: { id: number; namespace: string; name: string },
  format: WebhookFormat,
  at: Date,
): OutgoingMessage {
  const id = `ping_${webhook.id}_${randomBytes(8).toString('hex')}`;
  const data = {
    kind: 'Ping',
    namespace: webhook.namespace,
    webhook: webhook.name,
    time: at.toISOString(),
  };
  return message(id, format, data, {
    id,
    source: `/namespaces/${webhook.namespace}/webhooks/${webhook.name}`,
    type: 'io.tagraph.webhook.ping',
  });
}

/** `data` as the body: plain JSON, or the data of a CloudEvent with `attributes`. */
function message(
  id: string,
  format: WebhookFormat,
  data: Record<string, unknown>,
  attributes: { id: string; source: string; type: string; subject?: string },
): OutgoingMessage {
  if (format === 'JSON') return { id, body: JSON.stringify(data), contentType: 'application/json' };
  const cloudEvent = {
    specversion: '1.0',
    ...attributes,
    time: data.time,
    datacontenttype: 'application/json',
    data,
  };
  return {
    id,
    body: JSON.stringify(cloudEvent),
    contentType: 'application/cloudevents+json; charset=utf-8',
  };
}

/**
 * The Standard Webhooks headers: `webhook-id`, `webhook-timestamp` (Unix seconds) and
 * `webhook-signature` (`v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">`).
 */
export function signedHeaders(
  secret: string,
  message: OutgoingMessage,
  at: Date,
): Record<string, string> {
  return {
    'content-type': message.contentType,
    'user-agent': 'tagraph-webhooks',
    'webhook-id': message.id,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': new Webhook(secret).sign(message.id, at, message.body),
  };
}
