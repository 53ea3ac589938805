// `tagraph set image-lookup [<stream>...] [--enabled=false]` (oc set image-lookup).
import type { Command } from 'commander';
import { runBatch } from '../batch.ts';
import { errorLines, isTypedError } from '../client.ts';
import { contextOf, type Io, toJson } from '../context.ts';
import { SET_IMAGE_LOOKUP } from '../documents.ts';
import { CliError } from '../errors.ts';
import { booleanOption, parseOutput } from '../flags.ts';
import { listStreams } from '../queries.ts';
import { table } from '../tabwriter.ts';

const STREAM_PREFIXES = ['is/', 'imagestream/', 'imagestreams/', 'imagestream.image.openshift.io/'];

/** `mysql` or `is/mysql`; anything else (deploy/mysql) is not an image stream. */
function streamName(arg: string): string {
  const prefix = STREAM_PREFIXES.find((p) => arg.toLowerCase().startsWith(p));
  if (prefix) return arg.slice(prefix.length);
  if (arg.includes('/')) {
    throw new CliError(
      `tagraph sets image lookup on image streams only, not ${arg}: the server holds no workloads`,
    );
  }
  return arg;
}

export function registerSet(program: Command, io: Io): void {
  const set = program
    .command('set')
    .summary('change a setting of image streams (oc set)')
    .description('Change a setting of image streams: image-lookup.');
  const lookup = set
    .command('image-lookup')
    .summary('let workloads use a stream by name (spec.lookupPolicy.local)')
    .description(
      'Set spec.lookupPolicy.local of the streams named (true unless --enabled=false). Without\n' +
        'a name, list every stream of the namespace and whether lookup is on.',
    )
    .argument('[stream...]', 'image streams: <name> or is/<name>');
  booleanOption(lookup, 'enabled', 'turn lookup on (the default) or off with --enabled=false');
  lookup
    .option('-o, --output <format>', 'json')
    .action(
      async (args: string[], options: { enabled?: boolean; output?: string }, self: Command) => {
        const format = parseOutput(options.output, ['json']);
        const ctx = contextOf(self, io);
        if (args.length === 0) {
          const streams = await listStreams(ctx.client, ctx.namespace);
          const rows = streams.map((s) => ({ name: s.name, local: s.lookupPolicy.local }));
          if (format.kind === 'json') io.out(toJson(rows));
          else if (rows.length === 0) io.err(`No resources found in ${ctx.namespace} namespace.\n`);
          else
            io.out(
              table(
                ['NAME', 'LOCAL'],
                rows.map((r) => [r.name, String(r.local)]),
              ),
            );
          return;
        }
        const names = args.map(streamName);
        const local = options.enabled ?? true;
        const outcomes = await runBatch(
          ctx.client,
          SET_IMAGE_LOOKUP,
          names.map((name) => ({
            input: { namespace: ctx.namespace, name, lookupPolicy: { local } },
          })),
        );
        const failures: string[] = [];
        const updated: { name: string; local: boolean }[] = [];
        outcomes.forEach((outcome, i) => {
          if (isTypedError(outcome)) failures.push(...errorLines(outcome));
          else {
            updated.push({ name: names[i]!, local });
            if (format.kind !== 'json') {
              io.out(`imagestream.image.openshift.io/${names[i]} image lookup updated\n`);
            }
          }
        });
        if (format.kind === 'json') io.out(toJson(updated));
        if (failures.length > 0) throw new CliError(failures[0]!, failures.slice(1));
      },
    );
}
