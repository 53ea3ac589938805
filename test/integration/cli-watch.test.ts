// `tagraph watch` follows tag changes over graphql-ws and resumes after the server goes away
// without missing or repeating one; `tagraph prune images` reports, then removes. The server
// wants a token, as in production, so the CLI's is checked on HTTP and WebSocket alike.
import { beforeAll, describe, expect, it } from 'vitest';
import { bearer, startTestApp, TEST_ADMIN_TOKEN, type TestApp } from '../support/app.ts';
import { afterCliTests, type CliOptions, ok, runCli, startCli } from '../support/cli.ts';
import { digestOf, pushMapping } from '../support/mapping.ts';

let app: TestApp;
/** Tokens (valid on every app of this file's database): */
let reader: string; // watches (IMAGE_PULLER)
let editor: string; // makes the changes watched (EDITOR)

/** The CLI with the token of `reader`, from the environment. */
const withToken = (url: string): CliOptions => ({ url, env: { TAGRAPH_TOKEN: reader } });
/** The CLI with the cluster admin's token: pruning images is theirs alone. */
const asAdmin = (url: string): CliOptions => ({ url, env: { TAGRAPH_TOKEN: TEST_ADMIN_TOKEN } });

beforeAll(async () => {
  app = await startTestApp();
  reader = await app.member(['watched', 'default', 'empty'], 'IMAGE_PULLER');
  editor = await app.member('watched', 'EDITOR');
});

afterCliTests(() => app.stop());

const TAG = `mutation($input: TagInput!) { tag(input: $input) { __typename } }`;
const DELETE = `mutation($input: DeleteTagInput!) { deleteTag(input: $input) { __typename } }`;

/** A reference tag: a change with no import behind it. */
async function referenceTag(on: TestApp, namespace: string, dest: string, source: string) {
  const result = await on.graphql<{ tag: { __typename: string } }>(
    TAG,
    { input: { namespace, source, destinations: [dest], reference: true } },
    bearer(editor),
  );
  expect(result.data?.tag.__typename).toBe('TagPayload');
}

async function lastCursor(namespace: string): Promise<string> {
  const result = await app.graphql<{ tagEvents: { endCursor: string } }>(
    'query($ns: String!) { tagEvents(namespace: $ns, first: 100) { endCursor } }',
    { ns: namespace },
    bearer(reader),
  );
  return result.data!.tagEvents.endCursor;
}

const times = (text: string) => text.replace(/^\d{4}-\d\d-\d\dT[\d:.]+Z /gm, '<time> ');

