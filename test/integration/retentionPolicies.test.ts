// Retention policies: a namespace admin stores pruning rules that the runner applies when due (a
// policy's row is held by one runner at a time), runs them by hand with a dry run first, and reads
// each policy's last run; runs emit the PRUNE change events of pruneTagHistory.
import { sql } from 'drizzle-orm';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rowsOf } from '../../src/db/client.ts';
import { RetentionRunner } from '../../src/importer/retention.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { seedAgedHistory, seedStream } from '../support/seed.ts';

const NS = 'keep';
const quiet = pino({ level: 'silent' });

let app: TestApp;
let admin: TestApp;

/** A tag with `items` history items (generation 1 oldest), all a week old but the newest. */
const seedHistory = (streamId: number, tag: string, items: number) =>
  seedAgedHistory(app.database.db, streamId, tag, {
    items,
    repository: `quay.io/k/${tag}`,
    digestSeed: `keep-${streamId}-${tag}`,
  });

async function historyCount(stream: string, tag: string): Promise<number> {
  const [row] = rowsOf<{ n: number }>(
    await app.database.db.execute(sql`
      select count(h.id)::int as n from tag_history h join tags t on t.id = h.tag_id
      join image_streams s on s.id = t.stream_id
      where s.namespace = ${NS} and s.name = ${stream} and t.name = ${tag}`),
  );
  return Number(row!.n);
}

const POLICY_FIELDS = `namespace name keepTagRevisions keepYoungerThanMinutes streams includeTags
  excludeTags intervalMinutes enabled nextRunAt lastRunAt
  lastRun { outcome trigger historyItemCount tagCount message }`;

type Policy = {
  name: string;
  intervalMinutes: number;
  enabled: boolean;
  nextRunAt: string | null;
  lastRunAt: string | null;
  lastRun: {
    outcome: string;
    trigger: string;
    historyItemCount: number;
    tagCount: number;
  } | null;
  includeTags: string[];
};

type SetPayload = {
  __typename: string;
  created?: boolean;
  policy?: Policy;
  problems?: { field: string }[];
  code?: string;
};

async function setPolicy(caller: TestApp, input: Record<string, unknown>): Promise<SetPayload> {
  const result = await caller.graphql<{ setRetentionPolicy: SetPayload }>(
    `mutation($input: SetRetentionPolicyInput!) { setRetentionPolicy(input: $input) {
      __typename
      ... on SetRetentionPolicyPayload { created policy { ${POLICY_FIELDS} } }
      ... on ValidationError { problems { field } }
      ... on Error { code } } }`,
    { input: { namespace: NS, ...input } },
  );
  expect(result.errors).toBeUndefined();
  return result.data!.setRetentionPolicy;
}

async function policies(): Promise<Policy[]> {
  const result = await admin.graphql<{ retentionPolicies: Policy[] }>(
    `{ retentionPolicies(namespace: "${NS}") { ${POLICY_FIELDS} } }`,
  );
  expect(result.errors).toBeUndefined();
  return result.data!.retentionPolicies;
}

const policy = async (name: string) => (await policies()).find((p) => p.name === name);

/** Makes a policy due now, as if its interval had passed. */
async function makeDue(name: string): Promise<void> {
  await app.database.db.execute(sql`
    update retention_policies set next_run_at = now() - interval '1 minute'
    where namespace = ${NS} and name = ${name}`);
}

async function pruneEvents(
  stream: string,
): Promise<{ tag: string; prunedGenerations: number[] }[]> {
  const page = await admin.graphql<{
    tagEvents: { events: { tag: string; prunedGenerations: number[] }[] };
  }>(
    `{ tagEvents(namespace: "${NS}", filter: { streams: ["${stream}"], causes: [PRUNE] }) {
      events { tag prunedGenerations } } }`,
  );
  return page.data!.tagEvents.events;
}

beforeAll(async () => {
  app = await startTestApp();
  for (const name of ['manual', 'sched', 'timer', 'off']) {
    const stream = await seedStream(app.database.db, { namespace: NS, name });
    await seedHistory(stream.id, 'v1', 5);
    await seedHistory(stream.id, 'main', 5);
  }
  admin = app.as(await app.member(NS, 'ADMIN'));
});

afterAll(() => app?.stop());

