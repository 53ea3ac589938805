// One reader of the events table per process, fanning committed events out to subscribers.
import { and, asc, gt, inArray, lte, sql } from 'drizzle-orm';
import { GraphQLError } from 'graphql';
import type { Logger } from 'pino';
import { type Coalesced, coalesceLogged } from '../coalesce.ts';
import type { Database } from '../db/client.ts';
import { events } from '../db/schema.ts';
import { RepeatedFailureLog } from '../log.ts';
import { EVENTS_CHANNEL } from './append.ts';
import { encodeCursor } from './cursor.ts';
import { sequenceEvents } from './sequencer.ts';

/** An event with its place in the log: every event a reader sees has been sequenced. */
export type StoredEvent = typeof events.$inferSelect & { seq: number };

/**
 * What a subscriber wants: events of some namespaces (or all), optionally narrowed to streams,
 * tags, types, causes, or the tags whose item 0 moves to or from one digest; tag events, or
 * stream-level ones only. `namespaces` may shrink or grow while the subscription is live (a
 * caller who loses or gains a namespace): the hub reads it at every event.
 */
export interface EventFilter {
  namespaces: ReadonlySet<string> | 'all';
  streams?: ReadonlySet<string> | null;
  tags?: ReadonlySet<string> | null;
  types?: ReadonlySet<string> | null;
  causes?: ReadonlySet<string> | null;
  /** Only events made by these actor subjects. */
  actors?: ReadonlySet<string> | null;
  /** Only tag events whose item 0 starts or stops being this digest. */
  digest?: string | null;
  /** Only events about streams themselves (tag null); otherwise only tag events. */
  streamLevel?: boolean;
}

/** The filter of one namespace, optionally one stream and one tag. */
export function namespaceFilter(
  namespace: string,
  narrow: { stream?: string | null; tag?: string | null; streamLevel?: boolean } = {},
): EventFilter {
  return {
    namespaces: new Set([namespace]),
    streams: narrow.stream ? new Set([narrow.stream]) : null,
    tags: narrow.tag ? new Set([narrow.tag]) : null,
    streamLevel: narrow.streamLevel,
  };
}

interface Head {
  digest?: string | null;
}

/** The digest of item 0 before and after a tag event (null: none, or not said). */
export function headDigests(event: StoredEvent): { before: string | null; after: string | null } {
  const payload = event.payload as { previous?: Head | null; current?: Head | null } | null;
  return { before: payload?.previous?.digest ?? null, after: payload?.current?.digest ?? null };
}

/**
 * Whether a tag event starts (`after` is the digest) or stops (`before` was) the tag pointing at
 * `digest`. An event that only changed the spec says nothing of item 0 and is neither.
 */
export function movesDigest(event: StoredEvent, digest: string): boolean {
  const { before, after } = headDigests(event);
  return (before === digest) !== (after === digest);
}

export function matches(filter: EventFilter, event: StoredEvent): boolean {
  if (filter.namespaces !== 'all' && !filter.namespaces.has(event.namespace)) return false;
  if (filter.streams && !filter.streams.has(event.stream)) return false;
  if (filter.types && !filter.types.has(event.type)) return false;
  if (filter.causes && !filter.causes.has(event.cause)) return false;
  if (filter.actors && !filter.actors.has(event.actorSubject ?? '')) return false;
  if (filter.streamLevel) return event.tag === null;
  if (event.tag === null) return false;
  if (filter.tags && !filter.tags.has(event.tag)) return false;
  return !filter.digest || movesDigest(event, filter.digest);
}

export interface HubOptions {
  /** Recent events kept in memory, so resuming subscribers rarely need the database. */
  ringSize?: number;
  /** Live events a subscriber may have waiting before it counts as too slow. */
  subscriberQueue?: number;
  /** Poll as a fallback for a lost NOTIFY (e.g. while the listen connection reconnects). */
  pollIntervalMs?: number;
  /** Subscriptions replaying the log (`since` behind the head) at once, in all. */
  maxReplays?: number;
  /** Subscriptions replaying the log at once for one replayer (a token). */
  maxReplaysPerReplayer?: number;
}

/**
 * graphql-ws close code for a subscriber that fell too far behind; it resumes from its cursor.
 * Not one graphql-ws reserves (its CloseCode enum; 4429 is its TooManyInitialisationRequests,
 * which its client treats as fatal): its client reconnects after this one, with backoff.
 */
export const CLOSE_TOO_SLOW = 4290;
export const TOO_SLOW_REASON = 'subscriber too slow: resume from your last cursor';

/** What a too-slow subscriber gets last: the SLOW_CONSUMER error with its resume cursor. */
export function slowConsumerError(cursor: number): GraphQLError {
  return new GraphQLError('subscriber too far behind: resume with since set to the cursor given', {
    extensions: { code: 'SLOW_CONSUMER', cursor: encodeCursor(cursor) },
  });
}

