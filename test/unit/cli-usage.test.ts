// The command line itself, run in process: --help everywhere, and which mistakes exit 2 (usage)
// and which exit 1. (test/integration/cli.test.ts checks the same codes through the executable.)
import { describe, expect, it } from 'vitest';
import type { Io } from '../../src/cli/context.ts';
import { commandName, run } from '../../src/cli/main.ts';

async function tagraph(...argv: string[]) {
  let stdout = '';
  let stderr = '';
  const io: Io = {
    out: (text) => {
      stdout += text;
    },
    err: (text) => {
      stderr += text;
    },
    readStdin: async () => '',
    // Nowhere to connect: these commands must fail before asking a server.
    env: { HOME: '/nonexistent', TAGRAPH_SERVER: 'http://127.0.0.1:1' },
  };
  const code = await run(argv, io);
  return { code, stdout, stderr };
}

const COMMANDS = [
  ['tag'],
  ['import-image'],
  ['describe'],
  ['get'],
  ['apply'],
  ['create'],
  ['create', 'secret'],
  ['delete'],
  ['set'],
  ['set', 'image-lookup'],
  ['rollback'],
  ['prune'],
  ['prune', 'images'],
  ['watch'],
];

describe('--help', () => {
  it('the program lists every command and says how it is configured', async () => {
    const { code, stdout } = await tagraph('--help');
    expect(code).toBe(0);
    for (const [command] of COMMANDS) expect(stdout).toContain(`\n  ${command} `);
    expect(stdout).toContain('~/.config/tagraph/config.json');
    expect(stdout).toContain('Exit codes: 0 success, 1 an error');
  });

  it.each(COMMANDS)('tagraph %s … --help', async (...command) => {
    const flag = await tagraph(...command, '--help');
    expect(flag.code).toBe(0);
    expect(flag.stdout).toMatch(new RegExp(`^Usage: tagraph ${command.join(' ')} `));
    expect(flag.stderr).toBe('');
    // `tagraph help tag` prints the same.
    if (command.length === 1) {
      expect(await tagraph('help', ...command)).toEqual({
        code: 0,
        stdout: flag.stdout,
        stderr: '',
      });
    }
  });

  it('shows oc’s flags where oc has them', async () => {
    expect((await tagraph('tag', '--help')).stdout).toContain(
      'Usage: tagraph tag [options] <source> <dest>...\n       tagraph tag -d <stream:tag>...',
    );
    const importHelp = (await tagraph('import-image', '--help')).stdout;
    for (const flag of [
      '--from',
      '--confirm',
      '--all',
      '--scheduled',
      '--insecure',
      '--import-mode',
      '--reference-policy',
    ]) {
      expect(importHelp).toContain(flag);
    }
    expect((await tagraph('prune', 'images', '--help')).stdout).toContain(
      '--keep-younger-than <duration>',
    );
  });
});

describe('exit codes', () => {
  it.each([
    [[], /^Usage: tagraph/],
    [['frobnicate'], /^error: unknown command 'frobnicate'/],
    [['tag', 'a:1'], /^error: tag needs a source and at least one destination\n/],
    [['tag', '--bogus', 'a:1', 'b:1'], /^error: unknown option '--bogus'/],
    [['tag', '--alias=maybe', 'a:1', 'b:1'], /^error: invalid argument "maybe" for "--alias"/],
    [['import-image'], /^error: missing required argument 'image'/],
    [['get', 'is', '-o'], /^error: option '-o, --output <format>' argument missing/],
    [['rollback', 'ruby:2.0'], /^error: rollback needs --to=/],
    [['apply'], /^error: apply needs -f <file\|->/],
    [['create', 'secret', 'a', 'b'], /^error: create secret needs exactly one name/],
    [['describe', 'is', '--bogus'], /^error: unknown option '--bogus'/],
  ])('%j is a usage error (2)', async (argv, message) => {
    const result = await tagraph(...argv);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(message);
  });

  it.each([
    [
      ['tag', 'a:1', 'b:1', '--import-mode=Fast'],
      'error: valid ImportMode values are Legacy or PreserveOriginal\n',
    ],
    [
      ['import-image', 'x', '--import-mode', 'legacy'],
      'error: valid ImportMode values are Legacy or PreserveOriginal\n',
    ],
    [
      ['tag', 'a:1', 'b:1', '--reference-policy=remote'],
      'error: valid reference policy values are source or local, not "remote"\n',
    ],
    [
      ['tag', 'a:1', 'b:1', '--source=git'],
      'error: invalid source "git": use docker, istag or isimage\n',
    ],
    [
      ['describe', 'deploy/mysql'],
      'error: tagraph knows image streams only: is, istag and isimage, not "deploy"\n',
    ],
    [
      ['get', 'is', '-o', 'xml'],
      'error: unable to match a printer suitable for the output format "xml", allowed formats are: json,yaml,name,jsonpath\n',
    ],
    [
      ['prune', 'images', '--keep-younger-than=soon'],
      'error: invalid duration "soon": use a number and a unit, e.g. 60m or 1h30m\n',
    ],
    [
      ['prune', 'images', '--keep-tag-revisions=0'],
      'error: --keep-tag-revisions must be a whole number of at least 1, not "0"\n',
    ],
    [
      ['rollback', 'ruby:2.0', '--to=yesterday'],
      'error: invalid --to "yesterday": give a history index (1), generation:<n>, or an image digest\n',
    ],
    [['apply', '-f', '/nonexistent/is.yaml'], 'error: cannot read /nonexistent/is.yaml: ENOENT\n'],
    [['watch', '--limit=0'], 'error: --limit must be a whole number of at least 1, not "0"\n'],
  ])('%j is a user error (1) found before asking the server', async (argv, stderr) => {
    expect(await tagraph(...argv)).toEqual({ code: 1, stdout: '', stderr });
  });
});

it('finds the command name after the program options', () => {
  expect(commandName(['-n', 'ns', '--server', 'http://x', 'get', 'is'])).toBe('get');
  expect(commandName(['--namespace=ns', '--token', 't', 'tag', 'a', 'b'])).toBe('tag');
  expect(commandName(['--help'])).toBeUndefined();
});
