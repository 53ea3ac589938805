// ImageStream manifests: the documented definitions parse as they are, bad ones say where, and what
// `get -o yaml` prints reads back as the same spec.
import { describe, expect, it } from 'vitest';
import { toYaml } from '../../src/cli/context.ts';
import {
  type ImageStreamManifest,
  MAX_DOCUMENTS,
  MAX_MANIFEST_BYTES,
  orderForApply,
  parseManifests,
  type SpecTagManifest,
  tagInputFor,
} from '../../src/cli/manifest.ts';
import { imageStreamObject } from '../../src/cli/objects.ts';
import { BILLION_LAUGHS } from '../support/cliTexts.ts';
import { specView, streamView, tagView } from '../support/cliViews.ts';
import * as seeds from '../support/seedManifests.ts';

const parseOne = async (text: string) => {
  const manifests = await parseManifests(text, 'seed.yaml');
  expect(manifests).toHaveLength(1);
  return manifests[0]!;
};

const base: Omit<ImageStreamManifest, 'name'> = {
  origin: 'seed.yaml',
  namespace: null,
  labels: {},
  annotations: {},
  lookupLocal: false,
  dockerImageRepository: null,
  tags: [],
  warnings: [],
};

const dockerTag = (name: string, image: string, extra: Partial<SpecTagManifest> = {}) => ({
  name,
  from: { kind: 'DockerImage' as const, name: image, namespace: null },
  reference: false,
  referencePolicy: 'Source' as const,
  importPolicy: { scheduled: false, insecure: false, importMode: 'Legacy' as const },
  annotations: {},
  ...extra,
});

describe('the documented ImageStream definitions', () => {
  it('origin-ruby-sample: labels, annotations, namespace; status ignored', async () => {
    expect(await parseOne(seeds.ORIGIN_RUBY_SAMPLE)).toEqual({
      ...base,
      name: 'origin-ruby-sample',
      namespace: 'test',
      labels: { app: 'ruby-sample-build', template: 'application-template-stibuild' },
      annotations: { 'openshift.io/generated-by': 'OpenShiftNewApp' },
    });
  });

  it('my-image-stream, elisions and all', async () => {
    expect(await parseOne(seeds.MY_IMAGE_STREAM)).toEqual({ ...base, name: 'my-image-stream' });
  });

  it('mysql with lookupPolicy.local', async () => {
    expect(await parseOne(seeds.MYSQL)).toEqual({
      ...base,
      name: 'mysql',
      namespace: 'myproject',
      annotations: { 'openshift.io/display-name': 'mysql' },
      lookupLocal: true,
    });
  });

  it('my-ruby with spec.dockerImageRepository, before and after its import', async () => {
    expect(await parseOne(seeds.MY_RUBY)).toEqual({
      ...base,
      name: 'my-ruby',
      dockerImageRepository: 'docker.io/openshift/ruby-20-centos7',
    });
    expect(await parseOne(seeds.MY_RUBY_SYNCED)).toEqual({
      ...base,
      name: 'my-ruby',
      namespace: 'demo-project',
      annotations: { 'openshift.io/image.dockerRepositoryCheck': '2016-05-06T21:34:48Z' },
      dockerImageRepository: 'docker.io/openshift/ruby-20-centos7',
      tags: [dockerTag('latest', 'docker.io/openshift/ruby-20-centos7:latest')],
    });
  });

  it('ruby with a scheduled tag', async () => {
    expect(await parseOne(seeds.RUBY_SCHEDULED)).toEqual({
      ...base,
      name: 'ruby',
      tags: [
        dockerTag('latest', 'openshift/ruby-20-centos7', {
          importPolicy: { scheduled: true, insecure: false, importMode: 'Legacy' },
        }),
      ],
    });
  });

  it('ruby with the insecureRepository annotation', async () => {
    expect(await parseOne(seeds.RUBY_INSECURE_REPOSITORY)).toEqual({
      ...base,
      name: 'ruby',
      annotations: { 'openshift.io/image.insecureRepository': 'true' },
      dockerImageRepository: 'my.repo.com:5000/myimage',
    });
  });

  it('ruby with an insecure, Local tag given beside spec (read as spec.tags, with a warning)', async () => {
    expect(await parseOne(seeds.RUBY_MYTAG)).toEqual({
      ...base,
      name: 'ruby',
      tags: [
        dockerTag('mytag', 'my.repo.com:5000/myimage', {
          referencePolicy: 'Local',
          importPolicy: { scheduled: false, insecure: true, importMode: 'Legacy' },
        }),
      ],
      warnings: ['seed.yaml: "tags" belongs under "spec"; read as spec.tags'],
    });
  });

  it('ruby 2.0 with catalog annotations; the tag name stays the string "2.0"', async () => {
    expect(await parseOne(seeds.RUBY_CATALOG)).toEqual({
      ...base,
      name: 'ruby',
      annotations: { 'openshift.io/display-name': 'Ruby' },
      tags: [
        dockerTag('2.0', 'docker.io/openshift/ruby-20-centos7:latest', {
          annotations: {
            'openshift.io/display-name': 'Ruby 2.0',
            description: seeds.RUBY_CATALOG_DESCRIPTION,
            iconClass: 'icon-ruby',
            sampleRepo: 'https://github.com/sclorg/ruby-ex.git',
            tags: 'builder,ruby',
            supports: 'ruby',
            version: '2.0',
          },
        }),
      ],
    });
  });

  it('the ImageStreamMapping example is refused: apply takes ImageStreams', async () => {
    await expect(parseManifests(seeds.IMAGE_STREAM_MAPPING, 'm.yaml')).rejects.toThrow(
      'm.yaml: kind: tagraph applies ImageStream objects only, not ImageStreamMapping',
    );
  });
});

