// `tagraph prune images` (old history items and unreferenced images, cluster-wide) and
// `tagraph prune history` (one namespace's old history items), dry run by default.
// The rules: docs/rules.md#pruning.
import type { Command } from 'commander';
import { unwrap } from '../client.ts';
import { type Context, contextOf, type Io, toJson } from '../context.ts';
import { PRUNE, PRUNE_HISTORY, RUN_RETENTION_POLICY } from '../documents.ts';
import { booleanOption, collect, parseCount, parseDuration, parseOutput } from '../flags.ts';
import type { ResultOf } from '../graphql.ts';
import { table } from '../tabwriter.ts';

/** What pruneImages reports. */
type PruneResult = Omit<
  Extract<ResultOf<typeof PRUNE>['pruneImages'], { __typename: 'PruneImagesPayload' }>,
  '__typename'
>;

/** What every pruning keeps: see keepOptions. */
interface KeepOptions {
  keepTagRevisions: string;
  keepYoungerThan: string;
}

/** A namespace's retention rules: see retentionRuleOptions. */
export interface RetentionRuleOptions extends KeepOptions {
  stream?: string[];
  include?: string[];
  exclude?: string[];
}

interface PruneOptions extends KeepOptions {
  confirm?: boolean;
  output?: string;
}

/** What `prune images` prints: oc adm prune images' sections. */
export function formatPrune(result: PruneResult): string {
  let out = '';
  if (result.dryRun) {
    out += 'Dry run enabled - no modifications will be made. Add --confirm to remove images\n';
  }
  if (result.historyItems.length === 0 && result.images.length === 0) {
    return `${out}${out ? '\n' : ''}Nothing to prune.\n`;
  }
  if (result.historyItems.length > 0) {
    out += '\nDeleting references from image streams to images ...\n';
    out += historyTable(result.historyItems);
  }
  if (result.images.length > 0) {
    out += '\nDeleting images from server ...\n';
    out += table(
      ['IMAGE'],
      result.images.map((i) => [i]),
    );
  }
  return out;
}

/** The history-items table both prune commands print. */
function historyTable(items: PruneResult['historyItems']): string {
  return table(
    ['STREAM', 'TAG', 'REVISION', 'IMAGE'],
    items.map((h) => [
      `${h.namespace}/${h.stream}`,
      h.tag,
      String(h.index),
      h.image ?? h.dockerImageReference,
    ]),
  );
}

type PruneHistoryResult = Omit<
  Extract<
    ResultOf<typeof PRUNE_HISTORY>['pruneTagHistory'],
    { __typename: 'PruneTagHistoryPayload' }
  >,
  '__typename'
>;

/** What `prune history` prints: the same sections as `prune images`, without images. */
export function formatPruneHistory(result: PruneHistoryResult): string {
  let out = '';
  if (result.dryRun) {
    out += 'Dry run enabled - no modifications will be made. Add --confirm to remove history\n';
  }
  if (result.historyItemCount === 0) return `${out}${out ? '\n' : ''}Nothing to prune.\n`;
  out += '\nDeleting references from image streams to images ...\n';
  out += historyTable(result.historyItems);
  const unlisted = result.historyItemCount - result.historyItems.length;
  if (unlisted > 0) out += `... and ${unlisted} more\n`;
  return out;
}

interface PruneHistoryOptions extends PruneOptions, RetentionRuleOptions {
  policy?: string;
}

/** The options of what every pruning keeps (prune images, prune history, create retentionpolicy). */
function keepOptions(command: Command): Command {
  return command
    .option('--keep-tag-revisions <n>', 'history items kept per tag', '3')
    .option('--keep-younger-than <duration>', 'keep items younger than this (Go duration)', '60m');
}

/** keepOptions as the API takes them (a duration rounded up to whole minutes). */
function keepRules(options: KeepOptions) {
  return {
    keepTagRevisions: parseCount('keep-tag-revisions', options.keepTagRevisions, 1),
    keepYoungerThanMinutes: Math.ceil(parseDuration(options.keepYoungerThan) / 60_000),
  };
}

