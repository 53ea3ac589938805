// Compiled reads answer byte for byte as the ordinary execution does, for every caller, and never
// show a namespace the caller may not read.
import { sql } from 'drizzle-orm';
import fc from 'fast-check';
import { parse } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileRead } from '../../src/server/compiledReads/compile.ts';
import { bearer, startTestApp, type TestApp } from '../support/app.ts';
import { digestOf, seedImage, seedStream, seedTag } from '../support/seed.ts';

const IMAGE_FIELDS = 'digest mediaType architecture os size created author';

/** The benchmark's two queries (bench/query.ts), as the load generator sends them. */
const BENCH = {
  graph: `query Graph($ns: String!) { imageStream(namespace: $ns, name: "web") {
      name labels { key value }
      tags(first: 20) { nodes { name
        history(first: 5) { nodes { created dockerImageReference generation
          image { ${IMAGE_FIELDS} layers { digest size } } } } } } } }`,
  small: `query Small($ns: String!) { imageStream(namespace: $ns, name: "web") {
      name tag(name: "t1") { name history(first: 1) { nodes { image { digest } } } } } }`,
};

// Selections over every covered field, generated with a fixed seed so a failure reproduces.
const pick = <T>(items: T[]) => fc.subarray(items, { minLength: 1 });
// Pages small enough that every nesting stays under the query-cost limit (and so is proven).
const page = fc.constantFrom('', '(first: 1)', '(first: 2)', '(first: 5)');
const streamPage = fc.constantFrom('(first: 2)', '(first: 3)');
const layerSel = pick(['digest', 'size', 'mediaType', '__typename']).map((f) => f.join(' '));
const imageSel = fc
  .tuple(
    pick([
      'digest',
      'mediaType',
      'dockerImageReference',
      'architecture',
      'os',
      'variant',
      'created',
      'author',
      'size',
      'metadataSource',
      'id',
      '__typename',
    ]),
    fc.option(layerSel),
  )
  .map(([fields, layers]) => [...fields, ...(layers ? [`layers { ${layers} }`] : [])].join(' '));
const connection = (nodes: fc.Arbitrary<string>, pages: fc.Arbitrary<string> = page) =>
  fc
    .tuple(pages, nodes, fc.boolean(), fc.boolean())
    .map(
      ([args, sel, count, typename]) =>
        `${args} { nodes { ${sel} }${count ? ' totalCount' : ''}${typename ? ' __typename' : ''} }`,
    );
const eventSel = fc
  .tuple(pick(['created', 'dockerImageReference', 'generation', '__typename']), fc.option(imageSel))
  .map(([fields, image]) => [...fields, ...(image ? [`image { ${image} }`] : [])].join(' '));
const tagSel = fc
  .tuple(
    pick(['name', 'id', 'dockerImageReference', '__typename']),
    fc.option(connection(eventSel)),
    fc.option(imageSel),
  )
  .map(([fields, history, image]) =>
    [
      ...fields,
      ...(history ? [`history${history}`] : []),
      ...(image ? [`image { ${image} }`] : []),
    ].join(' '),
  );
const streamSel = fc
  .tuple(
    pick([
      'name',
      'namespace',
      'id',
      'generation',
      'resourceVersion',
      'dockerImageRepository',
      'uniqueImageCount',
      'labels { key value }',
      'annotations { value __typename }',
      'lookupPolicy { local }',
      '__typename',
    ]),
    fc.option(connection(tagSel)),
    fc.option(tagSel),
    fc.constantFrom('t1', 'ref', 'missing'),
  )
  .map(([fields, tags, tag, tagName]) =>
    [
      ...fields,
      ...(tags ? [`tags${tags}`] : []),
      ...(tag ? [`tag(name: "${tagName}") { ${tag} }`] : []),
    ].join(' '),
  );