describe('manifest shapes', () => {
  it('several documents, a List, JSON, and unquoted numbers as tag names', async () => {
    const text = `${seeds.MYSQL}---\n${seeds.MY_RUBY}---\n`;
    expect((await parseManifests(text, 'f')).map((m) => [m.origin, m.name])).toEqual([
      ['f (document 1)', 'mysql'],
      ['f (document 2)', 'my-ruby'],
    ]);
    const list = JSON.stringify({
      apiVersion: 'v1',
      kind: 'List',
      items: [
        {
          apiVersion: 'image.openshift.io/v1',
          kind: 'ImageStream',
          metadata: { name: 'a' },
          spec: { tags: [{ name: '2.10', from: { kind: 'ImageStreamTag', name: '2.1' } }] },
        },
      ],
    });
    const [a] = await parseManifests(list, 'list.json');
    expect(a!.origin).toBe('list.json items[0]');
    expect(a!.tags[0]!.from).toEqual({ kind: 'ImageStreamTag', name: '2.1', namespace: null });
    const unquoted = await parseOne(
      'apiVersion: v1\nkind: ImageStream\nmetadata: {name: a}\nspec:\n  tags:\n  - name: 2.10\n    from: {kind: DockerImage, name: x}\n',
    );
    expect(unquoted.tags[0]!.name).toBe('2.10');
  });

  it('a tag without from imports from spec.dockerImageRepository', async () => {
    const m = await parseOne(
      'apiVersion: v1\nkind: ImageStream\nmetadata: {name: a}\nspec:\n  dockerImageRepository: quay.io/x/y\n  tags:\n  - name: "1.0"\n',
    );
    expect(m.tags[0]!.from).toEqual({
      kind: 'DockerImage',
      name: 'quay.io/x/y:1.0',
      namespace: null,
    });
  });

  it.each([
    [
      'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: a}\n',
      'f: kind: tagraph applies ImageStream objects only, not Deployment',
    ],
    [
      'apiVersion: v2\nkind: ImageStream\nmetadata: {name: a}\n',
      'f: apiVersion: must be image.openshift.io/v1 or v1 for an ImageStream, not v2',
    ],
    ['apiVersion: v1\nkind: ImageStream\nmetadata: {}\n', 'f: metadata.name: is required'],
    [
      'apiVersion: v1\nkind: ImageStream\nmetadata: {name: a}\nspec: {lookupPolicy: {local: yes}}\n',
      'f: spec.lookupPolicy.local: must be true or false, not "yes"',
    ],
    [
      'apiVersion: v1\nkind: ImageStream\nmetadata: {name: a, labels: {a: {b: c}}}\n',
      'f: metadata.labels.a: must be a string (quote it)',
    ],
    [
      'apiVersion: v1\nkind: ImageStream\nmetadata: {name: a}\nspec: {tags: [{name: t}]}\n',
      'f: spec.tags[0] (t).from: is required (or set spec.dockerImageRepository to import from)',
    ],
    [
      'apiVersion: v1\nkind: ImageStream\nmetadata: {name: a}\nspec: {tags: [{name: t, from: {kind: Git, name: x}}]}\n',
      'f: spec.tags[0] (t).from.kind: must be DockerImage, ImageStreamTag, ImageStreamImage, not Git',
    ],
    [
      'apiVersion: v1\nkind: ImageStream\nmetadata: {name: a}\nspec: {tags: [{name: t, from: {kind: DockerImage, name: x}, importPolicy: {importMode: Fast}}]}\n',
      'f: spec.tags[0] (t).importPolicy.importMode: valid ImportMode values are Legacy or PreserveOriginal',
    ],
    [
      'apiVersion: v1\nkind: ImageStream\nmetadata: {name: a}\nspec: {tags: [{name: t, from: {kind: DockerImage, name: x}}, {name: t, from: {kind: DockerImage, name: y}}]}\n',
      'f: spec.tags: tag t is given twice',
    ],
    ['kind: ImageStream\nmetadata: {name: a\n', 'f: not valid YAML or JSON'],
  ])('%j is refused: %s', async (text, message) => {
    await expect(parseManifests(text, 'f')).rejects.toThrow(message);
  });
});

