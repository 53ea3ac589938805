// `tagraph import-image` and `tagraph create secret` against a real server with its import worker
// and real registries: the OpenShift documentation's oc import-image examples, manifest lists
// included.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { humanSize } from '../../src/cli/humanize.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { afterCliTests, cliScratch, namespacedCli, normalizeAges, ok } from '../support/cli.ts';
import { type BuiltImage, imageSize, pushImage, pushIndex } from '../support/images.ts';
import { type RunningRegistry, startRegistry } from '../support/registry.ts';

const registryUrl = inject('registryUrl');
const registry = new URL(registryUrl).host;
const repo = `cli-import-${process.pid}-${Date.now().toString(36)}`;
const PLATFORMS = ['amd64', 'arm64', 'ppc64le'].map((architecture) => ({
  platform: { os: 'linux', architecture },
  spec: { content: `busybox for ${architecture}` },
}));

let app: TestApp;
/** The CLI's user: an editor of the namespaces these tests write. */
let editor: string;
let privateRegistry: RunningRegistry;
const scratch = cliScratch('cli-import');

beforeAll(async () => {
  [app, privateRegistry] = await Promise.all([
    startTestApp({ importWorker: true }),
    startRegistry({ htpasswd: { user: 'developer', password: 'p4ssw0rd' } }),
  ]);
  editor = await app.member(['imports', 'multiarch', 'all-tags', 'secrets', 'private'], 'EDITOR');
});

afterCliTests(
  () => app.stop(),
  () => privateRegistry.stop(),
);

const cli = namespacedCli(() => ({ url: app.url, token: editor }));
/** `tagraph -n <ns> import-image <image> --from=<from> <flags>`. */
const importImage = (ns: string, image: string, from: string, ...flags: string[]) =>
  cli(ns, ['import-image', image, `--from=${from}`, ...flags]);

/**
 * The describe block import-image prints for a single image pushed with an empty config, named
 * `<stream>:<tag>` as oc names it.
 */
function imageBlock(image: BuiltImage, reference: string, name: string): string {
  const layer = image.layers[0]!;
  return [
    `Image Name:\t${name}`,
    `Docker Image:\t${reference}@${image.digest}`,
    `Name:\t\t${image.digest}`,
    'Created:\t<age> ago',
    `Image Size:\t${humanSize(imageSize(image))} in 1 layers`,
    `Layers:\t\t${humanSize(layer.size)}\t${layer.digest}`,
    'Image Created:\t<age> ago',
    'Author:\t\t<none>',
    'Arch:\t\tamd64',
    'Command:\t<none>',
    'Working Dir:\t<none>',
    'User:\t\t<none>',
    'Exposes Ports:\t<none>',
    'Docker Labels:\t<none>',
    '',
  ].join('\n');
}

/** The stream block import-image prints first: one tag imported from `from`, insecure. */
function streamBlock(ns: string, stream: string, tag: string, from: string, digest: string) {
  return [
    `Name:\t\t\t${stream}`,
    `Namespace:\t\t${ns}`,
    'Created:\t\t<age> ago',
    'Labels:\t\t\t<none>',
    'Annotations:\t\topenshift.io/image.dockerRepositoryCheck=<time>',
    `Image Repository:\tregistry.test:5000/${ns}/${stream}`,
    'Image Lookup:\t\tlocal=false',
    'Unique Images:\t\t1',
    'Tags:\t\t\t1',
    '',
    tag,
    `  tagged from ${from}`,
    '    will use insecure HTTPS or HTTP connections',
    '',
    `  * ${from.replace(/:[^:/]+$/, '')}@${digest}`,
    '      <age> ago',
    '',
  ].join('\n');
}

/** The size the server stores for an image. */
async function storedSize(digest: string): Promise<number> {
  const result = await app
    .as(editor)
    .graphql<{ image: { size: number } }>('query($d: String!) { image(digest: $d) { size } }', {
      d: digest,
    });
  return result.data!.image.size;
}

