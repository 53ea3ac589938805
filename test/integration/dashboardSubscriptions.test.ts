// Subscriptions for dashboards: tagChanged / imageStreamChanged over several namespaces or all
// readable ones, with filters, resume across namespaces, a namespace lost while live, and
// imageTagsChanged on a digest; over graphql-ws and SSE, as the least-privileged caller.
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/server.ts';
import { startTestApp, type TestApp, testConfig } from '../support/app.ts';
import { digestOf, pushMapping } from '../support/mapping.ts';
import { subscribeSse, subscribeWs } from '../support/subscriptions.ts';

/** The grant re-check while idle: short, so a lost namespace shows within the test. */
const CHECK_MS = 200;

let app: TestApp;
/** A registry: reports pushes into any namespace. */
let registry: string;
/** Image puller of dash-a and dash-b (never of dash-c): subscribes. */
let reader: string;
/** Editor of dash-a and dash-b: tags and deletes. */
let editor: string;
beforeAll(async () => {
  app = await startTestApp({ credentialCheckIntervalMs: CHECK_MS });
  registry = await app.registry();
  reader = await app.member(['dash-a', 'dash-b'], 'IMAGE_PULLER');
  editor = await app.member(['dash-a', 'dash-b'], 'EDITOR');
});
afterAll(async () => {
  await app.stop();
});
afterEach(async () => {
  await expect.poll(() => app.events.subscriberCount).toBe(0);
});

async function push(namespace: string, stream: string, tag: string, seed: string) {
  return (await pushMapping(app.as(registry), namespace, stream, tag, seed)).digest;
}

const TAG_CHANGED = `subscription($namespaces: [String!], $all: Boolean, $streams: [String!],
  $tags: [String!], $types: [ChangeType!], $causes: [ChangeCause!], $since: String) {
  tagChanged(namespaces: $namespaces, allNamespaces: $all, streams: $streams, tags: $tags,
    types: $types, causes: $causes, since: $since) {
    cursor type cause namespace stream tag current { digest }
  }
}`;

interface Change {
  cursor: string;
  type: string;
  cause: string;
  namespace: string;
  stream: string;
  tag: string;
  current: { digest: string } | null;
}
type Next = {
  data?: { tagChanged: Change } | null;
  errors?: { message: string; extensions?: Record<string, unknown> }[];
};

const changes = (results: Next[]) => results.map((r) => r.data!.tagChanged);
const where = (c: Change) => `${c.namespace}/${c.stream}:${c.tag}`;

/** Waits until the hub serves `count` subscriptions more than `before`. */
async function live(before: number, count = 1) {
  await expect.poll(() => app.events.subscriberCount).toBe(before + count);
}

describe('several namespaces', () => {
  it('delivers both namespaces in commit order, and nothing of one not named', async () => {
    const sub = subscribeWs<Next>(
      app.url,
      TAG_CHANGED,
      { namespaces: ['dash-a', 'dash-b'] },
      { token: reader },
    );
    await live(0);
    await push('dash-a', 'app', 'one', 'two-1');
    await push('dash-c', 'app', 'one', 'two-c');
    await push('dash-b', 'app', 'one', 'two-2');
    const got = changes(await sub.waitFor(2));
    expect(got.map(where)).toEqual(['dash-a/app:one', 'dash-b/app:one']);
    await sub.stop();
  });

  it('refuses a namespace the caller cannot read, naming it, alike whether or not it exists', async () => {
    const messages: string[] = [];
    for (const missing of ['dash-c', 'dash-nowhere']) {
      const sub = subscribeWs<Next>(
        app.url,
        TAG_CHANGED,
        { namespaces: ['dash-a', missing] },
        { token: reader },
      );
      await sub.ended;
      expect(sub.results).toHaveLength(1);
      const error = sub.results[0]!.errors![0]!;
      expect(error.extensions).toMatchObject({ code: 'FORBIDDEN', field: 'namespaces' });
      expect(error.message).toContain(`"${missing}"`);
      messages.push(error.message.replace(missing, 'X'));
    }
    expect(messages[0]).toBe(messages[1]);
  });

  it('refuses bad scopes and oversized filters with typed errors', async () => {
    const cases: [Record<string, unknown>, string, string][] = [
      [{}, 'VALIDATION', 'namespaces'],
      [{ namespaces: ['dash-a'], all: true }, 'VALIDATION', 'namespaces'],
      [{ namespaces: [] }, 'VALIDATION', 'namespaces'],
      [{ namespaces: Array.from({ length: 51 }, (_, i) => `ns-${i}`) }, 'VALIDATION', 'namespaces'],
      [{ namespaces: ['Not_A_Namespace'] }, 'VALIDATION', 'namespaces'],
      [{ all: true, tags: Array.from({ length: 51 }, (_, i) => `t${i}`) }, 'VALIDATION', 'tags'],
      [{ all: true, streams: ['Bad Stream'] }, 'VALIDATION', 'streams'],
      [{ all: true, since: 'bogus' }, 'BAD_CURSOR', 'since'],
    ];
    for (const [variables, code, field] of cases) {
      const sub = subscribeWs<Next>(app.url, TAG_CHANGED, variables, { token: reader });
      await sub.ended;
      expect(sub.results[0]?.errors?.[0]?.extensions, JSON.stringify(variables)).toMatchObject({
        code,
        field,
      });
    }
  });
});

