// Accepting registry notifications: persist each event once, queue the mapping, answer at once.

import { and, eq, isNotNull } from 'drizzle-orm';
import type { Logger } from 'pino';
import type { PushRegistry } from '../config.ts';
import type { Db, Tx } from '../db/client.ts';
import { imageStreams, registryNotifications, tags } from '../db/schema.ts';
import { pushActor } from '../domain/actors.ts';
import { actingAs } from '../events/append.ts';
import { enqueueImport } from '../services/importJobs.ts';
import {
  type NotificationEvent,
  planNotification,
  policyRepositoryOf,
  readNotificationEvent,
} from './notifications.ts';

/**
 * Policy tags one push re-evaluates at most. More tags following one repository than this is no
 * use seen; the scheduled passes still evaluate the rest.
 */
export const MAX_POLICY_TAGS_PER_PUSH = 1000;

export interface ReceiveSummary {
  /** Events new to us that queue a mapping. */
  queued: number;
  /** Events recorded but not mapped (pulls, blobs, untagged, deletes, odd paths). */
  ignored: number;
  /** Events seen before (the registry retries deliveries); nothing is done twice. */
  duplicates: number;
  /**
   * Events that cannot be stored (malformed, oversized, a NUL character, or refused by the
   * database as data): logged with the reason and acknowledged, so the registry moves on.
   */
  skipped: number;
}

/**
 * Records every event under its id in one transaction with the import jobs it queues, so a
 * delivery that is acknowledged is never lost, and a repeated one is recognised by its ids.
 * Each event is stored under a savepoint: one the database refuses as data is skipped without
 * losing the others. A skipped event with a usable id is recorded as such (no payload), so its
 * redelivery counts as a duplicate. Any other database failure is thrown: nothing is stored and
 * the caller answers so that the registry retries.
 */
export async function receiveNotifications(
  db: Db,
  registry: PushRegistry,
  events: readonly unknown[],
  log: Logger,
): Promise<ReceiveSummary> {
  const summary: ReceiveSummary = { queued: 0, ignored: 0, duplicates: 0, skipped: 0 };
  const skip = (id: string | null, reason: string) => {
    summary.skipped += 1;
    log.warn(
      { registry: registry.host, eventId: id, reason },
      'registry event skipped: it cannot be stored',
    );
  };
  await actingAs(pushActor(registry.host), () =>
    db.transaction(async (tx) => {
      /** Records a skipped event by its id, or counts it as a duplicate when seen before. */
      const skipOrRecognise = async (id: string | null, reason: string) => {
        const fresh =
          id === null ||
          (await tx
            .transaction((savepoint) => recordSkipped(savepoint, registry, id, reason))
            .catch((error) => {
              if (isDataError(error)) return true;
              throw error;
            }));
        if (fresh) skip(id, reason);
        else summary.duplicates += 1;
      };
      for (const raw of events) {
        const read = readNotificationEvent(raw);
        if (!read.ok) {
          await skipOrRecognise(read.id, read.reason);
          continue;
        }
        let outcome: 'queued' | 'ignored' | 'duplicate';
        try {
          outcome = await tx.transaction((savepoint) => store(savepoint, registry, read.event));
        } catch (error) {
          if (!isDataError(error)) throw error;
          await skipOrRecognise(read.event.id, `the database refused it (${sqlState(error)})`);
          continue;
        }
        if (outcome === 'duplicate') summary.duplicates += 1;
        else summary[outcome] += 1;
      }
    }),
  );
  return summary;
}

/**
 * Stores one event and queues its mapping, and an evaluation of every policy tag whose source is
 * the pushed repository (one job per stream, cause `policy`).
 */
async function store(
  tx: Tx,
  registry: PushRegistry,
  event: NotificationEvent,
): Promise<'queued' | 'ignored' | 'duplicate'> {
  const plan = planNotification(event);
  const policyRepository = policyRepositoryOf(event);
  const [inserted] = await tx
    .insert(registryNotifications)
    .values({
      eventId: eventKey(registry, event.id),
      registryHost: registry.host,
      action: event.action,
      payload: event as Record<string, unknown>,
      processedAt: plan.kind === 'ignore' ? new Date() : null,
      error: plan.kind === 'ignore' ? plan.reason : null,
    })
    .onConflictDoNothing()
    .returning({ eventId: registryNotifications.eventId });
  if (!inserted) return 'duplicate';
  const evaluations = policyRepository
    ? await queuePolicyEvaluations(tx, `${registry.host}/${policyRepository}`)
    : 0;
  if (plan.kind === 'ignore') return evaluations > 0 ? 'queued' : 'ignored';
  await enqueueImport(tx, {
    namespace: plan.namespace,
    stream: plan.stream,
    tags: [plan.tag],
    cause: 'push',
    push: {
      registry: registry.host,
      repository: plan.repository,
      digest: plan.digest,
      insecure: registry.insecure,
    },
  });
  return 'queued';
}

/**
 * Queues an import of the policy tags whose source is `repository` (`host/path`), one job per
 * stream, at most MAX_POLICY_TAGS_PER_PUSH tags; returns how many tags were queued.
 */
async function queuePolicyEvaluations(tx: Tx, repository: string): Promise<number> {
  const rows = await tx
    .select({ namespace: imageStreams.namespace, stream: imageStreams.name, tag: tags.name })
    .from(tags)
    .innerJoin(imageStreams, eq(imageStreams.id, tags.streamId))
    .where(
      and(eq(tags.fromName, repository), eq(tags.fromKind, 'DockerImage'), isNotNull(tags.policy)),
    )
    .orderBy(imageStreams.namespace, imageStreams.name, tags.name)
    .limit(MAX_POLICY_TAGS_PER_PUSH);
  const byStream = new Map<string, { namespace: string; stream: string; tags: string[] }>();
  for (const row of rows) {
    const key = `${row.namespace}/${row.stream}`;
    const entry = byStream.get(key) ?? { namespace: row.namespace, stream: row.stream, tags: [] };
    entry.tags.push(row.tag);
    byStream.set(key, entry);
  }
  for (const { namespace, stream, tags: names } of byStream.values()) {
    await enqueueImport(tx, { namespace, stream, tags: names, cause: 'policy' });
  }
  return rows.length;
}

/** Records an unstorable event by its id alone; false when the id was seen before. */
async function recordSkipped(
  tx: Tx,
  registry: PushRegistry,
  id: string,
  reason: string,
): Promise<boolean> {
  const [inserted] = await tx
    .insert(registryNotifications)
    .values({
      eventId: eventKey(registry, id),
      registryHost: registry.host,
      action: 'unknown',
      payload: {},
      processedAt: new Date(),
      error: `skipped: ${reason}`,
    })
    .onConflictDoNothing()
    .returning({ eventId: registryNotifications.eventId });
  return inserted !== undefined;
}

/** Event ids are UUIDs per registry; the host keeps two registries' ids apart. */
function eventKey(registry: PushRegistry, id: string): string {
  return `${registry.host}/${id}`;
}

/** The SQLSTATE of a database error, looked for along the cause chain (drizzle wraps them). */
function sqlState(error: unknown): string | undefined {
  for (let e = error, depth = 0; e && depth < 5; e = (e as Error).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return code;
  }
  return undefined;
}

/**
 * Whether the database refused the values rather than failed: data exceptions (22: bad
 * encoding, a NUL, a value too long), integrity violations (23) and program limits (54: a value
 * too large to index). Everything else (a lost connection, a shutdown) is an outage.
 */
function isDataError(error: unknown): boolean {
  return /^(22|23|54)/.test(sqlState(error) ?? '');
}
