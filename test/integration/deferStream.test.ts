// @defer and @stream end to end as an image puller: multipart over HTTP, SSE and graphql-ws, the
// deferred image metadata loaded after the first payload, the limits, and authorization inside
// deferred fragments.
import { meros } from 'meros/browser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_DEFERRED, MAX_QUERY_COST } from '../../src/limits.ts';
import { ownStatements, postGraphql, startTestApp, type TestApp } from '../support/app.ts';
import { digestOf, seedImage, seedStream, seedTag } from '../support/seed.ts';
import { subscribeSse } from '../support/subscriptions.ts';

let app: TestApp;
/** An image puller of `deferred`, who may not read `other`. */
let reader: TestApp;

const TAGS = 40;
const LAYERS = 30;
/** The image in `other`, which the reader may not see. */
const SECRET = digestOf('defer-secret');

/** A result of a GraphQL response, or one payload of an incremental one. */
interface Payload {
  data?: Record<string, unknown> | null;
  errors?: { message: string; path?: (string | number)[]; extensions?: { code?: string } }[];
  hasNext?: boolean;
  incremental?: {
    data?: Record<string, unknown>;
    items?: unknown[];
    path: (string | number)[];
    errors?: Payload['errors'];
  }[];
}

beforeAll(async () => {
  app = await startTestApp();
  reader = app.as(await app.member('deferred', 'IMAGE_PULLER'));
  const db = app.database.db;
  const big = await seedStream(db, { namespace: 'deferred', name: 'big' });
  for (let i = 0; i < TAGS; i++) {
    const digest = await seedImage(db, {
      digest: digestOf(`defer-${i}`),
      config: {
        env: Array.from({ length: 200 }, (_, n) => `VARIABLE_${n}=${'v'.repeat(40)}-${i}`),
        labels: Object.fromEntries(Array.from({ length: 30 }, (_, n) => [`label.${n}`, `${i}`])),
        entrypoint: ['/bin/app', `--tag=${i}`],
      },
      layers: Array.from({ length: LAYERS }, (_, n) => ({
        digest: digestOf(`defer-${i}-layer-${n}`),
        size: 1000 + n,
      })),
    });
    await seedTag(db, big.id, {
      name: `t${String(i).padStart(2, '0')}`,
      history: [
        {
          dockerImageReference: `registry.test:5000/deferred/big@${digest}`,
          image: digest,
          generation: 1,
        },
      ],
    });
  }
  const secret = await seedStream(db, { namespace: 'other', name: 'secret' });
  await seedImage(db, {
    digest: SECRET,
    config: { env: ['SECRET=1'] },
    layers: [{ digest: digestOf('defer-secret-layer'), size: 1 }],
  });
  await seedTag(db, secret.id, {
    name: 'latest',
    history: [
      {
        dockerImageReference: `registry.test:5000/other/secret@${SECRET}`,
        image: SECRET,
        generation: 1,
      },
    ],
  });
});

afterAll(async () => {
  await app.stop();
});

/** The tags of `deferred/big` with their images' config and layers, optionally deferred. */
function tagsQuery(defer: boolean): string {
  return `query Tags {
    imageStream(namespace: "deferred", name: "big") {
      name
      tags(first: ${TAGS}) {
        edges { node { name image { digest size
          ... ${defer ? '@defer(label: "metadata")' : ''} {
            config { env entrypoint labels { key value } }
            layers { digest size }
            manifests { digest }
          }
        } } }
      }
    }
  }`;
}

/** Sets `value` at `path` inside `target`, merging objects. */
function mergeAt(target: Record<string, unknown>, path: (string | number)[], value: unknown) {
  let at: unknown = target;
  for (const key of path) at = (at as Record<string | number, unknown>)[key];
  if (Array.isArray(value)) {
    (at as unknown[]).push(...value);
    return;
  }
  deepMerge(at as Record<string, unknown>, value as Record<string, unknown>);
}

function deepMerge(into: Record<string, unknown>, from: Record<string, unknown>) {
  for (const [key, value] of Object.entries(from)) {
    const existing = into[key];
    if (
      existing &&
      value &&
      typeof existing === 'object' &&
      typeof value === 'object' &&
      !Array.isArray(value)
    ) {
      deepMerge(existing as Record<string, unknown>, value as Record<string, unknown>);
    } else {
      into[key] = value;
    }
  }
}

