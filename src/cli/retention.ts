// `tagraph create retentionpolicy`, `get retentionpolicies` and `delete retentionpolicy/<name>`: a namespace's stored history retention rules.
import type { Command } from 'commander';
import { errorLines, isTypedError, unwrap } from './client.ts';
import {
  type RetentionRuleOptions,
  retentionRuleOptions,
  retentionRules,
} from './commands/prune.ts';
import { type Context, contextOf, type Io, toJson } from './context.ts';
import {
  DELETE_RETENTION_POLICY,
  LIST_RETENTION_POLICIES,
  type RetentionPolicyFields,
  SET_RETENTION_POLICY,
} from './documents.ts';
import { forbidden, PrintedError, UsageError } from './errors.ts';
import { booleanOption, parseDuration, parseOutput } from './flags.ts';
import type { ResultOf } from './graphql.ts';
import { ago } from './humanize.ts';
import type { NamedKind } from './namedList.ts';
import { namedArgs } from './tokens.ts';

type PolicyView = ResultOf<typeof RetentionPolicyFields>;

/** The names `get` and `delete` take for retention policies. */
export const RETENTION_TYPES = new Set([
  'retentionpolicy',
  'retentionpolicies',
  'rp',
  'retentionpolicy.tagraph.io',
  'retentionpolicies.tagraph.io',
]);

/** `retentionpolicy/nightly`, `rp a b` … → the names, or null for another resource. */
export function retentionArgs(args: string[]): string[] | null {
  return namedArgs(args, RETENTION_TYPES);
}

interface CreateOptions extends RetentionRuleOptions {
  schedule: string;
  disabled?: boolean;
  output?: string;
}

/** Whole minutes, as the API takes them (a duration is rounded up to the minute). */
const minutesOf = (duration: string) => Math.ceil(parseDuration(duration) / 60_000);

/** Minutes the way Go prints a duration, without the zero parts: `45m`, `2h`, `1h30m`. */
export function minutesText(minutes: number): string {
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  if (hours === 0) return `${rest}m`;
  return rest === 0 ? `${hours}h` : `${hours}h${rest}m`;
}

export function registerCreateRetentionPolicy(create: Command, io: Io): void {
  const command = create
    .command('retentionpolicy')
    .alias('rp')
    .summary("prune the namespace's old tag history on a schedule")
    .description(
      'Create (or replace) a retention policy in the namespace: every --schedule (5m to 168h) the\n' +
        'server keeps the newest --keep-tag-revisions history items of each tag in scope and\n' +
        'anything younger than --keep-younger-than, and removes the rest, as prune history\n' +
        '--confirm does. Needs admin in the namespace. Try the rules first with prune history.',
    )
    .argument('<name>', 'the policy name (a DNS label)')
    .option('--schedule <duration>', 'how often the policy runs (Go duration, at least 5m)', '1h');
  retentionRuleOptions(command);
  booleanOption(command, 'disabled', 'store the policy without running it');
  command
    .option('-o, --output <format>', 'json')
    .action(async (name: string, options: CreateOptions, self: Command) => {
      const output = parseOutput(options.output, ['json']);
      const rules = retentionRules(options);
      const intervalMinutes = minutesOf(options.schedule);
      if (intervalMinutes < 5) throw new UsageError('--schedule must be at least 5m');
      const ctx = contextOf(self, io);
      const data = await ctx.client.request(SET_RETENTION_POLICY, {
        input: {
          namespace: ctx.namespace,
          name,
          ...rules,
          intervalMinutes,
          enabled: !(options.disabled ?? false),
        },
      });
      const result = unwrap(data.setRetentionPolicy);
      if (output.kind === 'json') io.out(toJson(result.policy));
      else io.out(`retentionpolicy/${name} ${result.created ? 'created' : 'configured'}\n`);
    });
}

function scopeText(policy: PolicyView): string {
  const parts = [
    policy.streams.length ? `streams=${policy.streams.join(',')}` : '',
    policy.includeTags.length ? `include=${policy.includeTags.join(',')}` : '',
    policy.excludeTags.length ? `exclude=${policy.excludeTags.join(',')}` : '',
  ].filter(Boolean);
  return parts.length ? parts.join(' ') : '<all>';
}

function lastRunText(policy: PolicyView, now: number): string {
  const run = policy.lastRun;
  if (!run) return '<none>';
  const when = ago(policy.lastRunAt as string | null, now);
  if (run.outcome === 'FAILED') return `Failed ${when}: ${run.message}`;
  return `${run.historyItemCount} removed ${when}`;
}

/** `get retentionpolicies [name...]`. */
export const RETENTION_POLICIES: NamedKind<PolicyView> = {
  resource: 'retentionpolicy',
  list: async (ctx) =>
    (await ctx.client.request(LIST_RETENTION_POLICIES, { namespace: ctx.namespace }))
      .retentionPolicies as PolicyView[],
  notFound: (name) => `Error from server (NotFound): retentionpolicies "${name}" not found`,
  empty: (namespace) => `No resources found in ${namespace} namespace.`,
  headers: ['NAME', 'KEEP', 'YOUNGER THAN', 'SCOPE', 'SCHEDULE', 'LAST RUN'],
  row: (p, now) => [
    p.name,
    String(p.keepTagRevisions),
    minutesText(p.keepYoungerThanMinutes),
    scopeText(p),
    p.enabled ? `every ${minutesText(p.intervalMinutes)}` : 'disabled',
    lastRunText(p, now),
  ],
};

/** `delete retentionpolicy/<name>…`: each outcome on its own line, as oc prints them. */
export async function deleteRetentionPolicies(
  io: Io,
  ctx: Context,
  names: string[],
): Promise<void> {
  if (names.length === 0) throw new UsageError('delete retentionpolicy needs a name');
  const failures: string[] = [];
  for (const name of names) {
    const data = await ctx.client.request(DELETE_RETENTION_POLICY, {
      input: { namespace: ctx.namespace, name },
    });
    const outcome = data.deleteRetentionPolicy;
    if (!isTypedError(outcome)) io.out(`retentionpolicy "${name}" deleted\n`);
    else if (outcome.code === 'NOT_FOUND') {
      failures.push(`Error from server (NotFound): retentionpolicies "${name}" not found`);
    } else if (outcome.code === 'FORBIDDEN') {
      failures.push(...errorLines(outcome).map((line) => forbidden(line).message));
    } else failures.push(...errorLines(outcome).map((line) => `error: ${line}`));
  }
  if (failures.length > 0) throw new PrintedError(failures[0]!, failures.slice(1));
}
