// Image stream create / get / list / delete over GraphQL, with validation and conflicts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.ts';

const NAMESPACES = ['project-a', 'dup', 'ns', 'listing', 'other', 'del'];
let app: TestApp;
/** The least-privileged callers that should succeed: */
let editor: TestApp; // creates and updates streams
let reader: TestApp; // reads them
let nsAdmin: TestApp; // deletes them (ADMIN of `del` only)
beforeAll(async () => {
  app = await startTestApp();
  editor = app.as(await app.member(NAMESPACES, 'EDITOR'));
  reader = app.as(await app.member(NAMESPACES, 'IMAGE_PULLER'));
  nsAdmin = app.as(await app.member('del', 'ADMIN'));
});
afterAll(async () => {
  await app.stop();
});

const CREATE = /* GraphQL */ `
  mutation Create($input: CreateImageStreamInput!) {
    createImageStream(input: $input) {
      __typename
      ... on ImageStreamPayload {
        imageStream { id namespace name generation resourceVersion pullSpec
          labels { key value } annotations { key value } lookupPolicy { local } }
      }
      ... on Error { message code field }
      ... on ValidationError { problems { field message } }
    }
  }
`;

interface CreateResult {
  createImageStream: {
    __typename: string;
    imageStream?: Record<string, unknown> & { id: string; resourceVersion: string };
    message?: string;
    field?: string;
    problems?: { field: string; message: string }[];
  };
}

async function create(input: Record<string, unknown>, caller = editor) {
  const result = await caller.graphql<CreateResult>(CREATE, { input });
  expect(result.errors).toBeUndefined();
  return result.data!.createImageStream;
}

describe('createImageStream', () => {
  it('creates a stream with labels, annotations and lookup policy', async () => {
    const created = await create({
      namespace: 'project-a',
      name: 'ruby',
      labels: [{ key: 'app', value: 'web' }],
      annotations: [{ key: 'openshift.io/display-name', value: 'Ruby' }],
      lookupPolicy: { local: true },
    });
    expect(created.__typename).toBe('ImageStreamPayload');
    expect(created.imageStream).toMatchObject({
      namespace: 'project-a',
      name: 'ruby',
      generation: 1,
      pullSpec: 'registry.test:5000/project-a/ruby',
      labels: [{ key: 'app', value: 'web' }],
      annotations: [{ key: 'openshift.io/display-name', value: 'Ruby' }],
      lookupPolicy: { local: true },
    });
    // The global id is opaque: it does not show the database key in the clear.
    expect(created.imageStream!.id).not.toMatch(/^\d+$/);
  });

  it('refuses a duplicate with a conflict naming the field', async () => {
    await create({ namespace: 'dup', name: 'python' });
    const again = await create({ namespace: 'dup', name: 'python' });
    expect(again).toMatchObject({
      __typename: 'ConflictError',
      code: 'CONFLICT',
      field: 'name',
      message: 'image stream dup/python already exists',
    });
  });

  it.each([
    [{ namespace: 'Bad_NS', name: 'ok' }, 'namespace'],
    [{ namespace: 'ns', name: 'Upper' }, 'name'],
    [{ namespace: 'ns', name: 'trailing-' }, 'name'],
    [{ namespace: 'ns', name: 'x'.repeat(253) }, 'name'],
    [{ namespace: 'ns', name: 'ok', labels: [{ key: 'bad key', value: 'v' }] }, 'labels'],
  ])('rejects invalid input %j with a typed error on %s', async (input, field) => {
    // No one can be given a role in a namespace with an invalid name: only a cluster admin can
    // reach the validation of one (anyone else is refused first).
    const caller = input.namespace === 'ns' ? editor : app.as(app.adminToken);
    const result = await create(input, caller);
    expect(result.__typename).toBe('ValidationError');
    expect(result.field).toMatch(new RegExp(`^${field}`));
    expect(result.problems!.length).toBeGreaterThan(0);
    expect(result.message).not.toBe('');
  });

  it('reports duplicate label keys against their input position', async () => {
    const result = await create({
      namespace: 'ns',
      name: 'dupe-labels',
      labels: [
        { key: 'a', value: '1' },
        { key: 'a', value: '2' },
      ],
    });
    expect(result).toMatchObject({ __typename: 'ValidationError', field: 'labels.1.key' });
    const stream = await reader.graphql(
      `{ imageStream(namespace: "ns", name: "dupe-labels") { id } }`,
    );
    expect(stream.data).toEqual({ imageStream: null });
  });

  it('rejects a missing required argument as a GraphQL validation error, not a 500', async () => {
    const result = await editor.graphql(CREATE, { input: { namespace: 'ns' } });
    expect(result.errors?.[0]?.message).toMatch(/name/);
  });
});