describe('watch', () => {
  it('prints each change once, across a server restart', async () => {
    const ns = 'watched';
    await referenceTag(app, ns, 'app:zero', 'quay.io/x/a:0');
    const beforeOne = await lastCursor(ns);
    await referenceTag(app, ns, 'app:one', 'quay.io/x/a:1');
    const start = await lastCursor(ns);
    const follow = startCli(
      ['-n', ns, 'watch', 'app', `--since=${start}`, '--limit=3'],
      withToken(app.url),
    );
    // One tag, as JSON lines; its first line (app:one added) shows it is subscribed.
    const oneTag = startCli(
      ['-n', ns, 'watch', 'app:one', `--since=${beforeOne}`, '--limit=2', '-o', 'json'],
      withToken(app.url),
    );

    await referenceTag(app, ns, 'app:two', 'quay.io/x/a:2');
    await Promise.all([
      follow.waitFor(({ stdout }) => stdout.split('\n').length > 1),
      oneTag.waitFor(({ stdout }) => stdout.split('\n').length > 1),
    ]);
    const seen = await lastCursor(ns);

    // The server goes away; the change made meanwhile (through another gateway on the same
    // database) is replayed from the last cursor once the server is back.
    const port = Number(new URL(app.url).port);
    await app.stop();
    await follow.waitFor(({ stderr }) => stderr.includes('connection lost'));
    const other = await startTestApp();
    await referenceTag(other, ns, 'app:three', 'quay.io/x/a:3');
    await other.stop();
    app = await startTestApp({ port });

    await follow.waitFor(({ stdout }) => stdout.split('\n').length > 2);
    const deleted = await app.graphql(
      DELETE,
      { input: { namespace: ns, ref: 'app:one' } },
      bearer(editor),
    );
    expect(deleted.errors).toBeUndefined();

    const [followed, filtered] = await Promise.all([follow.exited, oneTag.exited]);
    expect(followed.code).toBe(0);
    expect(times(followed.stdout)).toBe(
      `<time> ADDED TAG ${ns}/app:two quay.io/x/a:2\n` +
        `<time> ADDED TAG ${ns}/app:three quay.io/x/a:3\n` +
        `<time> DELETED DELETE ${ns}/app:one\n`,
    );
    expect(followed.stderr).toMatch(
      new RegExp(
        `^watch: connection lost \\(closed with code 1001[^)]*\\); reconnecting after cursor ${seen}\\n$`,
      ),
    );
    expect(filtered.code, filtered.stderr).toBe(0);
    expect(filtered.stderr).toMatch(/^watch: connection lost/);
    const change = {
      cursor: expect.any(String),
      time: expect.any(String),
      namespace: ns,
      stream: 'app',
      tag: 'one',
      importFailure: null,
    };
    const [added, removed] = filtered.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(added).toEqual({
      ...change,
      type: 'ADDED',
      cause: 'TAG',
      previous: null,
      current: { digest: null, dockerImageReference: 'quay.io/x/a:1' },
    });
    expect(removed).toEqual({
      ...change,
      type: 'DELETED',
      cause: 'DELETE',
      // What the tag pointed at when it was deleted.
      previous: { digest: null, dockerImageReference: 'quay.io/x/a:1' },
      current: null,
    });
  });

  it('refuses a cursor the server did not issue, and a server it cannot reach', async () => {
    const [bad, down] = await Promise.all([
      runCli(['watch', '--since=garbage'], withToken(app.url)),
      runCli(['watch'], { url: 'http://127.0.0.1:1' }),
    ]);
    expect(bad).toEqual({
      code: 1,
      stdout: '',
      stderr: 'error: "since" is not a cursor this server issued\n',
    });
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(/^error: cannot watch through ws:\/\/127\.0\.0\.1:1\/graphql: /);
  });
});

describe('tokens', () => {
  it('a server that wants one says so, over HTTP and over WebSocket', async () => {
    const bad = { url: app.url, env: { TAGRAPH_TOKEN: 'not-a-token' } };
    const [none, wrong, watchNone, watchWrong, good] = await Promise.all([
      runCli(['get', 'is'], { url: app.url }),
      runCli(['get', 'is'], bad),
      runCli(['watch'], { url: app.url }),
      runCli(['watch'], bad),
      runCli(['--token', reader, '-n', 'empty', 'get', 'is'], { url: app.url }),
    ]);
    expect(none).toEqual({
      code: 1,
      stdout: '',
      stderr:
        'error: unauthorized: authentication required: send Authorization: Bearer <token>\n' +
        'error: pass a token with --token, TAGRAPH_TOKEN or "token" in the config file\n',
    });
    expect(wrong).toEqual({
      code: 1,
      stdout: '',
      stderr:
        'error: unauthorized: the token is not valid (unknown or revoked)\n' +
        'error: the token was refused: check --token, TAGRAPH_TOKEN or "token" in the config file\n',
    });
    expect(watchNone).toEqual({
      code: 1,
      stdout: '',
      stderr: 'error: unauthorized: pass a token with --token, TAGRAPH_TOKEN or the config file\n',
    });
    expect(watchWrong).toEqual({
      code: 1,
      stdout: '',
      stderr: 'error: forbidden: the token was refused\n',
    });
    expect(good).toEqual({
      code: 0,
      stdout: '',
      stderr: 'No resources found in empty namespace.\n',
    });
  });
});

