// The importer's cluster-wide policy: registry allow and block lists, the cap on scheduled checks a
// minute, the backoff of a scheduled tag whose source is gone, the repository-check annotation.
// The rules: docs/importer.md#cluster-wide-import-policy.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sql } from 'drizzle-orm';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { rowsOf } from '../../src/db/client.ts';
import {
  parseRegistryRule,
  parseRegistryRules,
  type RegistryPolicy,
} from '../../src/domain/registryRules.ts';
import { createImporter } from '../../src/importer/importer.ts';
import { startTestApp, TEST_SECRET_KEY, type TestApp, testConfig } from '../support/app.ts';
import { pushImage } from '../support/images.ts';
import { callImportImage, drainImports, getTag, importFrom, makeDue } from '../support/imports.ts';

const registryUrl = inject('registryUrl');
const registryHost = new URL(registryUrl).host;
const INTERVAL_MS = 60_000;
const repo = (name: string) =>
  `policy-${process.pid}-${Math.random().toString(36).slice(2, 8)}/${name}`;

/** The app's policy object: tests change it in place, as the app reads it on every use. */
const registries: RegistryPolicy = { allowed: null, blocked: [] };
const NAMESPACES = ['pol', 'pol-sched', 'pol-cap', 'pol-gone', 'pol-check'];
let app: TestApp;
let editor: TestApp;
/** A plain HTTP server standing in for a registry: answers 404 to everything and counts. */
let counting: Server;
let countingHost: string;
let hits = 0;

beforeAll(async () => {
  counting = createServer((request, response) => {
    hits += 1;
    request.resume();
    response.writeHead(404, { 'content-type': 'application/json' });
    response.end('{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}');
  });
  await new Promise<void>((done) => counting.listen(0, '127.0.0.1', done));
  countingHost = `127.0.0.1:${(counting.address() as AddressInfo).port}`;
  app = await startTestApp({ importIntervalMs: INTERVAL_MS, importRegistries: registries });
  editor = app.as(await app.member(NAMESPACES, 'EDITOR'));
});
afterAll(async () => {
  await app.stop();
  await new Promise((done) => counting.close(done));
});

function setPolicy(allowed: string | null, blocked = '') {
  registries.allowed = allowed === null ? null : parseRegistryRules(allowed);
  registries.blocked = parseRegistryRules(blocked);
}

/** How many intervals from now the tag's next scheduled check is, to a tenth. */
async function intervalsAhead(namespace: string, tag: string): Promise<number> {
  const [row] = rowsOf<{ seconds: number }>(
    await app.database.db.execute(sql`
      select extract(epoch from t.next_import_at - now())::float8 as seconds
      from tags t join image_streams s on s.id = t.stream_id
      where s.namespace = ${namespace} and t.name = ${tag}`),
  );
  return Math.round((Number(row!.seconds) * 10) / (INTERVAL_MS / 1000)) / 10;
}

async function jobCount(namespace: string): Promise<number> {
  const [row] = rowsOf<{ n: number }>(
    await app.database.db.execute(
      sql`select count(*)::int as n from import_jobs where namespace = ${namespace}`,
    ),
  );
  return Number(row!.n);
}

const TAG = `mutation($input: TagInput!) {
  tag(input: $input) {
    __typename
    ... on TagPayload { results { tag } }
    ... on Error { code field message }
  }
}`;

describe('registry rules', () => {
  it('parses host[:port], *.domain and ;insecure entries, and refuses anything else', () => {
    expect(parseRegistryRule('Quay.io')).toMatchObject({ host: 'quay.io', port: null });
    expect(parseRegistryRule('*.corp.example:5000;insecure')).toMatchObject({
      host: '*.corp.example',
      port: '5000',
      insecure: true,
    });
    expect(parseRegistryRule('127.0.0.1:*')).toMatchObject({ port: '*', insecure: false });
    expect(() => parseRegistryRule('https://quay.io')).toThrow(/is not a registry/);
    expect(() => parseRegistryRule('quay.io;plain')).toThrow(/unknown flag plain/);
  });
});

