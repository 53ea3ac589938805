// Seeding through the public API: a registry push reported as an image stream mapping.
import { createHash } from 'node:crypto';
import { expect } from 'vitest';
import type { TestApp } from './app.ts';

/** A deterministic digest for a seed string. */
export const digestOf = (seed: string) =>
  `sha256:${createHash('sha256').update(seed).digest('hex')}`;

const MAP = `mutation($input: CreateImageStreamMappingInput!) {
  createImageStreamMapping(input: $input) {
    __typename
    ... on CreateImageStreamMappingPayload { changedTags imageCreated imageStream { name generation } }
    ... on Error { code field message }
  }
}`;

/**
 * Reports a push of image `seed` to `namespace/stream:tag` (createImageStreamMapping) and
 * returns its digest with the payload; fails the test on a GraphQL error.
 */
export async function pushMapping(
  app: TestApp,
  namespace: string,
  stream: string,
  tag: string,
  seed: string,
  ref?: string,
  headers?: Record<string, string>,
): Promise<{ digest: string; payload: Record<string, unknown> }> {
  const digest = digestOf(seed);
  const result = await app.graphql<{ createImageStreamMapping: Record<string, unknown> }>(
    MAP,
    {
      input: {
        namespace,
        stream,
        tag,
        image: {
          digest,
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          dockerImageReference: ref ?? `registry.test:5000/${namespace}/${stream}@${digest}`,
          architecture: 'amd64',
          os: 'linux',
          layers: [
            {
              digest: digestOf(`${seed}-layer`),
              size: 100,
              mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
            },
          ],
        },
      },
    },
    headers,
  );
  expect(result.errors).toBeUndefined();
  return { digest, payload: result.data!.createImageStreamMapping };
}