/** The options of a namespace's retention rules (prune history, create retentionpolicy). */
export function retentionRuleOptions(command: Command): Command {
  return keepOptions(command)
    .option('--stream <name>', 'only this stream; repeatable', collect)
    .option('--include <glob>', 'only tags matching this glob; repeatable', collect)
    .option('--exclude <glob>', 'leave tags matching this glob alone; repeatable', collect);
}

/** retentionRuleOptions as the API's retention rules. */
export function retentionRules(options: RetentionRuleOptions) {
  return {
    ...keepRules(options),
    streams: options.stream ?? [],
    includeTags: options.include ?? [],
    excludeTags: options.exclude ?? [],
  };
}

/** What a prune command does once its flags are read. */
interface Pruning<O extends PruneOptions, Rules, Report> {
  /** The rules from the flags, checked before the connection is resolved. */
  rules: (options: O) => Rules;
  /** Asks the server to prune by the rules (a dry run unless --confirm). */
  prune: (ctx: Context, rules: Rules, dryRun: boolean, options: O) => Promise<Report>;
  /** The report as text (without -o json). */
  text: (report: Report) => string;
}

/** Adds `--confirm`, `-o json` and the action that runs `pruning` and prints its report. */
function pruneAction<O extends PruneOptions, Rules, Report>(
  command: Command,
  io: Io,
  pruning: Pruning<O, Rules, Report>,
): void {
  booleanOption(command, 'confirm', 'remove for real (default: only report)');
  command.option('-o, --output <format>', 'json').action(async (options: O, self: Command) => {
    const format = parseOutput(options.output, ['json']);
    const rules = pruning.rules(options);
    const ctx = contextOf(self, io);
    const report = await pruning.prune(ctx, rules, !(options.confirm ?? false), options);
    io.out(format.kind === 'json' ? toJson(report) : pruning.text(report));
  });
}

export function registerPrune(program: Command, io: Io): void {
  const prune = program
    .command('prune')
    .summary('remove old history and unused images (oc adm prune)')
    .description("Remove what is no longer needed: images, or one namespace's old tag history.");
  const images = prune
    .command('images')
    .summary('remove old tag history items and the images nothing references')
    .description(
      'Keep the newest --keep-tag-revisions items of every tag and anything younger than\n' +
        '--keep-younger-than; remove the other history items and every image no history names\n' +
        'any more. A dry run unless --confirm. Needs a cluster admin.',
    );
  keepOptions(images);
  pruneAction(images, io, {
    rules: keepRules,
    prune: async (ctx, rules, dryRun) => {
      const data = await ctx.client.request(PRUNE, { input: { ...rules, dryRun } });
      return unwrap(data.pruneImages);
    },
    text: formatPrune,
  });
  const history = prune
    .command('history')
    .summary('remove old tag history items of the namespace (namespace admins)')
    .description(
      'Keep the newest --keep-tag-revisions items of every tag of the namespace (-n) and anything\n' +
        'younger than --keep-younger-than; remove the other history items. --stream, --include and\n' +
        '--exclude (tag-name globs with * and ?) narrow what is considered. Images are left to\n' +
        'prune images. --policy <name> runs a stored retention policy now instead (its rules, its\n' +
        'last run recorded). A dry run unless --confirm. Needs admin in the namespace.',
    )
    .option('--policy <name>', 'run this retention policy (create retentionpolicy) now');
  retentionRuleOptions(history);
  pruneAction(history, io, {
    rules: retentionRules,
    prune: async (ctx, rules, dryRun, options: PruneHistoryOptions) => {
      if (options.policy !== undefined) {
        const run = await ctx.client.request(RUN_RETENTION_POLICY, {
          input: { namespace: ctx.namespace, name: options.policy, dryRun },
        });
        return unwrap(run.runRetentionPolicy).report;
      }
      const data = await ctx.client.request(PRUNE_HISTORY, {
        input: { namespace: ctx.namespace, ...rules, dryRun },
      });
      return unwrap(data.pruneTagHistory);
    },
    text: formatPruneHistory,
  });
}
