// `tagraph delete is/<name>` and `tagraph delete istag/<stream>:<tag>` (oc delete).
import type { Command } from 'commander';
import { runBatch } from '../batch.ts';
import { errorLines, isTypedError } from '../client.ts';
import { contextOf, type Io } from '../context.ts';
import { DELETE_STREAM, DELETE_TAG } from '../documents.ts';
import { CliError, UsageError } from '../errors.ts';
import { KIND_NAMES, parseResourceArgs } from '../resources.ts';
import { revokeRobotTokens, tokenArgs } from '../tokens.ts';

export function registerDelete(program: Command, io: Io): void {
  program
    .command('delete')
    .summary('delete image streams or tags (oc delete)')
    .description(
      'Delete is/<name> (the stream, its tags and their history) or istag/<stream>:<tag> (the\n' +
        'same as tag -d).',
    )
    .argument('<resource...>', 'is/<name>, istag/<stream>:<tag> or token/<name> (revokes it)')
    .action(async (args: string[], _options: object, self: Command) => {
      const tokenNames = tokenArgs(args);
      if (tokenNames) {
        await revokeRobotTokens(io, contextOf(self, io), tokenNames);
        return;
      }
      const { type, names } = parseResourceArgs(args);
      if (names.length === 0) throw new UsageError(`delete ${type} needs a name`);
      if (type === 'isimage') throw new CliError('images are removed by prune images, not deleted');
      const ctx = contextOf(self, io);
      const { namespace } = ctx;
      const outcomes =
        type === 'is'
          ? await runBatch(
              ctx.client,
              DELETE_STREAM,
              names.map((name) => ({ input: { namespace, name } })),
            )
          : await runBatch(
              ctx.client,
              DELETE_TAG,
              names.map((name) => ({
                input: { namespace, ref: name.includes(':') ? name : `${name}:latest` },
              })),
            );
      const failures: string[] = [];
      outcomes.forEach((outcome, i) => {
        if (isTypedError(outcome)) failures.push(...errorLines(outcome));
        else io.out(`${KIND_NAMES[type]} "${names[i]}" deleted\n`);
      });
      if (failures.length > 0) throw new CliError(failures[0]!, failures.slice(1));
    });
}
