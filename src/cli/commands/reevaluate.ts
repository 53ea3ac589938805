// `tagraph reevaluate istag/<stream>:<tag>`: evaluate a policy tag's policy now and wait for it.
import type { Command } from 'commander';
import { unwrap } from '../client.ts';
import { contextOf, type Io, toJson } from '../context.ts';
import { policyLines } from '../describe.ts';
import { REEVALUATE } from '../documents.ts';
import { CliError, UsageError } from '../errors.ts';
import { booleanOption, parseOutput } from '../flags.ts';
import { parseResourceArgs } from '../resources.ts';
import { parseImportTimeout } from './importImage.ts';

interface ReevaluateOptions {
  wait?: boolean;
  timeout: string;
  output?: string;
}

export function registerReevaluate(program: Command, io: Io): void {
  const command = program
    .command('reevaluate')
    .summary("evaluate a policy tag's policy now")
    .description(
      'List the repository of the policy tag istag/<stream>:<tag>, pick the winner and import it\n' +
        '(a new winner or digest moves the tag). Waits for the import unless --wait=false.',
    )
    .argument('<tag>', 'istag/<stream>:<tag> (or <stream>:<tag>)');
  booleanOption(command, 'wait', 'wait for the import to finish (default true)');
  command
    .option('--timeout <duration>', 'how long to wait (at most 5m)', '60s')
    .option('-o, --output <format>', 'json: print the payload as JSON')
    .action(async (arg: string, options: ReevaluateOptions, self: Command) => {
      const output = parseOutput(options.output, ['json']);
      const ref = tagRef(arg);
      const wait = options.wait ?? true;
      const timeoutSeconds = parseImportTimeout(options.timeout);
      const ctx = contextOf(self, io);
      const data = await ctx.client.request(REEVALUATE, {
        input: { namespace: ctx.namespace, ref, wait, timeoutSeconds },
      });
      const payload = unwrap(data.reevaluateTag, `${ref}: `);
      if (output.kind === 'json') {
        io.out(toJson(payload));
      } else if (!wait) {
        io.out(
          `imagestreamtag.image.openshift.io/${ref} re-evaluation queued (job ${payload.job.id})\n`,
        );
      }
      const { job } = payload;
      if (payload.timedOut) {
        throw new CliError(
          `the re-evaluation of ${ref} (job ${job.id}) had not finished after ${timeoutSeconds}s`,
          [
            ...(job.lastError ? [`its last error: ${job.lastError}; it is retried`] : []),
            `it goes on in the server: see tagraph describe istag/${ref} later`,
          ],
        );
      }
      if (!wait) return;
      const failed = job.images.filter((i) => i.status === 'Failure');
      if (failed.length > 0 || job.status === 'failed') {
        const lines = failed.map(
          (f) => `${ref}: Import failed (${f.reason ?? 'Unknown'}): ${f.message ?? ''}`,
        );
        if (lines.length === 0) lines.push(`${ref}: ${job.lastError ?? 'the import failed'}`);
        throw new CliError(lines[0]!, lines.slice(1));
      }
      if (output.kind === 'json') return;
      const tag = payload.imageStreamTag;
      io.out(`imagestreamtag.image.openshift.io/${ref} reevaluated\n`);
      if (tag?.policy) io.out(policyLines(tag.policy, '  ', Date.now()).join(''));
    });
}

/** `istag/<stream>:<tag>` or `<stream>:<tag>`; any other resource type is a usage error. */
function tagRef(arg: string): string {
  if (!arg.includes('/')) {
    if (!arg.includes(':')) throw new UsageError(`give a tag: istag/<stream>:<tag>, not ${arg}`);
    return arg;
  }
  const { type, names } = parseResourceArgs([arg]);
  if (type !== 'istag' || !names[0]?.includes(':')) {
    throw new UsageError(`reevaluate takes a tag: istag/<stream>:<tag>, not ${arg}`);
  }
  return names[0];
}