describe('spec tags as tag calls', () => {
  const stream = { name: 'ruby', namespace: 'demo' };
  const tagOf = (from: SpecTagManifest['from'], extra: Partial<SpecTagManifest> = {}) =>
    ({ ...dockerTag('t', 'x'), from, ...extra }) as SpecTagManifest;
  /** The tag input for a spec tag from `from`, warnings into `warnings`. */
  const inputFrom = (from: SpecTagManifest['from'], warnings: string[]) =>
    tagInputFor(stream, tagOf(from), warnings);

  it('an ImageStreamTag of the same stream is tracked; of another stream, pinned', () => {
    const warnings: string[] = [];
    expect(
      inputFrom({ kind: 'ImageStreamTag', name: '2.0', namespace: null }, warnings),
    ).toMatchObject({ source: 'ruby:2.0', sourceKind: 'ImageStreamTag', alias: true });
    expect(
      inputFrom({ kind: 'ImageStreamTag', name: 'ruby:2.0', namespace: 'demo' }, warnings),
    ).toMatchObject({ source: 'ruby:2.0', alias: true });
    expect(
      inputFrom({ kind: 'ImageStreamTag', name: 'python:3', namespace: null }, warnings),
    ).toMatchObject({ source: 'python:3', alias: false });
    expect(
      inputFrom({ kind: 'ImageStreamTag', name: 'ruby:2.0', namespace: 'base' }, warnings),
    ).toMatchObject({ source: 'base/ruby:2.0', alias: false });
    expect(warnings).toEqual([]);
  });

  it('ImageStreamImage and DockerImage sources, and import settings only where they apply', () => {
    const warnings: string[] = [];
    expect(
      inputFrom({ kind: 'ImageStreamImage', name: 'sha256:abc', namespace: null }, warnings),
    ).toMatchObject({ source: 'ruby@sha256:abc', sourceKind: 'ImageStreamImage' });
    const scheduled = tagOf(
      { kind: 'ImageStreamTag', name: '2.0', namespace: null },
      { importPolicy: { scheduled: true, insecure: false, importMode: 'Legacy' } },
    );
    expect(tagInputFor(stream, scheduled, warnings)).toMatchObject({ scheduled: false });
    expect(warnings).toEqual([
      'ImageStream ruby tag t: importPolicy.scheduled applies to DockerImage sources only; ignored',
    ]);
    expect(
      tagInputFor(
        stream,
        tagOf(
          { kind: 'DockerImage', name: 'quay.io/r:1', namespace: null },
          {
            reference: true,
            referencePolicy: 'Local',
            importPolicy: { scheduled: true, insecure: true, importMode: 'PreserveOriginal' },
          },
        ),
        warnings,
      ),
    ).toEqual({
      namespace: 'demo',
      source: 'quay.io/r:1',
      sourceKind: 'DockerImage',
      destinations: ['ruby:t'],
      alias: false,
      reference: true,
      scheduled: true,
      insecure: true,
      importMode: 'PreserveOriginal',
      referencePolicy: 'Local',
    });
  });

  it('tracking tags come after the tags they track', () => {
    const input = (dest: string, source: string, alias: boolean) =>
      ({ destinations: [`ruby:${dest}`], source, alias }) as never;
    const ordered = orderForApply([
      input('latest', 'ruby:stable', true),
      input('stable', 'ruby:2.0', true),
      input('2.0', 'quay.io/r:2.0', false),
      input('loop', 'ruby:loop', true),
    ]);
    expect(ordered.map((i: { destinations: string[] }) => i.destinations[0])).toEqual([
      'ruby:2.0',
      'ruby:stable',
      'ruby:latest',
      'ruby:loop',
    ]);
  });
});

