// The built CLI against a gateway that runs trusted documents only, with the CLI's shipped
// manifest (dist/cli-documents.json) merged with a front end's: every command family works by
// hash, and a document that is not in the manifests is refused.
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { postGraphql, startTestApp, type TestApp } from '../support/app.ts';
import { afterCliTests, type CliOptions, runCli, startCli } from '../support/cli.ts';
import { pushImage } from '../support/images.ts';
import { type StagedPackage, stagePackage } from '../support/package.ts';

const registryUrl = inject('registryUrl');
const registry = new URL(registryUrl).host;
const repo = `cli-trusted-${process.pid}-${Date.now().toString(36)}`;
const from = `${registry}/${repo}/app`;
const NS = 'trusted-cli';
/** A front end's own document, listed in a second manifest next to the CLI's. */
const FRONT_END = 'query FrontEnd { me { subject } }';
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

let staged: StagedPackage;
let app: TestApp;
let editor: string;
let namespaceAdmin: string;
let cliManifest: Record<string, string>;

beforeAll(async () => {
  staged = await stagePackage({ linkDependencies: true });
  const cliDocuments = join(staged.dir, 'dist', 'cli-documents.json');
  cliManifest = JSON.parse(readFileSync(cliDocuments, 'utf8')) as Record<string, string>;
  const frontEnd = join(staged.dir, 'front-end.json');
  writeFileSync(frontEnd, JSON.stringify({ [sha256(FRONT_END)]: FRONT_END }));
  const { trustedDocuments } = loadConfig({
    TAGRAPH_TRUSTED_DOCUMENTS: `${cliDocuments}, ${frontEnd}`,
  });
  app = await startTestApp({ trustedDocuments, importWorker: true });
  // The test app's helpers send their own documents, which this gateway refuses: the cluster
  // admin makes the users with the CLI (create token, policy add-role-to-user).
  const user = async (subject: string, role: string) => {
    const token = (await ok(['create', 'token', subject], app.adminToken)).trim();
    await ok(['policy', 'add-role-to-user', role, subject], app.adminToken);
    return token;
  };
  editor = await user('trusted-editor', 'edit');
  namespaceAdmin = await user('trusted-admin', 'admin');
  await pushImage(registryUrl, `${repo}/app`, '1.0.0', { content: 'app 1.0.0' });
  await pushImage(registryUrl, `${repo}/app`, '1.1.0', { content: 'app 1.1.0' });
});

afterCliTests(
  () => app?.stop(),
  () => staged?.remove(),
);

const as = (token: string): CliOptions => ({
  url: app.url,
  token,
  bin: join(staged.dir, 'dist', 'cli.js'),
});

/** Runs the built CLI in NS; fails the test with its stderr unless it exits 0. */
async function ok(args: string[], token = editor, options: Partial<CliOptions> = {}) {
  const result = await runCli(['-n', NS, ...args], { ...as(token), ...options });
  expect(result.stderr, args.join(' ')).toBe('');
  expect(result.code, args.join(' ')).toBe(0);
  return result.stdout;
}

