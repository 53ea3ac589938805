// Property-based fuzzing (fast-check) of mutation and query inputs: whatever a client sends, the
// answer is a typed error or data, never a masked internal error (a 500 in spirit).
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INTERNAL_ERROR_CODE } from '../../src/limits.ts';
import { startTestApp, TEST_ADMIN_TOKEN, type TestApp } from '../support/app.ts';

let app: TestApp;
beforeAll(async () => {
  // The cluster admin: fuzzed namespaces are nobody's, and the input checks are what is tested.
  app = (await startTestApp()).as(TEST_ADMIN_TOKEN);
});
afterAll(async () => {
  await app.stop();
});

const text = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.constantFrom(
    '',
    ' ',
    'a/b:c',
    'x@sha256:',
    'ns/s:t',
    '../..',
    'a'.repeat(300),
    '💥',
    '\u0000',
  ),
);

const OPERATIONS: { name: string; query: string; input: fc.Arbitrary<Record<string, unknown>> }[] =
  [
    {
      name: 'createImageStream',
      query: `mutation($input: CreateImageStreamInput!) { createImageStream(input: $input) { __typename } }`,
      input: fc.record({
        namespace: text,
        name: text,
        labels: fc.array(fc.record({ key: text, value: text }), { maxLength: 3 }),
      }),
    },
    {
      name: 'tag',
      query: `mutation($input: TagInput!) { tag(input: $input) { __typename } }`,
      input: fc.record({
        namespace: text,
        source: text,
        destinations: fc.array(text, { maxLength: 3 }),
        alias: fc.boolean(),
        importMode: fc.option(text, { nil: undefined }),
      }),
    },
    {
      name: 'importImage',
      query: `mutation($input: ImportImageInput!) { importImage(input: $input) { __typename } }`,
      input: fc.record({
        namespace: text,
        image: text,
        from: fc.option(text, { nil: undefined }),
        all: fc.boolean(),
        confirm: fc.boolean(),
        importMode: fc.option(text, { nil: undefined }),
      }),
    },
    {
      name: 'deleteTag',
      query: `mutation($input: DeleteTagInput!) { deleteTag(input: $input) { __typename } }`,
      input: fc.record({ namespace: text, ref: text }),
    },
    {
      name: 'createPullSecret',
      query: `mutation($input: PullSecretInput!) { createPullSecret(input: $input) { __typename } }`,
      input: fc.record({
        namespace: text,
        name: text,
        document: fc.oneof(text, fc.json().map(String)),
      }),
    },
  ];

describe('fuzzed inputs', () => {
  it.each(OPERATIONS)('$name answers every input without an internal error', async (op) => {
    await fc.assert(
      fc.asyncProperty(op.input, async (input) => {
        const result = await app.graphql(op.query, { input });
        const codes = (result.errors ?? []).map((e) => e.extensions?.code);
        expect(codes, JSON.stringify({ input, result })).not.toContain(INTERNAL_ERROR_CODE);
      }),
      { numRuns: 60 },
    );
  });

  it('imageStreamImage and imageStreamTag answer every reference without an internal error', async () => {
    await fc.assert(
      fc.asyncProperty(text, text, async (namespace, ref) => {
        const result = await app.graphql(
          `query($ns: String!, $ref: String!) {
            imageStreamTag(namespace: $ns, ref: $ref) { __typename }
            imageStreamImage(namespace: $ns, ref: $ref) { __typename } }`,
          { ns: namespace, ref },
        );
        const codes = (result.errors ?? []).map((e) => e.extensions?.code);
        expect(codes, JSON.stringify({ namespace, ref, result })).not.toContain(
          INTERNAL_ERROR_CODE,
        );
      }),
      { numRuns: 100 },
    );
  });
});
