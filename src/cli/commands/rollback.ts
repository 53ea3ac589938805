// `tagraph rollback <stream>:<tag> --to=<index|generation:N|digest>`.
// The rules: docs/rules.md#rollback-targets.
import type { Command } from 'commander';
import { unwrap } from '../client.ts';
import { contextOf, type Io, toJson } from '../context.ts';
import { ROLLBACK } from '../documents.ts';
import { UsageError } from '../errors.ts';
import { parseOutput, parseRollbackTarget } from '../flags.ts';

export function registerRollback(program: Command, io: Io): void {
  program
    .command('rollback')
    .summary('point a tag at one of its earlier images')
    .description(
      'Point <stream>:<tag> at an item of its own history: --to=1 (the previous item; 0 is\n' +
        'the current one), --to=generation:3, or --to=<digest or unique prefix>. The rollback is\n' +
        'pushed as a new history item and pins the tag; history is never rewritten.',
    )
    .argument('<tag>', '<stream>:<tag>')
    .option('--to <target>', 'history index, generation:<n> or image digest')
    .option('-o, --output <format>', 'json')
    .action(async (ref: string, options: { to?: string; output?: string }, self: Command) => {
      if (!options.to) throw new UsageError('rollback needs --to=<index|generation:N|digest>');
      const format = parseOutput(options.output, ['json']);
      const to = parseRollbackTarget(options.to);
      const ctx = contextOf(self, io);
      const data = await ctx.client.request(ROLLBACK, {
        input: { namespace: ctx.namespace, ref, to },
      });
      const payload = unwrap(data.rollbackTag);
      io.out(format.kind === 'json' ? toJson(payload) : `${payload.message}\n`);
    });
}
