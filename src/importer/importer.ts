// The background importer of one process: the job worker, the scheduled re-import checker and the retention runner.
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Config } from '../config.ts';
import type { Database } from '../db/client.ts';
import { EgressPolicy } from '../registry/egress.ts';
import type { RemoteRegistryReader } from '../services/policyTags.ts';
import { createImportExecutor, type ImporterOptions } from './execute.ts';
import { ImporterMetrics } from './metrics.ts';
import { createRemoteRegistryReader } from './policy.ts';
import { RegistryClients } from './registries.ts';
import { RetentionRunner } from './retention.ts';
import { ImportScheduler } from './scheduler.ts';
import { ImportWorker } from './worker.ts';

export interface Importer {
  worker: ImportWorker;
  scheduler: ImportScheduler;
  /** Runs the namespaces' due retention policies. */
  retention: RetentionRunner;
  /** Read-only registry reads for previews (previewPolicy, remoteTags); usable unstarted. */
  reader: RemoteRegistryReader;
  start(): Promise<void>;
  /**
   * Stops claiming work and cancels the imports in hand: their registry requests are aborted and
   * their jobs handed back to the queue. Waits for that at most `graceMs`; a job not handed back
   * by then (the database does not answer) is taken over once its lease runs out.
   */
  stop(graceMs?: number): Promise<void>;
}

export function createImporter(
  config: Config,
  database: Database,
  log: Logger,
  secretKey: Buffer,
  /** Where the importer's metrics go (importer/metrics.ts); none are kept without it. */
  metrics?: Registry,
): Importer {
  const clients = new RegistryClients();
  const options: ImporterOptions = {
    database,
    log,
    registry: {
      secretKey,
      ca: config.registryCa,
      timeoutMs: config.registryTimeoutMs,
      egress: new EgressPolicy(config.egressAllow),
      clients,
      policy: config.importRegistries,
      mirrors: config.importMirrors,
      ...(metrics ? { metrics: new ImporterMetrics(metrics, database, log) } : {}),
    },
    serverPlatform: config.serverPlatform,
    intervalMs: config.importIntervalMs,
    maxScheduledPerMinute: config.importMaxScheduledPerMinute,
    pushRegistries: config.pushRegistries,
    budget: config.importBudget,
  };
  const worker = new ImportWorker(database, log, createImportExecutor(options), {
    concurrency: config.importConcurrency,
    namespaceConcurrency: config.importNamespaceConcurrency,
    backoffScale: config.importBackoffScale,
  });
  options.registry.metrics?.countRunning(() => worker.runningCount);
  const scheduler = new ImportScheduler(options);
  const retention = new RetentionRunner(database, log.child({ component: 'retention' }));
  return {
    worker,
    scheduler,
    retention,
    reader: createRemoteRegistryReader(options),
    async start() {
      await worker.start();
      scheduler.start();
      retention.start();
      log.info(
        { workerId: worker.workerId, concurrency: config.importConcurrency },
        'importer started',
      );
    },
    async stop(graceMs = 8000) {
      let timer: NodeJS.Timeout | undefined;
      const grace = new Promise<void>((done) => {
        timer = setTimeout(done, graceMs);
      });
      await Promise.race([Promise.all([scheduler.stop(), retention.stop(), worker.stop()]), grace]);
      clearTimeout(timer);
      clients.clear();
    },
  };
}
