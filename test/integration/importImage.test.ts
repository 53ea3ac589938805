// importImage end to end against the real docker-registry: history, tracking, --all, manifest
// lists, failures and insecure registries (docs/rules.md#importing).
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { tags } from '../../src/db/schema.ts';
import { PREFER_ARCH_ANNOTATION } from '../../src/domain/platforms.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { pushImage, pushIndex } from '../support/images.ts';
import {
  callImportImage,
  drainImports,
  getJob,
  getTag,
  importFrom,
  importNow,
  tagEvents,
} from '../support/imports.ts';
import { startRegistry } from '../support/registry.ts';

const registryUrl = inject('registryUrl');
const registryHost = new URL(registryUrl).host;

const NAMESPACES = ['imp', 'imp-all', 'imp-fail', 'imp-jobs', 'imp-list', 'imp-move'];
NAMESPACES.push('imp-retry', 'imp-same', 'imp-tag');
let app: TestApp;
/** Imports and tags are an editor's; the tags, jobs and events they leave, a puller's to read. */
let editor: TestApp;
let reader: TestApp;
beforeAll(async () => {
  app = await startTestApp({
    serverPlatform: { os: 'linux', architecture: 'amd64' },
    importBackoffScale: 0.001,
  });
  editor = app.as(await app.member(NAMESPACES, 'EDITOR'));
  reader = app.as(await app.member(NAMESPACES, 'IMAGE_PULLER'));
});
afterAll(async () => {
  await app.stop();
});

/** A repository name unique to this test file run, so runs in both projects never collide. */
const repo = (name: string) =>
  `imp-${process.pid}-${Math.random().toString(36).slice(2, 8)}/${name}`;

