// `tagraph tag SOURCE DEST...` and `tagraph tag -d TAG...`, printing what oc tag prints.
import type { Command } from 'commander';
import { runBatch } from '../batch.ts';
import { errorLines, isTypedError, unwrap } from '../client.ts';
import { contextOf, type Io, toJson } from '../context.ts';
import { DELETE_TAG, TAG } from '../documents.ts';
import { CliError, UsageError } from '../errors.ts';
import {
  booleanOption,
  collect,
  parseImportMode,
  parseOutput,
  parseReferencePolicy,
  parseSourceKind,
} from '../flags.ts';
import { POLICY_FLAG_HELP, parsePolicyFlags } from '../policyFlags.ts';

interface TagOptions {
  alias?: boolean;
  reference?: boolean;
  scheduled?: boolean;
  insecure?: boolean;
  delete?: boolean;
  importMode?: string;
  referencePolicy?: string;
  source?: string;
  output?: string;
  policy?: string;
  extract?: string;
  order?: string;
  exclude?: string[];
  includePrerelease?: boolean;
}

export function registerTag(program: Command, io: Io): void {
  const command = program
    .command('tag')
    .summary('point image stream tags at a source (oc tag)')
    .description(
      'Set each DEST (<stream>:<tag>) to SOURCE: another tag (<stream>:<tag>, pinned to its\n' +
        'current image unless --alias), an image of a stream (<stream>@<id>) or a pull spec\n' +
        '(quay.io/x/y:1, imported by the server). With -d, delete the tags given.\n' +
        'With --policy, SOURCE is a repository (quay.io/x/y) and each DEST follows the tag of it\n' +
        'the policy picks: --policy=semver:^1.2, --policy=pattern:^main-(\\d+)- --extract=$1\n' +
        '--order=numerical-asc, --policy=newest-build[:<regex>].',
    )
    .usage('[options] <source> <dest>...\n       tagraph tag -d <stream:tag>...')
    .argument('<refs...>', 'the source then one or more destinations (with -d: tags to delete)');
  booleanOption(command, 'alias', 'track the source tag instead of pinning its image');
  booleanOption(command, 'reference', 'point at the source as is; never import it');
  booleanOption(command, 'scheduled', 're-import a pull spec source periodically');
  booleanOption(command, 'insecure', 'allow plain HTTP or unverified TLS when importing');
  booleanOption(command, 'delete', 'delete the tags given', '-d');
  booleanOption(command, 'include-prerelease', 'semver: let pre-releases (2.0.0-rc.1) match');
  command
    .option('--policy <policy>', POLICY_FLAG_HELP)
    .option('--extract <template>', 'pattern: what a tag ranks by ($1, $name; default $0)')
    .option(
      '--order <order>',
      'pattern: numerical-asc, numerical-desc, alphabetical-asc (default), alphabetical-desc',
    )
    .option(
      '--exclude <glob>',
      'tags that never qualify (repeatable; replaces the default *.sig, *.att, *.sbom)',
      collect,
    )
    .option('--import-mode <mode>', 'Legacy (one image of a manifest list) or PreserveOriginal')
    .option('--reference-policy <policy>', 'source or local: where consumers pull from')
    .option('--source <kind>', 'how to read SOURCE: docker, istag or isimage')
    .option('-o, --output <format>', 'json: print the results as JSON')
    .action(async (refs: string[], options: TagOptions, self: Command) => {
      const output = parseOutput(options.output, ['json']);
      const policy = parsePolicyFlags(options);
      const ctx = contextOf(self, io);
      if (options.delete) {
        if (policy) throw new UsageError('--policy does not apply to -d');
        await deleteTags(ctx, refs, output.kind === 'json');
        return;
      }
      if (refs.length < 2) {
        throw new UsageError('tag needs a source and at least one destination');
      }
      const [source, ...destinations] = refs as [string, ...string[]];
      const input = {
        namespace: ctx.namespace,
        source,
        destinations,
        alias: options.alias ?? false,
        reference: options.reference ?? false,
        scheduled: options.scheduled ?? false,
        insecure: options.insecure ?? false,
        importMode: parseImportMode(options.importMode),
        referencePolicy: parseReferencePolicy(options.referencePolicy),
        sourceKind: parseSourceKind(options.source),
        ...(policy ? { policy } : {}),
      };
      const data = await ctx.client.request(TAG, { input });
      const { results } = unwrap(data.tag);
      if (output.kind === 'json') io.out(toJson(results));
      else for (const result of results) io.out(`${result.message}\n`);
    });
}

async function deleteTags(
  ctx: ReturnType<typeof contextOf>,
  refs: string[],
  json: boolean,
): Promise<void> {
  const outcomes = await runBatch(
    ctx.client,
    DELETE_TAG,
    refs.map((ref) => ({ input: { namespace: ctx.namespace, ref } })),
  );
  const deleted: Exclude<(typeof outcomes)[number], { __typename: `${string}Error` }>[] = [];
  const failures: string[] = [];
  outcomes.forEach((outcome, i) => {
    if (isTypedError(outcome)) {
      failures.push(...errorLines(outcome).map((line) => `${refs[i]}: ${line}`));
      return;
    }
    deleted.push(outcome);
    if (!json) ctx.io.out(`Deleted tag ${outcome.namespace}/${outcome.stream}:${outcome.tag}.\n`);
    if (outcome.danglingFollowers.length > 0) {
      const followers = outcome.danglingFollowers.map((t) => `${outcome.stream}:${t}`).join(', ');
      ctx.warn(
        `${followers} tracked ${outcome.stream}:${outcome.tag}; they keep their history but follow nothing now`,
      );
    }
  });
  if (json) ctx.io.out(toJson(deleted));
  if (failures.length > 0) throw new CliError(failures[0]!, failures.slice(1));
}
