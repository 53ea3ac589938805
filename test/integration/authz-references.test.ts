// Authorization follows the namespace a reference names, not the `namespace` argument: cross-
// namespace writes and reads through refs are refused with nothing written or revealed; global ids,
// cursors and job ids are checked before they reach a query; `nodes` takes a bounded list.
import { encodeGlobalID } from '@pothos/plugin-relay';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AccessChecker } from '../../src/auth/roles.ts';
import { importImage } from '../../src/services/importImage.ts';
import { findStreamImage } from '../../src/services/queries.ts';
import { tag } from '../../src/services/tagging.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { rowCounts } from '../support/rowCounts.ts';
import { expectNoVictimData, seedVictim, type Victim } from '../support/victim.ts';

let app: TestApp;
let victim: Victim;
/** Editor of refs-a only. */
let editor: string;
/** Image puller of refs-a only. */
let puller: string;

beforeAll(async () => {
  app = await startTestApp();
  await app.stream('refs-a', 'mine');
  victim = await seedVictim(app, 'refs-b');
  editor = await app.member('refs-a', 'EDITOR', 'refs-editor');
  puller = await app.member('refs-a', 'IMAGE_PULLER', 'refs-puller');
});
afterAll(async () => {
  await app.stop();
});

/** The error code a response carries: a top-level error's, or the payload's typed error's. */
function codeOf(response: { data?: unknown; errors?: { extensions?: { code?: string } }[] }) {
  if (response.errors?.length) return response.errors[0]!.extensions?.code;
  const payload = Object.values((response.data ?? {}) as Record<string, unknown>)[0] as
    | { code?: string }
    | null
    | undefined;
  return payload?.code;
}

const IMPORT = `mutation($input: ImportImageInput!) { importImage(input: $input) {
  __typename ... on Error { code message } ... on ImportImagePayload { job { id namespace } } } }`;

describe('cross-namespace writes through a reference', () => {
  it('importImage into another namespace’s tag is refused, and nothing is written', async () => {
    const before = await rowCounts(app);
    const response = await app.call(editor, IMPORT, {
      input: {
        namespace: 'refs-a',
        image: `${victim.namespace}/${victim.stream}:${victim.tag}`,
        from: 'quay.io/attacker/evil:1',
      },
    });
    expect(codeOf(response)).toBe('FORBIDDEN');
    expect(await rowCounts(app)).toEqual(before);
    const spec = await app.admin<{ imageStreamTag: { spec: { from: { name: string } } | null } }>(
      `query($ns: String!, $ref: String!) { imageStreamTag(namespace: $ns, ref: $ref) {
        ... on ImageStreamTag { spec { from { name } } } } }`,
      { ns: victim.namespace, ref: `${victim.stream}:${victim.tag}` },
    );
    // Pushed, never tagged: still no spec, so never pointed at the attacker's image.
    expect(spec.imageStreamTag.spec).toBeNull();
  });

  it('importImage with confirm cannot create a stream in another namespace', async () => {
    const before = await rowCounts(app);
    const response = await app.call(editor, IMPORT, {
      input: {
        namespace: 'refs-a',
        image: 'kube-system/claimed',
        from: 'quay.io/attacker/evil:1',
        confirm: true,
      },
    });
    expect(codeOf(response)).toBe('FORBIDDEN');
    expect(await rowCounts(app)).toEqual(before);
  });

  it('the same import into the caller’s own namespace works (the call is well-formed)', async () => {
    const response = await app.call(editor, IMPORT, {
      input: { namespace: 'refs-a', image: 'refs-a/mine:v1', from: 'quay.io/attacker/evil:1' },
    });
    expect(response.errors).toBeUndefined();
    expect(response.data).toMatchObject({
      importImage: { __typename: 'ImportImagePayload', job: { namespace: 'refs-a' } },
    });
  });

  it('the services refuse by themselves, whatever the schema checked first', async () => {
    const caller = { subject: 'refs-editor', groups: [], clusterAdmin: false, tokenId: null };
    const access = new AccessChecker(app.database.db, caller);
    const before = await rowCounts(app);
    const imported = await importImage(
      app.database.db,
      access,
      { namespace: 'refs-a', image: `${victim.namespace}/${victim.stream}:v1`, from: 'x.io/e:1' },
      10,
    );
    expect(imported).toMatchObject({ ok: false, error: { code: 'FORBIDDEN', field: 'image' } });
    const tagged = await tag(app.database.db, access, {
      namespace: 'refs-a',
      source: 'mine:v1',
      destinations: ['mine:v2', `${victim.namespace}/${victim.stream}:v1`],
    });
    expect(tagged).toMatchObject({
      ok: false,
      error: { code: 'FORBIDDEN', field: 'destinations.1' },
    });
    const found = await findStreamImage(
      app.database.db,
      access,
      'refs-a',
      `${victim.namespace}/${victim.stream}@${victim.digests[0]!.slice(7, 8)}`,
    );
    expect(found).toMatchObject({ ok: false, error: { code: 'FORBIDDEN', field: 'ref' } });
    expect(await rowCounts(app)).toEqual(before);
  });
});

