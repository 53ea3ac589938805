// Retention policies: a namespace admin's stored pruning rules, run on a schedule or by hand.
import { builder } from '../builder.ts';
import type { RetentionRunResult } from '../db/schema.ts';
import type { PruneHistoryResult } from '../services/prune.ts';
import {
  deleteRetentionPolicy,
  listRetentionPolicies,
  RETENTION_INTERVAL,
  type RetentionPolicyRow,
  runRetentionPolicy,
  setRetentionPolicy,
} from '../services/retentionPolicies.ts';
import { adminArgs, adminInput } from './access.ts';
import { INPUT_ERRORS, REMOVE_ERRORS } from './errors.ts';
import {
  answeringMutation,
  byName,
  inputMutation,
  namespacedObject,
  namespaceList,
  objectPayload,
  refFields,
} from './shapes.ts';
import {
  PRUNE_REPORT_LIMIT,
  PruneTagHistoryPayload,
  retentionRuleFields,
  retentionRules,
} from './tagging.ts';

const RetentionRunOutcome = builder.enumType('RetentionRunOutcome', {
  values: ['SUCCEEDED', 'FAILED'] as const,
});

const RetentionRunTrigger = builder.enumType('RetentionRunTrigger', {
  values: {
    SCHEDULE: { description: 'The scheduler ran the policy when it was due.' },
    MANUAL: { description: 'runRetentionPolicy with dryRun: false.' },
  },
});

const RetentionRun = builder.objectRef<RetentionRunResult>('RetentionRun').implement({
  description: "A retention policy's last run that could remove items (dry runs are not kept).",
  fields: (t) => ({
    outcome: t.field({ type: RetentionRunOutcome, resolve: (r) => r.outcome as 'FAILED' }),
    trigger: t.field({ type: RetentionRunTrigger, resolve: (r) => r.trigger as 'MANUAL' }),
    historyItemCount: t.exposeInt('removed', { description: 'History items removed.' }),
    tagCount: t.exposeInt('tags', {
      description: 'Tags that lost items (each got a PRUNE change event).',
    }),
    message: t.exposeString('message', { description: 'Why a FAILED run failed.' }),
  }),
});

const RetentionPolicy = namespacedObject<RetentionPolicyRow>('RetentionPolicy', 'admin', {
  description:
    "Stored pruning rules for a namespace's tag history, run every intervalMinutes with the " +
    'rules of pruneTagHistory (docs/rules.md#retention-policies).',
  fields: (t) => ({
    keepTagRevisions: t.exposeInt('keepTagRevisions'),
    keepYoungerThanMinutes: t.exposeInt('keepYoungerThanMinutes'),
    streams: t.exposeStringList('streams', { description: 'Empty: every stream.' }),
    includeTags: t.exposeStringList('includeTags', { description: 'Empty: every tag.' }),
    excludeTags: t.exposeStringList('excludeTags'),
    intervalMinutes: t.exposeInt('intervalMinutes'),
    enabled: t.exposeBoolean('enabled'),
    nextRunAt: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'When the scheduler runs it next; null while disabled.',
      resolve: (p) => (p.enabled ? p.nextRunAt : null),
    }),
    lastRunAt: t.expose('lastRunAt', { type: 'DateTime', nullable: true }),
    lastRun: t.field({
      type: RetentionRun,
      nullable: true,
      resolve: (p) => p.lastResult ?? null,
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
  }),
});

const SetRetentionPolicyInput = builder.inputType('SetRetentionPolicyInput', {
  description:
    'Creates the policy or replaces all of its rules. Keeps the newest keepTagRevisions items of ' +
    'each tag in scope and every item younger than keepYoungerThanMinutes; item 0 always stays.',
  fields: (t) => ({
    namespace: t.string({ required: true }),
    name: t.string({ required: true, description: 'A DNS-1123 label.' }),
    ...retentionRuleFields(t),
    intervalMinutes: t.int({
      defaultValue: 60,
      description: `Minutes between runs, ${RETENTION_INTERVAL.min} to ${RETENTION_INTERVAL.max}.`,
    }),
    enabled: t.boolean({ defaultValue: true }),
  }),
});

const DeleteRetentionPolicyInput = builder.inputType('DeleteRetentionPolicyInput', {
  fields: refFields,
});

const RunRetentionPolicyInput = builder.inputType('RunRetentionPolicyInput', {
  fields: (t) => ({
    ...refFields(t),
    dryRun: t.boolean({ defaultValue: true }),
  }),
});

const SetRetentionPolicyPayload = builder
  .objectRef<{ policy: RetentionPolicyRow; created: boolean }>('SetRetentionPolicyPayload')
  .implement({
    fields: (t) => ({
      policy: t.field({ type: RetentionPolicy, resolve: (p) => p.policy }),
      created: t.exposeBoolean('created', { description: 'False: an existing policy changed.' }),
    }),
  });

const DeleteRetentionPolicyPayload = objectPayload(
  'DeleteRetentionPolicyPayload',
  'policy',
  RetentionPolicy,
);

const RunRetentionPolicyPayload = builder
  .objectRef<{
    policy: RetentionPolicyRow;
    report: PruneHistoryResult;
  }>('RunRetentionPolicyPayload')
  .implement({
    fields: (t) => ({
      policy: t.field({ type: RetentionPolicy, resolve: (p) => p.policy }),
      report: t.field({
        type: PruneTagHistoryPayload,
        description: `What was removed (or would be); its first ${PRUNE_REPORT_LIMIT} items listed.`,
        resolve: (p) => p.report,
      }),
    }),
  });

builder.queryFields((t) => ({
  retentionPolicies: namespaceList(t, {
    scope: adminArgs,
    type: RetentionPolicy,
    description: "A namespace's retention policies by name (at most 20), with their last run.",
    list: listRetentionPolicies,
  }),
}));

builder.mutationFields((t) => ({
  setRetentionPolicy: inputMutation(t, {
    scope: adminInput,
    payload: SetRetentionPolicyPayload,
    input: SetRetentionPolicyInput,
    errors: INPUT_ERRORS,
    act: (ctx, input) =>
      setRetentionPolicy(ctx.database.db, ctx.access, {
        namespace: input.namespace,
        name: input.name,
        ...retentionRules(input),
        intervalMinutes: input.intervalMinutes ?? 60,
        enabled: input.enabled ?? true,
      }),
  }),
  deleteRetentionPolicy: answeringMutation(t, {
    scope: adminInput,
    input: DeleteRetentionPolicyInput,
    payload: DeleteRetentionPolicyPayload,
    errors: REMOVE_ERRORS,
    act: byName(deleteRetentionPolicy),
    answer: (policy) => ({ policy }),
  }),
  runRetentionPolicy: inputMutation(t, {
    scope: adminInput,
    payload: RunRetentionPolicyPayload,
    description:
      'Runs a policy now (a dry run by default), with the same pruning and PRUNE change events ' +
      'as its scheduled runs; a run that removes is recorded as its lastRun.',
    input: RunRetentionPolicyInput,
    errors: REMOVE_ERRORS,
    act: (ctx, input) =>
      runRetentionPolicy(
        ctx.database.db,
        ctx.access,
        { namespace: input.namespace, name: input.name, dryRun: input.dryRun ?? true },
        PRUNE_REPORT_LIMIT,
      ),
  }),
}));
