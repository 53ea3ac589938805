// oc's rules and texts through `tagraph` against a real server, import worker and registry:
// what import-image imports and refuses, spec.dockerImageRepository through apply, and the
// `Error from server (…)` lines scripts grep for.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, inject, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.ts';
import { afterCliTests, cliScratch, namespacedCli, normalizeAges, ok } from '../support/cli.ts';
import { pushImage } from '../support/images.ts';

const registryUrl = inject('registryUrl');
const registry = new URL(registryUrl).host;
const repo = `cli-oc-${process.pid}-${Date.now().toString(36)}`;
const NAMESPACES = ['oc-import', 'oc-all', 'oc-errors'];

let app: TestApp;
/** Imports, tags and applies: an editor's. */
let editor: string;
/** Reading: an image puller's. */
let reader: string;
const scratch = cliScratch('cli-oc');

beforeAll(async () => {
  app = await startTestApp({ importWorker: true });
  [editor, reader] = await Promise.all([
    app.member(NAMESPACES, 'EDITOR'),
    app.member(NAMESPACES, 'IMAGE_PULLER'),
  ]);
});

afterCliTests(() => app.stop());

const cli = namespacedCli(() => ({ url: app.url, token: editor }));
const read = (namespace: string, args: string[]) => cli(namespace, args, { token: reader });
const refused = (stderr: string) => ({ code: 1, stdout: '', stderr });
const digestOf = async (ns: string, ref: string) =>
  (await read(ns, ['get', 'istag', ref, '-o', 'jsonpath={.image.metadata.name}'])).stdout;

describe.concurrent('oc import-image rules', () => {
  it('no tag imports latest; a tracking tag imports its target; refusals in oc words', {
    timeout: 180_000,
  }, async ({ expect }) => {
    const ns = 'oc-import';
    const from = `${registry}/${repo}/app`;
    for (const tag of ['latest', 'v1']) {
      await pushImage(registryUrl, `${repo}/app`, tag, { content: `app ${tag} one` });
    }
    for (const tag of ['latest', 'v1']) {
      const first = await cli(ns, [
        'import-image',
        `app:${tag}`,
        `--from=${from}:${tag}`,
        '--confirm',
        '--insecure',
      ]);
      expect(first.code, first.stderr).toBe(0);
    }
    const v1Before = await digestOf(ns, 'app:v1');
    const latest2 = await pushImage(registryUrl, `${repo}/app`, 'latest', { content: 'latest 2' });
    await pushImage(registryUrl, `${repo}/app`, 'v1', { content: 'v1 two' });

    // `import-image app`: latest only, described as the stream then the image app:latest.
    const plain = await cli(ns, ['import-image', 'app']);
    expect(plain.code, plain.stderr).toBe(0);
    const out = normalizeAges(plain.stdout);
    expect(out).toMatch(/^imagestream\.image\.openshift\.io\/app imported\n\nName:\t\t\tapp\n/);
    expect(out).toContain(`\nImage Name:\tapp:latest\nDocker Image:\t${from}@${latest2.digest}\n`);
    expect(out).not.toContain('Image Name:\tapp:v1');
    expect(await digestOf(ns, 'app:latest')).toBe(latest2.digest);
    expect(await digestOf(ns, 'app:v1')).toBe(v1Before);

    // current tracks latest: importing it imports latest; describe lists it beside latest.
    expect((await cli(ns, ['tag', '--alias', 'app:latest', 'app:current'])).code).toBe(0);
    const latest3 = await pushImage(registryUrl, `${repo}/app`, 'latest', { content: 'latest 3' });
    const followed = await cli(ns, ['import-image', 'app:current']);
    expect(followed.code, followed.stderr).toBe(0);
    expect(followed.stdout).toContain('\nImage Name:\tapp:latest\n');
    expect(await digestOf(ns, 'app:current')).toBe(latest3.digest);
    const described = normalizeAges((await read(ns, ['describe', 'is/app'])).stdout);
    expect(described).toContain(`\nlatest (current)\n  tagged from ${from}:latest\n`);
    expect(described).not.toContain('\ncurrent\n');

    // oc tag without --alias pins the image: an ImageStreamImage source, never re-imported.
    expect((await cli(ns, ['tag', 'app:v1', 'app:pinned'])).code).toBe(0);
    const [pinned, moved, movedTracker, missing, withTagAll] = await Promise.all([
      cli(ns, ['import-image', 'app:pinned']),
      cli(ns, ['import-image', 'app:v1', `--from=${from}:other`]),
      cli(ns, ['import-image', 'app:current', `--from=${from}:other`]),
      cli(ns, ['import-image', 'app:nope']),
      cli(ns, ['import-image', 'app:v1', '--all']),
    ]);
    expect(pinned).toEqual(
      refused(
        `error: tag "pinned" points to existing ImageStreamImage "app@${v1Before}", it cannot be re-imported\n`,
      ),
    );
    expect(moved).toEqual(
      refused(
        `error: the tag "v1" points to "${from}:v1" - use the 'tag' command if you want to change the source to "${from}:other"\n`,
      ),
    );
    expect(movedTracker).toEqual(
      refused(
        `error: the tag "current" points to the tag "latest" which points to "${from}:latest" - use the 'tag' command if you want to change the source to "${from}:other"\n`,
      ),
    );
    expect(missing).toEqual(
      refused(
        `error: the tag "nope" does not exist on the image stream - choose an existing tag to import or use the 'tag' command to create a new tag\n`,
      ),
    );
    expect(withTagAll).toEqual(refused('error: cannot specify a tag "app:v1" as well as --all\n'));
  });

  it('--all imports spec.dockerImageRepository, which apply sets and --confirm records', {
    timeout: 180_000,
  }, async ({ expect }) => {
    const ns = 'oc-all';
    const first = `${registry}/${repo}/first`;
    const second = `${registry}/${repo}/second`;
    await pushImage(registryUrl, `${repo}/first`, 'a', { content: 'first a' });
    const b = await pushImage(registryUrl, `${repo}/second`, 'b', { content: 'second b' });
    const manifest = (repository: string) => {
      const path = join(scratch, `repo-${repository.length}-${Math.random()}.yaml`);
      writeFileSync(
        path,
        `apiVersion: image.openshift.io/v1
kind: ImageStream
metadata:
  name: mirror
spec:
  dockerImageRepository: ${repository}
`,
      );
      return path;
    };
    // A stream created with a repository and no tags imports it (the job runs in the server).
    const created = await cli(ns, ['apply', '-f', manifest(`${first}`)]);
    expect(created.code, created.stderr).toBe(0);
    const all = await cli(ns, ['import-image', 'mirror', '--all', '--insecure']);
    expect(all.code, all.stderr).toBe(0);
    expect(all.stdout).toContain(`\nImport Repository:\t${first}\n`);
    expect(all.stdout).toContain('\nImage Name:\tmirror:a\n');

    // apply changes it (a spec change: configured), and --all follows the new repository.
    expect(await cli(ns, ['apply', '-f', manifest(second)])).toEqual(
      ok('imagestream.image.openshift.io/mirror configured\n'),
    );
    const again = await cli(ns, ['import-image', 'mirror', '--all', '--insecure']);
    expect(again.code, again.stderr).toBe(0);
    expect(await digestOf(ns, 'mirror:b')).toBe(b.digest);

    // Another repository on the command line needs --confirm, which records it.
    const unconfirmed = await cli(ns, ['import-image', 'mirror', '--all', `--from=${first}`]);
    expect(unconfirmed).toEqual(
      refused(
        `error: the image stream has a different import spec "${second}", pass --confirm to update\n`,
      ),
    );
    const confirmed = await cli(ns, [
      'import-image',
      'mirror',
      '--all',
      `--from=${first}`,
      '--confirm',
      '--insecure',
    ]);
    expect(confirmed.code, confirmed.stderr).toBe(0);
    const spec = await read(ns, [
      'get',
      'is',
      'mirror',
      '-o',
      'jsonpath={.spec.dockerImageRepository}',
    ]);
    expect(spec.stdout).toBe(first);
  });
});

