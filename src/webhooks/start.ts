// Starts webhook delivery in a process (the server or the separate worker) when configured to.
import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import type { Database } from '../db/client.ts';
import { EgressPolicy } from '../registry/egress.ts';
import { WebhookDispatcher } from './dispatcher.ts';

export async function startWebhookDelivery(
  config: Config,
  database: Database,
  log: Logger,
  secretKey: Buffer,
): Promise<WebhookDispatcher | null> {
  if (!config.webhooks.deliver) return null;
  const dispatcher = new WebhookDispatcher(
    database,
    log.child({ component: 'webhooks' }),
    config.webhooks,
    new EgressPolicy(config.egressAllow),
    secretKey,
    config.eventRetentionMs,
  );
  await dispatcher.start();
  return dispatcher;
}
