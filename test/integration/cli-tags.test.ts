// The tagraph CLI against a real server and registry: the documented permanent and tracking tags,
// oc delete istag, rollback, oc get and export isimage, cross-project tags and oc set image-lookup.
import { beforeAll, describe, inject, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.ts';
import { afterCliTests, namespacedCli, ok } from '../support/cli.ts';
import { imageSize, pushImage } from '../support/images.ts';
import { drainImports } from '../support/imports.ts';

const registryUrl = inject('registryUrl');
const registry = new URL(registryUrl).host;
/** Repositories of this run, so reruns against one registry do not meet old images. */
const repo = `cli-tags-${process.pid}-${Date.now().toString(36)}`;

let app: TestApp;
/** The CLI's user: an editor of the namespaces these tests write. */
let editor: string;

beforeAll(async () => {
  app = await startTestApp();
  editor = await app.member(['rubies', 'dest-project', 'myproject', 'source-project'], 'EDITOR');
});

afterCliTests(() => app.stop());

/** `tagraph -n <namespace> <args>` against the test server. */
const cli = namespacedCli(() => ({ url: app.url, token: editor }));

describe.concurrent('seed examples', () => {
  it('permanent and tracking tags, delete istag, rollback, isimage', async ({ expect }) => {
    const ns = 'rubies';
    const v1 = await pushImage(registryUrl, `${repo}/ruby`, '2.0', { content: 'ruby 2.0 one' });
    const source = `${registry}/${repo}/ruby:2.0`;
    expect(await cli(ns, ['tag', source, 'ruby:2.0', '--insecure=true'])).toEqual(
      ok(`Tag ruby:2.0 set to ${source}.\n`),
    );
    await drainImports(app);
    const [permanent, tracking] = await Promise.all([
      cli(ns, ['tag', 'ruby:2.0', 'ruby:static-2.0']),
      cli(ns, ['tag', '--alias=true', 'ruby:2.0', 'ruby:latest', 'ruby:stable']),
    ]);
    expect(permanent).toEqual(ok(`Tag ruby:static-2.0 set to ruby@${v1.digest}.\n`));
    expect(tracking).toEqual(
      ok('Tag ruby:latest set up to track ruby:2.0.\nTag ruby:stable set up to track ruby:2.0.\n'),
    );

    // A new image under the source: the tracking tags follow, the permanent one stays.
    const v2 = await pushImage(registryUrl, `${repo}/ruby`, '2.0', { content: 'ruby 2.0 two' });
    const reimport = await app
      .as(editor)
      .graphql(
        `mutation($ns: String!) { importImage(input: { namespace: $ns, image: "ruby:2.0" }) { __typename } }`,
        { ns },
      );
    expect(reimport.errors).toBeUndefined();
    await drainImports(app);
    const digests = [
      'get',
      'istag',
      'ruby:2.0',
      'ruby:static-2.0',
      'ruby:latest',
      'ruby:stable',
      '-o',
      'jsonpath={range .items[*]}{.metadata.name} {.image.metadata.name}{"\\n"}{end}',
    ];
    expect(await cli(ns, digests)).toEqual(
      ok(
        `ruby:2.0 ${v2.digest}\nruby:static-2.0 ${v1.digest}\n` +
          `ruby:latest ${v2.digest}\nruby:stable ${v2.digest}\n`,
      ),
    );

    // oc delete istag/ruby:latest, or oc tag -d.
    const [deleted, untagged] = await Promise.all([
      cli(ns, ['delete', 'istag/ruby:latest']),
      cli(ns, ['tag', '-d', 'ruby:stable']),
    ]);
    expect(deleted).toEqual(ok('imagestreamtag.image.openshift.io "ruby:latest" deleted\n'));
    expect(untagged).toEqual(ok(`Deleted tag ${ns}/ruby:stable.\n`));

    // Rollback by index, by generation, by a short digest: each pushes a new history item.
    const short = v2.digest.slice('sha256:'.length, 'sha256:'.length + 7);
    expect(await cli(ns, ['rollback', 'ruby:2.0', '--to=1'])).toEqual(
      ok(`Tag ruby:2.0 rolled back to ${v1.digest}.\n`),
    );
    expect(await cli(ns, ['rollback', 'ruby:2.0', `--to=${short}`])).toEqual(
      ok(`Tag ruby:2.0 rolled back to ${v2.digest}.\n`),
    );
    const history = await cli(ns, [
      'get',
      'is',
      'ruby',
      '-o',
      'jsonpath={range .status.tags[0].items[*]}{.image} {.generation}{"\\n"}{end}',
    ]);
    const generations = history.stdout
      .trim()
      .split('\n')
      .map((line) => line.split(' '));
    expect(generations.map(([digest]) => digest)).toEqual([
      v2.digest,
      v1.digest,
      v2.digest,
      v1.digest,
    ]);
    // Each rollback pinned the spec, so its item has a generation of its own.
    const rolledBackTo1 = generations[1]![1];
    expect(await cli(ns, ['rollback', 'ruby:2.0', `--to=generation:${rolledBackTo1}`])).toEqual(
      ok(`Tag ruby:2.0 rolled back to ${v1.digest}.\n`),
    );
    const missing = await cli(ns, ['rollback', 'ruby:2.0', '--to=9']);
    expect(missing).toEqual({
      code: 1,
      stdout: '',
      stderr: 'error: history has 5 item(s); there is no item 9\n',
    });

    // oc export isimage ruby@<id>: the image as the stream knows it.
    const shortV1 = v1.digest.slice(7, 14);
    const exported = await cli(ns, ['get', 'isimage', `ruby@${shortV1}`, '-o', 'yaml']);
    expect(exported).toEqual(
      ok(`apiVersion: image.openshift.io/v1
image:
  dockerImageLayers:
    - mediaType: application/vnd.oci.image.layer.v1.tar+gzip
      name: ${v1.layers[0]!.digest}
      size: ${v1.layers[0]!.size}
  dockerImageManifestMediaType: application/vnd.oci.image.manifest.v1+json
  dockerImageMetadata:
    Architecture: amd64
    Config: {}
    Created: "2024-01-01T00:00:00Z"
    Size: ${imageSize(v1)}
    apiVersion: "1.0"
    kind: DockerImage
  dockerImageMetadataVersion: "1.0"
  dockerImageReference: ${registry}/${repo}/ruby@${v1.digest}
  metadata:
    name: ${v1.digest}
kind: ImageStreamImage
metadata:
  name: ruby@${shortV1}
  namespace: ${ns}
`),
    );

    // oc get isimage: every image the stream's histories name, once each, by digest.
    const listed = await cli(ns, ['get', 'isimage']);
    expect(listed.code, listed.stderr).toBe(0);
    const [header, ...rows] = listed.stdout.trimEnd().split('\n');
    expect(header).toMatch(/^NAME\s+IMAGE REFERENCE\s+CREATED$/);
    expect(rows.map((row) => row.split(/\s+/)[0])).toEqual(
      [v1.digest, v2.digest].sort().map((digest) => `ruby@${digest}`),
    );
    // About twenty CLI runs, each a Node start: slow on a loaded machine, beside the others.
  }, 90_000);

  it('a tag from another project (oc tag <source_project>/<stream>:<tag> …)', async ({
    expect,
  }) => {
    const image = await pushImage(registryUrl, `${repo}/shared/base`, '1', { content: 'base' });
    const source = `${registry}/${repo}/shared/base:1`;
    expect(await cli('source-project', ['tag', source, 'base:1', '--insecure'])).toEqual(
      ok(`Tag base:1 set to ${source}.\n`),
    );
    await drainImports(app);
    expect(await cli('dest-project', ['tag', 'source-project/base:1', 'my-base:1'])).toEqual(
      ok(`Tag my-base:1 set to source-project/base@${image.digest}.\n`),
    );
    // A tracking tag may not cross streams: the server's message, exit 1.
    const alias = await cli('dest-project', ['tag', '--alias', 'source-project/base:1', 'x:1']);
    expect(alias.code).toBe(1);
    expect(alias.stderr).toMatch(/^error: .*track/);
  });

  it('oc set image-lookup (lookupPolicy.local)', async ({ expect }) => {
    const ns = 'myproject';
    expect(await cli(ns, ['tag', '--reference', 'quay.io/library/mysql:8', 'mysql:8'])).toEqual(
      ok('Tag mysql:8 set to quay.io/library/mysql:8.\n'),
    );
    expect(await cli(ns, ['set', 'image-lookup', 'mysql'])).toEqual(
      ok('imagestream.image.openshift.io/mysql image lookup updated\n'),
    );
    expect(await cli(ns, ['set', 'image-lookup'])).toEqual(ok('NAME      LOCAL\nmysql     true\n'));
    expect(await cli(ns, ['set', 'image-lookup', 'deploy/mysql', '--enabled=false'])).toEqual({
      code: 1,
      stdout: '',
      stderr:
        'error: tagraph sets image lookup on image streams only, not deploy/mysql: the server holds no workloads\n',
    });
    expect(await cli(ns, ['set', 'image-lookup', 'is/mysql', '--enabled=false'])).toEqual(
      ok('imagestream.image.openshift.io/mysql image lookup updated\n'),
    );
    expect(
      await cli(ns, ['get', 'is', 'mysql', '-o', 'jsonpath={.spec.lookupPolicy.local}']),
    ).toEqual(ok('false'));
    const missing = await cli(ns, ['set', 'image-lookup', 'nope']);
    expect(missing).toEqual({
      code: 1,
      stdout: '',
      stderr: `error: image stream ${ns}/nope not found\n`,
    });
  });
});
