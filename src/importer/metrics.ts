// Prometheus metrics of the importer: imports by outcome, registry requests, and the queue and
// scheduler backlog read from the database at scrape time.
import { sql } from 'drizzle-orm';
import type { Logger } from 'pino';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { type Database, rowsOf } from '../db/client.ts';
import type { RegistryRequestObserver } from '../registry/transport.ts';
import type { ImportJobRequest } from '../services/importJobs.ts';

/** Distinct registries kept as label values; later ones are counted as `other`. */
export const MAX_REGISTRY_LABELS = 50;
/** Distinct failure reasons kept as label values (the reasons are a fixed set; this is a guard). */
const MAX_REASON_LABELS = 50;
/** Queued jobs counted at most per scrape, so a scrape costs the same with a huge backlog. */
export const MAX_COUNTED_JOBS = 10_000;
/** Scrapes within this long share one database read. */
const SNAPSHOT_MS = 1000;

/**
 * Label values bounded in number: the first `limit` distinct values are kept, every later one is
 * `other`. Values come from configuration and stored image references, so a tenant naming many
 * registries fills the slots but cannot add series.
 */
export class BoundedLabels {
  private readonly kept = new Set<string>();
  constructor(private readonly limit: number) {}

  label(value: string): string {
    if (this.kept.has(value)) return value;
    if (this.kept.size >= this.limit) return 'other';
    this.kept.add(value);
    return value;
  }
}

/**
 * Who asked for an import, as a label: a user (or a tag that follows another), the schedule, a
 * push, a webhook receiver.
 */
export type ImportCause = 'user' | 'scheduled' | 'push' | 'webhook';

export function importCause(cause: ImportJobRequest['cause'] | string | undefined): ImportCause {
  if (cause === 'scheduled-import') return 'scheduled';
  if (cause === 'push') return 'push';
  if (cause === 'webhook') return 'webhook';
  return 'user';
}

interface QueueSnapshot {
  queued: number;
  oldestDueSeconds: number;
  schedulerLagSeconds: number;
}

/**
 * The importer's metrics in `registry`. Counters and histograms count what this process did;
 * the queue and scheduler gauges describe the whole database (every process reports the same
 * values; alert on their max).
 */
export class ImporterMetrics {
  private readonly registries = new BoundedLabels(MAX_REGISTRY_LABELS);
  private readonly reasons = new BoundedLabels(MAX_REASON_LABELS);
  private readonly imports: Counter<'result' | 'reason' | 'registry' | 'cause'>;
  private readonly requestSeconds: Histogram<'registry' | 'method' | 'status'>;
  private readonly requestErrors: Counter<'registry' | 'kind'>;
  private snapshot: { at: number; value: Promise<QueueSnapshot | null> } | null = null;

  constructor(
    private readonly registry: Registry,
    private readonly database: Database,
    private readonly log: Logger,
  ) {
    this.imports = new Counter({
      name: 'tagraph_imports_total',
      help: 'Tag imports this process finished, by result (success, failure, skipped), reason (the condition reason; empty on success), source registry and cause (user, scheduled, push, webhook).',
      labelNames: ['result', 'reason', 'registry', 'cause'],
      registers: [registry],
    });
    this.requestSeconds = new Histogram({
      name: 'tagraph_registry_request_duration_seconds',
      help: 'Registry requests of this process until their response headers (retries and redirects included), by registry, method and status class (2xx, 4xx, 5xx, or error when none came).',
      labelNames: ['registry', 'method', 'status'],
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers: [registry],
    });
    this.requestErrors = new Counter({
      name: 'tagraph_registry_request_errors_total',
      help: 'Registry requests of this process that failed on the registry side: no answer (network), HTTP 429 (rate_limited) or 5xx (server_error).',
      labelNames: ['registry', 'kind'],
      registers: [registry],
    });
    const metrics = this;
    const gauge = (name: string, help: string, read: (s: QueueSnapshot) => number) =>
      new Gauge({
        name,
        help,
        registers: [registry],
        async collect() {
          const snapshot = await metrics.readSnapshot();
          this.set(snapshot ? read(snapshot) : Number.NaN);
        },
      });
    gauge(
      'tagraph_import_jobs_queued',
      `Import jobs waiting in the queue, due or backing off (counted up to ${MAX_COUNTED_JOBS}).`,
      (s) => s.queued,
    );
    gauge(
      'tagraph_import_queue_oldest_due_seconds',
      'How long the longest-waiting due import job has waited to be claimed (0 when none is due).',
      (s) => s.oldestDueSeconds,
    );
    gauge(
      'tagraph_import_scheduler_lag_seconds',
      'How late the most overdue scheduled check of a tag is (0 when none is overdue).',
      (s) => s.schedulerLagSeconds,
    );
  }

