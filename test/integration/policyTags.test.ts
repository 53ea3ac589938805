// Policy tags against a real registry: winners, scheduled and on-demand passes, tracking
// followers, passes that write nothing, and refused policies. The rules: docs/policy-tags.md.
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ownStatements, startTestApp, type TestApp } from '../support/app.ts';
import { pushImage } from '../support/images.ts';
import { drainImports, getJob, getTag, tagEvents } from '../support/imports.ts';
import { rowCounts } from '../support/rowCounts.ts';

const registryUrl = inject('registryUrl');
const registryHost = new URL(registryUrl).host;
const repo = (name: string) =>
  `policy-${process.pid}-${Math.random().toString(36).slice(2, 8)}/${name}`;
const SIG = `sha256-${'ab'.repeat(32)}.sig`;
const NS = [
  'pol-semver',
  'pol-pattern',
  'pol-build',
  'pol-move',
  'pol-bad',
  'pol-fail',
  'pol-preview',
];

let app: TestApp;
let editor: TestApp;
let reader: TestApp;
beforeAll(async () => {
  app = await startTestApp({ importIntervalMs: 60_000 });
  editor = app.as(await app.member(NS, 'EDITOR'));
  reader = app.as(await app.member(NS, 'IMAGE_PULLER'));
});
afterAll(async () => {
  await app.stop();
});

const TAG = `mutation($input: TagInput!) {
  tag(input: $input) {
    __typename
    ... on TagPayload { results { message importJobId } }
    ... on Error { code field message }
  }
}`;

async function callTag(caller: TestApp, input: Record<string, unknown>) {
  const result = await caller.graphql<{ tag: Record<string, unknown> }>(TAG, { input });
  expect(result.errors).toBeUndefined();
  return result.data!.tag as {
    __typename: string;
    results?: { message: string; importJobId: string | null }[];
    code?: string;
    field?: string;
    message?: string;
  };
}

/** Sets a policy tag and runs its import. */
async function setPolicyTag(
  namespace: string,
  destination: string,
  repository: string,
  policy: Record<string, unknown>,
  extra: Record<string, unknown> = {},
) {
  const payload = await callTag(editor, {
    namespace,
    source: `${registryHost}/${repository}`,
    destinations: [destination],
    insecure: true,
    policy,
    ...extra,
  });
  expect(payload.__typename, JSON.stringify(payload)).toBe('TagPayload');
  await drainImports(app);
  return payload.results![0]!;
}

interface PolicyView {
  kind: string;
  range: string | null;
  exclude: string[];
  lastEvaluation: {
    listed: number;
    excluded: number;
    filtered: number;
    candidates: number;
    top: { tag: string; value: string }[];
    winner: string | null;
    digest: string | null;
    reason: string;
  } | null;
}

async function policyOf(namespace: string, ref: string): Promise<PolicyView | null> {
  const result = await reader.graphql<{ imageStreamTag: { policy: PolicyView | null } }>(
    `query($ns: String!, $ref: String!) { imageStreamTag(namespace: $ns, ref: $ref) {
      ... on ImageStreamTag { policy { kind range exclude lastEvaluation {
        listed excluded filtered candidates top { tag value } winner digest reason } } } } }`,
    { ns: namespace, ref },
  );
  expect(result.errors).toBeUndefined();
  return result.data!.imageStreamTag.policy;
}

/** The tags, each a distinct image; returns their digests. */
async function pushExamples(repository: string): Promise<Record<string, string>> {
  const digests: Record<string, string> = {};
  const tags = ['1.0.0', '1.2.3', 'v1.10.0', '2.0.0-rc.1', 'main-99-abc', 'main-100-def', SIG];
  for (const [index, tag] of tags.entries()) {
    const created = `2026-01-${String(10 + index).padStart(2, '0')}T00:00:00Z`;
    // main-99 is built after main-100: newestBuild must read the configs, not the names.
    const when = tag === 'main-99-abc' ? '2026-02-01T00:00:00Z' : created;
    digests[tag] = (
      await pushImage(registryUrl, repository, tag, { content: tag, created: when })
    ).digest;
  }
  return digests;
}

async function makeDue(namespace: string) {
  await app.database.db.execute(sql`
    update tags set next_import_at = now() - interval '1 second'
    from image_streams s where s.id = tags.stream_id and s.namespace = ${namespace}
      and tags.next_import_at is not null`);
}