describe('filters', () => {
  it('narrows to streams, tags, types and causes across namespaces', async () => {
    const byStreamAndTag = subscribeWs<Next>(
      app.url,
      TAG_CHANGED,
      { all: true, streams: ['web'], tags: ['prod', 'stage'] },
      { token: reader },
    );
    const byTypeAndCause = subscribeWs<Next>(
      app.url,
      TAG_CHANGED,
      { namespaces: ['dash-a', 'dash-b'], types: ['DELETED', 'ADDED'], causes: ['DELETE', 'TAG'] },
      { token: reader },
    );
    await live(0, 2);
    await push('dash-a', 'web', 'prod', 'filt-1'); // stream and tag: yes; ADDED but PUSH: no
    await push('dash-b', 'db', 'prod', 'filt-2'); // another stream: neither
    await push('dash-b', 'web', 'dev', 'filt-3'); // another tag: neither
    await push('dash-c', 'web', 'prod', 'filt-4'); // unreadable: neither
    const tagged = await app.as(editor).graphql(
      `mutation { tag(input: { namespace: "dash-b", source: "dash-a/web:prod",
        destinations: ["web:stage"] }) { __typename } }`,
    ); // both: dash-b/web:stage ADDED by TAG
    expect(tagged.errors).toBeUndefined();
    await push('dash-a', 'web', 'prod', 'filt-5'); // first only: UPDATED by PUSH
    const deleted = await app
      .as(editor)
      .graphql(
        `mutation { deleteTag(input: { namespace: "dash-b", ref: "web:dev" }) { __typename } }`,
      ); // second only: DELETED, another tag
    expect(deleted.errors).toBeUndefined();
    const first = changes(await byStreamAndTag.waitFor(3));
    expect(first.map((c) => [where(c), c.type, c.cause])).toEqual([
      ['dash-a/web:prod', 'ADDED', 'PUSH'],
      ['dash-b/web:stage', 'ADDED', 'TAG'],
      ['dash-a/web:prod', 'UPDATED', 'PUSH'],
    ]);
    const second = changes(await byTypeAndCause.waitFor(2));
    expect(second.map((c) => [where(c), c.type, c.cause])).toEqual([
      ['dash-b/web:stage', 'ADDED', 'TAG'],
      ['dash-b/web:dev', 'DELETED', 'DELETE'],
    ]);
    await byStreamAndTag.stop();
    await byTypeAndCause.stop();
  });

  it('imageStreamChanged over several namespaces narrows to names and types', async () => {
    const sub = subscribeWs<{ data: { imageStreamChanged: Record<string, string> } }>(
      app.url,
      `subscription { imageStreamChanged(namespaces: ["dash-a", "dash-b"], names: ["svc", "api"],
        types: [ADDED]) { namespace name type cause } }`,
      {},
      { token: reader },
    );
    await live(0);
    for (const [ns, name] of [
      ['dash-a', 'svc'],
      ['dash-c', 'svc'],
      ['dash-b', 'other'],
      ['dash-b', 'api'],
    ]) {
      await app.stream(ns!, name!);
    }
    const got = (await sub.waitFor(2)).map((r) => r.data.imageStreamChanged);
    expect(got).toEqual([
      { namespace: 'dash-a', name: 'svc', type: 'ADDED', cause: 'CREATE' },
      { namespace: 'dash-b', name: 'api', type: 'ADDED', cause: 'CREATE' },
    ]);
    await sub.stop();
  });
});

