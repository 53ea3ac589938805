// A namespace's stored retention policies: set, list, delete, run by hand, and the scheduled pass that runs the due ones.
import { and, asc, eq, lte, sql } from 'drizzle-orm';
import type { Logger } from 'pino';
import type { AccessChecker } from '../auth/roles.ts';
import type { Db, Tx } from '../db/client.ts';
import { type RetentionRunResult, retentionPolicies } from '../db/schema.ts';
import { validateNamespace } from '../domain/names.ts';
import { type FieldProblem, invalid, ok, type Result } from '../errors.ts';
import { writeTransaction } from '../events/append.ts';
import { namespacedObjects } from './namespacedObjects.ts';
import { applyRetention, type PruneHistoryResult, retentionProblems } from './prune.ts';

/** Policies one namespace may have, which bounds the `retentionPolicies` list. */
export const MAX_RETENTION_POLICIES_PER_NAMESPACE = 20;
/** The shortest and longest schedule interval, in minutes (5 minutes to a week). */
export const RETENTION_INTERVAL = { min: 5, max: 7 * 24 * 60 } as const;
/** Due policies one scheduled pass runs at most; the rest wait for the next tick. */
const PASS_LIMIT = 100;
const POLICY_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export type RetentionPolicyRow = typeof retentionPolicies.$inferSelect;

export interface RetentionPolicyInput {
  namespace: string;
  name: string;
  keepTagRevisions: number;
  keepYoungerThanMinutes: number;
  streams: string[];
  includeTags: string[];
  excludeTags: string[];
  intervalMinutes: number;
  enabled: boolean;
}

/** Who may manage, read and run retention policies: admins of the namespace (as for pruning). */
const objects = namespacedObjects({
  table: retentionPolicies,
  role: 'admin',
  resource: 'retentionpolicies',
  noun: 'retention policy',
  plural: 'retention policies',
  max: MAX_RETENTION_POLICIES_PER_NAMESPACE,
});
const { refused, notFound } = objects;

function checkInput(input: RetentionPolicyInput): FieldProblem[] {
  const problems: FieldProblem[] = [
    ...(validateNamespace(input.namespace) ?? []),
    ...retentionProblems(input),
  ];
  if (!POLICY_NAME.test(input.name) || input.name.length > 63) {
    problems.push({
      field: 'name',
      message: `retention policy name "${input.name}" must be a DNS-1123 label (lower case, digits, "-", at most 63)`,
    });
  }
  const { min, max } = RETENTION_INTERVAL;
  if (!Number.isInteger(input.intervalMinutes) || input.intervalMinutes < min) {
    problems.push({ field: 'intervalMinutes', message: `must be a whole number ≥ ${min}` });
  } else if (input.intervalMinutes > max) {
    problems.push({ field: 'intervalMinutes', message: `must be ≤ ${max} (a week)` });
  }
  return problems;
}

/** A policy's row, locked until the transaction ends (a run in progress holds it). */
async function lockPolicy(
  tx: Tx,
  namespace: string,
  name: string,
): Promise<RetentionPolicyRow | undefined> {
  const [row] = await tx
    .select()
    .from(retentionPolicies)
    .where(and(eq(retentionPolicies.namespace, namespace), eq(retentionPolicies.name, name)))
    .for('update');
  return row;
}

const nextRun = (minutes: number) => sql`now() + make_interval(mins => ${minutes})`;

/**
 * Creates or replaces a policy. A new policy (or a changed interval, or enabling it) first runs
 * one interval from now; otherwise its next run stays where it was.
 */
export async function setRetentionPolicy(
  db: Db,
  access: AccessChecker,
  input: RetentionPolicyInput,
): Promise<Result<{ policy: RetentionPolicyRow; created: boolean }>> {
  const denied = await refused(access, input.namespace, 'update');
  if (denied) return denied;
  const problems = checkInput(input);
  if (problems.length > 0) return invalid(problems);
  return writeTransaction(db, async (tx) => {
    const existing = await lockPolicy(tx, input.namespace, input.name);
    const rules = {
      keepTagRevisions: input.keepTagRevisions,
      keepYoungerThanMinutes: input.keepYoungerThanMinutes,
      streams: input.streams,
      includeTags: input.includeTags,
      excludeTags: input.excludeTags,
      intervalMinutes: input.intervalMinutes,
      enabled: input.enabled,
    };
    if (existing) {
      const reschedule =
        existing.intervalMinutes !== input.intervalMinutes || (!existing.enabled && input.enabled);
      const [row] = await tx
        .update(retentionPolicies)
        .set({
          ...rules,
          ...(reschedule ? { nextRunAt: nextRun(input.intervalMinutes) } : {}),
          updatedAt: sql`now()`,
        })
        .where(eq(retentionPolicies.id, existing.id))
        .returning();
      return ok({ policy: row!, created: false });
    }
    const created = await objects.create(tx, {
      namespace: input.namespace,
      name: input.name,
      ...rules,
      nextRunAt: nextRun(input.intervalMinutes),
    });
    return created.ok ? ok({ policy: created.value, created: true }) : created;
  });
}

