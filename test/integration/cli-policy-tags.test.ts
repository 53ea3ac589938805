// `tagraph tag --policy`, `tagraph reevaluate`, `describe` and `get -o yaml` / `apply -f` of
// policy tags against a real server with its import worker and the real registry.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.ts';
import { afterCliTests, type CliOptions, cliScratch, runCli } from '../support/cli.ts';
import { pushImage } from '../support/images.ts';
import { getTag } from '../support/imports.ts';

const registryUrl = inject('registryUrl');
const registryHost = new URL(registryUrl).host;
const repo = `cli-policy-${process.pid}-${Date.now().toString(36)}/app`;
const repository = `${registryHost}/${repo}`;
const SIG = `sha256-${'cd'.repeat(32)}.sig`;
const NS = 'cli-pol';

let app: TestApp;
/** The CLI's user: an editor of the namespace, the least role that may set and import tags. */
let editor: string;
const scratch = cliScratch('cli-policy');
const digests: Record<string, string> = {};

beforeAll(async () => {
  app = await startTestApp({ importWorker: true });
  editor = await app.member([NS], 'EDITOR');
  const tags = ['1.0.0', '1.2.3', 'v1.10.0', '2.0.0-rc.1', 'main-99-abc', 'main-100-def', SIG];
  for (const tag of tags) {
    digests[tag] = (await pushImage(registryUrl, repo, tag, { content: `cli ${tag}` })).digest;
  }
}, 120_000);

afterCliTests(() => app.stop());

const cli = (args: string[], options: CliOptions = {}) =>
  runCli(['-n', NS, ...args], { url: app.url, token: editor, ...options });

/** `tagraph tag <repository> <stream:tag> <flags>`: a tag that follows this file's repository. */
const follow = (tag: string, ...flags: string[]) => cli(['tag', repository, tag, ...flags]);

/** Makes `tag` follow the repository by `flags`, then re-evaluates it: the re-evaluation's output. */
async function followAndReevaluate(tag: string, ...flags: string[]): Promise<string> {
  const set = await follow(tag, ...flags);
  expect(set.code, set.stderr).toBe(0);
  const reevaluated = await cli(['reevaluate', `istag/${tag}`]);
  expect(reevaluated.code, reevaluated.stderr).toBe(0);
  return reevaluated.stdout;
}

