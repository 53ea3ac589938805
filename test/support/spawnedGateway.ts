// Calls, as the admin, to gateways run as processes: push a mapping, read the event log's end.
import { expect } from 'vitest';
import { ADMIN_HEADERS, type SpawnedServer } from './app.ts';

/** tagChanged of one namespace from a cursor, and what each of its results carries. */
export const tagChangedIn = (namespace: string) => `subscription($since: String) {
  tagChanged(namespace: "${namespace}", since: $since) { cursor tag current { digest } }
}`;
export type TagChangedNext = {
  data: { tagChanged: { cursor: string; tag: string; current: { digest: string } } };
};

let seq = 0;
/** Maps a new digest to `namespace`/app:`tag` through `server`; returns the digest. */
export async function pushTo(server: SpawnedServer, namespace: string, tag: string) {
  seq++;
  const digest = `sha256:${seq.toString(16).padStart(64, '0')}`;
  const response = await fetch(`${server.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...ADMIN_HEADERS },
    body: JSON.stringify({
      query: `mutation($input: CreateImageStreamMappingInput!) {
        createImageStreamMapping(input: $input) { __typename } }`,
      variables: {
        input: {
          namespace,
          stream: 'app',
          tag,
          image: {
            digest,
            mediaType: 'x',
            dockerImageReference: `r.test/${namespace}/app@${digest}`,
          },
        },
      },
    }),
  });
  const body = (await response.json()) as {
    data?: { createImageStreamMapping: { __typename: string } };
  };
  expect(body.data?.createImageStreamMapping.__typename).toBe('CreateImageStreamMappingPayload');
  return digest;
}

/** A cursor from the log, so a subscription can start exactly after what is there now. */
export async function currentCursor(
  server: SpawnedServer,
  namespace: string,
): Promise<string | null> {
  const response = await fetch(`${server.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...ADMIN_HEADERS },
    body: JSON.stringify({
      query: `{ tagEvents(namespace: "${namespace}", first: 100) { endCursor } }`,
    }),
  });
  const body = (await response.json()) as { data: { tagEvents: { endCursor: string | null } } };
  return body.data.tagEvents.endCursor;
}
