// Reading the CNCF distribution registry's notification envelope, and what each event asks for.
import { z } from 'zod';
import { validateNamespace, validateStreamName, validateTagName } from '../domain/names.ts';
import { badStrings } from '../inputs.ts';
import { MANIFEST_ACCEPT } from '../registry/manifests.ts';

/** Events in one envelope; the registry sends a handful at a time. */
const MAX_EVENTS = 1000;

/**
 * The largest event stored, as JSON. A registry's event is about a kilobyte (target, request,
 * actor, source), plus ~150 bytes per child with `includereferences` (an index of a hundred
 * platforms and attestations stays under 20 KiB); anything far larger is not one and is skipped.
 */
export const MAX_EVENT_BYTES = 64 * 1024;

const notificationEvent = z
  .object({
    id: z.string().min(1).max(200),
    action: z.string(),
    target: z
      .object({
        mediaType: z.string().optional(),
        digest: z.string().optional(),
        repository: z.string().optional(),
        tag: z.string().optional(),
      })
      .loose()
      .optional(),
  })
  .loose();

/**
 * The envelope: its events are read one by one (readNotificationEvent), so one malformed event
 * is skipped on its own instead of making the registry resend the whole envelope forever.
 */
export const notificationEnvelope = z.object({
  events: z.array(z.unknown()).max(MAX_EVENTS),
});

export type NotificationEvent = z.infer<typeof notificationEvent>;

/** An event of an envelope as stored, or why it cannot be (`id` when it has a storable one). */
export type ReadEvent =
  | { ok: true; event: NotificationEvent }
  | { ok: false; id: string | null; reason: string };

const NUL = '\u0000';
const hasNul = (text: string) => (text.includes(NUL) ? 'contains a NUL character (U+0000)' : null);

/**
 * Reads one event of an envelope: a well-formed event, at most MAX_EVENT_BYTES as JSON, with no
 * NUL anywhere in it (keys included, no deeper than the check walks), or the reason it cannot
 * be stored.
 */
export function readNotificationEvent(raw: unknown): ReadEvent {
  const parsed = notificationEvent.safeParse(raw);
  const rawId = (raw as { id?: unknown } | null)?.id;
  const id =
    typeof rawId === 'string' && rawId.length > 0 && rawId.length <= 200 && !rawId.includes(NUL)
      ? rawId
      : null;
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return { ok: false, id, reason: `not an event: ${issue?.path.join('.')}: ${issue?.message}` };
  }
  const json = JSON.stringify(parsed.data);
  if (Buffer.byteLength(json) > MAX_EVENT_BYTES) {
    return { ok: false, id, reason: `event over ${MAX_EVENT_BYTES} bytes as JSON` };
  }
  // Other values Postgres refuses (a lone surrogate in jsonb) are left to the database, which
  // refuses them one event at a time (receive.ts).
  const [nul] = badStrings(parsed.data, 'event', hasNul);
  if (nul) return { ok: false, id, reason: nul };
  return { ok: true, event: parsed.data };
}

export type NotificationPlan =
  | {
      kind: 'map';
      namespace: string;
      stream: string;
      tag: string;
      repository: string;
      digest: string;
    }
  | { kind: 'ignore'; reason: string };

const MANIFEST_TYPES = new Set(MANIFEST_ACCEPT.split(',').map((type) => type.trim()));
const DIGEST = /^sha256:[0-9a-f]{64}$/;

/**
 * A tagged manifest push to `<namespace>/<stream>` becomes an image stream mapping
 * (docs/rules.md#image-stream-mapping). Everything else is recorded and ignored: pulls, blob
 * pushes, untagged pushes (the children of an index), deletes (the stream tag stays, as OpenShift
 * keeps it), and repositories that are not exactly two path components (a deeper path has no stream
 * to land in).
 */
export function planNotification(event: NotificationEvent): NotificationPlan {
  const target = event.target ?? {};
  if (event.action !== 'push') return ignore(`${event.action} events are not mapped`);
  if (!target.mediaType || !MANIFEST_TYPES.has(target.mediaType)) {
    return ignore(`not a manifest push (${target.mediaType ?? 'no media type'})`);
  }
  if (!target.tag) return ignore('untagged manifest push');
  if (!target.digest || !DIGEST.test(target.digest)) return ignore('no sha256 digest');
  const parts = (target.repository ?? '').split('/');
  if (parts.length !== 2) {
    return ignore(`repository "${target.repository}" is not <namespace>/<stream>`);
  }
  const [namespace, stream] = parts as [string, string];
  const problem =
    validateNamespace(namespace) ??
    validateStreamName(namespace, stream) ??
    validateTagName(target.tag);
  if (problem) return ignore(problem.map((p) => p.message).join('; '));
  return {
    kind: 'map',
    namespace,
    stream,
    tag: target.tag,
    repository: target.repository!,
    digest: target.digest,
  };
}

/**
 * The repository whose policy tags a tagged manifest push re-evaluates (any path depth: a policy
 * tag may follow any repository of the registry), or null for every other event.
 */
export function policyRepositoryOf(event: NotificationEvent): string | null {
  const target = event.target ?? {};
  if (event.action !== 'push' || !target.tag || !target.repository) return null;
  if (!target.mediaType || !MANIFEST_TYPES.has(target.mediaType)) return null;
  return target.repository;
}

function ignore(reason: string): NotificationPlan {
  return { kind: 'ignore', reason };
}