describe('winners', () => {
  it('semver: the highest release in range, v prefix accepted, pre-releases and signatures left out', async () => {
    const repository = repo('app');
    const digests = await pushExamples(repository);
    const result = await setPolicyTag('pol-semver', 'app:stable', repository, {
      semver: { range: '^1.2' },
    });
    expect(result.message).toBe(
      `Tag app:stable set to follow ${registryHost}/${repository} by semver:^1.2.`,
    );
    const tag = await getTag(reader, 'pol-semver', 'app:stable');
    expect(tag.image?.digest).toBe(digests['v1.10.0']);
    expect(tag.history.nodes).toHaveLength(1);
    expect(tag.history.nodes[0]!.dockerImageReference).toBe(
      `${registryHost}/${repository}@${digests['v1.10.0']}`,
    );
    expect(await policyOf('pol-semver', 'app:stable')).toMatchObject({
      kind: 'SEMVER',
      range: '^1.2',
      exclude: ['*.sig', '*.att', '*.sbom'],
      lastEvaluation: {
        listed: 7,
        excluded: 1,
        filtered: 4,
        candidates: 2,
        top: [
          { tag: 'v1.10.0', value: '1.10.0' },
          { tag: '1.2.3', value: '1.2.3' },
        ],
        winner: 'v1.10.0',
        digest: digests['v1.10.0'],
      },
    });
    const events = await tagEvents(reader, 'pol-semver');
    expect(events.at(-1)).toMatchObject({ cause: 'POLICY', tag: 'stable' });

    await setPolicyTag('pol-semver', 'app:next', repository, {
      semver: { range: '>=1', includePrerelease: true },
    });
    expect((await getTag(reader, 'pol-semver', 'app:next')).image?.digest).toBe(
      digests['2.0.0-rc.1'],
    );
  });

  it('pattern: a numbered capture ordered numerically', async () => {
    const repository = repo('app');
    const digests = await pushExamples(repository);
    await setPolicyTag('pol-pattern', 'app:main', repository, {
      pattern: { regex: '^main-(\\d+)-[a-f0-9]+$', extract: '$1', order: 'NUMERICAL_ASCENDING' },
    });
    expect((await getTag(reader, 'pol-pattern', 'app:main')).image?.digest).toBe(
      digests['main-100-def'],
    );
    const policy = await policyOf('pol-pattern', 'app:main');
    expect(policy?.lastEvaluation?.top).toEqual([
      { tag: 'main-100-def', value: '100' },
      { tag: 'main-99-abc', value: '99' },
    ]);
  });

  it('newestBuild: the newest config created time among the filtered tags', async () => {
    const repository = repo('app');
    const digests = await pushExamples(repository);
    await setPolicyTag('pol-build', 'app:fresh', repository, {
      newestBuild: { filter: '^main-' },
    });
    expect((await getTag(reader, 'pol-build', 'app:fresh')).image?.digest).toBe(
      digests['main-99-abc'],
    );
    expect((await policyOf('pol-build', 'app:fresh'))?.lastEvaluation).toMatchObject({
      winner: 'main-99-abc',
      top: [
        { tag: 'main-99-abc', value: '2026-02-01T00:00:00.000Z' },
        { tag: 'main-100-def', value: '2026-01-15T00:00:00.000Z' },
      ],
    });
  });
});

