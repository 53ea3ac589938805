// An import failure's change event names what queued the import (a scheduled check, a spec
// change), as a success's does, instead of always IMPORT.
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { bearer, startTestApp, type TestApp } from '../support/app.ts';
import { deleteManifest, pushImage } from '../support/images.ts';
import { drainImports, importFrom } from '../support/imports.ts';

const registryUrl = inject('registryUrl');
const registryHost = new URL(registryUrl).host;
const NAMESPACE = 'failure-cause';

let app: TestApp;
let editor: string;
let puller: string;

beforeAll(async () => {
  app = await startTestApp({ importIntervalMs: 60_000 });
  editor = await app.member(NAMESPACE, 'EDITOR');
  puller = await app.member(NAMESPACE, 'IMAGE_PULLER');
});

afterAll(async () => {
  await app?.stop();
});

/** The app as the import helpers see it, every request made with `token`. */
function speakingAs(token: string): TestApp {
  return {
    ...app,
    graphql: (query, variables, headers) =>
      app.graphql(query, variables, { ...bearer(token), ...headers }),
  };
}

async function failureEvents() {
  const reply = await app.call<{
    tagEvents: {
      events: { cause: string; tag: string; importFailure: { reason: string } | null }[];
    };
  }>(
    puller,
    `query($ns: String!) { tagEvents(namespace: $ns, first: 100) {
      events { cause tag importFailure { reason } } } }`,
    { ns: NAMESPACE },
  );
  expect(reply.errors).toBeUndefined();
  return reply.data!.tagEvents.events.filter((e) => e.importFailure !== null);
}

describe('import failure events', () => {
  it('a scheduled check that fails says SCHEDULED_IMPORT; the import a user asked for, IMPORT', async () => {
    const repository = `cause-${process.pid}-${Math.random().toString(36).slice(2, 8)}/app`;
    const image = await pushImage(registryUrl, repository, 'v1', { content: 'cause' });
    /** A scheduled import of `tag` from the repository into app:<tag>, as the editor. */
    const importScheduled = (tag: string) =>
      importFrom(
        speakingAs(editor),
        NAMESPACE,
        `app:${tag}`,
        `${registryHost}/${repository}:${tag}`,
        {
          scheduled: true,
        },
      );
    const job = await importScheduled('v1');
    expect(job.status).toBe('succeeded');
    expect(await failureEvents()).toEqual([]);

    // The source goes away; the next scheduled check finds it gone.
    await deleteManifest(registryUrl, repository, image.digest);
    await app.database.db.execute(sql`
      update tags set next_import_at = now() - interval '1 second'
      from image_streams s where s.id = tags.stream_id and s.namespace = ${NAMESPACE}`);
    expect(await app.importer.scheduler.runOnce()).toEqual({ checked: 1, queued: 1 });
    await drainImports(app);
    expect(await failureEvents()).toEqual([
      { cause: 'SCHEDULED_IMPORT', tag: 'v1', importFailure: { reason: 'NotFound' } },
    ]);

    // A missing source imported by hand (into a new tag: an existing tag keeps its source):
    // a user's import.
    const manual = await importScheduled('v2');
    expect(manual.status).toBe('failed');
    const events = await failureEvents();
    expect(events.map((e) => e.cause)).toEqual(['SCHEDULED_IMPORT', 'IMPORT']);
  });
});
