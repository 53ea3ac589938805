// Subscriptions across processes: a client of a gateway killed with SIGKILL resumes from its cursor.
import { describe, expect, inject, it } from 'vitest';
import { type SpawnedServer, spawnServer, TEST_ADMIN_TOKEN } from '../support/app.ts';
import {
  currentCursor,
  type TagChangedNext as Next,
  pushTo,
  tagChangedIn,
} from '../support/spawnedGateway.ts';
import { subscribeWs } from '../support/subscriptions.ts';

const SUB = tagChangedIn('multi');
const push = (server: SpawnedServer, tag: string) => pushTo(server, 'multi', tag);

describe('across processes', () => {
  // Server processes start one after another (on PGlite the restart also recovers the data
  // directory): more than the default 30 s on a busy two-core machine.
  it('a client of a gateway killed with SIGKILL resumes from its cursor and misses nothing', {
    timeout: 90_000,
  }, async () => {
    const postgres = inject('dbKind') === 'postgres';
    let gateway = await spawnServer();
    // On Postgres another gateway keeps writing while the first is dead.
    const other = postgres ? await spawnServer() : null;
    try {
      const sub = subscribeWs<Next>(
        gateway.url,
        SUB,
        { since: await currentCursor(gateway, 'multi') },
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
