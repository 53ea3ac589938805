// Accepting registry notifications: persist each event once, queue the mapping, answer at once.

import type { PushRegistry } from '../config.ts';
import type { Db } from '../db/client.ts';
import { registryNotifications } from '../db/schema.ts';
import { enqueueImport } from '../services/importJobs.ts';
import { type NotificationEvent, planNotification } from './notifications.ts';

export interface ReceiveSummary {
  /** Events new to us that queue a mapping. */
  queued: number;
  /** Events recorded but not mapped (pulls, blobs, untagged, deletes, odd paths). */
  ignored: number;
  /** Events seen before (the registry retries deliveries); nothing is done twice. */
  duplicates: number;
}

/**
 * Records every event under its id in one transaction with the import jobs it queues, so a
 * delivery that is acknowledged is never lost, and a repeated one is recognised by its ids.
 */
export async function receiveNotifications(
  db: Db,
  registry: PushRegistry,
  events: NotificationEvent[],
): Promise<ReceiveSummary> {
  const summary: ReceiveSummary = { queued: 0, ignored: 0, duplicates: 0 };
  await db.transaction(async (tx) => {
    for (const event of events) {
      const plan = planNotification(event);
      const [inserted] = await tx
        .insert(registryNotifications)
        .values({
          // Event ids are UUIDs per registry; the host keeps two registries' ids apart.
          eventId: `${registry.host}/${event.id}`,
          registryHost: registry.host,
          action: event.action,
          payload: event as Record<string, unknown>,
          processedAt: plan.kind === 'ignore' ? new Date() : null,
          error: plan.kind === 'ignore' ? plan.reason : null,
        })
        .onConflictDoNothing()
        .returning({ eventId: registryNotifications.eventId });
      if (!inserted) {
        summary.duplicates += 1;
        continue;
      }
      if (plan.kind === 'ignore') {
        summary.ignored += 1;
        continue;
      }
      await enqueueImport(tx, {
        namespace: plan.namespace,
        stream: plan.stream,
        tags: [plan.tag],
        cause: 'push',
        push: { registry: registry.host, repository: plan.repository, digest: plan.digest },
      });
      summary.queued += 1;
    }
  });
  return summary;
}
