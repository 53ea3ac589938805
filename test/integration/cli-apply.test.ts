// `tagraph apply -f` and `get is -o yaml` against a real server: the documented ImageStream
// definitions load as they are and export back; a manifest round-trips; spec tag annotations
// (the setTagAnnotations mutation apply adds) reach the importer.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { parse } from 'yaml';
import { startTestApp, type TestApp } from '../support/app.ts';
import { afterCliTests, type CliOptions, cliScratch, ok, runCli } from '../support/cli.ts';
import { BILLION_LAUGHS } from '../support/cliTexts.ts';
import { pushImage, pushIndex } from '../support/images.ts';
import { drainImports, getTag } from '../support/imports.ts';
import { pushMapping } from '../support/mapping.ts';
import * as seeds from '../support/seedManifests.ts';

const registryUrl = inject('registryUrl');
const registry = new URL(registryUrl).host;
const repo = `cli-apply-${process.pid}-${Date.now().toString(36)}`;

let app: TestApp;
/** The CLI's user: an editor of the namespaces these tests write. */
let editor: string;
const scratch = cliScratch('cli-apply');

beforeAll(async () => {
  app = await startTestApp();
  editor = await app.member(
    [
      ...['roundtrip', 'prefer-arch', 'seed-scheduled', 'seed-insecure', 'seed-mytag'],
      ...['seed-catalog', 'seed-my-ruby', 'hostile', 'elsewhere', 'myproject', 'bad-tags'],
      ...['json-out', 'test', 'demo-project', 'annotations', 'default', 'roundtrip-history'],
    ],
    'EDITOR',
  );
});

afterCliTests(() => app.stop());

const cli = (namespace: string | null, args: string[], options: CliOptions = {}) =>
  runCli([...(namespace ? ['-n', namespace] : []), ...args], {
    url: app.url,
    token: editor,
    ...options,
  });

let files = 0;
/** Writes a manifest to a file of its own (named `name` when given). */
function file(text: string, name = `manifest-${++files}.yaml`): string {
  const path = join(scratch, name);
  writeFileSync(path, text);
  return path;
}

/**
 * What changes from run to run in an exported stream: times (quoted RFC 3339 in whole seconds, as
 * kubectl prints them), resource versions and uids (UUIDs).
 */
