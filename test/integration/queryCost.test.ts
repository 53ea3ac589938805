// The query cost limit prices an operation with its variables and default pages, over HTTP, SSE
// and graphql-ws, before any resolver runs: a puller cannot pull the whole registry in one request.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postGraphql, startTestApp, type TestApp } from '../support/app.ts';
import { subscribeWs } from '../support/subscriptions.ts';

const NAMESPACE = 'cost-ns';

/** Three nested connections whose page sizes come from variables. */
const PAGED_BY_VARIABLES = `query Pages($streams: Int, $tags: Int, $history: Int) {
  imageStreams(namespace: "${NAMESPACE}", first: $streams) { nodes { name
    tags(first: $tags) { nodes { name
      history(first: $history) { nodes { created generation dockerImageReference } } } } } } }`;

/** The same connections with image metadata, page sizes omitted or given. */
const nested = (streams: string, tags: string, history: string) => `{
  imageStreams(namespace: "${NAMESPACE}"${streams}) { nodes { name
    tags${tags} { nodes { name
      history${history} { nodes { created generation dockerImageReference
        image { digest size layers { digest size } } } } } } } } }`;

let app: TestApp;
let puller: string;

type Reply = {
  data?: Record<string, unknown> | null;
  errors?: { extensions?: { code?: string } }[];
};

beforeAll(async () => {
  app = await startTestApp();
  await app.stream(NAMESPACE, 'ruby');
  await app.stream(NAMESPACE, 'python');
  puller = await app.member(NAMESPACE, 'IMAGE_PULLER');
});

afterAll(async () => {
  await app?.stop();
});

describe('query cost', () => {
  it('refuses a puller whose page sizes, given as variables, multiply past the limit', async () => {
    const costly = await app.call(puller, PAGED_BY_VARIABLES, {
      streams: 100,
      tags: 100,
      history: 100,
    });
    expect(costly.data).toBeUndefined();
    expect(costly.errors?.map((e) => e.extensions?.code)).toEqual(['QUERY_TOO_COSTLY']);
    expect(costly.errors?.[0]?.message).toMatch(/cost \d+ is over the limit of 100000/);

    const small = await app.call<{ imageStreams: { nodes: { name: string }[] } }>(
      puller,
      PAGED_BY_VARIABLES,
      { streams: 10, tags: 10, history: 10 },
    );
    expect(small.errors).toBeUndefined();
    expect(small.data?.imageStreams.nodes.map((s) => s.name).sort()).toEqual(['python', 'ruby']);
  });

  it('uses the variables’ defaults when a request leaves them out', async () => {
    const withDefaults = PAGED_BY_VARIABLES.replace(
      '$streams: Int, $tags: Int, $history: Int',
      '$streams: Int = 100, $tags: Int = 100, $history: Int = 100',
    );
    const costly = await app.call(puller, withDefaults, {});
    expect(costly.errors?.map((e) => e.extensions?.code)).toEqual(['QUERY_TOO_COSTLY']);
    const small = await app.call(puller, withDefaults, { streams: 5, tags: 5, history: 5 });
    expect(small.errors).toBeUndefined();
  });

  it('counts an omitted `first` as the default page, not as one item', async () => {
    const omitted = await app.call(puller, nested('', '', ''));
    expect(omitted.errors?.map((e) => e.extensions?.code)).toEqual(['QUERY_TOO_COSTLY']);
    const small = await app.call(puller, nested(', first: 5', '(first: 5)', '(first: 5)'));
    expect(small.errors).toBeUndefined();
    expect(small.data).toBeDefined();
  });

  it('refuses the costly query over SSE and graphql-ws alike', async () => {
    const variables = { streams: 100, tags: 100, history: 100 };
    const sse = await postGraphql(
      app,
      puller,
      { query: PAGED_BY_VARIABLES, variables },
      { accept: 'text/event-stream' },
    );
    const text = await sse.text();
    const data = text.match(/^data: (.*)$/m)?.[1];
    expect(data, text).toBeDefined();
    const sseReply = JSON.parse(data!) as Reply;
    expect(sseReply.errors?.map((e) => e.extensions?.code)).toEqual(['QUERY_TOO_COSTLY']);

    const ws = subscribeWs<Reply>(app.url, PAGED_BY_VARIABLES, variables, { token: puller });
    try {
      const [reply] = await ws.waitFor(1);
      expect(reply!.errors?.map((e) => e.extensions?.code)).toEqual(['QUERY_TOO_COSTLY']);
      expect(reply!.data ?? undefined).toBeUndefined();
    } finally {
      await ws.stop();
    }
    const omitted = subscribeWs<Reply>(app.url, nested('', '', ''), {}, { token: puller });
    try {
      const [reply] = await omitted.waitFor(1);
      expect(reply!.errors?.map((e) => e.extensions?.code)).toEqual(['QUERY_TOO_COSTLY']);
    } finally {
      await omitted.stop();
    }
  });

  it('counts the ids given to `nodes`', async () => {
    const ids = Array.from({ length: 5000 }, (_, i) => `id-${i}`);
    const many = await app.call(
      puller,
      `query($ids: [ID!]!) { nodes(ids: $ids) { id ... on ImageStream { name
        tags(first: 20) { nodes { name } } } } }`,
      { ids },
    );
    expect(many.errors?.map((e) => e.extensions?.code)).toEqual(['QUERY_TOO_COSTLY']);
  });
});