/** The data and errors the payloads add up to (the incremental delivery format). */
function assemble(payloads: Payload[]): Pick<Payload, 'data' | 'errors'> {
  const [first, ...rest] = payloads;
  const data = structuredClone(first!.data ?? null) as Record<string, unknown> | null;
  const errors = [...(first!.errors ?? [])];
  for (const payload of rest) {
    for (const part of payload.incremental ?? []) {
      if (part.data && data) mergeAt(data, part.path, part.data);
      if (part.items && data) mergeAt(data, part.path.slice(0, -1), part.items);
      errors.push(...(part.errors ?? []));
    }
    errors.push(...(payload.errors ?? []));
  }
  return errors.length > 0 ? { data, errors } : { data };
}

/** POSTs `query` as `token` asking for multipart/mixed, and reads the parts with meros. */
async function multipart(
  token: string,
  query: string,
  variables: Record<string, unknown> = {},
): Promise<{ payloads: Payload[]; contentType: string }> {
  const response = await postGraphql(
    app,
    token,
    { query, variables },
    { accept: 'multipart/mixed, application/graphql-response+json;q=0.9' },
  );
  const contentType = response.headers.get('content-type') ?? '';
  const parts = await meros<Payload>(response);
  if (parts instanceof Response) {
    return { payloads: [(await parts.json()) as Payload], contentType };
  }
  const payloads: Payload[] = [];
  for await (const part of parts) {
    expect(part.json).toBe(true);
    if (part.json) payloads.push(part.body);
  }
  return { payloads, contentType };
}

type TagsData = {
  imageStream: {
    tags: {
      edges: {
        node: { name: string; image: { digest: string; config?: unknown; layers?: unknown[] } };
      }[];
    };
  };
};

