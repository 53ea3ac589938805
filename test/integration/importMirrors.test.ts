// Imports through mirrors (ImageTagMirrorSet for tags, ImageDigestMirrorSet for digests), with
// real docker-registry processes as sources and mirrors. The rules: docs/importer.md#mirrors.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MirrorConfig, parseMirrorConfig } from '../../src/domain/mirrors.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { pushImage } from '../support/images.ts';
import { drainImports, getTag, importFrom, makeDue } from '../support/imports.ts';
import { authDocument, createPullSecret } from '../support/pullSecrets.ts';
import { type RunningRegistry, startRegistry } from '../support/registry.ts';

const USER = 'puller';
const PASSWORD = 'one password for both registries';
const auth = { auth: { user: USER, password: PASSWORD } };

let source: RunningRegistry;
let mirror: RunningRegistry;
let privateSource: RunningRegistry;
let privateMirror: RunningRegistry;
/** The app's mirror rules: filled once the registries' ports are known. */
const mirrors: MirrorConfig = { digest: [], tag: [] };
let app: TestApp;
/** The digest of the source's own team/app:v1 (the mirror holds another image there). */
let sourceV1: string;
let editor: TestApp;

beforeAll(async () => {
  [source, mirror, privateSource, privateMirror] = await Promise.all([
    startRegistry(),
    startRegistry(),
    startRegistry({ htpasswd: { user: USER, password: PASSWORD } }),
    startRegistry({ htpasswd: { user: USER, password: PASSWORD } }),
  ]);
  // The file format administrators write: OpenShift's objects, or the bare lists.
  const parsed = parseMirrorConfig(`
kind: ImageTagMirrorSet
spec:
  imageTagMirrors:
  - source: ${source.host}/team
    mirrors: [${mirror.host}/copies]
  - source: ${privateSource.host}/team
    mirrors: [${privateMirror.host}/team]
---
imageDigestMirrors:
- source: ${source.host}/digests
  mirrors: [${mirror.host}/digests]
- source: ${source.host}/only-mirror
  mirrors: [${mirror.host}/only-mirror]
  mirrorSourcePolicy: NeverContactSource
`);
  mirrors.tag = parsed.tag;
  mirrors.digest = parsed.digest;
  app = await startTestApp({ importMirrors: mirrors });
  editor = app.as(await app.member(['mir', 'mir-priv', 'mir-priv2'], 'EDITOR'));
});
afterAll(async () => {
  await app.stop();
  await Promise.all([source, mirror, privateSource, privateMirror].map((r) => r.stop()));
});

const createSecret = (namespace: string, name: string, host: string) =>
  createPullSecret(editor, namespace, name, authDocument(host, USER, PASSWORD));

describe('mirror files', () => {
  it('refuses entries that are not host[/path], and unknown source policies', () => {
    expect(() =>
      parseMirrorConfig('imageTagMirrors: [{source: "quay.io/x:v1", mirrors: ["m.local/x"]}]'),
    ).toThrow(/imageTagMirrors.0.source: must be host\[:port\]\[\/repository path\]/);
    expect(() =>
      parseMirrorConfig(
        'imageDigestMirrors: [{source: quay.io/x, mirrors: [m.local/x], mirrorSourcePolicy: Sometimes}]',
      ),
    ).toThrow(/mirrorSourcePolicy/);
  });
});

