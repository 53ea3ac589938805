// Subscriptions across processes: gateways on one database, and a gateway killed with SIGKILL.
import { describe, expect, inject, it } from 'vitest';
import {
  ADMIN_HEADERS,
  type SpawnedServer,
  spawnServer,
  TEST_ADMIN_TOKEN,
} from '../support/app.ts';
import { subscribeWs } from '../support/subscriptions.ts';

const SUB = `subscription($since: String) {
  tagChanged(namespace: "multi", since: $since) { cursor tag current { digest } }
}`;
type Next = { data: { tagChanged: { cursor: string; tag: string; current: { digest: string } } } };

let seq = 0;
async function push(server: SpawnedServer, tag: string): Promise<string> {
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
          namespace: 'multi',
          stream: 'app',
          tag,
          image: { digest, mediaType: 'x', dockerImageReference: `r.test/multi/app@${digest}` },
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
async function currentCursor(server: SpawnedServer): Promise<string | null> {
  const response = await fetch(`${server.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...ADMIN_HEADERS },
    body: JSON.stringify({ query: '{ tagEvents(namespace: "multi", first: 100) { endCursor } }' }),
  });
  const body = (await response.json()) as { data: { tagEvents: { endCursor: string | null } } };
  return body.data.tagEvents.endCursor;
}

describe('across processes', () => {
  it.runIf(inject('dbKind') === 'postgres')(
    'a change committed through one gateway reaches a subscriber of another',
    async () => {
      const [a, b] = await Promise.all([spawnServer(), spawnServer()]);
      try {
        const since = await currentCursor(b);
        const sub = subscribeWs<Next>(b.url, SUB, { since }, { token: TEST_ADMIN_TOKEN });
        await sub.connected;
        const digest = await push(a, 'from-a');
        const [event] = await sub.waitFor(1);
        expect(event!.data.tagChanged).toMatchObject({ tag: 'from-a', current: { digest } });
        await sub.stop();
      } finally {
        a.process.kill('SIGTERM');
        b.process.kill('SIGTERM');
        await Promise.all([a.exited, b.exited]);
      }
    },
  );

  it('a client of a gateway killed with SIGKILL resumes from its cursor and misses nothing', async () => {
    const postgres = inject('dbKind') === 'postgres';
    let gateway = await spawnServer();
    // On Postgres another gateway keeps writing while the first is dead.
    const other = postgres ? await spawnServer() : null;
    try {
      const sub = subscribeWs<Next>(
        gateway.url,
        SUB,
        { since: await currentCursor(gateway) },
        { token: TEST_ADMIN_TOKEN },
      );
      await sub.connected;
      await push(gateway, 'before');
      const [seen] = await sub.waitFor(1);
      gateway.process.kill('SIGKILL');
      await gateway.exited;
      await sub.ended;
      const meanwhile = other
        ? [await push(other, 'while-down-1'), await push(other, 'while-down-2')]
        : [];
      gateway = await spawnServer();
      const after = other ? [] : [await push(gateway, 'after-restart')];
      const resumed = subscribeWs<Next>(
        gateway.url,
        SUB,
        { since: seen!.data.tagChanged.cursor },
        { token: TEST_ADMIN_TOKEN },
      );
      const expected = [...meanwhile, ...after];
      const replayed = await resumed.waitFor(expected.length);
      const live = await push(gateway, 'live');
      const all = await resumed.waitFor(expected.length + 1);
      expect(all.map((r) => r.data.tagChanged.current.digest)).toEqual([...expected, live]);
      expect(replayed).toHaveLength(expected.length);
      await resumed.stop();
    } finally {
      for (const server of [gateway, other]) {
        if (server && server.process.exitCode === null && server.process.signalCode === null) {
          server.process.kill('SIGTERM');
          await server.exited;
        }
      }
    }
  });
});