describe('importImage from a registry', () => {
  it('imports a tag: image metadata, layers, history item, pull spec and one event', async () => {
    const repository = repo('app');
    const pushed = await pushImage(registryUrl, repository, 'v1', {
      content: 'app v1',
      config: { Cmd: ['/hello'], Env: ['FOO=bar'], Labels: { team: 'a' } },
    });
    const job = await importFrom(editor, 'imp', 'app:v1', `${registryHost}/${repository}:v1`);
    expect(job).toMatchObject({ status: 'succeeded', attempts: 1, tags: ['v1'] });
    expect(job.images).toEqual([
      {
        tag: 'v1',
        status: 'Success',
        digest: pushed.digest,
        dockerImageReference: `${registryHost}/${repository}@${pushed.digest}`,
        reason: null,
        message: null,
      },
    ]);
    const tag = await getTag(reader, 'imp', 'app:v1');
    expect(tag.image).toMatchObject({
      digest: pushed.digest,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      architecture: 'amd64',
      os: 'linux',
      config: { cmd: ['/hello'], env: ['FOO=bar'], labels: [{ key: 'team', value: 'a' }] },
    });
    expect(tag.image!.layers.map((l) => l.digest)).toEqual(pushed.layers.map((l) => l.digest));
    expect(tag.history.nodes).toHaveLength(1);
    expect(tag.pullSpec).toBe(`${registryHost}/${repository}@${pushed.digest}`);
    expect(tag.importPending).toBe(false);
    const events = (await tagEvents(reader, 'imp')).filter((e) => e.tag === 'v1');
    expect(events.map((e) => [e.cause, e.current?.digest ?? null])).toEqual([
      ['IMPORT', null], // the spec tag written by importImage
      ['IMPORT', pushed.digest],
    ]);
  });

  it('a repeated import of an unchanged image adds no history item and no event', async () => {
    const repository = repo('same');
    await pushImage(registryUrl, repository, 'v1', { content: 'same' });
    const input = {
      namespace: 'imp-same',
      image: 'same:v1',
      from: `${registryHost}/${repository}:v1`,
      confirm: true,
      insecure: true,
    };
    await importNow(editor, input);
    const before = await tagEvents(reader, 'imp-same');
    const again = await importNow(editor, { namespace: 'imp-same', image: 'same:v1' });
    expect(again.status).toBe('succeeded');
    expect((await getTag(reader, 'imp-same', 'same:v1')).history.nodes).toHaveLength(1);
    expect(await tagEvents(reader, 'imp-same')).toEqual(before);
  });

  it('a changed image pushes history, and a tracking tag follows it', async () => {
    const repository = repo('moving');
    const first = await pushImage(registryUrl, repository, 'stable', { content: 'one' });
    await importFrom(editor, 'imp-move', 'moving:stable', `${registryHost}/${repository}:stable`);
    const tagged = await editor.graphql(
      `mutation { tag(input: { namespace: "imp-move", source: "moving:stable",
        destinations: ["moving:latest"], alias: true }) { __typename } }`,
    );
    expect(tagged.errors).toBeUndefined();
    const second = await pushImage(registryUrl, repository, 'stable', { content: 'two' });
    const job = await importNow(editor, { namespace: 'imp-move', image: 'moving:stable' });
    expect(job.images[0]).toMatchObject({ status: 'Success', digest: second.digest });
    const stable = await getTag(reader, 'imp-move', 'moving:stable');
    expect(stable.history.nodes.map((n) => n.image?.digest)).toEqual([second.digest, first.digest]);
    const latest = await getTag(reader, 'imp-move', 'moving:latest');
    expect(latest.image?.digest).toBe(second.digest);
    const events = await tagEvents(reader, 'imp-move');
    expect(events.at(-1)).toMatchObject({ cause: 'TRACKING', tag: 'latest' });

    // No tag names latest; latest tracks stable, so stable is what gets imported.
    const third = await pushImage(registryUrl, repository, 'stable', { content: 'three' });
    const followed = await importNow(editor, { namespace: 'imp-move', image: 'moving' });
    expect(followed).toMatchObject({ status: 'succeeded', tags: ['stable'] });
    expect((await getTag(reader, 'imp-move', 'moving:latest')).image?.digest).toBe(third.digest);
    // A tracking tag cannot be given a registry source by import-image.
    const retarget = await callImportImage(editor, {
      namespace: 'imp-move',
      image: 'moving:latest',
      from: `${registryHost}/${repository}:other`,
    });
    expect(retarget).toMatchObject({
      __typename: 'ValidationError',
      message: `the tag "latest" points to the tag "stable" which points to "${registryHost}/${repository}:stable" - use the 'tag' command if you want to change the source to "${registryHost}/${repository}:other"`,
    });
  });

  it('a missing tag fails with ImportSuccess=False, history untouched, and is not rewritten', async () => {
    const repository = repo('missing');
    await pushImage(registryUrl, repository, 'v1', { content: 'present' });
    const ok = await importFrom(
      editor,
      'imp-fail',
      'missing:v1',
      `${registryHost}/${repository}:v1`,
    );
    expect(ok.status).toBe('succeeded');
    // An existing tag keeps its source: import-image refuses to change it, as oc does.
    const moved = await callImportImage(editor, {
      namespace: 'imp-fail',
      image: 'missing:v1',
      from: `${registryHost}/${repository}:nope`,
      insecure: true,
    });
    expect(moved).toMatchObject({
      __typename: 'ValidationError',
      field: 'image',
      message: `the tag "v1" points to "${registryHost}/${repository}:v1" - use the 'tag' command if you want to change the source to "${registryHost}/${repository}:nope"`,
    });
    // A new tag from a tag the repository lacks: the import fails for good (not found).
    const job = await importNow(editor, {
      namespace: 'imp-fail',
      image: 'missing:v2',
      from: `${registryHost}/${repository}:nope`,
      insecure: true,
    });
    expect(job.status).toBe('failed');
    expect(job.images[0]).toMatchObject({ tag: 'v2', status: 'Failure', reason: 'NotFound' });
    expect(job.lastError).toContain('nope');
    const tag = await getTag(reader, 'imp-fail', 'missing:v2');
    expect(tag.history.nodes).toHaveLength(0);
    expect(tag.conditions).toHaveLength(1);
    const condition = tag.conditions[0]!;
    expect(condition).toMatchObject({ type: 'ImportSuccess', status: 'False', reason: 'NotFound' });
    expect(condition.generation).toBe(tag.spec!.generation);
    expect(tag.importPending).toBe(false);
    expect((await getTag(reader, 'imp-fail', 'missing:v1')).history.nodes).toHaveLength(1);

    const failuresBefore = (await tagEvents(reader, 'imp-fail')).filter((e) => e.importFailure);
    expect(failuresBefore).toHaveLength(1);
    const retried = await importNow(editor, { namespace: 'imp-fail', image: 'missing:v2' });
    expect(retried.status).toBe('failed');
    const after = await getTag(reader, 'imp-fail', 'missing:v2');
    expect(after.conditions).toEqual(tag.conditions);
    const failuresAfter = (await tagEvents(reader, 'imp-fail')).filter((e) => e.importFailure);
    expect(failuresAfter).toHaveLength(1);
  });

  it('an unreachable registry is retried with backoff, then succeeds without duplicates', async () => {
    const flaky = await startRegistry();
    const repository = repo('flaky');
    const pushed = await pushImage(flaky.url, repository, 'v1', { content: 'flaky' });
    const from = `${flaky.host}/${repository}:v1`;
    await flaky.pause();
    const payload = await callImportImage(editor, {
      namespace: 'imp-retry',
      image: 'flaky:v1',
      from,
      confirm: true,
      insecure: true,
    });
    await app.importer.worker.runOnce();
    const failed = await getJob(reader, payload.job!.id);
    expect(failed).toMatchObject({ status: 'queued', attempts: 1 });
    expect(failed.images[0]).toMatchObject({ status: 'Failure', reason: 'Unavailable' });
    const condition = (await getTag(reader, 'imp-retry', 'flaky:v1')).conditions[0];
    expect(condition).toMatchObject({ status: 'False', reason: 'Unavailable' });

    await flaky.resume();
    try {
      // The backoff (scaled down to milliseconds) is over once the worker claims the job again.
      await vi.waitFor(async () => expect(await drainImports(editor)).toBeGreaterThan(0));
      const done = await getJob(reader, payload.job!.id);
      expect(done).toMatchObject({ status: 'succeeded', attempts: 2 });
      const tag = await getTag(reader, 'imp-retry', 'flaky:v1');
      expect(tag.history.nodes.map((n) => n.image?.digest)).toEqual([pushed.digest]);
      expect(tag.conditions).toEqual([]);
    } finally {
      await flaky.stop();
    }
  });
});

