// `tagraph import-image <stream>[:<tag>] --from=<image>`: import, wait, print each image.
import type { Command } from 'commander';
import { unwrap } from '../client.ts';
import { contextOf, type Io, toJson } from '../context.ts';
import { describeImageStream, describeImageStreamTag } from '../describe.ts';
import { IMPORT } from '../documents.ts';
import { CliError } from '../errors.ts';
import {
  booleanOption,
  parseDuration,
  parseImportMode,
  parseOutput,
  parseReferencePolicy,
} from '../flags.ts';
import { importDryRun } from '../importDryRun.ts';
import { fetchStreamTag, requireStream } from '../queries.ts';

interface ImportOptions {
  from?: string;
  confirm?: boolean;
  all?: boolean;
  scheduled?: boolean;
  insecure?: boolean;
  importMode?: string;
  referencePolicy?: string;
  timeout: string;
  output?: string;
  dryRun?: boolean;
}

/** The longest wait the server grants an import (importImage's `timeoutSeconds`): 5m. */
export const MAX_TIMEOUT_SECONDS = 300;

/** `--timeout` in whole seconds (at least 1); above the server's maximum it is refused. */
export function parseImportTimeout(value: string): number {
  const ms = parseDuration(value);
  if (ms > MAX_TIMEOUT_SECONDS * 1000) {
    throw new CliError(
      `--timeout ${value} is over the maximum of ${MAX_TIMEOUT_SECONDS / 60}m: the server waits at most that long`,
      ['an import that takes longer goes on in the server: see tagraph describe is/<stream> later'],
    );
  }
  return Math.max(1, Math.ceil(ms / 1000));
}

export function registerImportImage(program: Command, io: Io): void {
  const command = program
    .command('import-image')
    .summary('import images from a registry into a stream (oc import-image)')
    .description(
      'Import <stream>[:<tag>] (tag latest by default) from --from, wait for the import and\n' +
        'print each imported image. Without --from, re-import what the spec tags say.',
    )
    .argument('<image>', '<stream>[:<tag>]')
    .option('--from <image>', 'the pull spec to import, e.g. quay.io/team/ruby:3.3');
  booleanOption(command, 'confirm', 'create the image stream if it does not exist');
  booleanOption(command, 'all', 'import every tag of the repository (up to the server limit)');
  booleanOption(command, 'scheduled', 're-import periodically');
  booleanOption(command, 'insecure', 'allow plain HTTP or unverified TLS');
  booleanOption(command, 'dry-run', 'print what the import would record; change nothing');
  command
    .option('--import-mode <mode>', 'Legacy (one image of a manifest list) or PreserveOriginal')
    .option('--reference-policy <policy>', 'source or local')
    .option(
      '--timeout <duration>',
      `how long to wait for the import (at most ${MAX_TIMEOUT_SECONDS / 60}m)`,
      '60s',
    )
    .option('-o, --output <format>', 'json: print the import job as JSON')
    .action(async (image: string, options: ImportOptions, self: Command) => {
      const output = parseOutput(options.output, ['json']);
      const importMode = parseImportMode(options.importMode);
      const referencePolicy = parseReferencePolicy(options.referencePolicy);
      const timeoutSeconds = parseImportTimeout(options.timeout);
      const ctx = contextOf(self, io);
      if (options.dryRun) {
        await importDryRun(ctx, output.kind === 'json', {
          namespace: ctx.namespace,
          image,
          from: options.from,
          all: options.all ?? false,
          confirm: options.confirm ?? false,
          insecure: options.insecure,
          importMode,
        });
        return;
      }
      const data = await ctx.client.request(IMPORT, {
        input: {
          namespace: ctx.namespace,
          image,
          from: options.from,
          all: options.all ?? false,
          confirm: options.confirm ?? false,
          scheduled: options.scheduled ?? false,
          insecure: options.insecure ?? false,
          importMode,
          referencePolicy,
          wait: true,
          timeoutSeconds,
        },
      });
      const { job: queued, timedOut } = unwrap(data.importImage);
      if (!queued) throw new CliError('the server queued no import');
      const job = queued;
      if (output.kind === 'json') io.out(toJson({ ...job, timedOut }));
      if (timedOut) {
        const attempts = `${job.attempts} ${job.attempts === 1 ? 'attempt' : 'attempts'}`;
        const lastError = job.lastError
          ? [`its last error (${attempts} so far): ${job.lastError}; it is retried`]
          : [];
        throw new CliError(
          `the import of ${job.stream} (job ${job.id}) had not finished after ${timeoutSeconds}s`,
          [...lastError, `it goes on in the server: see tagraph describe is/${job.stream} later`],
        );
      }
      const succeeded = job.images.filter((i) => i.status === 'Success');
      if (output.kind !== 'json' && succeeded.length > 0) {
        // As oc prints it: the stream, then each imported image named <stream>:<tag>.
        const stream = await requireStream(ctx.client, job.namespace, job.stream);
        let message = `imported\n\n${describeImageStream(stream)}\n`;
        for (const result of succeeded) {
          const name = `${job.stream}:${result.tag}`;
          const tag = await fetchStreamTag(ctx.client, job.namespace, name);
          if (tag) message += `${describeImageStreamTag(tag, Date.now(), name)}\n`;
        }
        if (job.additionalTags.length > 0) {
          message += `\ninfo: The remote repository contained ${job.additionalTags.length} additional tags which were not imported: ${job.additionalTags.join(', ')}\n`;
        }
        io.out(`imagestream.image.openshift.io/${job.stream} ${message}\n`);
      }
      for (const skipped of job.images.filter((i) => i.status === 'Skipped')) {
        ctx.warn(`tag ${skipped.tag} skipped: ${skipped.message ?? 'its spec changed meanwhile'}`);
      }
      const failed = job.images.filter((i) => i.status === 'Failure');
      if (failed.length > 0) {
        const lines = failed.map(
          (f) =>
            `tag ${f.tag} failed: Import failed (${f.reason ?? 'Unknown'}): ${f.message ?? ''}`,
        );
        throw new CliError(lines[0]!, lines.slice(1));
      }
      if (job.status === 'failed' && succeeded.length === 0) {
        throw new CliError(
          `the import of ${job.stream} failed: ${job.lastError ?? 'no reason given'}`,
        );
      }
    });
}
