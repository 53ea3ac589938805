// The retention runner: on each tick, runs the namespaces' due retention policies (services/retentionPolicies.ts).
import type { Logger } from 'pino';
import { PeriodicPass } from '../coalesce.ts';
import type { Database } from '../db/client.ts';
import { RepeatedFailureLog } from '../log.ts';
import { type RetentionPass, runDueRetentionPolicies } from '../services/retentionPolicies.ts';

/**
 * How often the runner looks for due policies. Policies run at most every 5 minutes, so a run
 * starts within this long of being due; an idle database sees one indexed read per tick.
 */
export const RETENTION_TICK_MS = 30_000;

export class RetentionRunner {
  private readonly pass: PeriodicPass;

  constructor(
    private readonly database: Database,
    private readonly log: Logger,
    tickMs = RETENTION_TICK_MS,
  ) {
    const failures = new RepeatedFailureLog(log, 'running retention policies');
    this.pass = new PeriodicPass(() => this.runOnce(), failures, tickMs);
  }

  start(): void {
    this.pass.start();
  }

  stop(): Promise<void> {
    return this.pass.stop();
  }

  /** Runs every policy due now; any number of runners may share one database. */
  runOnce(): Promise<RetentionPass> {
    return runDueRetentionPolicies(this.database.db, this.log);
  }
}