describe('allowed and blocked registries', () => {
  /** importImage into namespace pol, confirmed and insecure: the payload or the typed refusal. */
  const askToImport = (image: string, from: string) =>
    callImportImage(editor, { namespace: 'pol', image, from, confirm: true, insecure: true });

  it('importImage from a blocked registry is a ForbiddenError; nothing is queued or fetched', async () => {
    setPolicy(null, countingHost);
    hits = 0;
    const refused = await askToImport('blocked:v1', `${countingHost}/team/app:v1`);
    expect(refused).toMatchObject({
      __typename: 'ForbiddenError',
      code: 'FORBIDDEN',
      field: 'from',
    });
    expect(refused.message).toBe(
      `importing images from registry "${countingHost}" is not allowed: it is blocked (by "${countingHost}" in TAGRAPH_IMPORT_BLOCKED_REGISTRIES)`,
    );
    expect(await jobCount('pol')).toBe(0);
    expect(hits).toBe(0);
  });

  it('with an allow list, tag refuses other registries and insecure imports from secure-only entries', async () => {
    setPolicy(`quay.io,${registryHost}`);
    const other = await editor.graphql<{ tag: Record<string, unknown> }>(TAG, {
      input: {
        namespace: 'pol',
        source: `${countingHost}/team/app:v1`,
        destinations: ['other:v1'],
        insecure: true,
      },
    });
    expect(other.data?.tag).toMatchObject({ __typename: 'ForbiddenError', field: 'source' });
    expect(other.data?.tag.message).toBe(
      `importing images from registry "${countingHost}" is not allowed: only "quay.io", "${registryHost}" are allowed (TAGRAPH_IMPORT_ALLOWED_REGISTRIES)`,
    );
    const insecure = await askToImport('secure-only:v1', `${registryHost}/team/app:v1`);
    expect(insecure).toMatchObject({ __typename: 'ForbiddenError', field: 'from' });
    expect(insecure.message).toContain('as insecure is not allowed');
    expect(await jobCount('pol')).toBe(0);

    // An entry marked ;insecure allows the same import.
    setPolicy(`quay.io,${registryHost};insecure`);
    const repository = repo('allowed');
    const image = await pushImage(registryUrl, repository, 'v1', { content: 'allowed' });
    const job = await importFrom(editor, 'pol', 'allowed:v1', `${registryHost}/${repository}:v1`);
    expect(job.images).toMatchObject([{ status: 'Success', digest: image.digest }]);
  });

  it('a scheduled tag whose registry becomes refused gets ImportSuccess=False Forbidden, fetching nothing', async () => {
    setPolicy(null);
    await importFrom(editor, 'pol-sched', 'later:v1', `${countingHost}/team/app:v1`, {
      scheduled: true,
    });
    expect((await getTag(editor, 'pol-sched', 'later:v1')).conditions).toMatchObject([
      { status: 'False', reason: 'NotFound' },
    ]);
    setPolicy(null, '*.example.com,127.0.0.1:*');
    hits = 0;
    await makeDue(app, 'pol-sched');
    expect(await app.importer.scheduler.runOnce()).toEqual({ checked: 1, queued: 1 });
    expect(await drainImports(app)).toBe(1);
    const tag = await getTag(editor, 'pol-sched', 'later:v1');
    expect(tag.conditions).toMatchObject([
      {
        status: 'False',
        reason: 'Forbidden',
        message: `importing images from registry "${countingHost}" is not allowed: it is blocked (by "127.0.0.1:*" in TAGRAPH_IMPORT_BLOCKED_REGISTRIES)`,
      },
    ]);
    expect(hits).toBe(0);
    setPolicy(null);
  });
});

