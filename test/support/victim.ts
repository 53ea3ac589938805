// A victim namespace for authorization tests: a stream whose tag has a two-item history of images
// with a secret in their config, a spec tag, a pull secret, a queued import job and role bindings,
// all set up by the bootstrap admin. Everything identifying in it is listed in `secrets`.
import { expect } from 'vitest';
import type { TestApp } from './app.ts';
import { digestOf, MAPPING_MUTATION, manifestMapping } from './mapping.ts';

export interface Victim {
  namespace: string;
  stream: string;
  tag: string;
  /** The tag's global id, the stream's and the image's (for node/nodes). */
  tagId: string;
  streamId: string;
  imageId: string;
  jobId: string;
  digests: string[];
  /** Strings that must never appear in a response to a caller who may not read the namespace. */
  secrets: string[];
}

/** Seeds `namespace` (its name should be unique to the test file). */
export async function seedVictim(app: TestApp, namespace: string): Promise<Victim> {
  const stream = 'secret-app';
  const tag = 'v1';
  const envSecret = `VICTIM_TOKEN=hunter2-${namespace}`;
  const digests: string[] = [];
  for (const seed of ['first', 'second']) {
    const digest = digestOf(`${namespace}-${seed}`);
    digests.push(digest);
    const data = await app.admin<{ createImageStreamMapping: { __typename: string } }>(
      MAPPING_MUTATION,
      {
        input: manifestMapping(
          { namespace, stream, tag },
          digest,
          digestOf(`${namespace}-${seed}-layer`),
          {
            config: { env: [envSecret], labels: [{ key: 'victim', value: 'confidential-label' }] },
          },
        ),
      },
    );
    expect(data.createImageStreamMapping.__typename).toBe('CreateImageStreamMappingPayload');
  }
  const imported = await app.admin<{
    importImage: { __typename: string; job?: { id: string } };
  }>(
    `mutation($input: ImportImageInput!) { importImage(input: $input) {
      __typename ... on ImportImagePayload { job { id } } } }`,
    {
      input: {
        namespace,
        image: `${stream}:upstream`,
        from: 'quay.io/victim-org/private-upstream:1',
      },
    },
  );
  expect(imported.importImage.__typename).toBe('ImportImagePayload');
  const secret = await app.admin<{ createPullSecret: { __typename: string } }>(
    `mutation($input: PullSecretInput!) { createPullSecret(input: $input) { __typename } }`,
    {
      input: {
        namespace,
        name: 'victim-registry',
        document: JSON.stringify({
          auths: {
            'private.victim.example': {
              auth: Buffer.from('victim-user:VictimPassw0rd').toString('base64'),
            },
          },
        }),
      },
    },
  );
  expect(secret.createPullSecret.__typename).toBe('PullSecretPayload');
  await app.grant(namespace, 'ADMIN', 'victim-owner');
  await app.grant(namespace, 'IMAGE_PULLER', 'victim-deployer-group', 'Group');
  const ids = await app.admin<{
    imageStream: { id: string; tag: { id: string; image: { id: string } } };
  }>(
    `query($ns: String!, $name: String!, $tag: String!) { imageStream(namespace: $ns, name: $name) {
      id tag(name: $tag) { id image { id } } } }`,
    { ns: namespace, name: stream, tag },
  );
  return {
    namespace,
    stream,
    tag,
    tagId: ids.imageStream.tag.id,
    streamId: ids.imageStream.id,
    imageId: ids.imageStream.tag.image.id,
    jobId: imported.importImage.job!.id,
    digests,
    secrets: [
      ...digests,
      ...digests.map((d) => d.slice('sha256:'.length, 'sha256:'.length + 12)),
      'hunter2',
      'confidential-label',
      'private-upstream',
      'private.victim.example',
      'VictimPassw0rd',
      'victim-owner',
      'victim-deployer-group',
    ],
  };
}

/** Fails the test when any of the victim's secrets appears in `response`. */
export function expectNoVictimData(victim: Victim, response: unknown, context = ''): void {
  const text = JSON.stringify(response);
  for (const secret of victim.secrets) {
    expect(text.includes(secret), `${context}: response leaks "${secret}": ${text}`).toBe(false);
  }
}