describe.concurrent('oc import-image', () => {
  it('<stream>[:<tag>] --from=<image> --confirm, and what goes wrong', async ({ expect }) => {
    const ns = 'imports';
    const ruby = await pushImage(registryUrl, `${repo}/openshift/ruby-20-centos7`, 'latest', {
      content: 'ruby 2.0',
    });
    const from = `${registry}/${repo}/openshift/ruby-20-centos7`;
    // `oc import-image my-ruby --from=docker.io/openshift/ruby-20-centos7 --confirm`
    const imported = await importImage(ns, 'my-ruby', from, '--confirm', '--insecure');
    expect(imported.code).toBe(0);
    expect(imported.stderr).toBe('');
    expect(normalizeAges(imported.stdout)).toBe(
      `imagestream.image.openshift.io/my-ruby imported\n\n${streamBlock(ns, 'my-ruby', 'latest', from, ruby.digest)}\n${imageBlock(ruby, from, 'my-ruby:latest')}\n\n`,
    );

    const [missing, notFound, badMode, json] = await Promise.all([
      importImage(ns, 'nope', from, '--insecure'),
      importImage(ns, 'my-ruby:gone', `${from}:gone`, '--insecure'),
      importImage(ns, 'my-ruby', from, '--import-mode=Preserve'),
      importImage(ns, 'my-ruby:json', from, '--insecure', '-o', 'json'),
    ]);
    expect(missing).toEqual({
      code: 1,
      stdout: '',
      stderr: 'error: no image stream named "nope" exists, pass --confirm to create and import\n',
    });
    expect(notFound.code).toBe(1);
    expect(notFound.stdout).toBe('');
    expect(notFound.stderr).toMatch(/^error: tag gone failed: Import failed \(NotFound\): .+\n$/);
    expect(badMode).toEqual({
      code: 1,
      stdout: '',
      stderr: 'error: valid ImportMode values are Legacy or PreserveOriginal\n',
    });
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({
      namespace: ns,
      stream: 'my-ruby',
      status: 'succeeded',
      timedOut: false,
      tags: ['json'],
      images: [
        {
          tag: 'json',
          status: 'Success',
          digest: ruby.digest,
          dockerImageReference: `${from}@${ruby.digest}`,
        },
      ],
    });
  });

  it('manifest lists: PreserveOriginal, Legacy, scheduled, insecure', async ({ expect }) => {
    const ns = 'multiarch';
    const index = await pushIndex(registryUrl, `${repo}/busybox`, 'latest', PLATFORMS);
    const from = `${registry}/${repo}/busybox`;
    const platforms = [
      'get',
      'istag',
      'busybox:latest',
      "-ojsonpath={range .image.dockerImageManifests[*]}{.os}/{.architecture}{'\\n'}{end}",
    ];
    const preserved = await importImage(
      ns,
      'busybox:latest',
      from,
      '--import-mode=PreserveOriginal',
      '--reference-policy=local',
      '--confirm',
      '--insecure',
    );
    expect(preserved.code).toBe(0);
    const preservedOut = normalizeAges(preserved.stdout);
    expect(preservedOut.startsWith('imagestream.image.openshift.io/busybox imported\n\n')).toBe(
      true,
    );
    expect(preservedOut).toContain('\nlatest\n  tagged from ');
    // A manifest list has no layers of its own: oc prints Layer Size, then its children.
    const preservedImage = [
      `Image Name:\tbusybox:latest`,
      `Docker Image:\t${from}@${index.digest}`,
      `Name:\t\t${index.digest}`,
      'Created:\t<age> ago',
      `Layer Size:\t${humanSize(await storedSize(index.digest))}`,
      'Image Created:\t<none>',
      'Author:\t\t<none>',
      'Arch:\t\t<none>',
      `Manifests:\tlinux/amd64\t${index.children[0]!.digest}`,
      `\t\tlinux/arm64\t${index.children[1]!.digest}`,
      `\t\tlinux/ppc64le\t${index.children[2]!.digest}`,
    ].join('\n');
    expect(preservedOut.trimEnd().slice(-preservedImage.length - 1)).toBe(`\n${preservedImage}`);
    expect(await cli(ns, platforms)).toEqual(ok('linux/amd64\nlinux/arm64\nlinux/ppc64le\n'));

    // --scheduled=true and --insecure=true as the documented examples write them.
    const policy = ['get', 'istag', 'busybox:latest', '-o', 'jsonpath={.tag.importPolicy}'];
    for (const flag of ['--scheduled=true', '--insecure=true']) {
      const again = await importImage(
        ns,
        'busybox:latest',
        from,
        '--import-mode=PreserveOriginal',
        flag,
        ...(flag === '--scheduled=true' ? ['--insecure'] : []),
      );
      expect(again.code, again.stderr).toBe(0);
    }
    expect(JSON.parse((await cli(ns, policy)).stdout)).toEqual({
      importMode: 'PreserveOriginal',
      insecure: true,
    });

    // Without --import-mode the stream goes back to a single image (Legacy, the default).
    const single = await importImage(ns, 'busybox:latest', from, '--insecure');
    expect(single.code).toBe(0);
    expect(single.stdout).not.toContain('Manifests:');
    expect(await cli(ns, platforms)).toEqual(ok(''));
    const legacy = await importImage(
      ns,
      'legacy:latest',
      from,
      '--import-mode=Legacy',
      '--confirm',
      '--insecure',
    );
    expect(legacy.code).toBe(0);
    expect(legacy.stdout).toMatch(/\nArch:\t\t(amd64|arm64|ppc64le)\n/);
  });

  it('--all imports the repository, latest and versions first', async ({ expect }) => {
    const ns = 'all-tags';
    const images = await Promise.all(
      ['1.0', '2.0', 'latest'].map((tag) =>
        pushImage(registryUrl, `${repo}/allrepo`, tag, { content: `all ${tag}` }),
      ),
    );
    const from = `${registry}/${repo}/allrepo`;
    const result = await importImage(ns, 'allrepo', from, '--all', '--confirm', '--insecure');
    expect(result.code).toBe(0);
    const block = (tag: string, image: BuiltImage) =>
      [
        '',
        tag,
        `  tagged from ${from}:${tag}`,
        '    will use insecure HTTPS or HTTP connections',
        '',
        `  * ${from}@${image.digest}`,
        '      <age> ago',
      ].join('\n');
    const out = normalizeAges(result.stdout);
    const stream = [
      'imagestream.image.openshift.io/allrepo imported',
      '',
      'Name:\t\t\tallrepo',
      `Namespace:\t\t${ns}`,
      'Created:\t\t<age> ago',
      'Labels:\t\t\t<none>',
      'Annotations:\t\topenshift.io/image.dockerRepositoryCheck=<time>',
      `Image Repository:\tregistry.test:5000/${ns}/allrepo`,
      `Import Repository:\t${from}`,
      'Image Lookup:\t\tlocal=false',
      'Unique Images:\t\t3',
      'Tags:\t\t\t3',
      block('latest', images[2]!),
      block('2.0', images[1]!),
      block('1.0', images[0]!),
      '',
      '',
    ].join('\n');
    expect(out.startsWith(stream), out).toBe(true);
    // Then each imported image, in the order they were imported.
    expect(out.slice(stream.length)).toBe(
      [
        `${imageBlock(images[2]!, from, 'allrepo:latest')}\n`,
        `${imageBlock(images[1]!, from, 'allrepo:2.0')}\n`,
        `${imageBlock(images[0]!, from, 'allrepo:1.0')}\n`,
        '\n',
      ].join(''),
    );
  });
});