describe('oc tag with a DockerImage source', () => {
  it('queues an import; history changes only when it succeeds', async () => {
    const repository = repo('tagged');
    const pushed = await pushImage(registryUrl, repository, 'v1', { content: 'tagged' });
    const result = await editor.graphql<{ tag: { results: { importJobId: string | null }[] } }>(
      `mutation($source: String!) { tag(input: { namespace: "imp-tag", source: $source,
        destinations: ["app:v1"], insecure: true }) {
        ... on TagPayload { results { importJobId } } } }`,
      { source: `${registryHost}/${repository}:v1` },
    );
    expect(result.errors).toBeUndefined();
    const jobId = result.data!.tag.results[0]!.importJobId!;
    expect((await getTag(reader, 'imp-tag', 'app:v1')).history.nodes).toEqual([]);
    await drainImports(editor);
    expect(await getJob(reader, jobId)).toMatchObject({ status: 'succeeded', cause: 'tag' });
    const tag = await getTag(reader, 'imp-tag', 'app:v1');
    expect(tag.history.nodes.map((n) => n.image?.digest)).toEqual([pushed.digest]);
  });
});

describe('import jobs', () => {
  it('wait returns timedOut when no worker finishes the job in time; importJobs lists it', async () => {
    const repository = repo('waiting');
    await pushImage(registryUrl, repository, 'v1', { content: 'waiting' });
    const started = Date.now();
    const payload = await callImportImage(editor, {
      namespace: 'imp-jobs',
      image: 'waiting:v1',
      from: `${registryHost}/${repository}:v1`,
      confirm: true,
      insecure: true,
      wait: true,
      timeoutSeconds: 1,
    });
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(payload).toMatchObject({ timedOut: true, job: { status: 'queued', attempts: 0 } });
    const listed = await reader.graphql<{ importJobs: { id: string; status: string }[] }>(
      `{ importJobs(namespace: "imp-jobs") { id status } }`,
    );
    expect(listed.data!.importJobs).toEqual([{ id: payload.job!.id, status: 'queued' }]);
    await drainImports(editor);
    const after = await reader.graphql<{ importJobs: { id: string; status: string }[] }>(
      `{ importJobs(namespace: "imp-jobs", stream: "waiting") { id status } }`,
    );
    expect(after.data!.importJobs).toEqual([{ id: payload.job!.id, status: 'succeeded' }]);
  });

  it('importing into a missing stream without confirm is a not-found error', async () => {
    const payload = await callImportImage(editor, {
      namespace: 'imp-jobs',
      image: 'absent:v1',
      from: `${registryHost}/x/absent:v1`,
    });
    expect(payload).toMatchObject({ __typename: 'NotFoundError' });
    expect(payload.message).toBe(
      'no image stream named "absent" exists, pass confirm to create and import',
    );
  });
});