describe('passes', () => {
  it('a newer matching tag moves the tag and its follower on a scheduled pass; an unchanged pass writes nothing', async () => {
    const repository = repo('app');
    const digests = await pushExamples(repository);
    await setPolicyTag(
      'pol-move',
      'app:stable',
      repository,
      { semver: { range: '^1' } },
      { scheduled: true },
    );
    const follower = await callTag(editor, {
      namespace: 'pol-move',
      source: 'app:stable',
      destinations: ['app:prod'],
      alias: true,
    });
    expect(follower.__typename).toBe('TagPayload');
    expect((await getTag(reader, 'pol-move', 'app:prod')).image?.digest).toBe(digests['v1.10.0']);

    // Nothing new: the pass lists the repository once and writes nothing.
    await makeDue('pol-move');
    const before = await rowCounts(app);
    const eventsBefore = await tagEvents(reader, 'pol-move');
    expect(await app.importer.scheduler.runOnce()).toEqual({ checked: 1, queued: 0, listed: 1 });
    expect(await drainImports(app)).toBe(0);
    expect(await rowCounts(app)).toEqual(before);
    expect(await tagEvents(reader, 'pol-move')).toEqual(eventsBefore);

    // A newer release: the pass queues the import, which pushes a history item (cause POLICY).
    const newer = await pushImage(registryUrl, repository, '1.11.0', { content: '1.11.0' });
    await makeDue('pol-move');
    expect(await app.importer.scheduler.runOnce()).toEqual({ checked: 1, queued: 1, listed: 1 });
    expect(await drainImports(app)).toBe(1);
    const stable = await getTag(reader, 'pol-move', 'app:stable');
    expect(stable.history.nodes.map((n) => n.image?.digest)).toEqual([
      newer.digest,
      digests['v1.10.0'],
    ]);
    const prod = await getTag(reader, 'pol-move', 'app:prod');
    expect(prod.history.nodes.map((n) => n.image?.digest)).toEqual([
      newer.digest,
      digests['v1.10.0'],
    ]);
    const events = (await tagEvents(reader, 'pol-move')).slice(eventsBefore.length);
    expect(events.map((e) => [e.cause, e.tag, e.current?.digest])).toEqual([
      ['POLICY', 'stable', newer.digest],
      ['TRACKING', 'prod', newer.digest],
    ]);

    // The same winner with a new digest is a new winner too; reevaluateTag runs the pass now.
    const rebuilt = await pushImage(registryUrl, repository, '1.11.0', { content: 'rebuilt' });
    const reevaluated = await editor.graphql<{
      reevaluateTag: { __typename: string; importJobId?: string };
    }>(
      `mutation($input: ReevaluateTagInput!) { reevaluateTag(input: $input) {
        __typename ... on ReevaluateTagPayload { importJobId } } }`,
      { input: { namespace: 'pol-move', ref: 'app:stable' } },
    );
    expect(reevaluated.errors).toBeUndefined();
    expect(reevaluated.data!.reevaluateTag.__typename).toBe('ReevaluateTagPayload');
    expect(await drainImports(app)).toBe(1);
    const job = await getJob(reader, reevaluated.data!.reevaluateTag.importJobId!);
    expect(job).toMatchObject({ status: 'succeeded', cause: 'policy' });
    expect(
      (await getTag(reader, 'pol-move', 'app:stable')).history.nodes.map((n) => n.image?.digest),
    ).toEqual([rebuilt.digest, newer.digest, digests['v1.10.0']]);
    expect((await tagEvents(reader, 'pol-move')).at(-2)).toMatchObject({
      cause: 'POLICY',
      tag: 'stable',
    });

    // Re-evaluating with nothing new adds no history item and no event.
    const eventsAfter = await tagEvents(reader, 'pol-move');
    await editor.graphql(
      `mutation($input: ReevaluateTagInput!) { reevaluateTag(input: $input) { __typename } }`,
      { input: { namespace: 'pol-move', ref: 'app:stable' } },
    );
    expect(await drainImports(app)).toBe(1);
    expect(await tagEvents(reader, 'pol-move')).toEqual(eventsAfter);
    expect((await getTag(reader, 'pol-move', 'app:stable')).history.nodes).toHaveLength(3);
  });

  it('a scheduled pass lists a repository once for all its policy tags', async () => {
    const repository = repo('app');
    await pushExamples(repository);
    const scheduled = { scheduled: true };
    await setPolicyTag('pol-move', 'shared:a', repository, { semver: { range: '^1' } }, scheduled);
    await setPolicyTag(
      'pol-move',
      'shared:b',
      repository,
      { pattern: { regex: '^main-' } },
      scheduled,
    );
    await setPolicyTag(
      'pol-move',
      'shared:c',
      repository,
      { semver: { range: '1.0.x' } },
      scheduled,
    );
    await app.database.db.execute(sql`
      update tags set next_import_at = now() - interval '1 second'
      from image_streams s where s.id = tags.stream_id and s.namespace = 'pol-move'
        and s.name = 'shared'`);
    const before = await rowCounts(app);
    expect(await app.importer.scheduler.runOnce()).toEqual({ checked: 3, queued: 0, listed: 1 });
    expect(await rowCounts(app)).toEqual(before);

    // ImageStreamTag.policy is read with the tags: the statements do not grow with them.
    const statementsFor = async (name: string) => {
      app.statements.length = 0;
      const result = await reader.graphql<{
        imageStream: { tags: { nodes: { policy: { lastEvaluation: { winner: string } } }[] } };
      }>(
        `query($name: String!) { imageStream(namespace: "pol-move", name: $name) {
          tags(first: 10) { nodes { name policy { kind exclude lastEvaluation { winner top { tag } } } } } } }`,
        { name },
      );
      expect(result.errors).toBeUndefined();
      return {
        winners: result.data!.imageStream.tags.nodes.map((n) => n.policy.lastEvaluation.winner),
        statements: ownStatements(app.statements).length,
      };
    };
    const three = await statementsFor('shared');
    // '^main-' extracts the same `main-` from both: the tie goes to the name, in code-point order.
    expect(three.winners).toEqual(['v1.10.0', 'main-100-def', '1.0.0']);
    await setPolicyTag('pol-move', 'single:a', repository, { semver: { range: '^1' } });
    const one = await statementsFor('single');
    expect(one.winners).toEqual(['v1.10.0']);
    expect(three.statements).toBe(one.statements);
  });

  it('a repository that cannot be listed sets the import condition', async () => {
    await setPolicyTag('pol-fail', 'app:stable', repo('missing'), { semver: { range: '*' } });
    const tag = await getTag(reader, 'pol-fail', 'app:stable');
    expect(tag.history.nodes).toEqual([]);
    expect(tag.conditions).toMatchObject([
      { type: 'ImportSuccess', status: 'False', reason: 'NotFound' },
    ]);
  });

  it('no matching tag sets the import condition and keeps the history', async () => {
    const repository = repo('app');
    const digests = await pushExamples(repository);
    await setPolicyTag('pol-fail', 'app:v1', repository, { semver: { range: '^1' } });
    await setPolicyTag('pol-fail', 'app:v1', repository, { semver: { range: '^7' } });
    const tag = await getTag(reader, 'pol-fail', 'app:v1');
    expect(tag.history.nodes.map((n) => n.image?.digest)).toEqual([digests['v1.10.0']]);
    expect(tag.conditions).toMatchObject([
      { status: 'False', reason: 'NoMatchingTag', message: expect.stringMatching(/semver:\^7/) },
    ]);
  });
});