describe('resuming across namespaces', () => {
  it('replays what both namespaces wrote meanwhile, then goes live, with no gap and no repeat', async () => {
    const vars = { namespaces: ['dash-a', 'dash-b'], streams: ['resume'] };
    const first = subscribeWs<Next>(app.url, TAG_CHANGED, vars, { token: reader });
    await live(0);
    await push('dash-a', 'resume', 't', 'resume-1');
    const [seen] = changes(await first.waitFor(1));
    await first.stop();
    await live(0, 0);
    const offline = [
      await push('dash-b', 'resume', 't', 'resume-2'),
      await push('dash-c', 'resume', 't', 'resume-x'),
      await push('dash-a', 'resume', 't', 'resume-3'),
    ].filter((_, i) => i !== 1);
    // This gateway's ring holds the events; a second gateway on the same database has read none
    // of them and replays from the table.
    const other = await buildApp(testConfig({ credentialCheckIntervalMs: CHECK_MS }), {
      log: pino({ level: 'silent' }),
      database: app.database,
    });
    const { url: otherUrl } = await other.start(0, '127.0.0.1');
    try {
      const again = [
        subscribeWs<Next>(
          app.url,
          TAG_CHANGED,
          { ...vars, since: seen!.cursor },
          { token: reader },
        ),
        subscribeSse<Next>(
          otherUrl,
          TAG_CHANGED,
          { ...vars, since: seen!.cursor },
          {
            token: reader,
          },
        ),
      ];
      for (const sub of again) {
        const replayed = changes(await sub.waitFor(2)).map((c) => c.current!.digest);
        expect(replayed).toEqual(offline);
      }
      await live(0);
      await expect.poll(() => other.events.subscriberCount).toBe(1);
      const next = await push('dash-b', 'resume', 't', 'resume-4');
      for (const sub of again) {
        const all = changes(await sub.waitFor(3)).map((c) => c.current!.digest);
        expect(all).toEqual([...offline, next]);
      }
      const last = await push('dash-a', 'resume', 't', 'resume-5');
      for (const sub of again) {
        const all = changes(await sub.waitFor(4)).map((c) => c.current!.digest);
        expect(all).toEqual([...offline, next, last]);
      }
      await Promise.all(again.map((sub) => sub.stop()));
    } finally {
      await other.stop();
    }
  });
});

describe('a namespace lost while live', () => {
  it('stops delivering it and keeps delivering the others, over graphql-ws and SSE', async () => {
    const subject = 'dash-loser';
    const token = await app.member(['dash-a', 'dash-b', 'dash-d'], 'IMAGE_PULLER', subject);
    const named = subscribeWs<Next>(
      app.url,
      TAG_CHANGED,
      { namespaces: ['dash-a', 'dash-b'], streams: ['lose'] },
      { token },
    );
    const all = subscribeSse<Next>(
      app.url,
      TAG_CHANGED,
      { all: true, streams: ['lose'] },
      { token },
    );
    await live(0, 2);
    await push('dash-b', 'lose', 't', 'lose-1');
    await push('dash-a', 'lose', 't', 'lose-2');
    for (const sub of [named, all]) {
      expect(changes(await sub.waitFor(2)).map(where)).toEqual(['dash-b/lose:t', 'dash-a/lose:t']);
    }
    await app.admin(
      `mutation { removeRoleBinding(input: { namespace: "dash-b", role: IMAGE_PULLER,
        subjectKind: User, subjectName: "${subject}" }) { __typename } }`,
    );
    // The idle re-check tells each subscription, and goes on.
    for (const sub of [named, all]) {
      const [notice] = (await sub.waitFor(3)).slice(2);
      expect(notice!.data ?? null).toBeNull();
      expect(notice!.errors?.[0]?.extensions).toMatchObject({
        code: 'FORBIDDEN',
        namespaces: ['dash-b'],
        continues: true,
      });
    }
    // dash-b's event comes first in the log: had it been delivered, it would be next.
    await push('dash-b', 'lose', 't', 'lose-3');
    const kept = await push('dash-a', 'lose', 't', 'lose-4');
    for (const sub of [named, all]) {
      const [after] = changes((await sub.waitFor(4)).slice(3));
      expect([where(after!), after!.current!.digest]).toEqual(['dash-a/lose:t', kept]);
    }
    // Every named namespace gone: the last result is FORBIDDEN and the stream ends, as with one.
    // With all readable namespaces, the stream goes on while a namespace granted meanwhile
    // joins at the same re-check that drops dash-a.
    await app.grant('dash-e', 'IMAGE_PULLER', subject);
    await app.admin(
      `mutation { removeRoleBinding(input: { namespace: "dash-a", role: IMAGE_PULLER,
        subjectKind: User, subjectName: "${subject}" }) { __typename } }`,
    );
    expect(await named.ended).toEqual({ kind: 'complete' });
    expect(named.results).toHaveLength(5);
    expect(named.results[4]!.errors?.[0]?.extensions).toMatchObject({
      code: 'FORBIDDEN',
      namespaces: ['dash-a'],
    });
    const [dropped] = (await all.waitFor(5)).slice(4);
    expect(dropped!.errors?.[0]?.extensions).toMatchObject({ namespaces: ['dash-a'] });
    await push('dash-a', 'lose', 't', 'lose-5');
    const joined = await push('dash-e', 'lose', 't', 'lose-6');
    const [gained] = changes((await all.waitFor(6)).slice(5));
    expect([where(gained!), gained!.current!.digest]).toEqual(['dash-e/lose:t', joined]);
    await all.stop();
  });
});

