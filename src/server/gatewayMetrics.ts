// The gateway's own Prometheus series: SQL statements, the pool, event-hub readers and cut-offs.
import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import type { Database } from '../db/client.ts';
import type { SubscriptionGroups } from '../events/groups.ts';
import { CLOSE_TOO_SLOW, type EventHub } from '../events/hub.ts';

/** A registry with Node's default metrics and the counter of SQL statements sent. */
export function createMetricsRegistry(): { metrics: Registry; statements: Counter } {
  const metrics = new Registry();
  collectDefaultMetrics({ register: metrics, prefix: 'tagraph_' });
  const statements = new Counter({
    name: 'tagraph_db_statements_total',
    help: 'SQL statements sent to the database.',
    registers: [metrics],
  });
  return { metrics, statements };
}

export function registerDatabaseMetrics(metrics: Registry, database: Database): void {
  new Gauge({
    name: 'tagraph_db_pool_size',
    help: 'Connections the database pool may open (1 for embedded PGlite).',
    registers: [metrics],
    collect() {
      this.set(database.poolSize);
    },
  });
}

/** Subscribers, replays, shared graphql-ws subscriptions and slow consumers cut off. */
export function registerSubscriptionMetrics(
  metrics: Registry,
  hub: EventHub,
  subscriptionGroups: SubscriptionGroups,
): void {
  new Gauge({
    name: 'tagraph_subscribers',
    help: 'Readers of the event hub: SSE subscriptions and graphql-ws sources (shared or not).',
    registers: [metrics],
    collect() {
      this.set(hub.subscriberCount);
    },
  });
  new Gauge({
    name: 'tagraph_replays',
    help: 'Subscriptions with since replaying the events log (capped by TAGRAPH_MAX_REPLAYS).',
    registers: [metrics],
    collect() {
      this.set(hub.replayCount);
    },
  });
  new Gauge({
    name: 'tagraph_shared_subscriptions',
    help: 'graphql-ws subscriptions served by a source shared with identical ones.',
    registers: [metrics],
    collect() {
      this.set(subscriptionGroups.memberCount);
    },
  });
  new Counter({
    name: 'tagraph_slow_consumer_cutoffs_total',
    help: `Subscribers cut off as too slow (close code ${CLOSE_TOO_SLOW} / SLOW_CONSUMER; they resume from their cursor): readers of the event log that fell behind it, and graphql-ws members whose socket backed up.`,
    registers: [metrics],
    collect() {
      this.reset();
      this.inc(hub.overflowCount + subscriptionGroups.cutOffCount);
    },
  });
}

export function registerWebSocketMetrics(
  metrics: Registry,
  wsServer: { readonly clients: { readonly size: number } },
): void {
  new Gauge({
    name: 'tagraph_websocket_connections',
    help: 'Open graphql-ws connections.',
    registers: [metrics],
    collect() {
      this.set(wsServer.clients.size);
    },
  });
}
