// Reading the CNCF distribution registry's notification envelope, and what each event asks for.
import { z } from 'zod';
import { validateNamespace, validateStreamName, validateTagName } from '../domain/names.ts';
import { MANIFEST_ACCEPT } from '../registry/manifests.ts';

/** Events in one envelope; the registry sends a handful at a time. */
const MAX_EVENTS = 1000;

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

export const notificationEnvelope = z.object({
  events: z.array(notificationEvent).max(MAX_EVENTS),
});

export type NotificationEvent = z.infer<typeof notificationEvent>;

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
 * A tagged manifest push to `<namespace>/<stream>` becomes an image stream mapping (rule 16).
 * Everything else is recorded and ignored: pulls, blob pushes, untagged pushes (the children of
 * an index), deletes (the stream tag stays, as OpenShift keeps it), and repositories that are not
 * exactly two path components (a deeper path has no stream to land in).
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

function ignore(reason: string): NotificationPlan {
  return { kind: 'ignore', reason };
}
