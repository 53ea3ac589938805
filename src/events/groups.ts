// Identical live subscriptions share one execution: each event is executed and serialized once
// per group, not once per subscriber, and written straight to every member's socket
// (bench/RESULTS.md, scenario 2).
import { type DocumentNode, type ExecutionResult, getOperationAST, Kind } from 'graphql';
import type { Caller } from '../auth/roles.ts';
import { CLOSE_TOO_SLOW, slowConsumerError, TOO_SLOW_REASON } from './hub.ts';

/** What a source stream yields: one execution result per event. */
type Results = AsyncIterator<ExecutionResult>;

/**
 * A result as graphql-ws's server serializes it into a `next` message (its emit.next): the
 * result's other keys first, `errors` last. graphql-js puts `errors` first, so a plain
 * JSON.stringify would send an error result's keys in another order than graphql-ws does.
 */
export function serializeResult(result: ExecutionResult): string {
  if (!result.errors) return JSON.stringify(result);
  const { errors, ...rest } = result;
  return JSON.stringify({ ...rest, errors });
}
type Started = AsyncIterable<ExecutionResult> | ExecutionResult;

/** The hooks a group gives its source: where deliveries are, and how to cut off everyone. */
export interface GroupHooks {
  /** Called by the source with each event id just before it yields that event's result. */
  onDelivered: (position: number) => void;
  /** The source (or a member) is too slow: close these connections with `code`. */
  closeConnection: (code: number, reason: string) => void;
}

export interface Member {
  /** Where a subscriber that joins now starts (the hub's position), for its resume cursor. */
  position: number;
  /**
   * How far behind a member may fall, in results: it is cut off once its socket holds more than
   * this many results' worth of unsent bytes.
   */
  queueLimit: number;
  /** Sends one serialized execution result to this member's client (serialized once per group). */
  write: (payload: string) => void;
  /** Bytes written to this member's socket that the kernel has not taken yet. */
  backlog: () => number;
  closeConnection?: (code: number, reason: string) => void;
}

interface GroupMember extends Member {
  /** Ends the member's iterator (the group ended, or the member was cut off). */
  wake: (() => void) | null;
  done: boolean;
  /** The source's error, thrown to the member once its iterator ends. */
  failure?: unknown;
}

interface Group {
  members: Set<GroupMember>;
  /** Resolves once the source started: to its iterator, or to the error result it returned. */
  ready: Promise<Results | ExecutionResult>;
  source: Results | null;
  position: number;
}

export class SubscriptionGroups {
  private readonly groups = new Map<string, Group>();
  private cutOffs = 0;

  /** Members cut off since start because their socket backed up (for metrics). */
  get cutOffCount(): number {
    return this.cutOffs;
  }

  /** Subscriptions served by the groups, for metrics and tests. */
  get memberCount(): number {
    let count = 0;
    for (const group of this.groups.values()) count += group.members.size;
    return count;
  }

  /**
   * Joins the group of `key`, starting its source with `start` when there is none. `start` gets
   * the hooks to put into its context; the first subscriber's context serves the whole group,
   * which is sound because a key names one credential, one document and one set of variables.
   */
  async join(
    key: string,
    member: Member,
    start: (hooks: GroupHooks) => Promise<Started>,
  ): Promise<Started> {
    let group = this.groups.get(key);
    if (!group) {
      const created: Group = {
        members: new Set(),
        ready: Promise.resolve({}),
        source: null,
        position: member.position,
      };
      created.ready = this.open(key, created, start);
      this.groups.set(key, created);
      group = created;
    }
    const joined: GroupMember = { ...member, wake: null, done: false };
    group.members.add(joined);
    const ready = await group.ready;
    if (!('next' in ready)) {
      group.members.delete(joined);
      return ready;
    }
    return this.iterate(key, group, joined);
  }