function normalizeExport(yaml: string): string {
  return yaml
    .replace(
      /(creationTimestamp|created|lastTransitionTime|openshift\.io\/image\.dockerRepositoryCheck): "\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"/g,
      '$1: <time>',
    )
    .replace(/resourceVersion: "\d+"/g, 'resourceVersion: "<rv>"')
    .replace(
      /uid: [0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\n/g,
      'uid: <uid>\n',
    );
}

describe('apply then get round-trips', () => {
  it('tracking tags, pinned and annotated tags, labels and lookup policy', async () => {
    const ns = 'roundtrip';
    const image = await pushImage(registryUrl, `${repo}/app`, '1.0', { content: 'app 1.0' });
    const source = `${registry}/${repo}/app:1.0`;
    const pinned = `${registry}/${repo}/app@${image.digest}`;
    // `latest` comes before the tag it tracks, which comes before its own source.
    const manifest = `apiVersion: image.openshift.io/v1
kind: ImageStream
metadata:
  name: app
  labels:
    team: web
spec:
  lookupPolicy:
    local: true
  tags:
  - name: latest
    from:
      kind: ImageStreamTag
      name: stable
  - name: stable
    from:
      kind: ImageStreamTag
      name: app:1.0
  - name: '1.0'
    annotations:
      version: '1.0'
    from:
      kind: DockerImage
      name: ${source}
    importPolicy:
      insecure: true
    referencePolicy:
      type: Local
`;
    expect(await cli(ns, ['apply', '-f', file(manifest)])).toEqual(
      ok('imagestream.image.openshift.io/app created\n'),
    );
    await drainImports(app);
    const exported = await cli(ns, ['get', 'is', 'app', '-o', 'yaml']);
    expect(exported.code).toBe(0);
    const item = (generation: number) => `        - created: <time>
          dockerImageReference: ${pinned}
          generation: ${generation}
          image: ${image.digest}`;
    expect(normalizeExport(exported.stdout)).toBe(`apiVersion: image.openshift.io/v1
kind: ImageStream
metadata:
  annotations:
    openshift.io/image.dockerRepositoryCheck: <time>
  creationTimestamp: <time>
  generation: 4
  labels:
    team: web
  name: app
  namespace: ${ns}
  resourceVersion: "<rv>"
  uid: <uid>
spec:
  lookupPolicy:
    local: true
  tags:
    - annotations:
        version: "1.0"
      from:
        kind: DockerImage
        name: ${source}
      generation: 2
      importPolicy:
        importMode: Legacy
        insecure: true
      name: "1.0"
      referencePolicy:
        type: Local
    - from:
        kind: ImageStreamTag
        name: stable
      generation: 4
      importPolicy:
        importMode: Legacy
      name: latest
      referencePolicy:
        type: Source
    - from:
        kind: ImageStreamTag
        name: "1.0"
      generation: 3
      importPolicy:
        importMode: Legacy
      name: stable
      referencePolicy:
        type: Source
status:
  dockerImageRepository: registry.test:5000/${ns}/app
  tags:
    - items:
${item(2)}
      tag: "1.0"
    - items:
${item(4)}
      tag: latest
    - items:
${item(3)}
      tag: stable
`);

    // The export, and the manifest again, change nothing.
    const [again, original] = await Promise.all([
      cli(ns, ['apply', '-f', file(exported.stdout)]),
      cli(ns, ['apply', '-f', file(manifest)]),
    ]);
    expect(again).toEqual(ok('imagestream.image.openshift.io/app unchanged\n'));
    expect(original).toEqual(ok('imagestream.image.openshift.io/app unchanged\n'));

    // An edited export: another label, an annotation on a tag, lookup off; read from stdin.
    const edited = exported.stdout
      .replace('    team: web\n', '    team: web\n    tier: backend\n')
      .replace('    local: true', '    local: false')
      .replace(
        '    - from:\n        kind: ImageStreamTag\n        name: stable\n',
        '    - annotations:\n        description: follows stable\n      from:\n        kind: ImageStreamTag\n        name: stable\n',
      );
    expect(await cli(ns, ['apply', '-f', '-'], { stdin: edited })).toEqual(
      ok('imagestream.image.openshift.io/app configured\n'),
    );
    const after = parse((await cli(ns, ['get', 'is', 'app', '-o', 'yaml'])).stdout);
    expect(after.metadata.labels).toEqual({ team: 'web', tier: 'backend' });
    expect(after.spec.lookupPolicy).toEqual({ local: false });
    expect(after.spec.tags[1]).toMatchObject({
      name: 'latest',
      annotations: { description: 'follows stable' },
      generation: 4,
    });
    expect(await cli(ns, ['apply', '-f', '-'], { stdin: edited })).toEqual(
      ok('imagestream.image.openshift.io/app unchanged\n'),
    );
  });

  it('a tag annotation that steers a Legacy import is in place for the import', async () => {
    const ns = 'prefer-arch';
    const index = await pushIndex(
      registryUrl,
      `${repo}/multi`,
      'latest',
      ['amd64', 'arm64', 'ppc64le'].map((architecture) => ({
        platform: { os: 'linux', architecture },
        spec: { content: `multi ${architecture}` },
      })),
    );
    const child = (arch: string) =>
      index.children[['amd64', 'arm64', 'ppc64le'].indexOf(arch)]!.digest;
    const manifest = (arch: string) => `apiVersion: v1
kind: ImageStream
metadata:
  name: multi
spec:
  tags:
  - name: latest
    annotations:
      importer.image.openshift.io/prefer-arch: ${arch}
    from:
      kind: DockerImage
      name: ${registry}/${repo}/multi:latest
    importPolicy:
      insecure: true
`;
    expect(await cli(ns, ['apply', '-f', file(manifest('arm64'))])).toEqual(
      ok('imagestream.image.openshift.io/multi created\n'),
    );
    await drainImports(app);
    expect((await getTag(app.as(editor), ns, 'multi:latest')).image?.digest).toBe(child('arm64'));
    // Only the annotation changes: setTagAnnotations queues the import again.
    expect(await cli(ns, ['apply', '-f', file(manifest('ppc64le'))])).toEqual(
      ok('imagestream.image.openshift.io/multi configured\n'),
    );
    await drainImports(app);
    const tag = await getTag(app.as(editor), ns, 'multi:latest');
    expect(tag.image?.digest).toBe(child('ppc64le'));
    expect(tag.history.nodes.map((n) => n.image?.digest)).toEqual([
      child('ppc64le'),
      child('arm64'),
    ]);
  });
});

describe('the documented ImageStream definitions', () => {
  // No import of these runs: the test server has no worker and nothing here drains the queue,
  // so docker.io and my.repo.com are never asked.
  it('apply as they are, export back, and apply again unchanged', async () => {
    const [sample, streams, scheduled, insecure, mytag, catalog, myRuby, synced] =
      await Promise.all([
        cli(null, ['apply', '-f', file(seeds.ORIGIN_RUBY_SAMPLE)]),
        cli(null, ['apply', '-f', file(seeds.MY_IMAGE_STREAM), '-f', file(seeds.MYSQL)]),
        cli('seed-scheduled', ['apply', '-f', file(seeds.RUBY_SCHEDULED)]),
        cli('seed-insecure', ['apply', '-f', file(seeds.RUBY_INSECURE_REPOSITORY)]),
        cli('seed-mytag', ['apply', '-f', file(seeds.RUBY_MYTAG, 'ruby-mytag.yaml')]),
        cli('seed-catalog', ['create', '-f', file(seeds.RUBY_CATALOG)]),
        cli('seed-my-ruby', ['create', '-f', file(seeds.MY_RUBY)]),
        cli(null, ['apply', '-f', file(seeds.MY_RUBY_SYNCED)]),
      ]);
    const created = (name: string) => `imagestream.image.openshift.io/${name} created\n`;
    expect(sample).toEqual(ok(created('origin-ruby-sample')));
    expect(streams).toEqual(ok(created('my-image-stream') + created('mysql')));
    expect(scheduled).toEqual(ok(created('ruby')));
    expect(insecure).toMatchObject({ code: 0, stdout: created('ruby') });
    expect(insecure.stderr).toMatch(
      /^imagestream\.image\.openshift\.io\/ruby: importing the tags of my\.repo\.com:5000\/myimage \(job \d+\)\n$/,
    );
    expect(mytag).toEqual({
      code: 0,
      stdout: created('ruby'),
      stderr: `warning: ${join(scratch, 'ruby-mytag.yaml')}: "tags" belongs under "spec"; read as spec.tags\n`,
    });
    expect(catalog).toEqual(ok(created('ruby')));
    expect(myRuby.stdout).toBe(created('my-ruby'));
    expect(myRuby.stderr).toMatch(/importing the tags of docker\.io\/openshift\/ruby-20-centos7/);
    expect(synced).toEqual(ok(created('my-ruby')));

    const exported = await cli('seed-catalog', ['get', 'is', 'ruby', '-o', 'yaml']);
    expect(normalizeExport(exported.stdout)).toBe(`apiVersion: image.openshift.io/v1
kind: ImageStream
metadata:
  annotations:
    openshift.io/display-name: Ruby
  creationTimestamp: <time>
  generation: 2
  name: ruby
  namespace: seed-catalog
  resourceVersion: "<rv>"
  uid: <uid>
spec:
  lookupPolicy:
    local: false
  tags:
    - annotations:
        description: ${seeds.RUBY_CATALOG_DESCRIPTION}
        iconClass: icon-ruby
        openshift.io/display-name: Ruby 2.0
        sampleRepo: https://github.com/sclorg/ruby-ex.git
        supports: ruby
        tags: builder,ruby
        version: "2.0"
      from:
        kind: DockerImage
        name: docker.io/openshift/ruby-20-centos7:latest
      generation: 2
      importPolicy:
        importMode: Legacy
      name: "2.0"
      referencePolicy:
        type: Source
status:
  dockerImageRepository: registry.test:5000/seed-catalog/ruby
`);

    // Each one's metadata and spec, as get -o json prints them.
    const get = async (ns: string, name: string) => {
      const result = await cli(ns, ['get', 'is', name, '-o', 'json']);
      const { metadata, spec } = JSON.parse(result.stdout);
      return { labels: metadata.labels, annotations: metadata.annotations, spec };
    };
    const tag = (name: string, from: string, importPolicy: object, extra: object = {}) => ({
      from: { kind: 'DockerImage', name: from },
      generation: 2,
      importPolicy: { importMode: 'Legacy', ...importPolicy },
      name,
      referencePolicy: { type: 'Source' },
      ...extra,
    });
    const views = await Promise.all([
      get('test', 'origin-ruby-sample'),
      get('default', 'my-image-stream'),
      get('myproject', 'mysql'),
      get('seed-scheduled', 'ruby'),
      get('seed-insecure', 'ruby'),
      get('seed-mytag', 'ruby'),
      get('demo-project', 'my-ruby'),
    ]);
    expect(views).toEqual([
      {
        labels: { app: 'ruby-sample-build', template: 'application-template-stibuild' },
        annotations: { 'openshift.io/generated-by': 'OpenShiftNewApp' },
        spec: { lookupPolicy: { local: false } },
      },
      { spec: { lookupPolicy: { local: false } } },
      {
        annotations: { 'openshift.io/display-name': 'mysql' },
        spec: { lookupPolicy: { local: true } },
      },
      {
        spec: {
          lookupPolicy: { local: false },
          tags: [tag('latest', 'openshift/ruby-20-centos7', { scheduled: true })],
        },
      },
      {
        annotations: { 'openshift.io/image.insecureRepository': 'true' },
        spec: { dockerImageRepository: 'my.repo.com:5000/myimage', lookupPolicy: { local: false } },
      },
      {
        spec: {
          lookupPolicy: { local: false },
          tags: [
            tag(
              'mytag',
              'my.repo.com:5000/myimage',
              { insecure: true },
              {
                referencePolicy: { type: 'Local' },
              },
            ),
          ],
        },
      },
      {
        annotations: { 'openshift.io/image.dockerRepositoryCheck': '2016-05-06T21:34:48Z' },
        spec: {
          dockerImageRepository: 'docker.io/openshift/ruby-20-centos7',
          lookupPolicy: { local: false },
          tags: [tag('latest', 'docker.io/openshift/ruby-20-centos7:latest', {})],
        },
      },
    ]);

    // Applying the examples again changes nothing.
    const again = await Promise.all([
      cli(null, ['apply', '-f', file(seeds.ORIGIN_RUBY_SAMPLE), '-f', file(seeds.MYSQL)]),
      cli('seed-catalog', ['apply', '-f', file(seeds.RUBY_CATALOG), '-f', file(exported.stdout)]),
      cli(null, ['apply', '-f', file(seeds.MY_RUBY_SYNCED)]),
    ]);
    expect(again).toEqual([
      ok(
        'imagestream.image.openshift.io/origin-ruby-sample unchanged\n' +
          'imagestream.image.openshift.io/mysql unchanged\n',
      ),
      ok(
        'imagestream.image.openshift.io/ruby unchanged\nimagestream.image.openshift.io/ruby unchanged\n',
      ),
      ok('imagestream.image.openshift.io/my-ruby unchanged\n'),
    ]);
    // Thirteen CLI processes, each a Node start: on a loaded machine that is the slow part.
  }, 120_000);

  it('reads back its own export unchanged after rollbacks and policy changes', async () => {
    const ns = 'roundtrip-history';
    const registry = app.as(await app.registry());
    await pushMapping(registry, ns, 'app', 'v1', 'roundtrip-history-1');
    const second = await pushMapping(registry, ns, 'app', 'v1', 'roundtrip-history-2');
    const steps = [
      ['tag', 'app:v1', 'app:stable'],
      ['tag', 'quay.io/x/app:1.0', 'app:pinned', '--reference'],
      ['rollback', 'app:v1', '--to', '1'],
      ['rollback', 'app:v1', '--to', '2'],
      ['tag', 'quay.io/x/app', 'app:best', '--policy=semver:^1.2'],
      ['tag', 'quay.io/x/app', 'app:best', '--policy=pattern:^v(\\d+)$', '--order=numerical-asc'],
    ];
    for (const step of steps) {
      const result = await cli(ns, step);
      expect(result.code, `${step.join(' ')}: ${result.stderr}`).toBe(0);
    }
    const exported = await cli(ns, ['get', 'is', 'app', '-o', 'yaml']);
    expect(exported.code).toBe(0);
    const reapplied = await cli(ns, ['apply', '-f', file(exported.stdout)]);
    expect(reapplied).toEqual(ok('imagestream.image.openshift.io/app unchanged\n'));
    // And once more from the stream as it is now: nothing drifts.
    const again = await cli(ns, ['get', 'is', 'app', '-o', 'yaml']);
    expect(normalizeExport(again.stdout)).toBe(normalizeExport(exported.stdout));
    expect(again.stdout).toContain(second.digest);
  }, 120_000);

  it('refuses oversized sources and YAML bombs quickly, in bounded memory, creating nothing', async () => {
    const big = `apiVersion: v1\nkind: ImageStream\nmetadata: {name: big}\n# ${'x'.repeat(1024 * 1024)}\n`;
    // A heap far below what parsing the oversized text would take: refusing must not need it.
    const bounded = { env: { NODE_OPTIONS: '--max-old-space-size=64' } };
    const [bomb, oversized, piped, endless] = await Promise.all([
      cli('hostile', ['apply', '-f', file(BILLION_LAUGHS, 'laughs.yaml')], bounded),
      cli('hostile', ['apply', '-f', file(big, 'big.yaml')], bounded),
      cli('hostile', ['apply', '-f', '-'], { ...bounded, stdin: big }),
      cli('hostile', ['apply', '-f', '/dev/zero'], bounded),
    ]);
    expect(bomb).toEqual({
      code: 1,
      stdout: '',
      stderr: `error: ${join(scratch, 'laughs.yaml')}: its aliases expand more than 100 times (a YAML bomb?); write the values out instead\n`,
    });
    const limit = 'is over the limit of 1 MiB for one manifest source; split it into several files';
    expect(oversized).toEqual({
      code: 1,
      stdout: '',
      stderr: `error: ${join(scratch, 'big.yaml')} ${limit}\n`,
    });
    expect(piped).toEqual({ code: 1, stdout: '', stderr: `error: stdin ${limit}\n` });
    expect(endless).toEqual({ code: 1, stdout: '', stderr: `error: /dev/zero ${limit}\n` });
    const streams = await app
      .as(editor)
      .graphql<{ imageStreams: { nodes: unknown[] } }>(
        `{ imageStreams(namespace: "hostile") { nodes { name } } }`,
      );
    expect(streams.data!.imageStreams.nodes).toEqual([]);
  });

  it('refuses what it cannot apply, and says which object and field', async () => {
    const bad = `apiVersion: v1
kind: ImageStream
metadata:
  name: bad
spec:
  tags:
  - name: ok
    from: {kind: DockerImage, name: quay.io/x/ok:1}
    reference: true
  - name: broken
    from: {kind: DockerImage, name: "Not A Pull Spec!"}
---
apiVersion: v1
kind: ImageStream
metadata:
  name: good
spec:
  tags:
  - name: one
    from: {kind: DockerImage, name: quay.io/x/good:1}
    reference: true
`;
    const [mapping, mismatch, exists, partial, json] = await Promise.all([
      cli(null, ['apply', '-f', file(seeds.IMAGE_STREAM_MAPPING, 'mapping.yaml')]),
      cli('elsewhere', ['apply', '-f', file(seeds.ORIGIN_RUBY_SAMPLE)]),
      cli('myproject', ['create', '-f', file(seeds.MYSQL)]),
      cli('bad-tags', ['apply', '-f', file(bad)]),
      cli('json-out', [
        'apply',
        '-f',
        file(seeds.MYSQL.replace('namespace: myproject', 'namespace: json-out')),
        '-o',
        'json',
      ]),
    ]);
    expect(mapping).toEqual({
      code: 1,
      stdout: '',
      stderr: `error: ${join(scratch, 'mapping.yaml')}: kind: tagraph applies ImageStream objects only, not ImageStreamMapping\n`,
    });
    expect(mismatch).toEqual({
      code: 1,
      stdout: '',
      stderr:
        'error: the namespace from the provided object "test" does not match the namespace "elsewhere". You must pass \'--namespace=test\' to perform this operation.\n',
    });
    expect(exists).toEqual({
      code: 1,
      stdout: '',
      stderr:
        'Error from server (AlreadyExists): imagestreams.image.openshift.io "mysql" already exists\n',
    });
    // All or nothing per object, as oc validates the whole object: one bad tag leaves nothing of
    // its stream (not even the good tag), and the next object of the file still applies.
    expect(partial.code).toBe(1);
    expect(partial.stdout).toBe('imagestream.image.openshift.io/good created\n');
    expect(partial.stderr).toMatch(/^error: ImageStream bad tag broken: .+\n$/);
    expect((await cli('bad-tags', ['get', 'is', 'bad'])).stderr).toBe(
      'Error from server (NotFound): imagestreams.image.openshift.io "bad" not found\n',
    );
    const one = await cli('bad-tags', [
      'get',
      'istag',
      'good:one',
      '-o',
      'jsonpath={.tag.reference}',
    ]);
    expect(one).toEqual(ok('true'));
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({
      kind: 'ImageStream',
      metadata: { name: 'mysql', namespace: 'json-out' },
      spec: { lookupPolicy: { local: true } },
    });
  });
});

describe('setTagAnnotations (the server side of apply)', () => {
  const SET = `mutation($input: SetTagAnnotationsInput!) {
    setTagAnnotations(input: $input) {
      __typename
      ... on SetTagAnnotationsPayload { changed importJobId imageStreamTag { name spec { annotations { key value } generation } } }
      ... on Error { code field message }
    }
  }`;
  const set = async (ref: string, annotations: Record<string, string>) => {
    const result = await app
      .as(editor)
      .graphql<{ setTagAnnotations: Record<string, unknown> }>(SET, {
        input: {
          namespace: 'annotations',
          ref,
          annotations: Object.entries(annotations).map(([key, value]) => ({ key, value })),
        },
      });
    expect(result.errors).toBeUndefined();
    return result.data!.setTagAnnotations;
  };

  it('changes nothing of an existing stream when one of its tags is bad', async () => {
    const doc = (label: string, tags: string) => `apiVersion: v1
kind: ImageStream
metadata:
  name: kept
  labels: {team: ${label}}
spec:
  tags:
  - name: one
    from: {kind: DockerImage, name: quay.io/x/kept:${label}}
    reference: true
${tags}`;
    expect(await cli('bad-tags', ['apply', '-f', file(doc('a', ''))])).toEqual(
      ok('imagestream.image.openshift.io/kept created\n'),
    );
    const before = await cli('bad-tags', ['get', 'is', 'kept', '-o', 'json']);
    const broken = `  - name: broken
    from: {kind: DockerImage, name: "Not A Pull Spec!"}
`;
    const refused = await cli('bad-tags', ['apply', '-f', file(doc('b', broken))]);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toMatch(/^error: ImageStream kept tag broken: .+\n$/);
    const after = await cli('bad-tags', ['get', 'is', 'kept', '-o', 'json']);
    // The same object, resource version included: the label and tag one were not changed either.
    expect(JSON.parse(after.stdout)).toEqual(JSON.parse(before.stdout));
    expect(JSON.parse(after.stdout).metadata.labels).toEqual({ team: 'a' });
  }, 60_000);

  it('replaces the set, keeps the generation, and refuses what has no spec tag', async () => {
    expect(await cli('annotations', ['tag', '--reference', 'quay.io/x/y:1', 'stream:ref'])).toEqual(
      ok('Tag stream:ref set to quay.io/x/y:1.\n'),
    );
    await pushMapping(
      app.as(await app.registry()),
      'annotations',
      'stream',
      'pushed',
      'pushed image',
    );
    expect(await set('stream:ref', { a: '1', b: '2' })).toEqual({
      __typename: 'SetTagAnnotationsPayload',
      changed: true,
      importJobId: null,
      imageStreamTag: {
        name: 'ref',
        spec: {
          annotations: [
            { key: 'a', value: '1' },
            { key: 'b', value: '2' },
          ],
          generation: 1,
        },
      },
    });
    expect(await set('stream:ref', { b: '2', a: '1' })).toMatchObject({ changed: false });
    expect(await set('stream:ref', {})).toMatchObject({
      changed: true,
      imageStreamTag: { spec: { annotations: [], generation: 1 } },
    });
    expect(await set('stream:pushed', { a: '1' })).toEqual({
      __typename: 'ValidationError',
      code: 'VALIDATION',
      field: 'ref',
      message: 'annotations/stream:pushed has no spec tag (it was pushed): tag it first',
    });
    expect(await set('stream:nope', {})).toEqual({
      __typename: 'NotFoundError',
      code: 'NOT_FOUND',
      field: 'ref',
      message: 'image stream tag annotations/stream:nope not found',
    });
    expect(await set('missing:tag', {})).toMatchObject({
      __typename: 'NotFoundError',
      field: 'ref',
    });
    expect(await set('stream:ref', { 'bad key!': 'x' })).toMatchObject({
      __typename: 'ValidationError',
      field: 'annotations.0.key',
    });
  });
});