describe('manifest lists', () => {
  const platforms = [
    { platform: { os: 'linux', architecture: 'arm64' }, spec: { content: 'arm' } },
    { platform: { os: 'linux', architecture: 'amd64' }, spec: { content: 'amd' } },
  ];

  it('Legacy imports the server platform child; prefer-arch on the tag overrides it', async () => {
    const repository = repo('multi');
    const index = await pushIndex(registryUrl, repository, 'v1', platforms);
    const [arm, amd] = index.children;
    const from = `${registryHost}/${repository}:v1`;
    const job = await importFrom(editor, 'imp-list', 'multi:v1', from);
    expect(job.images[0]).toMatchObject({
      status: 'Success',
      digest: amd!.digest,
      dockerImageReference: `${registryHost}/${repository}@${amd!.digest}`,
    });

    await app.database.db
      .update(tags)
      .set({ annotations: { [PREFER_ARCH_ANNOTATION]: 'arm64' } })
      .where(sql`${tags.name} = 'v1' and ${tags.fromName} = ${from}`);
    await importNow(editor, { namespace: 'imp-list', image: 'multi:v1' });
    const tag = await getTag(reader, 'imp-list', 'multi:v1');
    expect(tag.image).toMatchObject({ digest: arm!.digest, architecture: 'arm64' });
    expect(tag.history.nodes.map((n) => n.image?.digest)).toEqual([arm!.digest, amd!.digest]);
  });

  it('PreserveOriginal stores the list with its children; history records the list', async () => {
    const repository = repo('keep');
    const index = await pushIndex(registryUrl, repository, 'v1', platforms, {
      mediaType: 'docker',
    });
    const job = await importFrom(
      editor,
      'imp-list',
      'keep:v1',
      `${registryHost}/${repository}:v1`,
      { importMode: 'PreserveOriginal' },
    );
    expect(job.images[0]).toMatchObject({ status: 'Success', digest: index.digest });
    const tag = await getTag(reader, 'imp-list', 'keep:v1');
    expect(tag.image).toMatchObject({
      digest: index.digest,
      mediaType: 'application/vnd.docker.distribution.manifest.list.v2+json',
    });
    expect(tag.image!.manifests).toEqual(
      index.children.map((c, i) => ({
        digest: c.digest,
        architecture: platforms[i]!.platform.architecture,
        os: 'linux',
      })),
    );
    for (const child of index.children) {
      const found = await reader.graphql<{ image: { digest: string; os: string } | null }>(
        `query($d: String!) { image(digest: $d) { digest os } }`,
        { d: child.digest },
      );
      expect(found.data!.image).toEqual({ digest: child.digest, os: 'linux' });
    }
  });

  it('tags a child of a stored list by digest or short id: pinned to the list repository', async () => {
    const repository = repo('kids');
    const index = await pushIndex(registryUrl, repository, 'v1', platforms);
    await importFrom(editor, 'imp-list', 'kids:v1', `${registryHost}/${repository}:v1`, {
      importMode: 'PreserveOriginal',
    });
    const [arm, amd] = index.children;
    // No history item names a child: its pull spec comes from the list's repository.
    const tagged = async (source: string, destination: string) => {
      const result = await editor.graphql<{
        tag: { __typename: string; message?: string; results?: { message: string }[] };
      }>(
        `mutation($s: String!, $d: String!) { tag(input: { namespace: "imp-list", source: $s,
          destinations: [$d] }) { __typename ... on TagPayload { results { message } }
          ... on Error { message } } }`,
        { s: source, d: destination },
      );
      expect(result.data!.tag.__typename, result.data!.tag.message).toBe('TagPayload');
      return getTag(reader, 'imp-list', destination);
    };
    const byDigest = await tagged(`kids@${arm!.digest}`, 'picked:arm');
    expect(byDigest.image).toMatchObject({ digest: arm!.digest, architecture: 'arm64' });
    expect(byDigest.history.nodes[0]).toMatchObject({
      dockerImageReference: `${registryHost}/${repository}@${arm!.digest}`,
    });
    const shortId = amd!.digest.slice('sha256:'.length, 'sha256:'.length + 12);
    const byShortId = await tagged(`kids@${shortId}`, 'picked:amd');
    expect(byShortId.image).toMatchObject({ digest: amd!.digest, architecture: 'amd64' });
    expect(byShortId.history.nodes[0]).toMatchObject({
      dockerImageReference: `${registryHost}/${repository}@${amd!.digest}`,
    });
  });

  it('an invalid import mode is a validation error naming the field', async () => {
    const payload = await callImportImage(editor, {
      namespace: 'imp-list',
      image: 'bad:v1',
      from: `${registryHost}/x/y:v1`,
      confirm: true,
      importMode: 'Everything',
    });
    expect(payload).toMatchObject({ __typename: 'ValidationError', field: 'importMode' });
    expect(payload.message).toContain('valid ImportMode values are Legacy or PreserveOriginal');
  });
});

