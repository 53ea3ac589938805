// importImage(dryRun: true) against the real registry: the preview of a single image and of a
// manifest list, refusals, and that nothing is written (row counts of every table, before and
// after); and `tagraph import-image --dry-run`.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.ts';
import { runCli, stopClis } from '../support/cli.ts';
import { type BuiltImage, type BuiltIndex, pushImage, pushIndex } from '../support/images.ts';
import { importAsEditor } from '../support/imports.ts';
import { rowCounts } from '../support/rowCounts.ts';

const registryUrl = inject('registryUrl');
const registryHost = new URL(registryUrl).host;
const repo = `dry-run-${process.pid}-${Date.now().toString(36)}`;
const NS = 'dry-run';

let app: TestApp;
/** The least role that may import: an editor of the namespace. */
let editor: TestApp;
let editorToken: string;
let puller: TestApp;
let single: BuiltImage;
let index: BuiltIndex;

beforeAll(async () => {
  app = await startTestApp({ importWorker: false });
  editorToken = await app.member([NS], 'EDITOR');
  editor = app.as(editorToken);
  puller = app.as(await app.member([NS], 'IMAGE_PULLER'));
  single = await pushImage(registryUrl, `${repo}/app`, '1.0', {
    content: 'dry run 1.0',
    created: '2026-03-01T10:00:00Z',
    author: 'builder',
    config: { Cmd: ['/bin/app'], User: '1001', Labels: { a: '1', b: '2', c: '3' } },
  });
  index = await pushIndex(registryUrl, `${repo}/multi`, 'latest', [
    { platform: { os: 'linux', architecture: 'amd64' }, spec: { content: 'amd64' } },
    { platform: { os: 'linux', architecture: 'arm64', variant: 'v8' }, spec: { content: 'arm64' } },
  ]);
}, 120_000);

afterAll(async () => {
  const left = await stopClis();
  await app.stop();
  expect(left, 'CLI processes left running').toBe(0);
});

const DRY_RUN = `mutation($input: ImportImageInput!) {
  importImage(input: $input) {
    __typename
    ... on ImportImagePayload {
      job { id }
      preview {
        namespace stream tag from importMode sourceDigest digest mediaType dockerImageReference
        platforms { digest os architecture variant }
        os architecture created author size layerCount labelCount
        config { cmd user labels { key value } }
        currentDigest changed
      }
    }
    ... on Error { code field message }
  }
}`;

async function dryRun(caller: TestApp, input: Record<string, unknown>) {
  const result = await caller.graphql<{ importImage: Record<string, unknown> }>(DRY_RUN, {
    input: { namespace: NS, insecure: true, dryRun: true, ...input },
  });
  expect(result.errors).toBeUndefined();
  return result.data!.importImage as {
    __typename: string;
    job?: null;
    preview?: Record<string, unknown>;
    code?: string;
    field?: string;
    message?: string;
  };
}

describe('importImage(dryRun: true)', () => {
  it('previews a single image into a stream that does not exist yet, writing nothing', async () => {
    const before = await rowCounts(app);
    const payload = await dryRun(editor, {
      image: 'app:1.0',
      from: `${registryHost}/${repo}/app:1.0`,
      confirm: true,
    });
    expect(payload.__typename, JSON.stringify(payload)).toBe('ImportImagePayload');
    expect(payload.job).toBeNull();
    expect(payload.preview).toMatchObject({
      namespace: NS,
      stream: 'app',
      tag: '1.0',
      from: `${registryHost}/${repo}/app:1.0`,
      importMode: 'Legacy',
      sourceDigest: single.digest,
      digest: single.digest,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      dockerImageReference: `${registryHost}/${repo}/app@${single.digest}`,
      platforms: [],
      os: 'linux',
      architecture: 'amd64',
      created: '2026-03-01T10:00:00.000Z',
      author: 'builder',
      layerCount: 1,
      labelCount: 3,
      config: { cmd: ['/bin/app'], user: '1001' },
      currentDigest: null,
      changed: true,
    });
    expect(await rowCounts(app)).toEqual(before);
  });

  it('previews a manifest list with its platforms, and says when the tag has the image already', async () => {
    await importAsEditor(app, NS, {
      image: 'multi:latest',
      from: `${registryHost}/${repo}/multi:latest`,
      confirm: true,
      insecure: true,
    });
    const before = await rowCounts(app);
    expect(before.tag_history).toBeGreaterThan(0);
    // Without from: the spec tag's own source, as a re-import would read it.
    const legacy = await dryRun(editor, { image: 'multi:latest' });
    expect(legacy.preview).toMatchObject({
      sourceDigest: index.digest,
      digest: index.children[0]!.digest,
      platforms: [
        { digest: index.children[0]!.digest, os: 'linux', architecture: 'amd64', variant: null },
        { digest: index.children[1]!.digest, os: 'linux', architecture: 'arm64', variant: 'v8' },
      ],
      currentDigest: index.children[0]!.digest,
      changed: false,
    });
    const preserved = await dryRun(editor, {
      image: 'multi:latest',
      importMode: 'PreserveOriginal',
    });
    expect(preserved.preview).toMatchObject({
      importMode: 'PreserveOriginal',
      digest: index.digest,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      changed: true,
    });
    expect((preserved.preview!.platforms as unknown[]).length).toBe(2);
    expect(await rowCounts(app)).toEqual(before);
  });

  it('refuses what the import would refuse, and callers who may not import, writing nothing', async () => {
    const before = await rowCounts(app);
    const missing = await dryRun(editor, {
      image: 'nothing:1',
      from: `${registryHost}/${repo}/app:1.0`,
    });
    expect(missing).toMatchObject({ code: 'NOT_FOUND', field: 'image' });
    const all = await dryRun(editor, {
      image: 'app',
      from: `${registryHost}/${repo}/app`,
      all: true,
      confirm: true,
    });
    expect(all).toMatchObject({ code: 'VALIDATION' });
    const gone = await dryRun(editor, {
      image: 'app:2.0',
      from: `${registryHost}/${repo}/app:2.0`,
      confirm: true,
    });
    expect(gone).toMatchObject({ code: 'NOT_FOUND', field: 'from' });
    // An image puller may read the namespace but not import into it: refused before any read.
    const forbidden = await puller.graphql(DRY_RUN, {
      input: {
        namespace: NS,
        image: 'app:1.0',
        from: `${registryHost}/${repo}/app:1.0`,
        confirm: true,
        dryRun: true,
      },
    });
    expect(forbidden.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(await rowCounts(app)).toEqual(before);
  });

  it('tagraph import-image --dry-run prints the preview and imports nothing', async () => {
    const before = await rowCounts(app);
    const result = await runCli(
      [
        '-n',
        NS,
        'import-image',
        'app:1.0',
        `--from=${registryHost}/${repo}/app:1.0`,
        '--confirm',
        '--insecure',
        '--dry-run',
      ],
      { url: app.url, token: editorToken },
    );
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(
      'imagestream.image.openshift.io/app (dry run: nothing imported)\n',
    );
    expect(result.stdout).toMatch(new RegExp(`Digest:\\s+${single.digest}\\n`));
    expect(result.stdout).toMatch(/Platform:\s+linux\/amd64\n/);
    expect(result.stdout).toMatch(/Labels:\s+3\n/);
    expect(result.stdout).toMatch(/Would Change:\s+yes/);
    expect(await rowCounts(app)).toEqual(before);
  }, 60_000);
});