/** Thrown to a subscriber whose queue overflowed; it resumes from `cursor`. */
export class SlowConsumerError extends Error {
  constructor(readonly cursor: number) {
    super(`subscriber too far behind; resume with since: the cursor of the last event received`);
  }
}

/** Thrown by `subscribe` when a replay would go over the process's or the replayer's cap. */
export class TooManyReplaysError extends Error {
  constructor(
    readonly limit: number,
    readonly scope: 'process' | 'token',
  ) {
    super(
      scope === 'token'
        ? `at most ${limit} subscriptions with since may replay at once per token: retry once one has caught up`
        : `the server is replaying ${limit} subscriptions with since already: retry shortly`,
    );
  }
}

interface Subscriber {
  filter: EventFilter;
  queue: StoredEvent[];
  wake: (() => void) | null;
  overflowed: boolean;
  onOverflow?: () => void;
  /** Ends the subscription (server shutdown). */
  end: () => void;
}

const PAGE = 500;
/**
 * Rows one replay reads from the database at a time: what a replay holds in memory beyond
 * the shared ring is one page of these (and its live queue, capped by subscriberQueue).
 */
const REPLAY_PAGE = 200;

export class EventHub {
  private readonly ring: StoredEvent[] = [];
  private readonly subscribers = new Set<Subscriber>();
  private head = 0;
  private overflows = 0;
  private readonly reader: Coalesced;
  private unlisten: (() => Promise<void>) | null = null;
  private timer: NodeJS.Timeout | null = null;
  private readonly ringSize: number;
  private readonly queueLimit: number;
  private readonly pollIntervalMs: number;
  private readonly maxReplays: number;
  private readonly maxReplaysPerReplayer: number;
  /** Replays running, in all and per replayer. */
  private replays = 0;
  private readonly replaysOf = new Map<string, number>();

  constructor(
    private readonly database: Database,
    private readonly log: Logger,
    options: HubOptions = {},
  ) {
    this.ringSize = options.ringSize ?? 10_000;
    this.queueLimit = options.subscriberQueue ?? 1_000;
    this.pollIntervalMs = options.pollIntervalMs ?? 1_000;
    this.maxReplays = options.maxReplays ?? 64;
    this.maxReplaysPerReplayer = options.maxReplaysPerReplayer ?? 4;
    const failures = new RepeatedFailureLog(this.log, 'reading events');
    this.reader = coalesceLogged(() => this.readNew(), failures);
  }