describe('import --all', () => {
  it('imports at most the cap, in order, and reports the rest as additional tags', async () => {
    const started = await startTestApp({ importMaxTags: 3, importWorker: false });
    const capped = started.as(await started.member('imp-all', 'EDITOR'));
    try {
      const repository = repo('all');
      for (const tag of ['foo', 'v1.0', '1.2.3', 'latest', 'v1.1', 'bar']) {
        await pushImage(registryUrl, repository, tag, { content: `all ${tag}` });
      }
      const job = await importFrom(capped, 'imp-all', 'all', `${registryHost}/${repository}`, {
        all: true,
      });
      expect(job.status).toBe('succeeded');
      expect(job.tags, JSON.stringify(job)).toEqual(['latest', 'v1.1', 'v1.0']);
      expect(job.additionalTags).toEqual(['1.2.3', 'bar', 'foo']);
      expect(job.images.map((i) => [i.tag, i.status])).toEqual([
        ['latest', 'Success'],
        ['v1.1', 'Success'],
        ['v1.0', 'Success'],
      ]);
      const stream = await capped.graphql<{
        imageStream: { tags: { nodes: { name: string; image: { digest: string } | null }[] } };
      }>(
        `{ imageStream(namespace: "imp-all", name: "all") { tags { nodes { name image { digest } } } } }`,
      );
      expect(stream.data!.imageStream.tags.nodes.map((t) => t.name)).toEqual([
        'latest',
        'v1.0',
        'v1.1',
      ]);
      expect(stream.data!.imageStream.tags.nodes.every((t) => t.image)).toBe(true);
    } finally {
      await capped.stop();
    }
  });

  it('without from imports spec.dockerImageRepository; a new one is recorded only with confirm', async () => {
    const first = repo('first');
    const second = repo('second');
    await pushImage(registryUrl, first, 'v1', { content: 'first v1' });
    const pushed = await pushImage(registryUrl, second, 'v2', { content: 'second v2' });
    const created = await editor.graphql(
      `mutation($r: String) { createImageStream(input: { namespace: "imp-all", name: "repo",
        dockerImageRepository: $r }) { __typename } }`,
      { r: `${registryHost}/${first}` },
    );
    expect(created.errors).toBeUndefined();
    const fromSpec = await importNow(editor, {
      namespace: 'imp-all',
      image: 'repo',
      all: true,
      insecure: true,
    });
    expect(fromSpec).toMatchObject({ status: 'succeeded', tags: ['v1'] });

    const elsewhere = `${registryHost}/${second}`;
    const unconfirmed = await callImportImage(editor, {
      namespace: 'imp-all',
      image: 'repo',
      all: true,
      from: elsewhere,
      insecure: true,
    });
    expect(unconfirmed).toMatchObject({
      __typename: 'ValidationError',
      field: 'from',
      message: `the image stream has a different import spec "${registryHost}/${first}", pass confirm to update`,
    });
    const confirmed = await importFrom(editor, 'imp-all', 'repo', elsewhere, { all: true });
    expect(confirmed).toMatchObject({ status: 'succeeded', tags: ['v2'] });
    const read = `{ imageStream(namespace: "imp-all", name: "repo") { dockerImageRepository
      tags { nodes { name image { digest } } } } }`;
    const stream = await reader.graphql<{
      imageStream: {
        dockerImageRepository: string;
        tags: { nodes: { name: string; image: { digest: string } | null }[] };
      };
    }>(read);
    expect(stream.data!.imageStream.dockerImageRepository).toBe(elsewhere);
    expect(stream.data!.imageStream.tags.nodes.find((t) => t.name === 'v2')?.image?.digest).toBe(
      pushed.digest,
    );

    // updateImageStream sets and clears it; a tag in it is refused as the API server refuses it.
    const update = `mutation($r: String) { updateImageStream(input: { namespace: "imp-all",
      name: "repo", dockerImageRepository: $r }) {
        __typename ... on ImageStreamPayload { imageStream { dockerImageRepository generation } }
        ... on Error { code message } } }`;
    const tagged = await editor.graphql<{ updateImageStream: { code: string; message: string } }>(
      update,
      { r: `${elsewhere}:v2` },
    );
    expect(tagged.data!.updateImageStream).toEqual({
      __typename: 'ValidationError',
      code: 'VALIDATION',
      message: 'dockerImageRepository: the repository name may not contain a tag',
    });
    const cleared = await editor.graphql<{
      updateImageStream: { imageStream: { dockerImageRepository: string | null } };
    }>(update, { r: '' });
    expect(cleared.data!.updateImageStream.imageStream.dockerImageRepository).toBeNull();
    const nothing = await callImportImage(editor, { namespace: 'imp-all', image: 'repo:gone' });
    expect(nothing).toMatchObject({
      __typename: 'NotFoundError',
      message: `the tag "gone" does not exist on the image stream - choose an existing tag to import or use the 'tag' command to create a new tag`,
    });
    const reset = await editor.graphql<{
      updateImageStream: { imageStream: { dockerImageRepository: string | null } };
    }>(update, { r: `${registryHost}/${first}` });
    expect(reset.data!.updateImageStream.imageStream.dockerImageRepository).toBe(
      `${registryHost}/${first}`,
    );
  });

  it('refuses a tag or a digest with all', async () => {
    const withTag = await callImportImage(editor, {
      namespace: 'imp-all',
      image: 'all:v1',
      from: `${registryHost}/x/y`,
      all: true,
      confirm: true,
    });
    expect(withTag).toMatchObject({ __typename: 'ValidationError', field: 'image' });
  });
});