function file(text: string): string {
  const path = join(scratch, `${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(path, text);
  return path;
}

describe('tagraph tag --policy', () => {
  it('follows the highest semver tag; reevaluate waits, describe explains, a new release moves it', async () => {
    const set = await follow('app:stable', '--policy=semver:^1.2', '--insecure');
    expect(set.stderr).toBe('');
    expect(set.code).toBe(0);
    expect(set.stdout).toBe(`Tag app:stable set to follow ${repository} by semver:^1.2.\n`);

    const first = await cli(['reevaluate', 'istag/app:stable']);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toContain('imagestreamtag.image.openshift.io/app:stable reevaluated\n');
    expect(first.stdout).toMatch(/Winner:\s+v1\.10\.0\s+sha256:/);
    expect(first.stdout).toContain(`${digests['v1.10.0']}`);

    const described = await cli(['describe', 'istag/app:stable']);
    expect(described.code, described.stderr).toBe(0);
    expect(described.stdout).toMatch(
      /Policy:\s+semver:\^1\.2; excludes \*\.sig, \*\.att, \*\.sbom/,
    );
    expect(described.stdout).toMatch(
      /Last Evaluation:\s+.* ago: 7 listed, 1 excluded, 4 filtered, 2 candidates/,
    );
    expect(described.stdout).toMatch(/Why:\s+v1\.10\.0 is the highest version \(1\.10\.0\)/);
    const stream = await cli(['describe', 'is/app']);
    expect(stream.stdout).toMatch(/\n {4}Policy:\s+semver:\^1\.2/);

    const newer = await pushImage(registryUrl, repo, '1.11.0', { content: 'cli 1.11.0' });
    const moved = await cli(['reevaluate', 'app:stable', '-o', 'json']);
    expect(moved.code, moved.stderr).toBe(0);
    const payload = JSON.parse(moved.stdout) as {
      timedOut: boolean;
      job: { status: string };
      imageStreamTag: { policy: { lastEvaluation: { winner: string; digest: string } } };
    };
    expect(payload.timedOut).toBe(false);
    expect(payload.job.status).toBe('succeeded');
    expect(payload.imageStreamTag.policy.lastEvaluation).toMatchObject({
      winner: '1.11.0',
      digest: newer.digest,
    });
    const tag = await getTag(app.as(editor), NS, 'app:stable');
    expect(tag.history.nodes.map((h) => h.image?.digest)).toEqual([
      newer.digest,
      digests['v1.10.0'],
    ]);
  }, 180_000);

  it('takes a pattern with --extract and --order, and newest-build', async () => {
    const main = await followAndReevaluate(
      'app:main',
      '--policy=pattern:^main-(\\d+)-[a-f0-9]+$',
      '--extract=$1',
      '--order=numerical-asc',
      '--insecure',
    );
    expect(main).toMatch(/Winner:\s+main-100-def/);
    expect(main).toMatch(/Policy:\s+pattern:\^main-\(\\d\+\)-\[a-f0-9\]\+\$ extract \$1/);

    const newest = await followAndReevaluate(
      'app:newest',
      '--policy=newest-build:^1\\.',
      '--exclude=1.0.*',
      '--insecure',
    );
    expect(newest).toMatch(/Policy:\s+newest-build:\^1\\\.; excludes 1\.0\.\*/);
    expect(newest).toMatch(/Winner:\s+1\./);
  }, 180_000);

  it('refuses bad flags before any request (exit 2) and bad policies as the server does (exit 1)', async () => {
    const flag = await follow('app:x', '--policy=pattern:x', '--include-prerelease');
    expect(flag.code).toBe(2);
    expect(flag.stderr).toContain('--include-prerelease: does not apply to pattern policies');
    const order = await follow('app:x', '--policy=pattern:x', '--order=up');
    expect(order.code).toBe(2);
    expect(order.stderr).toContain('--order: use one of numerical-asc');

    const range = await follow('app:x', '--policy=semver:not a range');
    expect(range.code).toBe(1);
    expect(range.stderr).toContain('"not a range" is not a semver range');
    const regex = await follow('app:x', '--policy=pattern:(a)\\1');
    expect(regex.code).toBe(1);
    expect(regex.stderr).toContain('backreferences');

    const plain = await cli(['tag', `${repository}:1.0.0`, 'app:plain', '--insecure']);
    expect(plain.code, plain.stderr).toBe(0);
    const notPolicy = await cli(['reevaluate', 'istag/app:plain']);
    expect(notPolicy.code).toBe(1);
    expect(notPolicy.stderr).toContain('app:plain has no policy to evaluate');
    const notTag = await cli(['reevaluate', 'is/app']);
    expect(notTag.code).toBe(2);

    // The mutation bounds its wait: a timeout outside 1 to 300 seconds is a typed refusal.
    const unbounded = await app.as(editor).graphql<{ reevaluateTag: Record<string, unknown> }>(
      `mutation($input: ReevaluateTagInput!) { reevaluateTag(input: $input) {
        __typename ... on ValidationError { problems { field message } } } }`,
      { input: { namespace: NS, ref: 'app:stable', wait: true, timeoutSeconds: 301 } },
    );
    expect(unbounded.data!.reevaluateTag).toEqual({
      __typename: 'ValidationError',
      problems: [{ field: 'timeoutSeconds', message: 'timeoutSeconds is 1 to 300' }],
    });
  }, 120_000);
});

describe('policy tags in YAML', () => {
  it('get -o yaml carries the policy in the tagraph.io/policy annotation; apply -f keeps or changes it', async () => {
    await followAndReevaluate('web:stable', '--policy=semver:~1.2', '--insecure');
    const before = await getTag(app.as(editor), NS, 'web:stable');

    const exported = await cli(['get', 'is', 'web', '-o', 'yaml']);
    expect(exported.code, exported.stderr).toBe(0);
    expect(exported.stdout).toContain(
      `tagraph.io/policy: '{"semver":{"range":"~1.2","includePrerelease":false},"exclude":["*.sig","*.att","*.sbom"]}'`,
    );

    // The same manifest again: the same policy, so no new generation and no import pending.
    const same = await cli(['apply', '-f', file(exported.stdout)]);
    expect(same.code, same.stderr).toBe(0);
    const after = await getTag(app.as(editor), NS, 'web:stable');
    expect(after.spec?.generation).toBe(before.spec?.generation);
    expect(after.importPending).toBe(false);

    // A changed range is a changed policy: apply sets it, and reevaluate picks by it.
    const edited = exported.stdout.replace('"range":"~1.2"', '"range":"^1.0 <1.3"');
    expect(edited).not.toBe(exported.stdout);
    const changed = await cli(['apply', '-f', '-'], { stdin: edited });
    expect(changed.code, changed.stderr).toBe(0);
    const reevaluated = await cli(['reevaluate', 'istag/web:stable']);
    expect(reevaluated.code, reevaluated.stderr).toBe(0);
    expect(reevaluated.stdout).toMatch(/Policy:\s+semver:\^1\.0 <1\.3/);
    expect(reevaluated.stdout).toMatch(/Winner:\s+1\.2\.3/);

    const broken = exported.stdout.replace(
      /tagraph\.io\/policy: '.*'/,
      "tagraph.io/policy: 'semver'",
    );
    const refused = await cli(['apply', '-f', file(broken)]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('tagraph.io/policy');
  }, 180_000);
});
