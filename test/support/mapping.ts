// Seeding through the public API: a registry push reported as an image stream mapping.
import { createHash } from 'node:crypto';
import { expect } from 'vitest';
import type { TestApp } from './app.ts';

/** A deterministic digest for a seed string. */
export const digestOf = (seed: string) =>
  `sha256:${createHash('sha256').update(seed).digest('hex')}`;

/** The mutation that reports a push, with the payload fields tests read. */
export const MAPPING_MUTATION = `mutation($input: CreateImageStreamMappingInput!) {
  createImageStreamMapping(input: $input) {
    __typename
    ... on CreateImageStreamMappingPayload { changedTags imageCreated imageStream { name generation } }
    ... on Error { code field message }
  }
}`;

/**
 * The input of a mapping that reports an amd64/linux image manifest `digest` with one layer
 * (`layerDigest`) pushed to `namespace/stream:tag`; `image` adds fields or replaces them.
 */
export function manifestMapping(
  target: { namespace: string; stream: string; tag: string },
  digest: string,
  layerDigest: string,
  image: Record<string, unknown> = {},
) {
  return {
    ...target,
    image: {
      digest,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      dockerImageReference: `registry.test:5000/${target.namespace}/${target.stream}@${digest}`,
      architecture: 'amd64',
      os: 'linux',
      layers: [
        {
          digest: layerDigest,
          size: 100,
          mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
        },
      ],
      ...image,
    },
  };
}

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
    MAPPING_MUTATION,
    {
      input: manifestMapping(
        { namespace, stream, tag },
        digest,
        digestOf(`${seed}-layer`),
        ref === undefined ? {} : { dockerImageReference: ref },
      ),
    },
    headers,
  );
  expect(result.errors).toBeUndefined();
  return { digest, payload: result.data!.createImageStreamMapping };
}
