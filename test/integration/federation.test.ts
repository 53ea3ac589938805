// tagraph as an Apollo Federation subgraph: composed with a second subgraph into a supergraph and
// queried through Hive Gateway over HTTP, the caller's token forwarded; `_entities` authorizes and
// batches.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { createGatewayRuntime, type GatewayRuntime } from '@graphql-hive/gateway-runtime';
import { composeServices } from '@theguild/federation-composition';
import { parse } from 'graphql';
import { createYoga } from 'graphql-yoga';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { printedSubgraphSchema } from '../../src/schema/federation.ts';
import { schema as publicSchema } from '../../src/schema/index.ts';
import { MAX_REPRESENTATIONS } from '../../src/services/entities.ts';
import {
  bearer,
  type GraphqlResponse,
  ownStatements,
  startTestApp,
  type TestApp,
} from '../support/app.ts';
import { digestOf, seedImage, seedStream, seedTag } from '../support/seed.ts';

const TAGS = 50;
const digest = (n: number) => digestOf(`federation-${n}`);
const SECRET = digestOf('federation-secret');

/** A second subgraph: deployments that name tagraph's entities by their natural keys. */
const DEPLOYMENTS_SDL = `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.6", import: ["@key"])
  type Query { deployments: [Deployment!]! }
  type Deployment {
    name: String!
    image: ImageStreamTag
    runs: Image
  }
  type ImageStreamTag @key(fields: "stream { namespace name } name", resolvable: false) {
    stream: ImageStream!
    name: String!
  }
  type ImageStream @key(fields: "namespace name", resolvable: false) {
    namespace: String!
    name: String!
  }
  type Image @key(fields: "digest", resolvable: false) {
    digest: String!
  }
`;

const DEPLOYMENTS = [
  {
    name: 'web',
    image: { stream: { namespace: 'fed-a', name: 'web' }, name: 'v1' },
    runs: { digest: digest(1) },
  },
  {
    name: 'vault',
    image: { stream: { namespace: 'fed-b', name: 'secret' }, name: 'v1' },
    runs: { digest: SECRET },
  },
];