describe('@defer over HTTP (multipart/mixed)', () => {
  it('sends the tags first and their config and layers after, adding up to the plain answer', async () => {
    const plain = await reader.graphql(tagsQuery(false));
    expect(plain.errors).toBeUndefined();

    app.statements.length = 0;
    const { payloads, contentType } = await multipart(reader.token!, tagsQuery(true));
    expect(contentType).toMatch(/^multipart\/mixed/);
    expect(payloads.length).toBeGreaterThan(1);
    const [first] = payloads;
    expect(first!.hasNext).toBe(true);
    const edges = (first!.data as TagsData).imageStream.tags.edges;
    expect(edges).toHaveLength(TAGS);
    for (const { node } of edges) {
      expect(node.image.digest).toMatch(/^sha256:/);
      expect(node.image).not.toHaveProperty('config');
      expect(node.image).not.toHaveProperty('layers');
    }
    expect(payloads.at(-1)!.hasNext).toBe(false);
    expect(assemble(payloads)).toEqual(plain);

    // The first payload's one statement reads no config and no layer; the deferred fields of all
    // 40 images are then read in one batched statement, not one per image.
    const [tagsRead, metadataRead, ...more] = ownStatements(app.statements);
    expect(tagsRead).toMatch(/from "image_streams"/);
    expect(tagsRead).not.toMatch(/image_layers|"config"/);
    expect(metadataRead).toMatch(/"config".*from "image_layers".*from "image_manifests"/s);
    expect(more).toEqual([]);
  });

  it('defers a tag history page: one batched statement for every tag after the first payload', async () => {
    const query = (defer: boolean) => `{
      imageStream(namespace: "deferred", name: "big") {
        tags(first: ${TAGS}) { edges { node { name ... ${defer ? '@defer' : ''} {
          history(first: 5) { nodes { generation dockerImageReference image { digest } } }
        } } } }
      }
    }`;
    const plain = await reader.graphql(query(false));
    expect(plain.errors).toBeUndefined();
    app.statements.length = 0;
    const { payloads } = await multipart(reader.token!, query(true));
    expect(payloads[0]!.hasNext).toBe(true);
    expect(JSON.stringify(payloads[0])).not.toContain('dockerImageReference');
    expect(assemble(payloads)).toEqual(plain);
    const [tagsRead, ...deferredReads] = ownStatements(app.statements);
    expect(tagsRead).not.toMatch(/tag_history/);
    expect(deferredReads).toHaveLength(1);
    expect(deferredReads[0]).toMatch(/from "tag_history"/);
  });

  it('answers 406 to a client that accepts neither multipart nor SSE', async () => {
    const response = await postGraphql(
      app,
      reader.token!,
      { query: tagsQuery(true) },
      { accept: 'application/graphql-response+json' },
    );
    expect(response.status).toBe(406);
    await response.body?.cancel();
  });

  it('@stream sends a list item by item: layers after the first, and tags connection edges', async () => {
    const query = (stream: boolean) => `{
      imageStream(namespace: "deferred", name: "big") {
        tags(first: 5) {
          edges ${stream ? '@stream(initialCount: 2)' : ''} { node { name image {
            digest layers ${stream ? '@stream(initialCount: 1)' : ''} { digest size }
          } } }
        }
      }
    }`;
    const plain = await reader.graphql(query(false));
    expect(plain.errors).toBeUndefined();
    const { payloads } = await multipart(reader.token!, query(true));
    const first = payloads[0]!.data as TagsData;
    expect(first.imageStream.tags.edges).toHaveLength(2);
    expect(first.imageStream.tags.edges[0]!.node.image.layers).toHaveLength(1);
    expect(payloads.some((p) => p.incremental?.some((part) => part.items))).toBe(true);
    expect(assemble(payloads)).toEqual(plain);
  });

  it('is authorized inside a deferred fragment exactly as outside one', async () => {
    const query = (defer: boolean) => `{
      imageStream(namespace: "deferred", name: "big") { name }
      ... ${defer ? '@defer' : ''} {
        secretStream: imageStream(namespace: "other", name: "secret") {
          name tags { edges { node { image { digest config { env } } } } }
        }
        secretImage: image(digest: "${SECRET}") { digest config { env } layers { digest } }
      }
      imageStreamTag(namespace: "deferred", ref: "big:t00") {
        ... on ImageStreamTag { image { digest ... ${defer ? '@defer' : ''} { config { env } } } }
      }
    }`;
    const plain = await reader.graphql(query(false));
    expect(plain.data).toMatchObject({ secretImage: null });
    const { payloads } = await multipart(reader.token!, query(true));
    expect(payloads.length).toBeGreaterThan(1);
    const assembled = assemble(payloads);
    expect(assembled.data).toEqual(plain.data);
    const codes = (r: Pick<Payload, 'errors'>) =>
      (r.errors ?? []).map((e) => `${e.path?.join('.')}:${e.extensions?.code}`).sort();
    expect(codes(assembled)).toEqual(codes(plain));
    expect(JSON.stringify(payloads)).not.toContain('SECRET=1');
  });
});

describe('@defer over SSE and graphql-ws', () => {
  it('SSE: each payload is its own next event', async () => {
    const plain = await reader.graphql(tagsQuery(false));
    const sse = subscribeSse<Payload>(app.url, tagsQuery(true), {}, { token: reader.token! });
    expect(await sse.ended).toEqual({ kind: 'complete' });
    expect(sse.results.length).toBeGreaterThan(1);
    expect(sse.results[0]!.hasNext).toBe(true);
    expect(assemble(sse.results)).toEqual(plain);
  });

  it('graphql-ws: a deferred query arrives as several next messages, then complete', async () => {
    const plain = await reader.graphql(tagsQuery(false));
    const ws = reader.subscribe<Payload>(tagsQuery(true));
    try {
      expect(await ws.ended).toEqual({ kind: 'complete' });
      expect(ws.results.length).toBeGreaterThan(1);
      expect(ws.results[0]!.hasNext).toBe(true);
      expect(assemble(ws.results)).toEqual(plain);
    } finally {
      await ws.stop();
    }
  });

  it('refuses @defer and @stream in a subscription, on graphql-ws and SSE', async () => {
    const subscription = `subscription {
      imageStreamChanged(namespace: "deferred") { name ... @defer { imageStream { name } } }
    }`;
    const ws = reader.subscribe<Payload>(subscription);
    try {
      const ended = await ws.ended;
      expect(ended.kind).toBe('error');
      const errors = (ended as { error: Payload['errors'] }).error!;
      expect(errors.map((e) => e.extensions?.code)).toContain('DEFER_IN_SUBSCRIPTION');
    } finally {
      await ws.stop();
    }
    const sse = subscribeSse<Payload>(app.url, subscription, {}, { token: reader.token! });
    await sse.ended;
    expect(sse.results[0]?.errors?.map((e) => e.extensions?.code)).toContain(
      'DEFER_IN_SUBSCRIPTION',
    );
  });
});