  /** This process's running jobs, as a gauge (sum it across processes). */
  countRunning(running: () => number): void {
    new Gauge({
      name: 'tagraph_import_jobs_running',
      help: 'Import jobs this process is running now.',
      registers: [this.registry],
      collect() {
        this.set(running());
      },
    });
  }

  /** One tag import (or a failed `--all` listing) this process finished. */
  importFinished(
    result: 'Success' | 'Failure' | 'Skipped',
    reason: string | undefined,
    sourceRegistry: string | null,
    cause: ImportJobRequest['cause'] | undefined,
  ): void {
    this.imports.inc({
      result: result.toLowerCase(),
      reason: result === 'Success' ? '' : this.reasons.label(reason ?? 'Unknown'),
      registry: sourceRegistry === null ? 'none' : this.registries.label(sourceRegistry),
      cause: importCause(cause),
    });
  }

  /** The observer of one registry's requests. */
  registryObserver(sourceRegistry: string): RegistryRequestObserver {
    return (method, seconds, outcome) => {
      const registry = this.registries.label(sourceRegistry);
      const status = outcome === 'error' ? 'error' : `${Math.floor(outcome / 100)}xx`;
      this.requestSeconds.observe({ registry, method, status }, seconds);
      const kind =
        outcome === 'error'
          ? 'network'
          : outcome === 429
            ? 'rate_limited'
            : outcome >= 500
              ? 'server_error'
              : null;
      if (kind) this.requestErrors.inc({ registry, kind });
    };
  }

  /** The queue and scheduler backlog, read at most once a second however often it is scraped. */
  private readSnapshot(): Promise<QueueSnapshot | null> {
    const now = Date.now();
    if (this.snapshot && now - this.snapshot.at < SNAPSHOT_MS) return this.snapshot.value;
    const value = this.queryBacklog().catch((error: unknown) => {
      this.log.warn({ err: error }, 'reading the import backlog for metrics failed');
      return null;
    });
    this.snapshot = { at: now, value };
    return value;
  }

  /**
   * One statement, each part bounded: counts stop at MAX_COUNTED_JOBS; the oldest due job is the
   * front of import_jobs_runnable_idx (run_at over queued and running jobs) and the most overdue
   * tag the front of tags_scheduled_due_idx (next_import_at over scheduled tags).
   */
  private async queryBacklog(): Promise<QueueSnapshot> {
    const [row] = rowsOf<Record<string, string | number | null>>(
      await this.database.db.execute(sql`
        select
          (select count(*) from (select 1 from import_jobs where status = 'queued'
            limit ${MAX_COUNTED_JOBS}) q) as queued,
          (select extract(epoch from now() - run_at) from import_jobs
            where status = 'queued' and run_at <= now() order by run_at limit 1) as oldest,
          (select extract(epoch from now() - next_import_at) from tags
            where import_scheduled and next_import_at is not null and next_import_at <= now()
              and from_kind = 'DockerImage' and not reference
            order by next_import_at limit 1) as lag`),
    );
    const number = (value: string | number | null | undefined) =>
      value === null || value === undefined ? 0 : Math.max(0, Number(value));
    return {
      queued: number(row?.queued),
      oldestDueSeconds: number(row?.oldest),
      schedulerLagSeconds: number(row?.lag),
    };
  }
}