describe('setRetentionPolicy, retentionPolicies, deleteRetentionPolicy', () => {
  it('creates, replaces and lists a policy, first due one interval ahead', async () => {
    const before = Date.now();
    const created = await setPolicy(admin, {
      name: 'nightly',
      keepTagRevisions: 2,
      includeTags: ['v*'],
      intervalMinutes: 30,
    });
    expect(created).toMatchObject({ created: true, policy: { name: 'nightly', lastRun: null } });
    const due = Date.parse(created.policy!.nextRunAt!);
    expect(due).toBeGreaterThanOrEqual(before + 30 * 60_000 - 5_000);
    expect(due).toBeLessThanOrEqual(Date.now() + 30 * 60_000 + 5_000);
    // The same interval keeps the next run; new rules replace the old ones whole.
    const replaced = await setPolicy(admin, { name: 'nightly', intervalMinutes: 30 });
    expect(replaced).toMatchObject({ created: false, policy: { includeTags: [] } });
    expect(replaced.policy!.nextRunAt).toBe(created.policy!.nextRunAt);
    expect((await policies()).map((p) => p.name)).toEqual(['nightly']);
  });

  it('refuses bad rules by field, an interval under 5 minutes among them', async () => {
    const invalid = await setPolicy(admin, {
      name: 'Bad_Name',
      keepTagRevisions: 0,
      excludeTags: ['a/b'],
      intervalMinutes: 4,
    });
    expect(invalid.problems!.map((p) => p.field).sort()).toEqual([
      'excludeTags.0',
      'intervalMinutes',
      'keepTagRevisions',
      'name',
    ]);
    const tooRare = await setPolicy(admin, { name: 'rare', intervalMinutes: 7 * 24 * 60 + 1 });
    expect(tooRare.problems!.map((p) => p.field)).toEqual(['intervalMinutes']);
  });

  it('refuses an editor everywhere, in the words of oc', async () => {
    const editor = app.as(await app.member(NS, 'EDITOR', 'keep-editor'));
    const calls = [
      `mutation { setRetentionPolicy(input: { namespace: "${NS}", name: "sneaky" }) { __typename } }`,
      `{ retentionPolicies(namespace: "${NS}") { name } }`,
      `mutation { runRetentionPolicy(input: { namespace: "${NS}", name: "nightly", dryRun: false }) {
        __typename } }`,
      `mutation { deleteRetentionPolicy(input: { namespace: "${NS}", name: "nightly" }) {
        __typename } }`,
    ];
    const answers = [];
    for (const call of calls) {
      const { errors } = await editor.graphql(call);
      expect(errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
      answers.push(errors![0]!.message.replace(/ in the namespace.*/, ''));
    }
    expect(answers).toEqual([
      'forbidden: User "keep-editor" cannot update resource "retentionpolicies"',
      'forbidden: User "keep-editor" cannot list resource "retentionpolicies"',
      'forbidden: User "keep-editor" cannot update resource "retentionpolicies"',
      'forbidden: User "keep-editor" cannot delete resource "retentionpolicies"',
    ]);
    expect((await policy('nightly'))!.enabled).toBe(true);
  });

  it('deletes a policy, and answers NOT_FOUND for one that is gone', async () => {
    const DELETE = `mutation { deleteRetentionPolicy(input: { namespace: "${NS}", name: "nightly" }) {
      __typename ... on DeleteRetentionPolicyPayload { policy { name } } ... on Error { code } } }`;
    const first = await admin.graphql<{ deleteRetentionPolicy: { policy?: { name: string } } }>(
      DELETE,
    );
    expect(first.data!.deleteRetentionPolicy.policy).toEqual({ name: 'nightly' });
    const again = await admin.graphql<{ deleteRetentionPolicy: { code?: string } }>(DELETE);
    expect(again.data!.deleteRetentionPolicy.code).toBe('NOT_FOUND');
    expect(await policies()).toEqual([]);
  });
});

describe('runRetentionPolicy', () => {
  const RUN = `mutation($input: RunRetentionPolicyInput!) { runRetentionPolicy(input: $input) {
    __typename
    ... on RunRetentionPolicyPayload {
      report { dryRun historyItemCount historyItems { stream tag index } }
      policy { lastRun { outcome trigger historyItemCount tagCount message } } }
    ... on Error { code } } }`;
  type RunPayload = {
    report: {
      dryRun: boolean;
      historyItemCount: number;
      historyItems: { stream: string; tag: string; index: number }[];
    };
    policy: { lastRun: Policy['lastRun'] };
  };

  it('reports in a dry run, then removes, records the run and emits PRUNE events', async () => {
    await setPolicy(admin, {
      name: 'by-hand',
      keepTagRevisions: 2,
      streams: ['manual'],
      excludeTags: ['main'],
    });
    const run = async (dryRun: boolean) =>
      (
        await admin.graphql<{ runRetentionPolicy: RunPayload }>(RUN, {
          input: { namespace: NS, name: 'by-hand', dryRun },
        })
      ).data!.runRetentionPolicy;
    const dry = await run(true);
    expect(dry.report).toMatchObject({ dryRun: true, historyItemCount: 3 });
    expect(dry.report.historyItems.map((i) => `${i.stream}:${i.tag}@${i.index}`)).toEqual([
      'manual:v1@2',
      'manual:v1@3',
      'manual:v1@4',
    ]);
    expect(dry.policy.lastRun).toBeNull();
    expect(await historyCount('manual', 'v1')).toBe(5);

    const real = await run(false);
    expect(real.report).toMatchObject({ dryRun: false, historyItemCount: 3 });
    expect(real.policy.lastRun).toEqual({
      outcome: 'SUCCEEDED',
      trigger: 'MANUAL',
      historyItemCount: 3,
      tagCount: 1,
      message: '',
    });
    expect(await historyCount('manual', 'v1')).toBe(2);
    expect(await historyCount('manual', 'main')).toBe(5);
    await expect
      .poll(() => pruneEvents('manual'))
      .toEqual([{ tag: 'v1', prunedGenerations: [3, 2, 1] }]);
  });
});

describe('the retention runner', () => {
  it('runs a due policy once when two runners race for it, and schedules the next run', async () => {
    await setPolicy(admin, { name: 'sched', keepTagRevisions: 1, streams: ['sched'] });
    await setPolicy(admin, {
      name: 'off',
      keepTagRevisions: 1,
      streams: ['off'],
      enabled: false,
    });
    await makeDue('sched');
    await makeDue('off');
    const passes = await Promise.all([
      app.importer.retention.runOnce(),
      app.importer.retention.runOnce(),
      new RetentionRunner(app.database, quiet).runOnce(),
    ]);
    expect(passes.reduce((sum, p) => sum + p.ran, 0)).toBe(1);
    expect(passes.reduce((sum, p) => sum + p.failed, 0)).toBe(0);
    expect(await historyCount('sched', 'v1')).toBe(1);
    expect(await historyCount('sched', 'main')).toBe(1);
    // Disabled: never run, however due.
    expect(await historyCount('off', 'v1')).toBe(5);
    expect((await policy('off'))!.nextRunAt).toBeNull();

    const ran = (await policy('sched'))!;
    expect(ran.lastRun).toEqual({
      outcome: 'SUCCEEDED',
      trigger: 'SCHEDULE',
      historyItemCount: 8,
      tagCount: 2,
      message: '',
    });
    expect(Date.parse(ran.nextRunAt!)).toBeGreaterThan(Date.now() + 55 * 60_000);
    await expect
      .poll(async () => (await pruneEvents('sched')).map((e) => e.tag).sort())
      .toEqual(['main', 'v1']);
    // Not due any more: the next pass runs nothing.
    expect((await app.importer.retention.runOnce()).ran).toBe(0);
  });

  it('records a failed run as FAILED, rolls it back, and still moves the next run ahead', async () => {
    await setPolicy(admin, { name: 'broken', keepTagRevisions: 1, streams: ['off'] });
    // A row no API call can write (streams not a list): the run throws inside its transaction.
    await app.database.db.execute(sql`
      update retention_policies set streams = '"off"'::jsonb, next_run_at = now() - interval '1 minute'
      where namespace = ${NS} and name = 'broken'`);
    const pass = await app.importer.retention.runOnce();
    expect(pass).toEqual({ ran: 0, failed: 1 });
    const [row] = rowsOf<{ last_result: { outcome: string; message: string }; due: boolean }>(
      await app.database.db.execute(sql`
        select last_result, next_run_at > now() + interval '55 minutes' as due
        from retention_policies where namespace = ${NS} and name = 'broken'`),
    );
    expect(row!.last_result.outcome).toBe('FAILED');
    expect(row!.last_result.message).not.toBe('');
    expect(row!.due).toBe(true);
    expect(await historyCount('off', 'v1')).toBe(5);
    expect((await app.importer.retention.runOnce()).failed).toBe(0);
    await app.database.db.execute(
      sql`delete from retention_policies where namespace = ${NS} and name = 'broken'`,
    );
  });

  it('runs due policies from its timer once started', async () => {
    await setPolicy(admin, { name: 'timer', keepTagRevisions: 3, streams: ['timer'] });
    await makeDue('timer');
    const runner = new RetentionRunner(app.database, quiet, 100);
    runner.start();
    try {
      await expect
        .poll(async () => (await policy('timer'))?.lastRun?.trigger, { timeout: 10_000 })
        .toBe('SCHEDULE');
    } finally {
      await runner.stop();
    }
    expect(await historyCount('timer', 'v1')).toBe(3);
  });
});
