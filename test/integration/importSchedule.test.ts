// Scheduled re-import, and the worker running inside `npm start`; `npm run worker` refuses PGlite.
// The rules: docs/rules.md#scheduled-imports.
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { rowsOf } from '../../src/db/client.ts';
import {
  ADMIN_HEADERS,
  spawnEntry,
  spawnServer,
  startTestApp,
  type TestApp,
} from '../support/app.ts';
import { pushImage } from '../support/images.ts';
import { drainImports, getTag, importFrom, makeDue, tagEvents } from '../support/imports.ts';

const registryUrl = inject('registryUrl');
const registryHost = new URL(registryUrl).host;
const repo = (name: string) =>
  `sched-${process.pid}-${Math.random().toString(36).slice(2, 8)}/${name}`;

let app: TestApp;
/** Imports are an editor's; the tags and events they leave, a puller's to read. */
let editor: TestApp;
let reader: TestApp;
beforeAll(async () => {
  app = await startTestApp({ importIntervalMs: 60_000 });
  editor = app.as(await app.member(['sched', 'sched-fail', 'sched-pin'], 'EDITOR'));
  reader = app.as(await app.member(['sched', 'sched-fail', 'sched-pin'], 'IMAGE_PULLER'));
});
afterAll(async () => {
  await app.stop();
});

async function nextImportAt(namespace: string, tag: string): Promise<Date | null> {
  const [row] = rowsOf<{ at: string | Date | null }>(
    await app.database.db.execute(sql`
      select t.next_import_at as at from tags t join image_streams s on s.id = t.stream_id
      where s.namespace = ${namespace} and t.name = ${tag}`),
  );
  return row?.at ? new Date(row.at) : null;
}

describe('scheduled re-import', () => {
  it('HEAD-checks due tags: unchanged writes nothing; changed imports with cause SCHEDULED_IMPORT', async () => {
    const repository = repo('watched');
    const first = await pushImage(registryUrl, repository, 'v1', { content: 'w1' });
    await importFrom(editor, 'sched', 'watched:v1', `${registryHost}/${repository}:v1`, {
      scheduled: true,
    });
    const next = await nextImportAt('sched', 'v1');
    expect(next!.getTime()).toBeGreaterThan(Date.now() + 50_000);
    expect(await app.importer.scheduler.runOnce()).toEqual({ checked: 0, queued: 0 });

    await makeDue(app, 'sched');
    const eventsBefore = await tagEvents(reader, 'sched');
    expect(await app.importer.scheduler.runOnce()).toEqual({ checked: 1, queued: 0 });
    expect(await drainImports(app)).toBe(0);
    expect(await tagEvents(reader, 'sched')).toEqual(eventsBefore);
    expect((await nextImportAt('sched', 'v1'))!.getTime()).toBeGreaterThan(Date.now() + 50_000);

    const second = await pushImage(registryUrl, repository, 'v1', { content: 'w2' });
    await makeDue(app, 'sched');
    expect(await app.importer.scheduler.runOnce()).toEqual({ checked: 1, queued: 1 });
    // A tag whose import is queued is not checked again meanwhile.
    await makeDue(app, 'sched');
    expect(await app.importer.scheduler.runOnce()).toEqual({ checked: 0, queued: 0 });
    expect(await drainImports(app)).toBe(1);
    const tag = await getTag(reader, 'sched', 'watched:v1');
    expect(tag.history.nodes.map((n) => n.image?.digest)).toEqual([second.digest, first.digest]);
    const last = (await tagEvents(reader, 'sched')).at(-1);
    expect(last).toMatchObject({ cause: 'SCHEDULED_IMPORT', tag: 'v1' });
    expect(last?.current?.digest).toBe(second.digest);
  });

  it('a digest-pinned source stops being scheduled after its first successful import', async () => {
    const repository = repo('pinned');
    const image = await pushImage(registryUrl, repository, 'v1', { content: 'pinned' });
    const job = await importFrom(
      editor,
      'sched-pin',
      'pinned:v1',
      `${registryHost}/${repository}@${image.digest}`,
      { scheduled: true },
    );
    expect(job.status).toBe('succeeded');
    expect(await nextImportAt('sched-pin', 'v1')).toBeNull();
  });

  it('a failing scheduled tag is retried an interval later, keeping one condition', async () => {
    const repository = repo('gone');
    await pushImage(registryUrl, repository, 'v1', { content: 'gone' });
    await importFrom(editor, 'sched-fail', 'gone:v1', `${registryHost}/${repository}:v2`, {
      scheduled: true,
    });
    const tag = await getTag(reader, 'sched-fail', 'gone:v1');
    expect(tag.conditions).toMatchObject([{ status: 'False', reason: 'NotFound' }]);
    expect((await nextImportAt('sched-fail', 'v1'))!.getTime()).toBeGreaterThan(Date.now());
    await makeDue(app, 'sched-fail');
    expect(await app.importer.scheduler.runOnce()).toEqual({ checked: 1, queued: 1 });
    await drainImports(app);
    expect((await getTag(reader, 'sched-fail', 'gone:v1')).conditions).toEqual(tag.conditions);
  });
});

describe('where the worker runs', () => {
  it('`npm start` runs the worker in process: importImage with wait returns the result', async () => {
    const repository = repo('served');
    const image = await pushImage(registryUrl, repository, 'v1', { content: 'served' });
    // On PGlite the file's data directory is this process's; the child gets its own, in memory.
    const server = await spawnServer({ TAGRAPH_IMPORT_WORKER: 'true', TAGRAPH_DATA_DIR: 'memory' });
    try {
      const response = await fetch(`${server.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...ADMIN_HEADERS },
        body: JSON.stringify({
          query: `mutation($input: ImportImageInput!) { importImage(input: $input) {
            ... on ImportImagePayload { timedOut job { status images { status digest } } } } }`,
          variables: {
            input: {
              namespace: 'served',
              image: 'app:v1',
              from: `${registryHost}/${repository}:v1`,
              confirm: true,
              insecure: true,
              wait: true,
              timeoutSeconds: 30,
            },
          },
        }),
      });
      const body = (await response.json()) as { data: { importImage: Record<string, unknown> } };
      expect(body.data.importImage).toEqual({
        timedOut: false,
        job: { status: 'succeeded', images: [{ status: 'Success', digest: image.digest }] },
      });
    } finally {
      server.process.kill('SIGTERM');
      expect((await server.exited).code).toBe(0);
    }
  });

  it('`npm run worker` refuses the embedded database with a clear message', async () => {
    const worker = spawnEntry('worker', { DATABASE_URL: '' });
    expect((await worker.exited).code).toBe(2);
    expect(worker.stderr()).toContain('DATABASE_URL is required');
  });
});