  async start(): Promise<void> {
    // Events committed while no gateway ran get their positions first: they are the past, and
    // the head read next starts after them.
    await sequenceEvents(this.database.db);
    const [row] = await this.database.db
      .select({ max: sql<number>`coalesce(max(${events.seq}), 0)`.mapWith(Number) })
      .from(events);
    this.head = row?.max ?? 0;
    this.unlisten = await this.database.listen(EVENTS_CHANNEL, () => this.poke());
    this.timer = setInterval(() => this.poke(), this.pollIntervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.unlisten?.().catch(() => {});
    await this.reader.idle();
    // End every stream so SSE responses complete and the HTTP server can close.
    for (const subscriber of [...this.subscribers]) subscriber.end();
  }

  /** The position of the newest event this process has read. */
  get position(): number {
    return this.head;
  }

  get subscriberCount(): number {
    return this.subscribers.size;
  }

  /** Subscriptions replaying the log right now (for metrics and tests). */
  get replayCount(): number {
    return this.replays;
  }

  /** Readers cut off since start because their queue overflowed (for metrics). */
  get overflowCount(): number {
    return this.overflows;
  }

  /** Reads what committed since `head`; concurrent pokes coalesce into one more read. */
  poke(): void {
    this.reader.poke();
  }

  /** Sequences what committed (sequencer.ts), then reads everything after `head`. */
  private async readNew(): Promise<void> {
    await sequenceEvents(this.database.db);
    for (;;) {
      const page = (await this.database.db
        .select()
        .from(events)
        .where(gt(events.seq, this.head))
        .orderBy(asc(events.seq))
        .limit(PAGE)) as StoredEvent[];
      for (const event of page) this.publish(event);
      if (page.length < PAGE) return;
    }
  }

  private publish(event: StoredEvent): void {
    this.head = event.seq;
    this.ring.push(event);
    if (this.ring.length > this.ringSize) this.ring.splice(0, this.ring.length - this.ringSize);
    for (const subscriber of this.subscribers) {
      if (subscriber.overflowed || !matches(subscriber.filter, event)) continue;
      if (subscriber.queue.length >= this.queueLimit) {
        subscriber.overflowed = true;
        this.overflows += 1;
        subscriber.queue.length = 0;
        subscriber.onOverflow?.();
      } else {
        subscriber.queue.push(event);
      }
      subscriber.wake?.();
    }
  }

  /**
   * Events matching `filter`: with `since`, every one after that position (replayed from memory or
   * the database), then live ones, with no gap and no repeat at the seam; without, live ones only.
   * Positions never appear out of order (see sequencer.ts), so "after N" is well defined.
   *
   * An explicit iterator rather than an async generator: a generator parked on "wait for the
   * next event" cannot run `return()` until an event arrives, so a client that disconnects from
   * a quiet stream would stay registered; here `return()` unregisters at once.
   *
   * A replay (`since` behind the head) takes one of the process's replay slots and one of its
   * `replayer`'s until it has caught up or ends; over either cap it throws TooManyReplaysError.
   */
  subscribe(
    filter: EventFilter,
    since: number | null,
    options: { onOverflow?: () => void; replayer?: string } = {},
  ): AsyncIterableIterator<StoredEvent> {
    const seam = this.head;
    const releaseReplay =
      since !== null && since < seam ? this.takeReplaySlot(options.replayer ?? '') : () => {};
    const subscriber: Subscriber = {
      filter,
      queue: [],
      wake: null,
      overflowed: false,
      onOverflow: options.onOverflow,
      end: () => finish(),
    };
    // Register first: live events after `seam` queue up while the replay runs.
    this.subscribers.add(subscriber);
    let replayedThrough = since ?? seam;
    let delivered = since ?? seam;
    let replayed: StoredEvent[] = [];
    let finished = false;
    const finish = (): IteratorResult<StoredEvent> => {
      finished = true;
      releaseReplay();
      this.subscribers.delete(subscriber);
      subscriber.wake?.();
      return { done: true, value: undefined };
    };
    const deliver = (event: StoredEvent): IteratorResult<StoredEvent> => {
      delivered = event.seq;
      return { done: false, value: event };
    };
    const iterator: AsyncIterableIterator<StoredEvent> = {
      next: async () => {
        for (;;) {
          if (finished) return { done: true, value: undefined };
          const fromReplay = replayed.shift();
          if (fromReplay) return deliver(fromReplay);
          if (replayedThrough < seam) {
            const page = await this.replayPage(filter, replayedThrough, seam);
            replayed = page.events;
            replayedThrough = page.through;
            continue;
          }
          releaseReplay();
          if (subscriber.overflowed) {
            finish();
            throw new SlowConsumerError(delivered);
          }
          const live = subscriber.queue.shift();
          if (live) {
            if (live.seq > delivered) return deliver(live);
            continue;
          }
          await new Promise<void>((resolveWait) => {
            subscriber.wake = resolveWait;
          });
          subscriber.wake = null;
        }
      },
      return: async () => finish(),
      throw: async (error) => {
        finish();
        throw error;
      },
      [Symbol.asyncIterator]() {
        return iterator;
      },
    };
    return iterator;
  }

  /** Takes a replay slot for `replayer`; returns its release (idempotent). */
  private takeReplaySlot(replayer: string): () => void {
    const held = this.replaysOf.get(replayer) ?? 0;
    if (held >= this.maxReplaysPerReplayer) {
      throw new TooManyReplaysError(this.maxReplaysPerReplayer, 'token');
    }
    if (this.replays >= this.maxReplays) throw new TooManyReplaysError(this.maxReplays, 'process');
    this.replays += 1;
    this.replaysOf.set(replayer, held + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.replays -= 1;
      const left = (this.replaysOf.get(replayer) ?? 1) - 1;
      if (left > 0) this.replaysOf.set(replayer, left);
      else this.replaysOf.delete(replayer);
    };
  }

  /** Matching events in (after, until], from the ring when it reaches back far enough. */
  private async replayPage(
    filter: EventFilter,
    after: number,
    until: number,
  ): Promise<{ events: StoredEvent[]; through: number }> {
    const first = this.ring[0];
    if (first && first.seq <= after + 1) {
      const found = this.ring.filter((e) => e.seq > after && e.seq <= until && matches(filter, e));
      return { events: found, through: until };
    }
    if (filter.namespaces !== 'all' && filter.namespaces.size === 0) {
      return { events: [], through: until };
    }
    const rows = (await this.database.db
      .select()
      .from(events)
      .where(
        and(
          gt(events.seq, after),
          lte(events.seq, until),
          filter.namespaces === 'all'
            ? undefined
            : inArray(events.namespace, [...filter.namespaces]),
        ),
      )
      .orderBy(asc(events.seq))
      .limit(REPLAY_PAGE)) as StoredEvent[];
    const through = rows.length < REPLAY_PAGE ? until : rows[rows.length - 1]!.seq;
    return { events: rows.filter((e) => matches(filter, e)), through };
  }
}