describe.concurrent('errors as oc prints them', () => {
  it('NotFound, BadRequest, Forbidden and AlreadyExists', { timeout: 120_000 }, async ({
    expect,
  }) => {
    const ns = 'oc-errors';
    expect((await cli(ns, ['tag', '--reference', 'quay.io/x/y:1', 'here:ref'])).code).toBe(0);
    const [getIs, describeIs, getIstag, describeIstag, isimage, deleteIstag, noTag, noTagGet] =
      await Promise.all([
        read(ns, ['get', 'is', 'nope']),
        read(ns, ['describe', 'is/nope']),
        read(ns, ['get', 'istag', 'here:gone']),
        read(ns, ['describe', 'istag/here:gone']),
        read(ns, ['describe', `isimage/here@sha256:${'a'.repeat(64)}`]),
        cli(ns, ['delete', 'istag/here:gone']),
        cli(ns, ['delete', 'istag/here']),
        read(ns, ['describe', 'istag/here']),
      ]);
    expect(getIs).toEqual(
      refused('Error from server (NotFound): imagestreams.image.openshift.io "nope" not found\n'),
    );
    expect(describeIs).toEqual(getIs);
    expect(getIstag).toEqual(
      refused(
        'Error from server (NotFound): imagestreamtags.image.openshift.io "here:gone" not found\n',
      ),
    );
    expect(describeIstag).toEqual(getIstag);
    expect(deleteIstag).toEqual(getIstag);
    expect(isimage).toEqual(
      refused(
        `Error from server (NotFound): imagestreamimages.image.openshift.io "here@sha256:${'a'.repeat(64)}" not found\n`,
      ),
    );
    const badRequest = refused(
      'Error from server (BadRequest): ImageStreamTags must be retrieved with <name>:<tag>\n',
    );
    expect(noTag).toEqual(badRequest);
    expect(noTagGet).toEqual(badRequest);

    // A puller may read but not tag: the server's refusal in oc's Forbidden form.
    const forbidden = await read(ns, ['tag', '--reference', 'quay.io/x/y:2', 'here:other']);
    expect(forbidden.code).toBe(1);
    expect(forbidden.stdout).toBe('');
    expect(forbidden.stderr).toMatch(
      /^Error from server \(Forbidden\): \S+\.image\.openshift\.io is forbidden: User "[^"]+" cannot \S+ resource "[^"]+"/,
    );

    const path = join(scratch, 'exists.yaml');
    writeFileSync(
      path,
      'apiVersion: image.openshift.io/v1\nkind: ImageStream\nmetadata:\n  name: here\n',
    );
    expect(await cli(ns, ['create', '-f', path])).toEqual(
      refused(
        'Error from server (AlreadyExists): imagestreams.image.openshift.io "here" already exists\n',
      ),
    );
  });
});