export const listRetentionPolicies = objects.list;

/** Deletes a policy; a run in progress finishes first (the delete waits for its row lock). */
export const deleteRetentionPolicy = objects.remove;

/** The pruning rules a policy stands for. */
function rulesOf(policy: RetentionPolicyRow, dryRun: boolean) {
  return {
    namespace: policy.namespace,
    keepTagRevisions: policy.keepTagRevisions,
    keepYoungerThanMinutes: policy.keepYoungerThanMinutes,
    streams: policy.streams,
    includeTags: policy.includeTags,
    excludeTags: policy.excludeTags,
    dryRun,
  };
}

/** Writes a run's outcome; a scheduled run also moves the next run one interval ahead. */
async function recordRun(
  db: Db | Tx,
  policy: RetentionPolicyRow,
  result: RetentionRunResult,
): Promise<RetentionPolicyRow> {
  const [row] = await db
    .update(retentionPolicies)
    .set({
      lastRunAt: sql`now()`,
      lastResult: result,
      ...(result.trigger === 'SCHEDULE' ? { nextRunAt: nextRun(policy.intervalMinutes) } : {}),
    })
    .where(eq(retentionPolicies.id, policy.id))
    .returning();
  return row ?? policy;
}

const succeeded = (report: PruneHistoryResult, trigger: string): RetentionRunResult => ({
  outcome: 'SUCCEEDED',
  removed: report.historyItemCount,
  tags: report.tagCount,
  trigger,
  message: '',
});

/**
 * Runs a policy now, with the same pruning as pruneTagHistory (a dry run reports only). It waits
 * for a scheduled run of the same policy to end, so the two never overlap. A run that removes
 * (not a dry run) is recorded as the policy's last run; the schedule stays as it was.
 */
export async function runRetentionPolicy(
  db: Db,
  access: AccessChecker,
  input: { namespace: string; name: string; dryRun: boolean },
  reportLimit: number,
): Promise<Result<{ policy: RetentionPolicyRow; report: PruneHistoryResult }>> {
  const denied = await refused(access, input.namespace, 'update');
  if (denied) return denied;
  return writeTransaction(db, async (tx) => {
    const policy = await lockPolicy(tx, input.namespace, input.name);
    if (!policy) return notFound(input.namespace, input.name);
    const report = await applyRetention(tx, rulesOf(policy, input.dryRun), reportLimit);
    const recorded = input.dryRun
      ? policy
      : await recordRun(tx, policy, succeeded(report, 'MANUAL'));
    return ok({ policy: recorded, report });
  });
}

export interface RetentionPass {
  /** Policies run and recorded as SUCCEEDED. */
  ran: number;
  /** Policies whose run failed (recorded as FAILED, next run one interval ahead). */
  failed: number;
}

/**
 * Runs every enabled policy that is due, one transaction each: the policy's row is claimed with
 * FOR UPDATE SKIP LOCKED and held until the run commits with its next run an interval ahead, so
 * any number of processes may run passes against one database and no policy runs twice at once.
 */
export async function runDueRetentionPolicies(db: Db, log: Logger): Promise<RetentionPass> {
  const pass: RetentionPass = { ran: 0, failed: 0 };
  for (let i = 0; i < PASS_LIMIT; i++) {
    const claim: { policy: RetentionPolicyRow | null } = { policy: null };
    try {
      const report = await writeTransaction(db, async (tx) => {
        const [policy] = await tx
          .select()
          .from(retentionPolicies)
          .where(
            and(eq(retentionPolicies.enabled, true), lte(retentionPolicies.nextRunAt, sql`now()`)),
          )
          .orderBy(asc(retentionPolicies.nextRunAt))
          .limit(1)
          .for('update', { skipLocked: true });
        if (!policy) return null;
        claim.policy = policy;
        const result = await applyRetention(tx, rulesOf(policy, false), 0);
        await recordRun(tx, policy, succeeded(result, 'SCHEDULE'));
        return result;
      });
      if (!report) return pass;
      pass.ran += 1;
      log.info(
        {
          policy: `${claim.policy!.namespace}/${claim.policy!.name}`,
          removed: report.historyItemCount,
        },
        'retention policy ran',
      );
    } catch (error) {
      const policy = claim.policy;
      if (!policy) throw error;
      pass.failed += 1;
      log.warn(
        { err: error, policy: `${policy.namespace}/${policy.name}` },
        'retention run failed',
      );
      await recordRun(db, policy, {
        outcome: 'FAILED',
        removed: 0,
        tags: 0,
        trigger: 'SCHEDULE',
        message: error instanceof Error ? error.message.slice(0, 500) : String(error),
      });
    }
  }
  return pass;
}