it('get -o yaml reads back as the same spec (round trip)', async () => {
  const stream = streamView('ruby', {
    id: 'SW1hZ2VTdHJlYW06Mg==',
    generation: 4,
    resourceVersion: '9',
    labels: [{ key: 'app', value: 'web' }],
    annotations: [{ key: 'openshift.io/display-name', value: 'Ruby' }],
    lookupPolicy: { local: true },
    tags: [
      tagView('2.0', {
        spec: specView(
          { kind: 'DockerImage', name: 'quay.io/r:2.0' },
          {
            annotations: [{ key: 'version', value: '2.0' }],
            importPolicy: { importMode: 'PreserveOriginal', insecure: true, scheduled: true },
            referencePolicy: { type: 'Local' },
          },
        ),
        history: [
          {
            created: '2025-01-01T00:00:00.000Z',
            dockerImageReference: 'quay.io/r@sha256:aaa',
            generation: 2,
            image: { digest: 'sha256:aaa' },
          },
        ],
      }),
      tagView('latest', {
        spec: specView({ kind: 'ImageStreamTag', name: '2.0' }, { generation: 3 }),
      }),
      tagView('pushed'),
    ],
  });
  const yaml = await toYaml(imageStreamObject(stream));
  expect(yaml).toBe(`apiVersion: image.openshift.io/v1
kind: ImageStream
metadata:
  annotations:
    openshift.io/display-name: Ruby
  creationTimestamp: "2025-01-01T00:00:00Z"
  generation: 4
  labels:
    app: web
  name: ruby
  namespace: demo
  resourceVersion: "9"
  uid: 77630566-a40f-582b-a4ce-25aa98c29d4b
spec:
  lookupPolicy:
    local: true
  tags:
    - annotations:
        version: "2.0"
      from:
        kind: DockerImage
        name: quay.io/r:2.0
      generation: 2
      importPolicy:
        importMode: PreserveOriginal
        insecure: true
        scheduled: true
      name: "2.0"
      referencePolicy:
        type: Local
    - from:
        kind: ImageStreamTag
        name: "2.0"
      generation: 3
      importPolicy:
        importMode: Legacy
      name: latest
      referencePolicy:
        type: Source
status:
  dockerImageRepository: registry.test:5000/demo/ruby
  tags:
    - items:
        - created: "2025-01-01T00:00:00Z"
          dockerImageReference: quay.io/r@sha256:aaa
          generation: 2
          image: sha256:aaa
      tag: "2.0"
`);
  expect(await parseOne(yaml)).toEqual({
    ...base,
    origin: 'seed.yaml',
    name: 'ruby',
    namespace: 'demo',
    labels: { app: 'web' },
    annotations: { 'openshift.io/display-name': 'Ruby' },
    lookupLocal: true,
    tags: [
      dockerTag('2.0', 'quay.io/r:2.0', {
        referencePolicy: 'Local',
        importPolicy: { scheduled: true, insecure: true, importMode: 'PreserveOriginal' },
        annotations: { version: '2.0' },
      }),
      {
        ...dockerTag('latest', ''),
        from: { kind: 'ImageStreamTag', name: '2.0', namespace: null },
      },
    ],
  });
});

describe('hostile manifests are refused with a clear message, at bounded cost', () => {
  it('a billion laughs: refused at the alias limit, not expanded', async () => {
    const started = performance.now();
    await expect(parseManifests(BILLION_LAUGHS, 'bomb.yaml')).rejects.toThrow(
      'bomb.yaml: its aliases expand more than 100 times (a YAML bomb?); write the values out instead',
    );
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it('a source over the size limit is refused before it is parsed', async () => {
    const text = `# ${'x'.repeat(MAX_MANIFEST_BYTES)}\n`;
    const started = performance.now();
    await expect(parseManifests(text, 'big.yaml')).rejects.toThrow(
      /^big\.yaml: \d+ bytes is over the limit of 1 MiB for one manifest source/,
    );
    expect(performance.now() - started).toBeLessThan(500);
  });

  it('more documents than the limit are refused', async () => {
    const text = Array(MAX_DOCUMENTS + 1)
      .fill('')
      .map((_, i) => `kind: ImageStream\napiVersion: v1\nmetadata: {name: s${i}}\n`)
      .join('---\n');
    await expect(parseManifests(text, 'many.yaml')).rejects.toThrow(
      `many.yaml: ${MAX_DOCUMENTS + 1} YAML documents is over the limit of ${MAX_DOCUMENTS}`,
    );
  });
});
