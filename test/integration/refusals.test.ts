// Refusals carry a stable `extensions.code`: those before execution with the HTTP status the
// GraphQL-over-HTTP spec gives them (400 for `application/graphql-response+json`, 200 for
// `application/json`; over graphql-ws the same codes), a cursor from beyond the event log with
// CURSOR_UNKNOWN, and FORBIDDEN with a message in `oc`'s words.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeCursor, encodeCursor } from '../../src/events/cursor.ts';
import { postGraphql, startTestApp, type TestApp } from '../support/app.ts';
import { pushMapping } from '../support/mapping.ts';
import { subscribeSse, subscribeWs } from '../support/subscriptions.ts';

const NAMESPACE = 'refusals-ns';

let app: TestApp;
let puller: string;
let editor: string;

beforeAll(async () => {
  app = await startTestApp();
  await app.stream(NAMESPACE, 'ruby');
  puller = await app.member(NAMESPACE, 'IMAGE_PULLER');
  editor = await app.member(NAMESPACE, 'EDITOR');
});

afterAll(async () => {
  await app?.stop();
});

type Reply = {
  data?: Record<string, unknown> | null;
  errors?: { message: string; extensions?: { code?: string } }[];
};

/** Nests stream → tags → stream `levels` times: valid, but deeper than the limit of 15. */
function deepQuery(levels: number): string {
  let selection = 'name';
  for (let i = 0; i < levels; i += 1) {
    selection = `tags { nodes { stream { ${selection} } } }`;
  }
  return `{ imageStream(namespace: "${NAMESPACE}", name: "ruby") { ${selection} } }`;
}

const MANY_ALIASES = `{ ${Array.from(
  { length: 31 },
  (_, i) => `a${i}: imageStreams(namespace: "${NAMESPACE}", first: 1) { nodes { name } }`,
).join(' ')} }`;

const MANY_DIRECTIVES = `{ ${Array.from({ length: 21 }, () => '__typename @include(if: true)').join(' ')} }`;

const MANY_TOKENS = `{ ${'__typename '.repeat(3001)} }`;

const PAGES = `query($streams: Int, $tags: Int, $history: Int) {
  imageStreams(namespace: "${NAMESPACE}", first: $streams) { nodes { name
    tags(first: $tags) { nodes { name
      history(first: $history) { nodes { generation } } } } } } }`;

const CREATE = `mutation($input: CreateImageStreamInput!) {
  createImageStream(input: $input) { __typename } }`;

async function post(
  token: string,
  accept: string,
  query: string,
  variables: Record<string, unknown> = {},
): Promise<{ status: number; body: Reply }> {
  const response = await postGraphql(app, token, { query, variables }, { accept });
  return { status: response.status, body: (await response.json()) as Reply };
}

const codes = (reply: Reply) => [...new Set(reply.errors?.map((e) => e.extensions?.code))];