describe('scheduled imports', () => {
  it('at most 60 scheduled checks start a minute, across schedulers, by the scheduler clock', async () => {
    setPolicy(null);
    const repository = repo('capped');
    await pushImage(registryUrl, repository, 'v1', { content: 'capped' });
    const TAGS = 150;
    for (let start = 0; start < TAGS; start += 50) {
      const result = await editor.graphql<{ tag: { __typename: string } }>(TAG, {
        input: {
          namespace: 'pol-cap',
          source: `${registryHost}/${repository}:v1`,
          destinations: Array.from({ length: 50 }, (_, i) => `capped:t${start + i}`),
          insecure: true,
          scheduled: true,
        },
      });
      expect(result.data?.tag.__typename).toBe('TagPayload');
    }
    expect(await drainImports(app)).toBeGreaterThan(0);
    await makeDue(app, 'pol-cap');

    // A second process's scheduler on the same database shares the minute's count.
    const other = createImporter(
      testConfig({ importIntervalMs: INTERVAL_MS }),
      app.database,
      pino({ level: 'silent' }),
      TEST_SECRET_KEY,
    );
    const minute = Math.floor(Date.now() / 60_000) * 60_000 + 10 * 60_000;
    let now = minute;
    app.importer.scheduler.clock = () => now;
    other.scheduler.clock = () => now;
    const checkedIn: number[] = [];
    try {
      for (let window = 0; window < 4; window += 1) {
        now = minute + window * 60_000 + 5_000;
        let checked = 0;
        // Each scheduler passes three times within the minute.
        for (let pass = 0; pass < 3; pass += 1) {
          checked += (await app.importer.scheduler.runOnce()).checked;
          now += 10_000;
          checked += (await other.scheduler.runOnce()).checked;
        }
        checkedIn.push(checked);
      }
    } finally {
      app.importer.scheduler.clock = Date.now;
      await other.stop();
    }
    expect(checkedIn).toEqual([60, 60, 30, 0]);
    const [claimed] = rowsOf<{ n: number }>(
      await app.database.db.execute(sql`
        select count(*)::int as n from tags t join image_streams s on s.id = t.stream_id
        where s.namespace = 'pol-cap' and t.next_import_at > now()`),
    );
    expect(Number(claimed!.n)).toBe(TAGS);
  });

  it('a scheduled tag whose source is gone backs off exponentially, capped at 32 intervals', async () => {
    const repository = repo('gone');
    await importFrom(editor, 'pol-gone', 'gone:v1', `${registryHost}/${repository}:v1`, {
      scheduled: true,
    });
    const waits = [await intervalsAhead('pol-gone', 'v1')];
    for (let pass = 0; pass < 6; pass += 1) {
      // While it backs off, a pass finds nothing due and queues nothing.
      expect(await app.importer.scheduler.runOnce()).toEqual({ checked: 0, queued: 0 });
      await makeDue(app, 'pol-gone');
      expect(await app.importer.scheduler.runOnce()).toEqual({ checked: 1, queued: 1 });
      expect(await drainImports(app)).toBe(1);
      waits.push(await intervalsAhead('pol-gone', 'v1'));
    }
    expect(waits).toEqual([2, 4, 8, 16, 32, 32, 32]);
    expect((await getTag(editor, 'pol-gone', 'gone:v1')).conditions).toMatchObject([
      { status: 'False', reason: 'NotFound' },
    ]);

    // The source comes back: one success ends the backoff.
    await pushImage(registryUrl, repository, 'v1', { content: 'back' });
    await makeDue(app, 'pol-gone');
    expect(await app.importer.scheduler.runOnce()).toEqual({ checked: 1, queued: 1 });
    await drainImports(app);
    expect((await getTag(editor, 'pol-gone', 'gone:v1')).conditions).toEqual([]);
    expect(await intervalsAhead('pol-gone', 'v1')).toBe(1);
  });
});

describe('the repository-check annotation', () => {
  it('an import stamps openshift.io/image.dockerRepositoryCheck on the stream (RFC 3339)', async () => {
    const repository = repo('checked');
    await pushImage(registryUrl, repository, 'v1', { content: 'checked' });
    const before = Math.floor(Date.now() / 1000) * 1000;
    await importFrom(editor, 'pol-check', 'checked:v1', `${registryHost}/${repository}:v1`);
    const result = await editor.graphql<{
      imageStream: { annotations: { key: string; value: string }[] };
    }>(`{ imageStream(namespace: "pol-check", name: "checked") { annotations { key value } } }`);
    expect(result.errors).toBeUndefined();
    const stamp = result.data!.imageStream.annotations.find(
      (a) => a.key === 'openshift.io/image.dockerRepositoryCheck',
    );
    expect(stamp?.value).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const at = Date.parse(stamp!.value);
    expect(at).toBeGreaterThanOrEqual(before);
    expect(at).toBeLessThanOrEqual(Date.now());
  });
});