describe('imports through mirrors', () => {
  it('a tag import reads the ITMS mirror first, recording the source reference', async () => {
    sourceV1 = (await pushImage(source.url, 'team/app', 'v1', { content: 'from the source' }))
      .digest;
    const copy = await pushImage(mirror.url, 'copies/app', 'v1', { content: 'from the mirror' });
    const job = await importFrom(editor, 'mir', 'app:v1', `${source.host}/team/app:v1`);
    expect(job.images).toMatchObject([{ status: 'Success', digest: copy.digest }]);
    expect(job.images[0]!.dockerImageReference).toBe(`${source.host}/team/app@${copy.digest}`);
  });

  it('falls back to the source when the mirror lacks the tag or cannot be reached', async () => {
    const original = await pushImage(source.url, 'team/app', 'v2', { content: 'only at source' });
    const job = await importFrom(editor, 'mir', 'app:v2', `${source.host}/team/app:v2`);
    expect(job.images).toMatchObject([{ status: 'Success', digest: original.digest }]);

    await mirror.pause();
    try {
      const again = await importFrom(editor, 'mir', 'app:v1b', `${source.host}/team/app:v1`);
      // The source's own v1, not the mirror's copy.
      expect(again.images).toMatchObject([{ status: 'Success', digest: sourceV1 }]);
    } finally {
      await mirror.resume();
    }
  });

  it('digest rules (IDMS) serve digest pulls only; NeverContactSource never reads the source', async () => {
    const atMirror = await pushImage(mirror.url, 'digests/base', 'm', { content: 'digest mirror' });
    const atSource = await pushImage(source.url, 'digests/base', 'v1', { content: 'digest src' });
    // By digest: only the mirror has it, and the digest rule sends the read there.
    const byDigest = await importFrom(
      editor,
      'mir',
      'base:pinned',
      `${source.host}/digests/base@${atMirror.digest}`,
    );
    expect(byDigest.images).toMatchObject([{ status: 'Success', digest: atMirror.digest }]);
    // By tag: no tag rule covers the repository, so the source answers.
    const byTag = await importFrom(editor, 'mir', 'base:v1', `${source.host}/digests/base:v1`);
    expect(byTag.images).toMatchObject([{ status: 'Success', digest: atSource.digest }]);

    const hidden = await pushImage(source.url, 'only-mirror/app', 'v1', { content: 'hidden' });
    const never = await importFrom(
      editor,
      'mir',
      'hidden:v1',
      `${source.host}/only-mirror/app@${hidden.digest}`,
    );
    expect(never.images).toMatchObject([{ status: 'Failure', reason: 'NotFound' }]);
    expect(never.images[0]!.message).toContain(mirror.host);
  });

  it("the source's pull secret is never sent to the mirror; the mirror's own secret is", async () => {
    // Both registries take the same account, and hold different images under one tag: an
    // import that reads the mirror's image got there with credentials.
    const original = await pushImage(
      privateSource.url,
      'team/app',
      'v1',
      { content: 'private source' },
      auth,
    );
    const copy = await pushImage(
      privateMirror.url,
      'team/app',
      'v1',
      { content: 'private mirror' },
      auth,
    );
    /** The private source's app:v1, imported into `namespace` (whose secrets differ). */
    const importPrivate = (namespace: string) =>
      importFrom(editor, namespace, 'app:v1', `${privateSource.host}/team/app:v1`);
    await createSecret('mir-priv', 'source', privateSource.host);
    const sourceOnly = await importPrivate('mir-priv');
    expect(sourceOnly.images).toMatchObject([{ status: 'Success', digest: original.digest }]);

    await createSecret('mir-priv2', 'source', privateSource.host);
    await createSecret('mir-priv2', 'mirror', privateMirror.host);
    const both = await importPrivate('mir-priv2');
    expect(both.images).toMatchObject([{ status: 'Success', digest: copy.digest }]);
    expect(both.images[0]!.dockerImageReference).toBe(
      `${privateSource.host}/team/app@${copy.digest}`,
    );
  });

  it('a scheduled check HEADs the mirror first', async () => {
    const first = await pushImage(mirror.url, 'copies/watched', 'v1', { content: 'watched 1' });
    await pushImage(source.url, 'team/watched', 'v1', { content: 'watched at source' });
    await importFrom(editor, 'mir', 'watched:v1', `${source.host}/team/watched:v1`, {
      scheduled: true,
    });
    expect((await getTag(editor, 'mir', 'watched:v1')).image!.digest).toBe(first.digest);
    await makeDue(app, 'mir', 'watched');
    expect(await app.importer.scheduler.runOnce()).toEqual({ checked: 1, queued: 0 });
    const second = await pushImage(mirror.url, 'copies/watched', 'v1', { content: 'watched 2' });
    await makeDue(app, 'mir', 'watched');
    expect(await app.importer.scheduler.runOnce()).toEqual({ checked: 1, queued: 1 });
    await drainImports(app);
    expect((await getTag(editor, 'mir', 'watched:v1')).image!.digest).toBe(second.digest);
  });
});
