// The `tagraph` command: oc's image-stream commands against a tagraph server over GraphQL.
import { Command, CommanderError } from 'commander';
import type { Io } from './context.ts';
import { CliError } from './errors.ts';
import { normalizeBooleanFlags } from './flags.ts';
import { readAtMost } from './input.ts';

type Register = (program: Command, io: Io) => void;

/**
 * Each command's module, loaded on demand: a run loads only the command it runs (and all of them
 * for the top-level help), which keeps the start of every run about a third shorter.
 */
const COMMANDS: Record<string, () => Promise<Register>> = {
  tag: async () => (await import('./commands/tag.ts')).registerTag,
  'import-image': async () => (await import('./commands/importImage.ts')).registerImportImage,
  describe: async () => (await import('./commands/describe.ts')).registerDescribe,
  get: async () => (await import('./commands/get.ts')).registerGet,
  apply: async () => (await import('./commands/apply.ts')).registerApply,
  create: async () => (await import('./commands/create.ts')).registerCreate,
  delete: async () => (await import('./commands/delete.ts')).registerDelete,
  set: async () => (await import('./commands/set.ts')).registerSet,
  rollback: async () => (await import('./commands/rollback.ts')).registerRollback,
  prune: async () => (await import('./commands/prune.ts')).registerPrune,
  watch: async () => (await import('./commands/watch.ts')).registerWatch,
  policy: async () => (await import('./commands/policy.ts')).registerPolicy,
  whoami: async () => (await import('./tokens.ts')).registerWhoami,
  reevaluate: async () => (await import('./commands/reevaluate.ts')).registerReevaluate,
};

/** Program options that take a value, so the command name is found after them. */
const VALUE_OPTIONS = new Set(['-n', '--namespace', '--server', '--token']);

/** The first operand of the command line: the command's name (or undefined). */
export function commandName(argv: string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (VALUE_OPTIONS.has(arg)) i++;
    else if (arg === '--') return argv[i + 1];
    else if (!arg.startsWith('-')) return arg;
  }
  return undefined;
}

/** The program with the commands `argv` needs (every one when it names none we know). */
export async function buildProgram(io: Io, argv: string[] = []): Promise<Command> {
  const program = new Command('tagraph')
    .description(
      'Manage image streams on a tagraph server the way oc does: tag, import-image, describe,\n' +
        'get, apply, set image-lookup, rollback, prune images, create secret|token, policy, watch,\n' +
        'reevaluate.',
    )
    .option(
      '--server <url>',
      'the tagraph server (env TAGRAPH_SERVER; default http://127.0.0.1:4000)',
    )
    .option('--token <token>', 'bearer token to send (env TAGRAPH_TOKEN)')
    .option('-n, --namespace <namespace>', 'the namespace (project) to work in (default "default")')
    .addHelpText(
      'after',
      '\nConfiguration: flags, then TAGRAPH_SERVER / TAGRAPH_TOKEN, then\n' +
        '~/.config/tagraph/config.json ({"server": …, "token": …, "namespace": …}).\n' +
        'Exit codes: 0 success, 1 an error (the message says what), 2 a malformed command line.',
    )
    .configureOutput({
      writeOut: (text) => io.out(text),
      writeErr: (text) => io.err(text),
    })
    // Descriptions are written for 100 columns; a terminal narrower than that still wraps them.
    .configureHelp({
      helpWidth: Math.min(process.stdout.columns || 100, 100),
      showGlobalOptions: true,
    })
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  const name = commandName(argv);
  const loaders = name && COMMANDS[name] ? [COMMANDS[name]] : Object.values(COMMANDS);
  for (const register of await Promise.all(loaders.map((load) => load()))) register(program, io);
  return program;
}

/** Runs one command line (without `node tagraph`); resolves with the exit code. */
export async function run(argv: string[], io: Io): Promise<number> {
  try {
    const args = normalizeBooleanFlags(argv);
    const program = await buildProgram(io, args);
    await program.parseAsync(args, { from: 'user' });
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help that was asked for exits 0; anything else commander reports is a usage error.
      return error.exitCode === 0 ? 0 : 2;
    }
    if (error instanceof CliError) {
      io.err(`${error.prefix}${error.message}\n`);
      for (const line of error.details) io.err(`${error.prefix}${line}\n`);
      if (error.exitCode === 2) io.err('(run with --help for usage)\n');
      return error.exitCode;
    }
    io.err(`error: ${(error as Error).stack ?? String(error)}\n`);
    return 1;
  }
}

const processIo: Io = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
  env: process.env,
  readStdin: (maxBytes) => readAtMost(process.stdin, maxBytes),
};

/** Sets the exit code and lets Node exit once stdout has drained. */
export async function runProcess(): Promise<void> {
  // `tagraph get is | head`: the reader went away, which is no error of ours.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    process.exit(process.exitCode ?? 0);
  });
  process.exitCode = await run(process.argv.slice(2), processIo);
}
