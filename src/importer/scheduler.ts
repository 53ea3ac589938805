// Scheduled re-import: due tags are HEAD-checked; only a changed digest queues an import. A
// policy tag's repository is listed once per pass, and only a new winner or digest queues one.
// The rules: docs/rules.md#scheduled-imports, docs/policy-tags.md.
import { sql } from 'drizzle-orm';
import pLimit from 'p-limit';
import { PeriodicPass } from '../coalesce.ts';
import { rowsOf } from '../db/client.ts';
import { SCHEDULER_ACTOR } from '../domain/actors.ts';
import type { TagSelectionPolicy } from '../domain/policyTags.ts';
import { parseDockerReference } from '../domain/references.ts';
import { actingAs } from '../events/append.ts';
import { RepeatedFailureLog } from '../log.ts';
import { enqueueImport } from '../services/importJobs.ts';
import { inSpan } from '../tracing.ts';
import type { ImporterOptions } from './execute.ts';
import { ImportFailure } from './failure.ts';
import { readThroughMirrors } from './mirrors.ts';
import { evaluatePolicy, RepositoryListings } from './policy.ts';
import { MAX_BACKOFF_FACTOR } from './record.ts';
import {
  type CredentialLookup,
  isInsecure,
  memoizedCredentials,
  openRegistry,
} from './registries.ts';

/** The advisory lock that makes claims under the per-minute cap one at a time. */
const SCHEDULE_LOCK = 7_346_190_021;
/** Due tags one pass claims at a time. */
const BATCH = 50;
const CHECKS_IN_FLIGHT = 8;

interface DueTag {
  namespace: string;
  stream: string;
  streamAnnotations: Record<string, string>;
  tag: string;
  fromName: string;
  importInsecure: boolean;
  importedSourceDigest: string | null;
  policy: TagSelectionPolicy | null;
  /** The winner of the policy's last recorded evaluation. */
  policyWinner: string | null;
}

export interface SchedulerPass {
  /** Due tags looked at. */
  checked: number;
  /** Of those, tags whose source changed (or could not be checked): an import was queued. */
  queued: number;
  /** Repositories listed for policy tags (one listing per namespace and repository); absent when none. */
  listed?: number;
}

export class ImportScheduler {
  private readonly pass: PeriodicPass;
  /** HEAD checks in flight at once (registries answer several faster than one by one). */
  private readonly limit = pLimit(CHECKS_IN_FLIGHT);
  /**
   * The clock (ms since the epoch) whose minute the per-minute cap counts in; a test replaces it
   * to move from one minute to the next without waiting.
   */
  clock: () => number = Date.now;

  constructor(private readonly options: ImporterOptions) {
    const failures = new RepeatedFailureLog(options.log, 'scheduled import check');
    // A quarter of the interval, between 250 ms and 5 s: due tags are picked up promptly and an
    // idle database sees one indexed query per tick.
    const tickMs = Math.min(5000, Math.max(250, options.intervalMs / 4));
    this.pass = new PeriodicPass(() => this.runOnce(), failures, tickMs);
  }

  start(): void {
    this.pass.start();
  }

  stop(): Promise<void> {
    return this.pass.stop();
  }

  /** Checks every tag that is due now; any number of schedulers may run against one database. */
  async runOnce(): Promise<SchedulerPass> {
    const total: SchedulerPass = { checked: 0, queued: 0 };
    const credentials = memoizedCredentials(
      this.options.database.db,
      this.options.registry.secretKey,
    );
    const listings = new RepositoryListings(this.options.budget);
    try {
      for (;;) {
        const due = await this.claimDue();
        if (due.length === 0) return total;
        const changedPolicyTags: DueTag[] = [];
        await Promise.all(
          due.map((tag) =>
            this.limit(async () => {
              total.checked += 1;
              await inSpan('scheduled check', {}, async () => {
                if (!(await this.changed(tag, credentials, listings))) return;
                total.queued += 1;
                if (tag.policy) changedPolicyTags.push(tag);
                else await this.enqueue(tag.namespace, tag.stream, [tag.tag]);
              });
            }),
          ),
        );
        // One job per stream for its policy tags, so they share the job's listing too.
        const byStream = new Map<string, DueTag[]>();
        for (const tag of changedPolicyTags) {
          const key = `${tag.namespace}/${tag.stream}`;
          byStream.set(key, [...(byStream.get(key) ?? []), tag]);
        }
        for (const tags of byStream.values()) {
          await this.enqueue(tags[0]!.namespace, tags[0]!.stream, tags.map((t) => t.tag).sort());
        }
      }
    } finally {
      if (listings.size > 0) total.listed = listings.size;
    }
  }