describe('limits', () => {
  const codesOf = (result: Pick<Payload, 'errors'>) =>
    (result.errors ?? []).map((e) => e.extensions?.code);

  it('bounds @stream initialCount as a page size', async () => {
    const { payloads } = await multipart(
      reader.token!,
      `{ image(digest: "${digestOf('defer-0')}") { layers @stream(initialCount: 500) { digest } } }`,
    );
    expect(codesOf(payloads[0]!)).toEqual(['PAGE_SIZE_LIMIT']);
    const negative = await multipart(
      reader.token!,
      `query($n: Int) { image(digest: "${digestOf('defer-0')}") { layers @stream(initialCount: $n) { digest } } }`,
      { n: -1 },
    );
    expect(codesOf(negative.payloads[0]!)).toEqual(['BAD_USER_INPUT']);
  });

  it('bounds the deferred fragments an operation may deliver, counted over its lists', async () => {
    // One @defer in each of 100 tags passes; in each tag of 20 streams' 20 tags it does not.
    const perTag = (streams: number, tags: number) => `{
      imageStreams(namespace: "deferred", first: ${streams}) { edges { node {
        tags(first: ${tags}) { edges { node { name ... @defer { image { digest } } } } }
      } } }
    }`;
    const passes = await multipart(reader.token!, perTag(1, 100));
    expect(codesOf(passes.payloads[0]!)).toEqual([]);
    const refused = await multipart(reader.token!, perTag(20, 20));
    expect(refused.payloads).toHaveLength(1);
    expect(codesOf(refused.payloads[0]!)).toEqual(['TOO_MANY_DEFERRED']);
    expect(refused.payloads[0]!.errors![0]!.extensions).toMatchObject({
      deferred: 400,
      maxDeferred: MAX_DEFERRED,
    });
  });

  it('refuses a document of many @defer directives', async () => {
    const fragments = Array.from({ length: 25 }, (_, i) => `... @defer { n${i}: name }`).join(' ');
    const { payloads } = await multipart(
      reader.token!,
      `{ imageStream(namespace: "deferred", name: "big") { ${fragments} } }`,
    );
    expect(codesOf(payloads[0]!)).toContain('TOO_MANY_DIRECTIVES');
  });

  it('prices deferred fields as if they were not deferred', async () => {
    // 100 × 100 tags' histories with layers: over the cost limit with or without @defer.
    const costly = (defer: boolean) => `{
      imageStreams(namespace: "deferred", first: 100) { edges { node {
        tags(first: 100) { edges { node { name ... ${defer ? '@defer' : ''} {
          history(first: 100) { nodes { image { layers { digest } } } }
        } } } }
      } } }
    }`;
    const plain = await reader.graphql(costly(false));
    expect(codesOf(plain)).toEqual(['QUERY_TOO_COSTLY']);
    const deferred = await multipart(reader.token!, costly(true));
    const errors = deferred.payloads[0]!.errors ?? [];
    expect(errors.map((e) => e.extensions?.code)).toContain('TOO_MANY_DEFERRED');
    // With @defer only around the list, the deferred count passes and the cost still refuses.
    const around = `{
      imageStreams(namespace: "deferred", first: 100) { totalCount ... @defer { edges { node {
        tags(first: 100) { edges { node { name history(first: 100) { nodes { image { layers { digest } } } } } } }
      } } } }
    }`;
    const aroundResult = await multipart(reader.token!, around);
    const aroundError = aroundResult.payloads[0]!.errors?.[0];
    expect(aroundError?.extensions).toMatchObject({
      code: 'QUERY_TOO_COSTLY',
      maxCost: MAX_QUERY_COST,
    });
  });
});
