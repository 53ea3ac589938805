// Which graphql-ws subscriptions may share one execution (src/events/groups.ts): pure key logic.
import { parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import type { Caller } from '../../src/auth/roles.ts';
import { groupKey } from '../../src/events/groups.ts';

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
    const sameGroupsOtherOrder: Caller = { ...alice, groups: ['a', 'b'], tokenId: 2 };
    expect(key(LIVE, null, bob)).not.toBe(key(LIVE));
    expect(key(LIVE, null, admin)).not.toBe(key(LIVE));
    expect(key(LIVE, null, sameGroupsOtherOrder)).toBe(key(LIVE));
    expect(key(WITH_SINCE, { s: null, x: 1 })).not.toBe(key(WITH_SINCE, { s: null }));
    expect(key('subscription { tagChanged(namespace: "other") { cursor } }')).not.toBe(key(LIVE));
  });

  it('only subscriptions are grouped', () => {
    expect(key('query { __typename }')).toBeNull();
  });
});