describe('prune images', () => {
  it('a dry run by default; --confirm removes; both say what', async () => {
    const ns = 'pruned';
    const registry = app.as(await app.registry());
    const pushes = [];
    for (const seed of ['one', 'two', 'three', 'four']) {
      pushes.push(await pushMapping(registry, ns, 'app', 'v', `prune ${seed}`));
    }
    const [kept, ...old] = pushes.map((p) => p.digest).reverse();
    expect(kept).toBe(digestOf('prune four'));
    const prune = (...flags: string[]) => runCli(['prune', 'images', ...flags], asAdmin(app.url));
    /** Prune all but the newest revision of each tag, however young. */
    const pruneOld = (...flags: string[]) =>
      prune('--keep-tag-revisions=1', '--keep-younger-than=0s', ...flags);
    const listing =
      '\nDeleting references from image streams to images ...\n' +
      'STREAM       TAG       REVISION   IMAGE\n' +
      old.map((digest, i) => `pruned/app   v         ${i + 1}          ${digest}\n`).join('') +
      '\nDeleting images from server ...\n' +
      `IMAGE\n${[...old].sort().join('\n')}\n`;
    const dryRun =
      'Dry run enabled - no modifications will be made. Add --confirm to remove images\n';

    const [young, report, json] = await Promise.all([prune(), pruneOld(), pruneOld('-o', 'json')]);
    expect(young).toEqual(ok(`${dryRun}\nNothing to prune.\n`));
    expect(report).toEqual(ok(dryRun + listing));
    expect(JSON.parse(json.stdout)).toMatchObject({ dryRun: true, images: [...old].sort() });

    expect(await pruneOld('--confirm')).toEqual(ok(listing));
    expect(await pruneOld()).toEqual(ok(`${dryRun}\nNothing to prune.\n`));
  });
});

describe('prune history', () => {
  it("prunes one namespace's old history as its admin, dry run first, and refuses an editor", async () => {
    const ns = 'pruned-history';
    const registry = app.as(await app.registry());
    const pushes = [];
    for (const seed of ['one', 'two', 'three']) {
      pushes.push(await pushMapping(registry, ns, 'web', 'main', `history ${seed}`));
    }
    // Another namespace's history is not this namespace admin's to prune.
    await pushMapping(registry, 'pruned-elsewhere', 'web', 'main', 'history elsewhere one');
    await pushMapping(registry, 'pruned-elsewhere', 'web', 'main', 'history elsewhere two');
    const [, ...old] = pushes.map((p) => p.digest).reverse();
    const admin = { url: app.url, token: await app.member(ns, 'ADMIN') };
    const prune = (...flags: string[]) =>
      runCli(
        [
          'prune',
          'history',
          '-n',
          ns,
          '--keep-tag-revisions=1',
          '--keep-younger-than=0s',
          ...flags,
        ],
        admin,
      );
    const listing =
      '\nDeleting references from image streams to images ...\n' +
      'STREAM               TAG       REVISION   IMAGE\n' +
      old.map((digest, i) => `${ns}/web   main      ${i + 1}          ${digest}\n`).join('');
    const dryRun =
      'Dry run enabled - no modifications will be made. Add --confirm to remove history\n';

    expect(await prune()).toEqual(ok(dryRun + listing));
    expect(await prune('--exclude=ma*')).toEqual(ok(`${dryRun}\nNothing to prune.\n`));
    expect(await prune('--confirm')).toEqual(ok(listing));
    expect(await prune()).toEqual(ok(`${dryRun}\nNothing to prune.\n`));

    const elsewhere = await runCli(
      [
        'prune',
        'history',
        '-n',
        'pruned-elsewhere',
        '--keep-tag-revisions=1',
        '--keep-younger-than=0s',
      ],
      admin,
    );
    expect(elsewhere.code).toBe(1);
    const editor = { url: app.url, token: await app.member(ns, 'EDITOR') };
    const refused = await runCli(['prune', 'history', '-n', ns], editor);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/forbidden/i);
  });
});