describe('queries', () => {
  beforeAll(async () => {
    for (const name of ['nginx', 'node', 'nodejs-base', 'postgres', 'python']) {
      await create({
        namespace: 'listing',
        name,
        labels: [{ key: 'tier', value: name.startsWith('no') ? 'runtime' : 'data' }],
      });
    }
    await create({ namespace: 'other', name: 'nginx' });
  });

  it('gets one stream by namespace and name, and null when missing', async () => {
    const found = await reader.graphql<{ imageStream: { name: string } | null }>(
      `{ imageStream(namespace: "listing", name: "node") { name namespace } }`,
    );
    expect(found.data?.imageStream).toEqual({ name: 'node', namespace: 'listing' });
    const missing = await reader.graphql(
      `{ imageStream(namespace: "listing", name: "nope") { name } }`,
    );
    expect(missing.data).toEqual({ imageStream: null });
  });

  it('lists a namespace sorted by name with cursor pagination', async () => {
    const query = `query Page($after: String) {
      imageStreams(namespace: "listing", first: 2, after: $after) {
        edges { cursor node { name } } pageInfo { hasNextPage endCursor }
      }
    }`;
    type Page = {
      edges: { node: { name: string } }[];
      pageInfo: { hasNextPage: boolean; endCursor: string };
    };
    const names: string[] = [];
    let after: string | null = null;
    for (let page = 0; page < 5; page++) {
      const result: { data?: { imageStreams: Page } } = await reader.graphql<{
        imageStreams: Page;
      }>(query, { after });
      const connection: Page = result.data!.imageStreams;
      names.push(...connection.edges.map((e) => e.node.name));
      if (!connection.pageInfo.hasNextPage) break;
      after = connection.pageInfo.endCursor;
    }
    expect(names).toEqual(['nginx', 'node', 'nodejs-base', 'postgres', 'python']);
  });

  it('filters by name prefix and by labels', async () => {
    const byPrefix = await reader.graphql<{ imageStreams: { nodes: { name: string }[] } }>(
      `{ imageStreams(namespace: "listing", filter: { namePrefix: "no" }) { nodes { name } } }`,
    );
    expect(byPrefix.data!.imageStreams.nodes.map((n) => n.name)).toEqual(['node', 'nodejs-base']);
    const byLabel = await reader.graphql<{ imageStreams: { nodes: { name: string }[] } }>(
      `{ imageStreams(namespace: "listing", filter: { labels: [{ key: "tier", value: "data" }] }) {
          nodes { name } } }`,
    );
    expect(byLabel.data!.imageStreams.nodes.map((n) => n.name)).toEqual([
      'nginx',
      'postgres',
      'python',
    ]);
  });

  it('caps page size at 100', async () => {
    const result = await reader.graphql(
      `{ imageStreams(namespace: "listing", first: 101) { nodes { name } } }`,
    );
    expect(result.errors?.[0]?.message).toMatch(/100/);
  });

  it('checks a page size given by a variable on every request of the same query', async () => {
    const query = `query($n: Int) { imageStreams(namespace: "listing", first: $n) { nodes { name } } }`;
    const small = await reader.graphql<{ imageStreams: { nodes: unknown[] } }>(query, { n: 2 });
    const large = await reader.graphql(query, { n: 101 });
    const smallAgain = await reader.graphql<{ imageStreams: { nodes: unknown[] } }>(query, {
      n: 1,
    });
    expect(small.data?.imageStreams.nodes).toHaveLength(2);
    expect(large.errors?.[0]?.extensions?.code).toBe('PAGE_SIZE_LIMIT');
    expect(large.errors?.[0]?.message).toMatch(/"first" is 101/);
    expect(smallAgain.data?.imageStreams.nodes).toHaveLength(1);
  });

  it('refetches a stream through node(id)', async () => {
    const found = await reader.graphql<{ imageStream: { id: string } }>(
      `{ imageStream(namespace: "other", name: "nginx") { id } }`,
    );
    const id = found.data!.imageStream.id;
    const node = await reader.graphql<{
      node: { __typename: string; name: string; namespace: string };
    }>(`query($id: ID!) { node(id: $id) { __typename ... on ImageStream { name namespace } } }`, {
      id,
    });
    expect(node.data!.node).toEqual({
      __typename: 'ImageStream',
      name: 'nginx',
      namespace: 'other',
    });
  });
});

describe('deleteImageStream', () => {
  const DELETE = `mutation($input: DeleteImageStreamInput!) {
    deleteImageStream(input: $input) {
      __typename
      ... on DeleteImageStreamPayload { deletedId namespace name }
      ... on Error { message code field }
    }
  }`;

  it('deletes a stream, after which it is gone', async () => {
    const created = await create({ namespace: 'del', name: 'gone' });
    const result = await nsAdmin.graphql<{ deleteImageStream: Record<string, unknown> }>(DELETE, {
      input: { namespace: 'del', name: 'gone' },
    });
    expect(result.data!.deleteImageStream).toEqual({
      __typename: 'DeleteImageStreamPayload',
      deletedId: created.imageStream!.id,
      namespace: 'del',
      name: 'gone',
    });
    const after = await reader.graphql(`{ imageStream(namespace: "del", name: "gone") { id } }`);
    expect(after.data).toEqual({ imageStream: null });
  });

  it('answers not found for a missing stream', async () => {
    const result = await nsAdmin.graphql<{ deleteImageStream: Record<string, unknown> }>(DELETE, {
      input: { namespace: 'del', name: 'never' },
    });
    expect(result.data!.deleteImageStream).toMatchObject({
      __typename: 'NotFoundError',
      code: 'NOT_FOUND',
      field: 'name',
    });
  });

  it('refuses a stale expectedResourceVersion and keeps the stream', async () => {
    const created = await create({ namespace: 'del', name: 'kept' });
    const stale = String(Number(created.imageStream!.resourceVersion) + 5);
    const result = await nsAdmin.graphql<{ deleteImageStream: Record<string, unknown> }>(DELETE, {
      input: { namespace: 'del', name: 'kept', expectedResourceVersion: stale },
    });
    expect(result.data!.deleteImageStream).toMatchObject({
      __typename: 'ConflictError',
      field: 'expectedResourceVersion',
    });
    const ok = await nsAdmin.graphql<{ deleteImageStream: Record<string, unknown> }>(DELETE, {
      input: {
        namespace: 'del',
        name: 'kept',
        expectedResourceVersion: created.imageStream!.resourceVersion,
      },
    });
    expect(ok.data!.deleteImageStream.__typename).toBe('DeleteImageStreamPayload');
  });
});