const documentArb = fc
  .tuple(fc.boolean(), streamSel, fc.option(connection(streamSel, streamPage)))
  .map(
    ([named, stream, streams]) =>
      `query${named ? ' Generated' : ''}($ns: String!, $name: String!) { ` +
      `one: imageStream(namespace: $ns, name: $name) { ${stream} }` +
      (streams
        ? ` imageStreams(namespace: $ns${streams.startsWith('(') ? `, ${streams.slice(1)}` : `)${streams}`}`
        : '') +
      ' }',
  );
const GENERATED = fc.sample(documentArb, { seed: 28, numRuns: 30 });

interface Case {
  query: string;
  variables: Record<string, string>;
}

const CASES: Case[] = [
  ...['na', 'nb', 'none'].flatMap((ns) =>
    Object.values(BENCH).map((query) => ({ query, variables: { ns } })),
  ),
  ...GENERATED.flatMap((query) =>
    [
      { ns: 'na', name: 'web' },
      { ns: 'nb', name: 'web' },
      { ns: 'na', name: 'missing' },
    ].map((variables) => ({ query, variables })),
  ),
];

interface Reply {
  status: number;
  contentType: string | null;
  body: string;
}

async function raw(app: TestApp, token: string, c: Case): Promise<Reply> {
  const response = await app.yoga.fetch(`${app.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...bearer(token) },
    body: JSON.stringify({ query: c.query, variables: c.variables }),
  });
  return {
    status: response.status,
    contentType: response.headers.get('content-type'),
    body: await response.text(),
  };
}

/** Whether the request ran a compiled statement (it selects `readable`). */
const compiledStatements = (statements: string[]) =>
  statements.filter((s) => s.includes(' as readable,')).length;

async function seed(app: TestApp) {
  const db = app.database.db;
  const layered = digestOf('layered');
  const plain = digestOf('plain');
  const other = digestOf('other');
  await seedImage(db, {
    digest: layered,
    dockerImageReference: `docker.io/library/web@${layered}`,
    architecture: 'amd64',
    os: 'linux',
    variant: 'v3',
    created: new Date('2024-02-01T10:00:00.123Z'),
    author: 'Web "Team" \\ <web@example.com>\n',
    layers: [
      { digest: digestOf('base'), size: 3_000_000_000 },
      { digest: digestOf('app'), size: 23 },
    ],
  });
  await seedImage(db, { digest: plain, metadataSource: 'declared' });
  await seedImage(db, { digest: other, created: new Date('2023-01-01T00:00:00Z') });
  // Microseconds the ordinary path cuts to milliseconds.
  await db.execute(
    sql`update images set created = '2024-05-06 07:08:09.987654+00' where digest = ${other}`,
  );
  const event = (image: string | null, generation: number, ref = `r/web@${image}`) => ({
    dockerImageReference: ref,
    image,
    generation,
  });
  for (const ns of ['na', 'nb']) {
    const web = await seedStream(db, { namespace: ns, name: 'web', generation: 3 });
    await db.execute(sql`update image_streams set labels = ${JSON.stringify({
      zeta: 'last',
      'app.kubernetes.io/name': `web-${ns}`,
      ünï: 'cödé ☃ "q" \t',
      A: '',
    })}::jsonb, annotations = ${JSON.stringify({ note: 'x\u0001y' })}::jsonb,
      docker_image_repository = 'docker.io/library/web', lookup_local = true
      where id = ${web.id}`);
    const other2 = await seedStream(db, { namespace: ns, name: 'api' });
    await seedTag(db, other2.id, { name: 'v1', history: [event(plain, 1)] });
    await seedTag(db, web.id, {
      name: 't1',
      history: [event(other, 1), event(plain, 2), event(layered, 3)],
    });
    await seedTag(db, web.id, {
      name: 'ref',
      reference: true,
      history: [event(null, 1, 'quay.io/x:1')],
    });
    await seedTag(db, web.id, { name: 'empty', specGeneration: null });
    await seedTag(db, web.id, { name: 'B-upper', history: [event(layered, 1), event(other, 1)] });
  }
}

let on: TestApp | undefined;
const tokens: Record<string, string> = {};
const compiledReplies = new Map<string, Reply>();
let compiledServed = 0;

beforeAll(async () => {
  const app = await startTestApp({ compiledReads: true });
  on = app;
  await seed(app);
  tokens.admin = app.adminToken;
  tokens.readerA = await app.member('na', 'IMAGE_PULLER');
  tokens.readerAB = await app.member(['na', 'nb'], 'IMAGE_PULLER');
  tokens.outsider = (await app.user('outsider')).token;
  // A registry reads every namespace without a binding; a robot token only its own namespace.
  tokens.registry = await app.registry();
  const robot = await app.admin<{ createRobotToken: { token?: string } }>(
    `mutation($input: CreateRobotTokenInput!) { createRobotToken(input: $input) {
      ... on RobotTokenPayload { token } } }`,
    { input: { namespace: 'na', name: 'puller', role: 'IMAGE_PULLER' } },
  );
  tokens.robotA = robot.createRobotToken.token!;
  // Each document once as the admin: its first ordinary success proves it.
  for (const c of CASES) await raw(app, tokens.admin, c);
  for (const c of CASES) {
    for (const [who, token] of Object.entries(tokens)) {
      app.statements.length = 0;
      compiledReplies.set(`${who} ${JSON.stringify(c)}`, await raw(app, token, c));
      compiledServed += compiledStatements(app.statements) > 0 ? 1 : 0;
    }
  }
  on = undefined;
  await app.stop();
}, 240_000);

afterAll(async () => {
  await on?.stop();
});

describe('compiled reads', () => {
  it('cover every benchmark and generated document', () => {
    for (const query of [...Object.values(BENCH), ...GENERATED]) {
      const result = compileRead(parse(query));
      expect('compiled' in result ? null : result.unsupported, query).toBeNull();
    }
    // Every case of every caller tried the compiled statement (forbidden ones then fell back).
    expect(compiledServed).toBe(CASES.length * Object.keys(tokens).length);
  });

  it('answer byte for byte as the ordinary execution, for each caller', async () => {
    const off = await startTestApp({ compiledReads: false });
    try {
      let compared = 0;
      for (const c of CASES) {
        for (const [who, token] of Object.entries(tokens)) {
          off.statements.length = 0;
          const ordinary = await raw(off, token, c);
          expect(compiledStatements(off.statements)).toBe(0);
          expect(compiledReplies.get(`${who} ${JSON.stringify(c)}`), `${who} ${c.query}`).toEqual(
            ordinary,
          );
          compared += 1;
        }
      }
      expect(compared).toBe(CASES.length * Object.keys(tokens).length);
    } finally {
      await off.stop();
    }
  }, 240_000);

  it('never show a caller a namespace it may not read', () => {
    const forbidden = (who: string, ns: string) =>
      CASES.filter((c) => c.variables.ns === ns).map(
        (c) => compiledReplies.get(`${who} ${JSON.stringify(c)}`)!,
      );
    for (const [who, ns] of [
      ['readerA', 'nb'],
      ['robotA', 'nb'],
      ['outsider', 'na'],
      ['outsider', 'nb'],
    ] as const) {
      const replies = forbidden(who, ns);
      expect(replies.length).toBeGreaterThan(0);
      for (const reply of replies) {
        const body = JSON.parse(reply.body) as {
          data?: unknown;
          errors?: { extensions?: { code?: string } }[];
        };
        expect(body.errors?.map((e) => e.extensions?.code)).toContain('FORBIDDEN');
        expect(reply.body).not.toContain(`web-${ns}`);
        expect(reply.body).not.toContain('sha256:');
      }
    }
    // Readers do see their own namespaces.
    const own = forbidden('readerAB', 'nb');
    expect(own.some((reply) => reply.body.includes('web-nb') || reply.body.includes('"web"'))).toBe(
      true,
    );
  });
});
