// Which graphql-ws subscriptions may share one execution (src/events/groups.ts), and how a group
// delivers to its members and cuts off a backed-up one.
import { type ExecutionResult, parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import type { Caller } from '../../src/auth/roles.ts';
import { decodeCursor } from '../../src/events/cursor.ts';
import { type GroupHooks, groupKey, SubscriptionGroups } from '../../src/events/groups.ts';
import { CLOSE_TOO_SLOW } from '../../src/events/hub.ts';

const alice: Caller = { subject: 'alice', groups: ['b', 'a'], clusterAdmin: false, tokenId: 1 };
const key = (query: string, variables?: Record<string, unknown> | null, caller = alice) =>
  groupKey(parse(query), query, undefined, variables, caller);

const LIVE = 'subscription { tagChanged(namespace: "ns") { cursor } }';
const WITH_SINCE = 'subscription($s: String) { tagChanged(namespace: "ns", since: $s) { cursor } }';

describe('groupKey', () => {
  it('groups a live subscription, with or without an empty variables object', () => {
    expect(key(LIVE)).not.toBeNull();
    expect(key(LIVE, {})).toBe(key(LIVE, null));
  });

  it('never groups a replay: since given as a literal or a non-null variable', () => {
    expect(
      key('subscription { tagChanged(namespace: "ns", since: "Y3Vy") { cursor } }'),
    ).toBeNull();
    expect(key(WITH_SINCE, { s: 'Y3Vy' })).toBeNull();
    expect(key(WITH_SINCE, { s: null })).not.toBeNull();
    expect(key(WITH_SINCE, {})).not.toBeNull();
    expect(
      key('subscription { tagChanged(namespace: "ns", since: null) { cursor } }'),
    ).not.toBeNull();
  });

  it('separates callers, variables and documents; group order does not matter', () => {
    const bob: Caller = { ...alice, subject: 'bob' };
    const admin: Caller = { ...alice, clusterAdmin: true };
    const sameGroupsOtherOrder: Caller = { ...alice, groups: ['a', 'b'] };
    expect(key(LIVE, null, bob)).not.toBe(key(LIVE));
    expect(key(LIVE, null, admin)).not.toBe(key(LIVE));
    expect(key(LIVE, null, sameGroupsOtherOrder)).toBe(key(LIVE));
    expect(key(WITH_SINCE, { s: null, x: 1 })).not.toBe(key(WITH_SINCE, { s: null }));
    expect(key('subscription { tagChanged(namespace: "other") { cursor } }')).not.toBe(key(LIVE));
  });

  it('separates credentials of one subject: another API token, a JWT with another expiry', () => {
    const otherToken: Caller = { ...alice, tokenId: 2 };
    const jwt: Caller = { ...alice, tokenId: null, expiresAt: 1_000_000 };
    const laterJwt: Caller = { ...jwt, expiresAt: 2_000_000 };
    expect(key(LIVE, null, otherToken)).not.toBe(key(LIVE));
    expect(key(LIVE, null, jwt)).not.toBe(key(LIVE));
    expect(key(LIVE, null, laterJwt)).not.toBe(key(LIVE, null, jwt));
    expect(key(LIVE, null, { ...jwt })).toBe(key(LIVE, null, jwt));
  });

  it('only subscriptions are grouped', () => {
    expect(key('query { __typename }')).toBeNull();
  });
});

describe('SubscriptionGroups delivery', () => {
  /** A source the test pushes results into, reporting each event id as the hub's wrapper does. */
  function manualSource() {
    const pending: ((r: IteratorResult<ExecutionResult>) => void)[] = [];
    let hooks: GroupHooks | null = null;
    const iterator: AsyncIterableIterator<ExecutionResult> = {
      next: () => new Promise((resolve) => pending.push(resolve)),
      return: async () => ({ done: true, value: undefined }),
      [Symbol.asyncIterator]: () => iterator,
    };
    return {
      start: async (given: GroupHooks) => {
        hooks = given;
        return iterator;
      },
      emit: async (eventId: number) => {
        while (pending.length === 0) await new Promise((r) => setTimeout(r, 1));
        hooks!.onDelivered(eventId);
        pending.shift()!({ done: false, value: { data: { event: eventId } } });
        await new Promise((r) => setTimeout(r, 1));
      },
    };
  }

  function member(position: number, backlog: () => number) {
    const written: string[] = [];
    const closed: number[] = [];
    return {
      written,
      closed,
      spec: {
        position,
        queueLimit: 2,
        write: (payload: string) => written.push(payload),
        backlog,
        closeConnection: (code: number) => closed.push(code),
      },
    };
  }

  it('writes each result once serialized to every member; cuts off a backed-up one alone', async () => {
    const groups = new SubscriptionGroups();
    const source = manualSource();
    let stalled = 0;
    const reader = member(10, () => 0);
    const slow = member(10, () => stalled);
    await groups.join('k', reader.spec, source.start);
    const slowIterator = (await groups.join(
      'k',
      slow.spec,
      source.start,
    )) as AsyncIterator<unknown>;
    const slowEnded = slowIterator.next();
    expect(groups.memberCount).toBe(2);

    await source.emit(11);
    await source.emit(12);
    // The slow member's socket now holds more than 2 results' worth of bytes.
    stalled = 10_000;
    await source.emit(13);
    await source.emit(14);

    expect(reader.written.map((w) => JSON.parse(w).data.event)).toEqual([11, 12, 13, 14]);
    const slowMessages = slow.written.map((w) => JSON.parse(w));
    expect(slowMessages.slice(0, 2).map((m) => m.data.event)).toEqual([11, 12]);
    // Its last message: SLOW_CONSUMER with the cursor of the last event written to it (12).
    const cutOff = slowMessages[2].errors[0].extensions;
    expect(cutOff.code).toBe('SLOW_CONSUMER');
    expect(decodeCursor(cutOff.cursor)).toBe(12);
    expect(slowMessages).toHaveLength(3);
    expect(slow.closed).toEqual([CLOSE_TOO_SLOW]);
    expect(reader.closed).toEqual([]);
    expect(await slowEnded).toEqual({ done: true, value: undefined });
    expect(groups.memberCount).toBe(1);
  });
});