describe('refusals before execution', () => {
  const cases: {
    name: string;
    code: string;
    query: string;
    variables?: Record<string, unknown>;
    token?: () => string;
  }[] = [
    { name: 'a query deeper than 15', code: 'QUERY_TOO_DEEP', query: deepQuery(8) },
    { name: 'more than 30 aliases', code: 'TOO_MANY_ALIASES', query: MANY_ALIASES },
    { name: 'more than 20 directives', code: 'TOO_MANY_DIRECTIVES', query: MANY_DIRECTIVES },
    { name: 'more than 3000 tokens', code: 'TOO_MANY_TOKENS', query: MANY_TOKENS },
    {
      name: 'a costly query',
      code: 'QUERY_TOO_COSTLY',
      query: PAGES,
      variables: { streams: 100, tags: 100, history: 100 },
    },
    {
      name: 'pages above 100 that would also be too costly',
      code: 'PAGE_SIZE_LIMIT',
      query: PAGES,
      variables: { streams: 100_000, tags: 100_000, history: 100_000 },
    },
    {
      name: 'a negative page size',
      code: 'BAD_USER_INPUT',
      query: PAGES,
      variables: { streams: -5 },
    },
    {
      name: 'a negative page size of the event log',
      code: 'BAD_USER_INPUT',
      query: `{ tagEvents(namespace: "${NAMESPACE}", first: -5) { hasNextPage } }`,
    },
    {
      name: 'a variable of the wrong type',
      code: 'BAD_USER_INPUT',
      query: PAGES,
      variables: { streams: 'ten' },
    },
    {
      name: 'an unknown input field in variables',
      code: 'BAD_USER_INPUT',
      query: CREATE,
      variables: { input: { namespace: NAMESPACE, name: 'python', colour: 'blue' } },
      token: () => editor,
    },
    { name: 'an unknown field', code: 'GRAPHQL_VALIDATION_FAILED', query: '{ nope }' },
    { name: 'a syntax error', code: 'GRAPHQL_PARSE_FAILED', query: '{ imageStreams(' },
  ];

  for (const { name, code, query, variables, token } of cases) {
    it(`${name}: ${code}, 400 for graphql-response+json, 200 for json`, async () => {
      const caller = token?.() ?? puller;
      const strict = await post(caller, 'application/graphql-response+json', query, variables);
      expect(codes(strict.body), JSON.stringify(strict.body)).toEqual([code]);
      expect(strict.body.data ?? undefined).toBeUndefined();
      expect(strict.status).toBe(400);
      if (code !== 'GRAPHQL_PARSE_FAILED') {
        expect(strict.body.errors?.[0]?.message).not.toMatch(/^Syntax Error/);
      }

      const legacy = await post(caller, 'application/json', query, variables);
      expect(codes(legacy.body), JSON.stringify(legacy.body)).toEqual([code]);
      expect(legacy.status).toBe(200);
    });
  }

  it('the stream the unknown input field was sent for was not created', async () => {
    const reply = await post(
      puller,
      'application/json',
      `{ imageStream(namespace: "${NAMESPACE}", name: "python") { name } }`,
    );
    expect(reply.body.errors).toBeUndefined();
    expect(reply.body.data).toEqual({ imageStream: null });
  });

  it('graphql-ws gets the same codes: shape limits, page sizes, syntax errors; the connection stays open', async () => {
    for (const [query, variables, code] of [
      [deepQuery(8), {}, 'QUERY_TOO_DEEP'],
      [MANY_ALIASES, {}, 'TOO_MANY_ALIASES'],
      [PAGES, { streams: 100_000, tags: 100_000, history: 100_000 }, 'PAGE_SIZE_LIMIT'],
      [PAGES, { streams: -5 }, 'BAD_USER_INPUT'],
      ['{ imageStreams(', {}, 'GRAPHQL_PARSE_FAILED'],
      ['', {}, 'GRAPHQL_PARSE_FAILED'],
    ] as const) {
      const closes: number[] = [];
      const ws = subscribeWs<Reply>(app.url, query, variables, {
        token: puller,
        onClose: (closeCode) => closes.push(closeCode),
      });
      try {
        const ended = await ws.ended;
        const errors =
          ended.kind === 'error' && Array.isArray(ended.error)
            ? (ended.error as Reply['errors'])
            : ws.results[0]?.errors;
        expect(
          [...new Set(errors?.map((e) => e.extensions?.code))],
          JSON.stringify({ ended, results: ws.results }),
        ).toEqual([code]);
        expect(closes, `${code}: the refusal closed the connection`).toEqual([]);
      } finally {
        await ws.stop();
      }
    }
  });
});