describe('refusals', () => {
  it('bad policies are VALIDATION errors naming the field, and write nothing', async () => {
    const source = `${registryHost}/${repo('app')}`;
    const cases: [Record<string, unknown>, string, string][] = [
      [{ policy: { semver: { range: '>=banana' } } }, 'policy.semver.range', 'semver range'],
      [{ policy: { pattern: { regex: '(open' } } }, 'policy.pattern.regex', 'does not compile'],
      [{ policy: { pattern: { regex: '^(?!main)' } } }, 'policy.pattern.regex', 'linear time'],
      [
        { policy: { pattern: { regex: '^main-(\\d+)', extract: '$2' } } },
        'policy.pattern.extract',
        'no capture group',
      ],
      [{ policy: { newestBuild: { filter: '[' } } }, 'policy.newestBuild.filter', 'compile'],
      [{ policy: { exclude: ['*.sig'] } }, 'policy', 'exactly one'],
      [{ policy: { semver: { range: '*' }, exclude: ['a/b'] } }, 'policy.exclude.0', 'glob'],
      [
        { source: `${source}:1.0.0`, policy: { semver: { range: '*' } } },
        'source',
        'without a tag or digest',
      ],
    ];
    const before = await rowCounts(app);
    for (const [input, field, message] of cases) {
      const payload = await callTag(editor, {
        namespace: 'pol-bad',
        source,
        destinations: ['app:x'],
        ...input,
      });
      expect(payload, JSON.stringify(input)).toMatchObject({ code: 'VALIDATION', field });
      expect(payload.message).toContain(message);
    }
    expect(await rowCounts(app)).toEqual(before);
  });

  it('only an editor sets or re-evaluates a policy tag', async () => {
    const denied = await reader.graphql(TAG, {
      input: {
        namespace: 'pol-bad',
        source: `${registryHost}/${repo('app')}`,
        destinations: ['app:x'],
        policy: { semver: { range: '*' } },
      },
    });
    expect(denied.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const result = await reader.graphql<{ reevaluateTag: { __typename: string; code?: string } }>(
      `mutation($input: ReevaluateTagInput!) { reevaluateTag(input: $input) {
        __typename ... on Error { code } } }`,
      { input: { namespace: 'pol-semver', ref: 'app:stable' } },
    );
    expect(result.data?.reevaluateTag?.code ?? result.errors?.[0]?.extensions?.code).toBe(
      'FORBIDDEN',
    );
  });

  it('reevaluateTag refuses a tag without a policy', async () => {
    const repository = repo('plain');
    await pushImage(registryUrl, repository, 'v1', { content: 'plain' });
    await callTag(editor, {
      namespace: 'pol-bad',
      source: `${registryHost}/${repository}:v1`,
      destinations: ['plain:v1'],
      insecure: true,
    });
    const result = await editor.graphql<{
      reevaluateTag: { __typename: string; code?: string; field?: string };
    }>(
      `mutation($input: ReevaluateTagInput!) { reevaluateTag(input: $input) {
        __typename ... on Error { code field } } }`,
      { input: { namespace: 'pol-bad', ref: 'plain:v1' } },
    );
    expect(result.data!.reevaluateTag).toMatchObject({ code: 'VALIDATION', field: 'ref' });
  });
});

describe('previews', () => {
  const PREVIEW = `query($ns: String!, $repo: String!, $policy: TagPolicyInput!) {
    previewPolicy(namespace: $ns, repository: $repo, policy: $policy, insecure: true) {
      __typename
      ... on PolicyPreview { listed excluded filtered candidates top { tag value } winner reason truncated }
      ... on Error { code field message }
    }
  }`;
  const REMOTE_TAGS = `query($ns: String!, $repo: String!, $filter: String, $first: Int, $after: String) {
    remoteTags(namespace: $ns, repository: $repo, filter: $filter, first: $first, after: $after, insecure: true) {
      __typename
      ... on RemoteTagsPage { tags totalCount hasNextPage endCursor truncated }
      ... on Error { code field message }
    }
  }`;

  it('previewPolicy picks the winner and writes nothing', async () => {
    const repository = repo('app');
    await pushExamples(repository);
    const before = await rowCounts(app);
    const result = await editor.graphql<{ previewPolicy: Record<string, unknown> }>(PREVIEW, {
      ns: 'pol-preview',
      repo: `${registryHost}/${repository}`,
      policy: {
        pattern: { regex: '^main-(?P<n>\\d+)-', extract: '$n', order: 'NUMERICAL_ASCENDING' },
      },
    });
    expect(result.errors).toBeUndefined();
    expect(result.data!.previewPolicy).toMatchObject({
      __typename: 'PolicyPreview',
      listed: 7,
      excluded: 1,
      filtered: 4,
      candidates: 2,
      top: [
        { tag: 'main-100-def', value: '100' },
        { tag: 'main-99-abc', value: '99' },
      ],
      winner: 'main-100-def',
      truncated: false,
    });
    const newest = await editor.graphql<{ previewPolicy: Record<string, unknown> }>(PREVIEW, {
      ns: 'pol-preview',
      repo: `${registryHost}/${repository}`,
      policy: { newestBuild: {} },
    });
    expect(newest.data!.previewPolicy).toMatchObject({ winner: 'main-99-abc', candidates: 6 });
    expect(await rowCounts(app)).toEqual(before);

    const bad = await editor.graphql<{ previewPolicy: Record<string, unknown> }>(PREVIEW, {
      ns: 'pol-preview',
      repo: `${registryHost}/${repository}`,
      policy: { semver: { range: 'nope' } },
    });
    expect(bad.data!.previewPolicy).toMatchObject({
      code: 'VALIDATION',
      field: 'policy.semver.range',
    });
  });

  it('remoteTags pages through the filtered tags and writes nothing', async () => {
    const repository = repo('app');
    await pushExamples(repository);
    const before = await rowCounts(app);
    const page = async (after: string | null) => {
      const result = await editor.graphql<{ remoteTags: Record<string, unknown> }>(REMOTE_TAGS, {
        ns: 'pol-preview',
        repo: `${registryHost}/${repository}`,
        filter: '^v?\\d',
        first: 2,
        after,
      });
      expect(result.errors).toBeUndefined();
      return result.data!.remoteTags as { tags: string[]; endCursor: string; hasNextPage: boolean };
    };
    const first = await page(null);
    expect(first).toMatchObject({ totalCount: 4, hasNextPage: true, truncated: false });
    const second = await page(first.endCursor);
    expect(second).toMatchObject({ hasNextPage: false });
    expect([...first.tags, ...second.tags].sort()).toEqual([
      '1.0.0',
      '1.2.3',
      '2.0.0-rc.1',
      'v1.10.0',
    ]);
    expect(await rowCounts(app)).toEqual(before);

    const missing = await editor.graphql<{ remoteTags: Record<string, unknown> }>(REMOTE_TAGS, {
      ns: 'pol-preview',
      repo: `${registryHost}/${repo('none')}`,
    });
    expect(missing.data!.remoteTags).toMatchObject({ code: 'NOT_FOUND', field: 'repository' });
    const tagged = await editor.graphql<{ remoteTags: Record<string, unknown> }>(REMOTE_TAGS, {
      ns: 'pol-preview',
      repo: `${registryHost}/${repository}:1.0.0`,
    });
    expect(tagged.data!.remoteTags).toMatchObject({ code: 'VALIDATION', field: 'repository' });
  });

  it('a puller may not make the namespace pull secrets serve a preview', async () => {
    const result = await reader.graphql<{ remoteTags: Record<string, unknown> }>(REMOTE_TAGS, {
      ns: 'pol-preview',
      repo: `${registryHost}/${repo('app')}`,
    });
    expect(result.data?.remoteTags?.code ?? result.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });
});
