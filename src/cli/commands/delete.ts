// `tagraph delete is/<name>`, `istag/<stream>:<tag>`, `token/<name>` and `retentionpolicy/<name>` (oc delete).
import type { Command } from 'commander';
import { runBatch } from '../batch.ts';
import { errorLines, isTypedError } from '../client.ts';
import { contextOf, type Io } from '../context.ts';
import { DELETE_STREAM, DELETE_TAG } from '../documents.ts';
import { CliError, forbidden, notFound, PrintedError, UsageError } from '../errors.ts';
import { deleteReceivers, receiverArgs } from '../receivers.ts';
import { istagName, KIND_NAMES, parseResourceArgs } from '../resources.ts';
import { deleteRetentionPolicies, retentionArgs } from '../retention.ts';
import { revokeRobotTokens, tokenArgs } from '../tokens.ts';

export function registerDelete(program: Command, io: Io): void {
  program
    .command('delete')
    .summary('delete image streams or tags (oc delete)')
    .description(
      'Delete is/<name> (the stream, its tags and their history) or istag/<stream>:<tag> (the\n' +
        'same as tag -d).',
    )
    .argument(
      '<resource...>',
      'is/<name>, istag/<stream>:<tag>, token/<name> (revokes it), receiver/<name> or ' +
        'retentionpolicy/<name>',
    )
    .action(async (args: string[], _options: object, self: Command) => {
      const tokenNames = tokenArgs(args);
      if (tokenNames) {
        await revokeRobotTokens(io, contextOf(self, io), tokenNames);
        return;
      }
      const receiverNames = receiverArgs(args);
      if (receiverNames) {
        await deleteReceivers(io, contextOf(self, io), receiverNames);
        return;
      }
      const policyNames = retentionArgs(args);
      if (policyNames) {
        await deleteRetentionPolicies(io, contextOf(self, io), policyNames);
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
                input: { namespace, ref: istagName(name) },
              })),
            );
      // Each refusal on its own line, as oc prints them: the API's status errors in its form.
      const failures: string[] = [];
      outcomes.forEach((outcome, i) => {
        if (!isTypedError(outcome)) io.out(`${KIND_NAMES[type]} "${names[i]}" deleted\n`);
        else if (outcome.code === 'NOT_FOUND') failures.push(notFound(type, names[i]!).message);
        else if (outcome.code === 'FORBIDDEN') {
          failures.push(...errorLines(outcome).map((line) => forbidden(line).message));
        } else failures.push(...errorLines(outcome).map((line) => `error: ${line}`));
      });
      if (failures.length > 0) throw new PrintedError(failures[0]!, failures.slice(1));
    });
}