describe('imageTagsChanged', () => {
  const IMAGE_TAGS = `subscription($digest: String!) { imageTagsChanged(digest: $digest) {
    cursor pointing change { namespace stream tag type cause } } }`;
  type Pointing = {
    data?: {
      imageTagsChanged: {
        pointing: string;
        change: { namespace: string; stream: string; tag: string; cause: string };
      };
    };
    errors?: { extensions?: Record<string, unknown> }[];
  };

  it('fires when a readable tag starts or stops pointing at the image', async () => {
    const digest = digestOf('dash-img');
    const subs = [
      subscribeWs<Pointing>(app.url, IMAGE_TAGS, { digest }, { token: reader }),
      subscribeSse<Pointing>(app.url, IMAGE_TAGS, { digest }, { token: reader }),
    ];
    await live(0, 2);
    await push('dash-a', 'img', 'v1', 'dash-img'); // starts
    await push('dash-c', 'img', 'v1', 'dash-img'); // unreadable
    await push('dash-b', 'img', 'x', 'dash-other'); // another image
    const copied = await app.as(editor).graphql(
      `mutation { tag(input: { namespace: "dash-b", source: "dash-a/img:v1",
        destinations: ["img:copy"] }) { __typename } }`,
    ); // starts, in dash-b
    expect(copied.errors).toBeUndefined();
    await push('dash-a', 'img', 'v1', 'dash-img'); // unchanged: no event
    await push('dash-a', 'img', 'v1', 'dash-img-2'); // stops
    const deleted = await app
      .as(editor)
      .graphql(
        `mutation { deleteTag(input: { namespace: "dash-b", ref: "img:copy" }) { __typename } }`,
      ); // stops
    expect(deleted.errors).toBeUndefined();
    for (const sub of subs) {
      const got = (await sub.waitFor(4)).map((r) => r.data!.imageTagsChanged);
      expect(
        got.map((c) => [c.pointing, `${c.change.namespace}/${c.change.stream}:${c.change.tag}`]),
      ).toEqual([
        ['STARTED', 'dash-a/img:v1'],
        ['STARTED', 'dash-b/img:copy'],
        ['STOPPED', 'dash-a/img:v1'],
        ['STOPPED', 'dash-b/img:copy'],
      ]);
      expect(got.map((c) => c.change.cause)).toEqual(['PUSH', 'TAG', 'PUSH', 'DELETE']);
    }
    await Promise.all(subs.map((sub) => sub.stop()));
  });

  it('takes full digests only', async () => {
    for (const digest of ['sha256:abc', digestOf('x').slice(7), 'SHA256:00']) {
      const sub = subscribeWs<Pointing>(app.url, IMAGE_TAGS, { digest }, { token: reader });
      await sub.ended;
      expect(sub.results[0]?.errors?.[0]?.extensions).toMatchObject({
        code: 'VALIDATION',
        field: 'digest',
      });
    }
  });
});