describe('cross-namespace reads through a reference', () => {
  it('imageStreamTag with another namespace in ref is FORBIDDEN and reveals nothing', async () => {
    const response = await app.call(
      puller,
      `query($ns: String!, $ref: String!) { imageStreamTag(namespace: $ns, ref: $ref) {
        __typename ... on Error { code }
        ... on ImageStreamTag { name image { digest config { env } } history { nodes { image { digest } } } } } }`,
      { ns: 'refs-a', ref: `${victim.namespace}/${victim.stream}:${victim.tag}` },
    );
    expect(codeOf(response)).toBe('FORBIDDEN');
    expectNoVictimData(victim, response, 'imageStreamTag');
  });

  it('imageStreamImage with a one-character id reveals no candidates', async () => {
    for (const id of [
      '0',
      '1',
      '2',
      '3',
      '4',
      '5',
      '6',
      '7',
      '8',
      '9',
      'a',
      'b',
      'c',
      'd',
      'e',
      'f',
    ]) {
      const response = await app.call(
        puller,
        `query($ns: String!, $ref: String!) { imageStreamImage(namespace: $ns, ref: $ref) {
          __typename ... on ConflictError { candidates } ... on Error { code }
          ... on ImageStreamImage { digest image { config { env } } } } }`,
        { ns: 'refs-a', ref: `${victim.namespace}/${victim.stream}@${id}` },
      );
      expect(codeOf(response)).toBe('FORBIDDEN');
      expectNoVictimData(victim, response, `imageStreamImage @${id}`);
    }
  });

  it('a puller of the victim namespace still reads it (the calls are well-formed)', async () => {
    const reader = await app.member(victim.namespace, 'IMAGE_PULLER');
    const response = await app.call<{ imageStreamImage: { digest: string } }>(
      reader,
      `query($ns: String!, $ref: String!) { imageStreamImage(namespace: $ns, ref: $ref) {
        ... on ImageStreamImage { digest } } }`,
      { ns: 'refs-a', ref: `${victim.namespace}/${victim.stream}@${victim.digests[1]}` },
    );
    expect(response.data?.imageStreamImage.digest).toBe(victim.digests[1]);
  });
});

describe('global ids, cursors and job ids', () => {
  it('nodes refuses more than 100 ids with a typed error, before any statement', async () => {
    // As many as fit in a request body.
    const ids = Array.from({ length: 10_000 }, (_, i) =>
      encodeGlobalID('ImageStream', 500_000 + i),
    );
    app.statements.length = 0;
    const response = await app.call(puller, `query($ids: [ID!]!) { nodes(ids: $ids) { id } }`, {
      ids,
    });
    expect(response.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    // Authenticating the token is all the database sees.
    expect(app.statements.length).toBeLessThan(5);
    const hundred = await app.call(puller, `query($ids: [ID!]!) { nodes(ids: $ids) { id } }`, {
      ids: ids.slice(0, 100),
    });
    expect(hundred.errors).toBeUndefined();
  });

  it('malformed global ids are BAD_USER_INPUT; a well-formed unknown one is null', async () => {
    const node = (id: string) =>
      app.call<{ node: unknown }>(puller, `query($id: ID!) { node(id: $id) { id } }`, { id });
    for (const id of [
      'ImageStream:abc',
      encodeGlobalID('ImageStream', 'abc'),
      encodeGlobalID('ImageStreamTag', '1.5'),
      encodeGlobalID('ImageStream', '99999999999999999999'),
      encodeGlobalID('Image', 'not-a-digest'),
      encodeGlobalID('Nope', '1'),
      '%%%',
    ]) {
      const response = await node(id);
      expect(response.errors?.[0]?.extensions?.code, `${id}: ${JSON.stringify(response)}`).toBe(
        'BAD_USER_INPUT',
      );
    }
    const missing = await node(encodeGlobalID('ImageStream', '987654'));
    expect(missing.errors).toBeUndefined();
    expect(missing.data?.node).toBeNull();
  });

  it('bad paging keys and cursors are typed errors', async () => {
    const jobs = await app.call(
      puller,
      `query { importJobs(namespace: "refs-a", before: "abc") { id } }`,
    );
    expect(jobs.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    for (const query of [
      `query { imageStreams(namespace: "refs-a", after: "abc") { nodes { name } } }`,
      `query { imageStreams(namespace: "refs-a", before: "%%%") { nodes { name } } }`,
      `query { namespaces(after: "bm90LWEtY3Vyc29y") { nodes { name } } }`,
      `query { imageStream(namespace: "refs-a", name: "mine") { tags(after: "xyz") { nodes { name } } } }`,
    ]) {
      const response = await app.call(puller, query);
      const code = response.errors?.[0]?.extensions?.code;
      expect(code, `${query}: ${JSON.stringify(response)}`).toBe('BAD_USER_INPUT');
    }
  });

  it('importJob answers the same for another namespace’s job as for a missing one', async () => {
    const query = `query($id: ID!) { importJob(id: $id) { id namespace stream } }`;
    const other = await app.call(puller, query, { id: victim.jobId });
    const missing = await app.call(puller, query, { id: '987654321' });
    expect(other).toEqual({ data: { importJob: null } });
    expect(missing).toEqual(other);
    const reader = await app.member(victim.namespace, 'IMAGE_PULLER');
    const own = await app.call<{ importJob: { id: string } }>(reader, query, { id: victim.jobId });
    expect(own.data?.importJob?.id).toBe(victim.jobId);
  });
});