describe('cursors from nowhere', () => {
  const TAG_CHANGED = `subscription($ns: String!, $since: String) {
    tagChanged(namespace: $ns, since: $since) { tag cursor } }`;
  const TAG_EVENTS = `query($ns: String!, $after: String) {
    tagEvents(namespace: $ns, after: $after) { endCursor events { tag } } }`;
  /** tagChanged in NAMESPACE from `since`, as the puller, over graphql-ws. */
  const tagChangedOverWs = (since: string) =>
    subscribeWs<Reply>(app.url, TAG_CHANGED, { ns: NAMESPACE, since }, { token: puller });

  it('refuses a cursor beyond the end of the event log with CURSOR_UNKNOWN, query and subscription alike', async () => {
    await pushMapping(app.as(await app.registry()), NAMESPACE, 'ruby', 'latest', 'refusals-1');
    const page = await app.call<{ tagEvents: { endCursor: string } }>(puller, TAG_EVENTS, {
      ns: NAMESPACE,
    });
    expect(page.errors).toBeUndefined();
    const issued = page.data!.tagEvents.endCursor;
    // Another installation's cursor, or one kept across a restore of an older backup: a position
    // this log has not reached.
    const foreign = encodeCursor(decodeCursor(issued)! + 1_000_000);

    const polled = await app.call(puller, TAG_EVENTS, { ns: NAMESPACE, after: foreign });
    expect(polled.errors?.map((e) => e.extensions?.code)).toEqual(['CURSOR_UNKNOWN']);
    expect(polled.errors?.[0]?.message).toMatch(/beyond the end of this server's event log/);

    const ws = tagChangedOverWs(foreign);
    try {
      expect(await ws.ended).toEqual({ kind: 'complete' });
      expect(ws.results[0]?.errors?.map((e) => e.extensions?.code)).toEqual(['CURSOR_UNKNOWN']);
    } finally {
      await ws.stop();
    }
    const sse = subscribeSse<Reply>(
      app.url,
      TAG_CHANGED,
      { ns: NAMESPACE, since: foreign },
      { token: puller },
    );
    expect(await sse.ended).toEqual({ kind: 'complete' });
    expect(sse.results[0]?.errors?.map((e) => e.extensions?.code)).toEqual(['CURSOR_UNKNOWN']);
  });

  it('still accepts the newest cursor it issued, and delivers what follows it', async () => {
    await pushMapping(app.as(await app.registry()), NAMESPACE, 'ruby', 'newest', 'refusals-2');
    const page = await app.call<{ tagEvents: { endCursor: string } }>(puller, TAG_EVENTS, {
      ns: NAMESPACE,
    });
    const newest = page.data!.tagEvents.endCursor;
    const polled = await app.call<{ tagEvents: { events: unknown[] } }>(puller, TAG_EVENTS, {
      ns: NAMESPACE,
      after: newest,
    });
    expect(polled.errors).toBeUndefined();
    expect(polled.data!.tagEvents.events).toEqual([]);

    const ws = tagChangedOverWs(newest);
    try {
      await ws.connected;
      await pushMapping(app.as(await app.registry()), NAMESPACE, 'ruby', 'after', 'refusals-3');
      const [next] = await ws.waitFor(1);
      expect(next?.errors).toBeUndefined();
      expect(next?.data).toMatchObject({ tagChanged: { tag: 'after' } });
    } finally {
      await ws.stop();
    }
  });
});

describe('FORBIDDEN messages', () => {
  it('name the user, the verb, the resource and the namespace, as oc does', async () => {
    const alice = await app.member(NAMESPACE, 'IMAGE_PULLER', 'alice-refusals');
    const listed = await app.call(
      alice,
      '{ imageStreams(namespace: "other-ns") { nodes { name } } }',
    );
    expect(listed.errors?.map((e) => e.extensions?.code)).toEqual(['FORBIDDEN']);
    expect(listed.errors?.[0]?.message).toBe(
      'forbidden: User "alice-refusals" cannot list resource "imagestreams" in the namespace "other-ns" (it needs the role IMAGE_PULLER there)',
    );

    const created = await app.call<{
      createImageStream: { __typename: string; message?: string; code?: string };
    }>(
      alice,
      `mutation { createImageStream(input: { namespace: "${NAMESPACE}", name: "go" }) {
        __typename ... on Error { code message } } }`,
    );
    const refusal = created.errors?.[0] ?? created.data?.createImageStream;
    expect(JSON.stringify(refusal)).toContain('FORBIDDEN');
    expect(refusal?.message).toMatch(
      new RegExp(
        `^forbidden: User "alice-refusals" cannot (create|update) resource "imagestreams" in the namespace "${NAMESPACE}" \\(it needs the role EDITOR there\\)$`,
      ),
    );

    const bound = await app.call<{ addRoleBinding: { message?: string } }>(
      alice,
      `mutation { addRoleBinding(input: { namespace: "${NAMESPACE}", role: EDITOR,
        subjectKind: User, subjectName: "mallory" }) { __typename ... on Error { code message } } }`,
    );
    expect((bound.errors?.[0] ?? bound.data?.addRoleBinding)?.message).toBe(
      `forbidden: User "alice-refusals" cannot create resource "rolebindings" in the namespace "${NAMESPACE}" (it needs the role ADMIN there)`,
    );

    const watched = subscribeWs<Reply>(
      app.url,
      'subscription { tagChanged(namespace: "other-ns") { tag } }',
      {},
      { token: alice },
    );
    try {
      await watched.ended;
      const error = watched.results[0]?.errors?.[0];
      expect(error?.extensions?.code).toBe('FORBIDDEN');
      expect(error?.message).toBe(
        'forbidden: User "alice-refusals" cannot watch resource "imagestreamtags" in the namespace "other-ns" (it needs the role IMAGE_PULLER there)',
      );
    } finally {
      await watched.stop();
    }
  });
});