describe('the built CLI against a trusted-documents gateway', () => {
  it('lists every document it sends in the shipped manifest, merged with a front end', async () => {
    expect(Object.keys(cliManifest).length).toBeGreaterThan(30);
    const frontEnd = await postGraphql(
      app,
      editor,
      { extensions: { persistedQuery: { version: 1, sha256Hash: sha256(FRONT_END) } } },
      { accept: 'application/json' },
    );
    expect(await frontEnd.json()).toEqual({ data: { me: { subject: expect.any(String) } } });
  });

  it('refuses a document that is not in the manifests, from the editor and the admin', async () => {
    for (const token of [editor, app.adminToken]) {
      const response = await postGraphql(
        app,
        token,
        { query: `{ imageStreams(namespace: "${NS}") { nodes { name } } }` },
        { accept: 'application/json' },
      );
      const body = (await response.json()) as { errors?: { extensions?: { code?: string } }[] };
      expect(body.errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_ONLY');
    }
    // Nor is a hash that no manifest lists run.
    const unknown = await postGraphql(
      app,
      editor,
      { extensions: { persistedQuery: { version: 1, sha256Hash: sha256('{ me { subject } }') } } },
      { accept: 'application/json' },
    );
    const body = (await unknown.json()) as { errors?: { extensions?: { code?: string } }[] };
    expect(body.errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_NOT_FOUND');
  });

  it('runs every command family by hash', async () => {
    expect(await ok(['whoami'])).toBe('trusted-editor\n');

    // watch (graphql-ws) sees the changes the following commands make.
    const watch = startCli(['-n', NS, 'watch', '--limit', '1', '-o', 'json'], as(editor));

    // import-image, tag (one destination and several), get, describe.
    await ok(['import-image', 'app:v1', `--from=${from}:1.0.0`, '--confirm', '--insecure']);
    await watch.waitFor(({ stdout }) => stdout.includes('"tag":"v1"'));
    expect((await watch.exited).code).toBe(0);
    await ok(['import-image', 'app:v1', `--from=${from}:1.0.0`, '--dry-run', '--insecure']);
    await ok(['tag', 'app:v1', 'app:stable']);
    await ok(['tag', 'app:v1', 'app:a', 'app:b']);
    await ok(['tag', '--reference', 'quay.io/x/y:1', 'app:ref']);
    expect(await ok(['get', 'is'])).toMatch(/^app\s/m);
    expect(await ok(['get', 'istag'])).toMatch(/^app:stable\s/m);
    expect(await ok(['get', 'isimage'])).toMatch(/sha256:/);
    expect(await ok(['get', 'namespaces'])).toMatch(new RegExp(`^${NS}\\s`, 'm'));
    expect(await ok(['describe', 'is/app'])).toMatch(/^Name:\s+app$/m);
    const described = await ok(['describe', 'istag/app:v1']);
    const digest = /sha256:[0-9a-f]{64}/.exec(described)?.[0];
    expect(digest).toBeDefined();
    expect(await ok(['get', 'isimage', `app@${digest}`, '-o', 'name'])).toContain(digest);

    // A second import makes history to roll back; a policy tag to reevaluate.
    await ok(['tag', `${from}:1.1.0`, 'app:v1', '--insecure']);
    await expect
      .poll(async () => (await ok(['get', 'istag', 'app:v1', '-o', 'json'])).includes(from))
      .toBe(true);
    await ok(['import-image', 'app:v1']);
    await ok(['rollback', 'app:v1', '--to=1']);
    await ok(['tag', from, 'app:newest', '--policy=semver:^1', '--insecure']);
    await ok(['reevaluate', 'istag/app:newest']);
    await ok(['set', 'image-lookup', 'app']);
    await ok(['tag', '-d', 'app:a', 'app:b']);

    // apply: create, then change (stream and tag annotations, a new tag).
    const manifest = (note: string, tags: string[]) =>
      JSON.stringify({
        apiVersion: 'image.openshift.io/v1',
        kind: 'ImageStream',
        metadata: { name: 'web', annotations: { note } },
        spec: {
          tags: tags.map((name) => ({
            name,
            annotations: { note },
            from: { kind: 'DockerImage', name: `${from}:1.0.0` },
            importPolicy: { insecure: true },
          })),
        },
      });
    await ok(['apply', '-f', '-'], editor, { stdin: manifest('one', ['v1']) });
    await ok(['apply', '-f', '-'], editor, { stdin: manifest('two', ['v1', 'v2']) });
    expect(await ok(['get', 'is', 'web', '-o', 'jsonpath={.metadata.annotations.note}'])).toBe(
      'two',
    );

    // Pull secrets, webhooks and robot tokens.
    await ok([
      'create',
      'secret',
      'docker-registry',
      'pull',
      '--docker-server=registry.example.com',
      '--docker-username=u',
      '--docker-password=p',
    ]);
    await ok(['create', 'webhook', 'hook', '--url', 'https://hooks.example.com/x']);
    expect(await ok(['get', 'webhooks'])).toMatch(/^hook\s/m);
    expect(await ok(['describe', 'webhook/hook'])).toMatch(/hooks\.example\.com/);
    await ok(['create', 'token', 'deployer', '--role=editor'], namespaceAdmin);
    expect(await ok(['get', 'tokens'], namespaceAdmin)).toMatch(/^deployer\s/m);
    await ok(['delete', 'token/deployer'], namespaceAdmin);

    // Role bindings and pruning, as the namespace's and the cluster's admins.
    await ok(['policy', 'add-role-to-user', 'image-puller', 'someone'], namespaceAdmin);
    await ok(['policy', 'remove-role-from-user', 'image-puller', 'someone'], namespaceAdmin);
    await ok(['prune', 'history', '--keep-tag-revisions=1'], namespaceAdmin);
    await ok(['prune', 'images', '--keep-tag-revisions=1'], app.adminToken);

    // delete: tags and streams, in batches.
    await ok(['delete', 'istag/app:stable']);
    await ok(['delete', 'is/web', 'is/app'], namespaceAdmin);
    expect(await runCli(['-n', NS, 'get', 'is'], as(editor)).then((result) => result.stderr)).toBe(
      `No resources found in ${NS} namespace.\n`,
    );
    // Some forty CLI processes, one after another.
  }, 240_000);

  it('says what to do when the server does not list a document of this CLI', async () => {
    // A gateway with the front end's manifest only: the CLI's hashes are unknown there.
    const frontEndOnly = join(staged.dir, 'front-end.json');
    const other = await startTestApp({
      trustedDocuments: loadConfig({ TAGRAPH_TRUSTED_DOCUMENTS: frontEndOnly }).trustedDocuments,
    });
    try {
      const options = { ...as(editor), url: other.url, token: other.adminToken };
      // Over HTTP and over graphql-ws alike.
      for (const args of [['get', 'is'], ['watch']]) {
        expect(await runCli(['-n', NS, ...args], options), args[0]).toEqual({
          code: 1,
          stdout: '',
          stderr:
            'error: only persisted documents run here: send the hash of a trusted document\n' +
            "error: the server runs trusted documents only and does not list this CLI's: add this tagraph version's dist/cli-documents.json to its TAGRAPH_TRUSTED_DOCUMENTS\n",
        });
      }
    } finally {
      await other.stop();
    }
  });
});