  /**
   * Moves each due tag's next check an interval ahead (2^n intervals after n imports in a row that
   * found the source gone or refused, up to MAX_BACKOFF_FACTOR) and returns it, in one statement,
   * so two schedulers never check one tag twice. Tags with an import already queued or running
   * wait. With a per-minute cap, claims take an advisory lock and add what they took to the
   * minute's row, so all schedulers together start at most that many checks in one minute of
   * the scheduler's clock.
   */
  private async claimDue(): Promise<DueTag[]> {
    const seconds = this.options.intervalMs / 1000;
    const cap = this.options.maxScheduledPerMinute;
    return this.options.database.db.transaction(async (tx) => {
      let limit = BATCH;
      let window: string | null = null;
      if (cap !== undefined) {
        const now = this.clock();
        window = new Date(Math.floor(now / 60_000) * 60_000).toISOString();
        // One scheduler at a time counts and claims; a pass that claims nothing writes nothing.
        await tx.execute(sql`select pg_advisory_xact_lock(${SCHEDULE_LOCK}::bigint)`);
        const [row] = rowsOf<{ started: number }>(
          await tx.execute(sql`
            select started from scheduled_import_windows
            where window_start = ${window}::timestamptz`),
        );
        limit = Math.min(BATCH, cap - Number(row?.started ?? 0));
        if (limit <= 0) return [];
      }
      const result = await tx.execute(sql`
        update tags set next_import_at = now() + make_interval(
          secs => ${seconds} * least(power(2, tags.import_failures), ${MAX_BACKOFF_FACTOR}))
        from image_streams s
        where tags.stream_id = s.id and tags.id in (
          select t.id from tags t join image_streams st on st.id = t.stream_id
          where t.import_scheduled and t.next_import_at <= now()
            and t.from_kind = 'DockerImage' and not t.reference
            and not exists (
              select 1 from import_jobs j
              where j.namespace = st.namespace and j.stream = st.name
                and j.status in ('queued', 'running')
                and jsonb_exists(j.request -> 'tags', t.name))
          order by t.next_import_at
          limit ${limit}
          for update of t skip locked)
        returning s.namespace, s.name as stream, s.annotations as stream_annotations,
          tags.name as tag, tags.from_name, tags.import_insecure, tags.imported_source_digest,
          tags.policy, tags.policy_evaluation ->> 'winner' as policy_winner`);
      const rows = rowsOf<Record<string, unknown>>(result);
      if (window !== null && rows.length > 0) {
        const [counted] = rowsOf<{ started: number }>(
          await tx.execute(sql`
            insert into scheduled_import_windows (window_start, started)
            values (${window}::timestamptz, ${rows.length})
            on conflict (window_start) do update
              set started = scheduled_import_windows.started + excluded.started
            returning started`),
        );
        // The first claim of a minute: the counts of minutes long past are no longer needed.
        if (Number(counted?.started) === rows.length) {
          await tx.execute(sql`
            delete from scheduled_import_windows
            where window_start < ${window}::timestamptz - interval '1 hour'`);
        }
      }
      return rows.map((row) => ({
        namespace: row.namespace as string,
        stream: row.stream as string,
        streamAnnotations: (row.stream_annotations ?? {}) as Record<string, string>,
        tag: row.tag as string,
        fromName: row.from_name as string,
        importInsecure: Boolean(row.import_insecure),
        importedSourceDigest: (row.imported_source_digest as string | null) ?? null,
        policy: (row.policy as TagSelectionPolicy | null) ?? null,
        policyWinner: (row.policy_winner as string | null) ?? null,
      }));
    });
  }

  /**
   * HEAD first: an unchanged digest needs no import. Anything the check cannot settle (never
   * imported, an error, the manifest gone) queues an import, which records the outcome.
   */
  private async changed(
    tag: DueTag,
    credentials: CredentialLookup,
    listings: RepositoryListings,
  ): Promise<boolean> {
    if (!tag.importedSourceDigest) return true;
    const parsed = parseDockerReference(tag.fromName, 'from');
    if (!parsed.ok) return true;
    let source = parsed.value;
    try {
      const insecure = isInsecure(tag.importInsecure, tag.streamAnnotations);
      if (tag.policy) {
        // A policy tag's repository is listed at the source itself.
        const client = await openRegistry(
          this.options.database.db,
          this.options.registry,
          tag.namespace,
          source,
          insecure,
          credentials,
        );
        const listing = await listings.list(tag.namespace, client, source, insecure);
        const winner = await evaluatePolicy(client, source, tag.policy, listing, {
          serverPlatform: this.options.serverPlatform,
        });
        if (winner.evaluation.winner !== tag.policyWinner) return true;
        source = winner.source;
      }
      // A mirror that lacks the manifest counts as failed, so the next location is asked.
      const head = await readThroughMirrors(
        this.options,
        tag.namespace,
        source,
        insecure,
        async (client, location) => {
          const found = await client.headManifest(
            location.repository,
            location.digest ?? location.tag ?? 'latest',
          );
          if (!found)
            throw new ImportFailure(
              'NotFound',
              `${location.registry}/${location.repository} has no such manifest`,
            );
          return found;
        },
        { lookup: credentials },
      );
      return head.digest !== tag.importedSourceDigest;
    } catch (error) {
      this.options.log.info({ err: error, tag: `${tag.stream}:${tag.tag}` }, 'HEAD check failed');
      return true;
    }
  }

  private async enqueue(namespace: string, stream: string, tagNames: string[]): Promise<void> {
    await actingAs(SCHEDULER_ACTOR, () =>
      this.options.database.db.transaction((tx) =>
        enqueueImport(tx, { namespace, stream, tags: tagNames, cause: 'scheduled-import' }),
      ),
    );
  }
}