  private async open(
    key: string,
    group: Group,
    start: (hooks: GroupHooks) => Promise<Started>,
  ): Promise<Results | ExecutionResult> {
    const started = await start({
      onDelivered: (position) => {
        group.position = position;
      },
      closeConnection: (code, reason) => {
        for (const member of group.members) member.closeConnection?.(code, reason);
      },
    }).catch((error: unknown) => {
      this.groups.delete(key);
      throw error;
    });
    if (!(Symbol.asyncIterator in started)) {
      this.groups.delete(key);
      return started;
    }
    const source = started[Symbol.asyncIterator]();
    group.source = source;
    void this.pump(key, group, source);
    return source;
  }

  /** Reads the source and writes every result to every member; ends them when it ends. */
  private async pump(key: string, group: Group, source: Results): Promise<void> {
    let failure: unknown = null;
    try {
      for (;;) {
        const next = await source.next();
        if (next.done) break;
        const payload = serializeResult(next.value);
        for (const member of group.members) this.offer(member, payload, group.position);
      }
    } catch (error) {
      failure = error;
    }
    if (this.groups.get(key) === group) this.groups.delete(key);
    for (const member of group.members) {
      if (failure && !member.done) member.failure = failure;
      member.done = true;
      member.wake?.();
    }
  }

  private offer(member: GroupMember, payload: string, position: number): void {
    if (member.done) return;
    if (member.backlog() > member.queueLimit * payload.length) {
      // Cut off: what was written still reaches the client, then one last result tells it
      // where to resume (the last event written), then the socket closes.
      member.write(JSON.stringify({ errors: [slowConsumerError(member.position)] }));
      member.done = true;
      this.cutOffs += 1;
      member.closeConnection?.(CLOSE_TOO_SLOW, TOO_SLOW_REASON);
      member.wake?.();
      return;
    }
    member.position = position;
    member.write(payload);
  }

  /**
   * The member's iterator, for graphql-ws: it yields nothing (the group writes results to the
   * socket itself) and ends when the group does; `return()` leaves the group at once.
   */
  private iterate(
    key: string,
    group: Group,
    member: GroupMember,
  ): AsyncIterableIterator<ExecutionResult> {
    const leave = async (): Promise<IteratorResult<ExecutionResult>> => {
      member.done = true;
      member.wake?.();
      if (group.members.delete(member) && group.members.size === 0) {
        if (this.groups.get(key) === group) this.groups.delete(key);
        await group.source?.return?.();
      }
      return { done: true, value: undefined };
    };
    const iterator: AsyncIterableIterator<ExecutionResult> = {
      next: async () => {
        while (!member.done) {
          await new Promise<void>((resolve) => {
            member.wake = resolve;
          });
          member.wake = null;
        }
        const failure = member.failure;
        await leave();
        if (failure) throw failure;
        return { done: true, value: undefined };
      },
      return: leave,
      [Symbol.asyncIterator]: () => iterator,
    };
    return iterator;
  }
}

/**
 * The group key of a subscription, or null when it must run alone: a subscription that replays
 * (`since` set) starts from its own point in the log. Everything that can change a result is in
 * the key: the document, the operation, the variables and who is asking; and so is the credential
 * (the API token, a JWT's expiry), so that the group's one credential check speaks for every
 * member and a revoked or expired credential ends the whole group.
 */
export function groupKey(
  document: DocumentNode,
  query: string,
  operationName: string | null | undefined,
  variables: Record<string, unknown> | null | undefined,
  caller: Caller,
): string | null {
  const operation = getOperationAST(document, operationName);
  if (operation?.operation !== 'subscription') return null;
  for (const selection of operation.selectionSet.selections) {
    if (selection.kind !== Kind.FIELD) return null;
    for (const argument of selection.arguments ?? []) {
      if (argument.name.value !== 'since') continue;
      const value = argument.value;
      if (value.kind === Kind.NULL) continue;
      if (value.kind === Kind.VARIABLE && variables?.[value.name.value] == null) continue;
      return null;
    }
  }
  const hasVariables = variables != null && Object.keys(variables).length > 0;
  return JSON.stringify([
    query,
    operationName ?? null,
    hasVariables ? variables : null,
    caller.subject,
    [...caller.groups].sort(),
    caller.clusterAdmin,
    caller.tokenId,
    caller.expiresAt ?? null,
    caller.scope ?? null,
  ]);
}