function listen(server: Server): Promise<string> {
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`);
    });
  });
}

function close(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.close((error) => (error ? reject(error) : resolve()));
    server.closeAllConnections();
  });
}

let app: TestApp;
let puller: string;
let deploymentsServer: Server;
let gatewayServer: Server;
let gateway: GatewayRuntime;
let gatewayUrl: string;
let supergraphErrors: unknown;

async function throughGateway<T>(query: string, headers: Record<string, string> = {}) {
  const response = await fetch(gatewayUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query }),
  });
  return (await response.json()) as GraphqlResponse<T>;
}

beforeAll(async () => {
  app = await startTestApp({ federation: true });
  const db = app.database.db;
  const web = await seedStream(db, { namespace: 'fed-a', name: 'web' });
  for (let n = 1; n <= TAGS; n++) {
    await seedImage(db, {
      digest: digest(n),
      dockerImageReference: `quay.io/fed/web@${digest(n)}`,
    });
    await seedTag(db, web.id, {
      name: `v${n}`,
      from: { kind: 'DockerImage', name: `quay.io/fed/web:v${n}` },
      history: [
        { dockerImageReference: `quay.io/fed/web@${digest(n)}`, image: digest(n), generation: 1 },
      ],
    });
  }
  const secret = await seedStream(db, { namespace: 'fed-b', name: 'secret' });
  await seedImage(db, { digest: SECRET, dockerImageReference: `quay.io/fed/secret@${SECRET}` });
  await seedTag(db, secret.id, {
    name: 'v1',
    history: [
      { dockerImageReference: `quay.io/fed/secret@${SECRET}`, image: SECRET, generation: 1 },
    ],
  });
  puller = await app.member('fed-a', 'IMAGE_PULLER');

  const deployments = createYoga({
    schema: buildSubgraphSchema({
      typeDefs: parse(DEPLOYMENTS_SDL),
      resolvers: { Query: { deployments: () => DEPLOYMENTS } },
    }),
    logging: false,
  });
  deploymentsServer = createServer(deployments);
  const deploymentsUrl = await listen(deploymentsServer);

  // The subgraph's SDL as the running server serves it (a gateway's composition reads this).
  const service = await app
    .as(puller)
    .graphql<{ _service: { sdl: string } }>('{ _service { sdl } }');
  expect(service.errors).toBeUndefined();
  const tagraphSdl = service.data!._service.sdl;
  expect(tagraphSdl).toBe(printedSubgraphSchema());

  const composed = composeServices([
    { name: 'tagraph', typeDefs: parse(tagraphSdl), url: `${app.url}/graphql` },
    { name: 'deployments', typeDefs: parse(DEPLOYMENTS_SDL), url: deploymentsUrl },
  ]);
  supergraphErrors = composed.errors;
  gateway = createGatewayRuntime({
    supergraph: composed.supergraphSdl!,
    logging: false,
    // The gateway speaks to tagraph as the client: tagraph authorizes the caller, not the gateway.
    propagateHeaders: {
      fromClientToSubgraphs: ({ request }) => ({
        authorization: request.headers.get('authorization'),
      }),
    },
  });
  gatewayServer = createServer(gateway);
  gatewayUrl = await listen(gatewayServer);
}, 120_000);

afterAll(async () => {
  if (gatewayServer) await close(gatewayServer);
  await gateway?.dispose();
  if (deploymentsServer) await close(deploymentsServer);
  await app?.stop();
});

const DEPLOYMENT_QUERY = `{
  deployments {
    name
    image { name pullSpec stream { namespace name generation } image { digest size } }
    runs { digest dockerImageReference }
  }
}`;

interface DeploymentData {
  deployments: {
    name: string;
    image: {
      name: string;
      pullSpec: string;
      stream: { namespace: string; name: string; generation: number };
      image: { digest: string; size: number };
    } | null;
    runs: { digest: string; dockerImageReference: string } | null;
  }[];
}

describe('federation', () => {
  it('composes with a second subgraph into a supergraph', () => {
    expect(supergraphErrors).toBeUndefined();
  });

  it('answers through the gateway with entities of both subgraphs, as the forwarded caller', async () => {
    const result = await throughGateway<DeploymentData>(DEPLOYMENT_QUERY, bearer(puller));
    const [web, vault] = result.data!.deployments;
    expect(web).toEqual({
      name: 'web',
      image: {
        name: 'v1',
        pullSpec: `quay.io/fed/web@${digest(1)}`,
        stream: { namespace: 'fed-a', name: 'web', generation: 1 },
        image: { digest: digest(1), size: 0 },
      },
      runs: { digest: digest(1), dockerImageReference: `quay.io/fed/web@${digest(1)}` },
    });
    // fed-b is not the puller's: its tag is null with tagraph's FORBIDDEN errors; of the image
    // only the key the deployments subgraph holds itself is left, tagraph's fields are null.
    expect(vault).toEqual({
      name: 'vault',
      image: null,
      runs: { digest: SECRET, dockerImageReference: null },
    });
    expect(result.errors!.length).toBeGreaterThan(0);
    for (const error of result.errors!) {
      expect(error.extensions).toMatchObject({ code: 'FORBIDDEN', serviceName: 'tagraph' });
      expect(error.path?.slice(0, 3)).toEqual(['deployments', 1, 'image']);
    }
  });

  it('shows everything to a cluster admin through the gateway', async () => {
    const result = await throughGateway<DeploymentData>(DEPLOYMENT_QUERY, bearer(app.adminToken));
    expect(result.errors).toBeUndefined();
    expect(result.data!.deployments[1]!.image!.stream).toMatchObject({ namespace: 'fed-b' });
    expect(result.data!.deployments[1]!.runs!.digest).toBe(SECRET);
  });

  it('resolves no tagraph entity for a request without a token', async () => {
    const result = await throughGateway<DeploymentData>(DEPLOYMENT_QUERY);
    expect(result.data!.deployments.map((d) => d.name)).toEqual(['web', 'vault']);
    for (const deployment of result.data!.deployments) {
      expect(deployment.image).toBeNull();
      expect(deployment.runs!.dockerImageReference).toBeNull();
    }
    expect(result.errors?.length).toBeGreaterThan(0);
    for (const error of result.errors!) {
      expect(error.extensions).toMatchObject({ code: 'UNAUTHENTICATED' });
    }
  });
});

const TAG_ENTITIES = `query($representations: [_Any!]!) {
  _entities(representations: $representations) {
    ... on ImageStreamTag { id name pullSpec stream { namespace name } image { digest size } }
  }
}`;

const tagRepresentations = (count: number, namespace = 'fed-a', stream = 'web') =>
  Array.from({ length: count }, (_, i) => ({
    __typename: 'ImageStreamTag',
    stream: { namespace, name: stream },
    name: `v${i + 1}`,
  }));

type Entities = { _entities: (Record<string, unknown> | null)[] };

describe('_entities', () => {
  it('reads 5 or 50 tags with the same statements', async () => {
    const count = async (n: number) => {
      app.statements.length = 0;
      const result = await app
        .as(puller)
        .graphql<Entities>(TAG_ENTITIES, { representations: tagRepresentations(n) });
      expect(result.errors).toBeUndefined();
      expect(result.data!._entities).toHaveLength(n);
      expect(result.data!._entities[n - 1]).toMatchObject({
        name: `v${n}`,
        image: { digest: digest(n) },
      });
      return ownStatements(app.statements).length;
    };
    const five = await count(5);
    const fifty = await count(TAGS);
    // The tags by key, then their fields (history, images, streams) for all of them at once.
    expect(fifty).toBe(five);
    expect(fifty).toBe(2);
  });

  it('reads streams by id and by name, and images by id and digest, in one statement per type', async () => {
    const admin = await app.admin<{
      imageStreamTag: { id: string; stream: { id: string }; image: { id: string } };
    }>(`{ imageStreamTag(namespace: "fed-a", ref: "web:v2") {
      ... on ImageStreamTag { id stream { id } image { id } } } }`);
    const found = admin.imageStreamTag;
    const representations = [
      { __typename: 'ImageStream', id: found.stream.id },
      { __typename: 'ImageStream', namespace: 'fed-a', name: 'web' },
      { __typename: 'ImageStream', namespace: 'fed-a', name: 'none' },
      { __typename: 'ImageStreamTag', id: found.id },
      ...Array.from({ length: 20 }, (_, i) => ({ __typename: 'Image', digest: digest(i + 1) })),
      { __typename: 'Image', id: found.image.id },
      { __typename: 'Image', digest: digestOf('never-stored') },
    ];
    app.statements.length = 0;
    const result = await app.as(puller).graphql<Entities>(
      `query($representations: [_Any!]!) { _entities(representations: $representations) {
        __typename
        ... on ImageStream { namespace name }
        ... on ImageStreamTag { name }
        ... on Image { digest }
      } }`,
      { representations },
    );
    expect(result.errors).toBeUndefined();
    const entities = result.data!._entities;
    expect(entities.slice(0, 4)).toEqual([
      { __typename: 'ImageStream', namespace: 'fed-a', name: 'web' },
      { __typename: 'ImageStream', namespace: 'fed-a', name: 'web' },
      null,
      { __typename: 'ImageStreamTag', name: 'v2' },
    ]);
    expect(entities.slice(4, 24)).toEqual(
      Array.from({ length: 20 }, (_, i) => ({ __typename: 'Image', digest: digest(i + 1) })),
    );
    expect(entities.slice(24)).toEqual([{ __typename: 'Image', digest: digest(2) }, null]);
    // Streams, tags, images: one read each (the fields asked are on the rows read).
    expect(ownStatements(app.statements)).toHaveLength(3);
  });

  it('never returns an entity of a namespace the caller may not read', async () => {
    const admin = await app.admin<{
      imageStreamTag: { id: string; stream: { id: string }; image: { id: string } };
    }>(`{ imageStreamTag(namespace: "fed-b", ref: "secret:v1") {
      ... on ImageStreamTag { id stream { id } image { id } } } }`);
    const found = admin.imageStreamTag;
    const representations = [
      { __typename: 'ImageStream', id: found.stream.id },
      { __typename: 'ImageStream', namespace: 'fed-b', name: 'secret' },
      { __typename: 'ImageStream', namespace: 'fed-b', name: 'does-not-exist' },
      { __typename: 'ImageStreamTag', id: found.id },
      ...tagRepresentations(1, 'fed-b', 'secret'),
      { __typename: 'Image', id: found.image.id },
      { __typename: 'Image', digest: SECRET },
      ...tagRepresentations(1),
    ];
    const result = await app.as(puller).graphql<Entities>(
      `query($representations: [_Any!]!) { _entities(representations: $representations) {
        __typename ... on ImageStream { name } ... on ImageStreamTag { name } ... on Image { digest }
      } }`,
      { representations },
    );
    expect(result.data!._entities).toEqual([
      null,
      null,
      null,
      null,
      null,
      null,
      null,
      { __typename: 'ImageStreamTag', name: 'v1' },
    ]);
    // Streams and tags of fed-b are FORBIDDEN (named or not, existing or not); images are null.
    const byIndex = new Map(result.errors!.map((e) => [e.path![1], e.extensions?.code]));
    expect(Object.fromEntries(byIndex)).toEqual({
      0: 'FORBIDDEN',
      1: 'FORBIDDEN',
      2: 'FORBIDDEN',
      3: 'FORBIDDEN',
      4: 'FORBIDDEN',
    });
    expect(JSON.stringify(result)).not.toContain(SECRET);
  });

  it('refuses malformed keys and too many representations with typed errors', async () => {
    const result = await app.as(puller).graphql<Entities>(
      `query($representations: [_Any!]!) { _entities(representations: $representations) {
        __typename } }`,
      {
        representations: [
          { __typename: 'ImageStream', id: 'not-a-global-id' },
          { __typename: 'ImageStream', namespace: 'Not_A_Label', name: 'web' },
          { __typename: 'ImageStreamTag', stream: { namespace: 'fed-a' }, name: 'v1' },
          { __typename: 'Image', digest: 'latest' },
        ],
      },
    );
    expect(result.data!._entities).toEqual([null, null, null, null]);
    expect(result.errors!.map((e) => e.extensions?.code)).toEqual([
      'VALIDATION',
      'VALIDATION',
      'VALIDATION',
      'VALIDATION',
    ]);

    const tooMany = await app.as(puller).graphql<Entities>(TAG_ENTITIES, {
      representations: tagRepresentations(MAX_REPRESENTATIONS + 1),
    });
    expect(tooMany.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('is not part of the public schema', () => {
    const fields = publicSchema.getQueryType()!.getFields();
    expect(fields._entities).toBeUndefined();
    expect(fields._service).toBeUndefined();
  });
});