describe('oc create secret', () => {
  it('oc create secret: generic, podman, docker-registry', async () => {
    const ns = 'secrets';
    // The seed's config.json as printed: its "b3Blb=" is not base64, which the server says.
    const seed = join(scratch, 'seed-config.json');
    writeFileSync(
      seed,
      '{ "auths":{ "cloud.openshift.com":{ "auth":"b3Blb=", "email":"you@example.com" }, "quay.io":{ "auth":"b3Blb=", "email":"you@example.com" }, "quay.io/repository-main":{ "auth":"b3Blb=", "email":"you@example.com" } } }',
    );
    const refused = await cli(ns, [
      'create',
      'secret',
      'generic',
      'pull-secret',
      `--from-file=.dockerconfigjson=${seed}`,
      '--type=kubernetes.io/dockerconfigjson',
    ]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^error: auths\["[^"]+"\]\.auth is not valid base64 text\n/);

    const docker = join(scratch, 'config.json');
    writeFileSync(
      docker,
      JSON.stringify({
        auths: {
          'cloud.openshift.com': { auth: 'dXNlcjpwYXNz', email: 'you@example.com' },
          'quay.io': { auth: 'dXNlcjpwYXNz', email: 'you@example.com' },
          'quay.io/repository-main': { auth: 'dXNlcjpwYXNz', email: 'you@example.com' },
        },
      }),
    );
    const podman = join(scratch, 'auth.json');
    writeFileSync(
      podman,
      JSON.stringify({ auths: { 'registry.example.com': { auth: 'dXNlcjpwYXNz' } } }),
    );
    const results = await Promise.all([
      cli(ns, [
        'create',
        'secret',
        'generic',
        'pull-secret',
        `--from-file=.dockerconfigjson=${docker}`,
        '--type=kubernetes.io/dockerconfigjson',
      ]),
      cli(ns, [
        'create',
        'secret',
        'generic',
        'podman-secret',
        `--from-file=${podman}`,
        '--type=kubernetes.io/podmanconfigjson',
      ]),
      cli(ns, [
        'create',
        'secret',
        'docker-registry',
        '--docker-server=sso.redhat.com',
        '--docker-username=developer@example.com',
        '--docker-password=********',
        '--docker-email=unused',
        'redhat-connect-sso',
      ]),
    ]);
    expect(results).toEqual([
      ok('secret/pull-secret created\n'),
      ok('secret/podman-secret created\n'),
      ok('secret/redhat-connect-sso created\n'),
    ]);
    const again = await cli(ns, ['create', 'secret', 'pull-secret', `--from-file=${docker}`]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/^error: .*already exists/);
    const stored = await app
      .as(editor)
      .graphql<{ pullSecrets: { name: string; registries: string[] }[] }>(
        'query($ns: String!) { pullSecrets(namespace: $ns) { name registries } }',
        { ns },
      );
    expect(stored.data?.pullSecrets).toEqual([
      { name: 'podman-secret', registries: ['registry.example.com'] },
      {
        name: 'pull-secret',
        registries: ['cloud.openshift.com', 'quay.io', 'quay.io/repository-main'],
      },
      { name: 'redhat-connect-sso', registries: ['sso.redhat.com'] },
    ]);
    const wrongType = await cli(ns, [
      'create',
      'secret',
      'x',
      `--from-file=${docker}`,
      '--type=Opaque',
    ]);
    expect(wrongType.code).toBe(1);
  });

  it('an import that needs the secret gets it', async () => {
    const ns = 'private';
    const image = await pushImage(
      privateRegistry.url,
      'team/app',
      'v1',
      { content: 'private' },
      { auth: { user: 'developer', password: 'p4ssw0rd' } },
    );
    const from = `${privateRegistry.host}/team/app:v1`;
    const refused = await importImage(ns, 'app:v1', from, '--confirm', '--insecure');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^error: tag v1 failed: Import failed \(Unauthorized\)/);

    const config = join(scratch, 'config.json');
    const auth = Buffer.from('developer:p4ssw0rd').toString('base64');
    writeFileSync(config, JSON.stringify({ auths: { [privateRegistry.host]: { auth } } }));
    expect(
      await cli(ns, [
        'create',
        'secret',
        'generic',
        'registry-creds',
        `--from-file=.dockerconfigjson=${config}`,
        '--type=kubernetes.io/dockerconfigjson',
      ]),
    ).toEqual(ok('secret/registry-creds created\n'));
    const imported = await importImage(ns, 'app:v1', from, '--insecure');
    expect(imported.stderr).toBe('');
    expect(imported.stdout).toContain(
      `Docker Image:\t${privateRegistry.host}/team/app@${image.digest}\n`,
    );
  });
});
