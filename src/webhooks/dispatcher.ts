// Delivers the events log to webhook targets: one process per target at a time (a lease per claim), in cursor order, with retries.
import { hostname } from 'node:os';
import { sql } from 'drizzle-orm';
import type { Logger } from 'pino';
import { type Coalesced, coalesceLogged } from '../coalesce.ts';
import type { WebhookSettings } from '../config.ts';
import { type Database, rowsOf } from '../db/client.ts';
import { EVENTS_CHANNEL } from '../events/append.ts';
import type { StoredEvent } from '../events/hub.ts';
import { sequenceEvents } from '../events/sequencer.ts';
import { RepeatedFailureLog } from '../log.ts';
import type { EgressPolicy } from '../registry/egress.ts';
import { decrypt } from '../secrets.ts';
import { eventMessage, signedHeaders, type WebhookFormat } from './payload.ts';
import { WebhookSender } from './send.ts';

/** Matching events read per page while walking a target's share of the log. */
const PAGE = 100;
/** How often delivery records older than the event retention are deleted. */
const PRUNE_INTERVAL_MS = 10 * 60_000;

/** A claimed target, as the claim returned it. */
interface ClaimedWebhook {
  id: number;
  url: string;
  format: WebhookFormat;
  encryptedSecret: string;
  position: number;
  leaseId: string;
}

/** The delay before retry `attempt` (1-based): `min` doubling up to `max`. */
export function retryDelayMs(attempt: number, minMs: number, maxMs: number): number {
  return Math.min(maxMs, minMs * 2 ** Math.min(Math.max(attempt - 1, 0), 40));
}

export class WebhookDispatcher {
  private readonly sender: WebhookSender;
  private readonly round: Coalesced;
  private readonly active = new Set<Promise<void>>();
  private readonly leaseMs: number;
  private unlisten: (() => Promise<void>) | null = null;
  private timer: NodeJS.Timeout | null = null;
  private stopping = false;
  private lastPrune = 0;
  /** Begins every lease id this process takes, so the delivery log says who made an attempt. */
  readonly holder = `${hostname()}:${process.pid}`;

  constructor(
    private readonly database: Database,
    private readonly log: Logger,
    private readonly settings: WebhookSettings,
    egress: EgressPolicy,
    private readonly secretKey: Buffer,
    private readonly retentionMs: number,
  ) {
    this.sender = new WebhookSender(egress, settings.timeoutMs);
    // Every write of a holder extends its lease by this much, and no attempt outlasts the
    // delivery timeout: a lease never runs out while its holder's request is in flight.
    this.leaseMs = Math.max(30_000, settings.timeoutMs * 3);
    const failures = new RepeatedFailureLog(log, 'claiming webhook deliveries', Date.now, 'warn');
    this.round = coalesceLogged(() => this.claimRound(), failures);
  }

  async start(): Promise<void> {
    this.unlisten = await this.database.listen(EVENTS_CHANNEL, () => this.poke());
    this.timer = setInterval(() => this.poke(), this.settings.pollMs);
    this.timer.unref();
    this.poke();
  }

  /** Looks for due targets now (new events, a retry due, a redelivery asked for). */
  poke(): void {
    if (!this.stopping) this.round.poke();
  }

  /** Stops claiming; waits for the attempts in flight (each bounded by the delivery timeout). */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.timer) clearInterval(this.timer);
    await this.unlisten?.().catch(() => {});
    await this.round.idle();
    await Promise.allSettled([...this.active]);
    await this.sender.close();
  }

  /** Targets being delivered to by this process right now. */
  get activeCount(): number {
    return this.active.size;
  }

  private async claimRound(): Promise<void> {
    if (this.stopping) return;
    await sequenceEvents(this.database.db);
    await this.prune();
    const free = this.settings.concurrency - this.active.size;
    if (free <= 0) return;
    for (const webhook of await this.claim(free)) {
      const run = this.deliverTarget(webhook)
        .catch((error: unknown) =>
          this.log.warn({ err: error, webhookId: webhook.id }, 'webhook delivery failed'),
        )
        .finally(() => {
          this.active.delete(run);
          this.poke();
        });
      this.active.add(run);
    }
  }

  /**
   * Leases up to `limit` due targets with something after their position: enabled, ACTIVE, no
   * retry pending, and no live lease. One statement with SKIP LOCKED, so two processes never
   * claim one target; each claim gets a fresh lease id that fences its holder's writes.
   */
  private async claim(limit: number): Promise<ClaimedWebhook[]> {
    const rows = rowsOf<{
      id: number | string;
      url: string;
      format: WebhookFormat;
      encrypted_secret: string;
      position: number | string;
      lease_id: string;
    }>(
      await this.database.db.execute(sql`
        with due as (
          select w.id from webhooks w
          where w.enabled and w.state = 'ACTIVE' and w.next_attempt_at <= now()
            and (w.leased_until is null or w.leased_until < now())
            and exists (select 1 from events e where e.namespace = w.namespace and e.seq > w.position)
          order by w.next_attempt_at, w.id
          limit ${limit}
          for update skip locked
        )
        update webhooks w
        set lease_id = ${this.holder} || '/' || gen_random_uuid()::text,
            leased_until = now() + ${this.leaseMs} * interval '1 millisecond'
        from due where w.id = due.id
        returning w.id, w.url, w.format, w.encrypted_secret, w.position, w.lease_id`),
    );
    return rows.map((row) => ({
      id: Number(row.id),
      url: row.url,
      format: row.format,
      encryptedSecret: row.encrypted_secret,
      position: Number(row.position),
      leaseId: row.lease_id,
    }));
  }

  /**
   * Walks the target's matching events after its position, one attempt at a time. A success is
   * written by the statement that starts the next attempt (or ends the walk), so a delivery
   * costs one statement, not two.
   */
  private async deliverTarget(webhook: ClaimedWebhook): Promise<void> {
    const secret = decrypt(this.secretKey, webhook.encryptedSecret);
    const [bound] = rowsOf<{ newest: number | string | null }>(
      await this.database.db.execute(sql`select max(seq) as newest from events`),
    );
    const newest = Number(bound?.newest ?? 0);
    let position = webhook.position;
    let succeeded: Success | null = null;
    for (;;) {
      if (this.stopping) return this.release(webhook, succeeded);
      // The page read is no place to lose a success: write it first.
      if (succeeded) await this.recordSuccess(webhook, succeeded);
      succeeded = null;
      const page = await this.matching(webhook.id, position, newest);
      for (const event of page) {
        if (this.stopping) return this.release(webhook, succeeded);
        const result = await this.attempt(webhook, secret, event, succeeded);
        succeeded = null;
        if (!result) return;
        succeeded = result;
        position = event.seq;
      }
      if (page.length < PAGE) {
        // Nothing else up to `newest` matches: the target has seen (or skipped) all of it.
        await this.database.db.execute(sql`
          with ${this.successWrite(succeeded)}
          update webhooks
          set ${succeeded ? sql`attempt = 0, failing_since = null, ` : sql``}position = greatest(position, ${newest}),
              lease_id = null, leased_until = null
          where id = ${webhook.id} and lease_id = ${webhook.leaseId}`);
        return;
      }
    }
  }

  /** The CTE that records a sent event's success (a no-op CTE when there is none). */
  private successWrite(succeeded: Success | null): SQLFragment {
    if (!succeeded) return sql`recorded as (select 1)`;
    return sql`recorded as (
      update webhook_deliveries
      set outcome = 'SUCCEEDED', status_code = ${succeeded.statusCode},
          duration_ms = ${succeeded.durationMs}, error = null, next_retry_at = null
      where id = ${succeeded.deliveryId} returning 1)`;
  }

  /** Writes a success on its own: its delivery's outcome and the target's position. */
  private async recordSuccess(webhook: ClaimedWebhook, succeeded: Success): Promise<void> {
    await this.database.db.execute(sql`
      with ${this.successWrite(succeeded)}
      update webhooks
      set position = greatest(position, ${succeeded.seq}), attempt = 0, failing_since = null,
          leased_until = now() + ${this.leaseMs} * interval '1 millisecond'
      where id = ${webhook.id} and lease_id = ${webhook.leaseId}`);
  }

  /** The target's events after `after` (up to `newest`) that its filter matches, in order. */
  private async matching(id: number, after: number, newest: number): Promise<StoredEvent[]> {
    const rows = rowsOf<Record<string, unknown>>(
      await this.database.db.execute(sql`
        select e.* from events e join webhooks w on w.id = ${id}
        where e.namespace = w.namespace and e.seq > ${after} and e.seq <= ${newest}
          and e.tag is not null
          and (jsonb_array_length(w.filter->'streams') = 0 or jsonb_exists(w.filter->'streams', e.stream))
          and (jsonb_array_length(w.filter->'tags') = 0 or jsonb_exists(w.filter->'tags', e.tag))
          and (jsonb_array_length(w.filter->'types') = 0 or jsonb_exists(w.filter->'types', e.type))
          and (jsonb_array_length(w.filter->'causes') = 0 or jsonb_exists(w.filter->'causes', e.cause))
        order by e.seq
        limit ${PAGE}`),
    );
    return rows.map(toEvent);
  }

  /**
   * One attempt at `event`: recorded (and the lease extended) before the request is sent, under
   * the lease, with the attempt's number unique per target, so no attempt is ever made twice.
   * The same statement writes the previous event's success, when there is one. Returns the
   * success to write next, or null when the walk stops here.
   */
  private async attempt(
    webhook: ClaimedWebhook,
    secret: string,
    event: StoredEvent,
    previous: Success | null,
  ): Promise<Success | null> {
    const [started] = rowsOf<{ delivery_id: number | string }>(
      await this.database.db.execute(sql`
        with ${this.successWrite(previous)},
        held as (
          update webhooks
          set position = greatest(position, ${previous?.seq ?? 0}),
              attempt = ${previous ? sql`1` : sql`attempt + 1`},
              failing_since = ${previous ? sql`now()` : sql`coalesce(failing_since, now())`},
              leased_until = now() + ${this.leaseMs} * interval '1 millisecond'
          where id = ${webhook.id} and lease_id = ${webhook.leaseId} and leased_until > now()
            and greatest(position, ${previous?.seq ?? 0}) < ${event.seq}
          returning id, attempt, replay
        )
        insert into webhook_deliveries (webhook_id, event_seq, replay, attempt, outcome, lease_id)
        select id, ${event.seq}, replay, attempt, 'SENDING', ${webhook.leaseId} from held
        on conflict do nothing
        returning id as delivery_id`),
    );
    // The lease was lost (redelivery, disable, or another process took over), or the attempt
    // was made already: stop walking, handing back whatever is still this claim's (the previous
    // success's delivery is recorded either way; its position too while the claim is ours).
    if (!started) {
      await this.release(webhook, previous);
      return null;
    }
    const deliveryId = Number(started.delivery_id);
    const at = new Date();
    const message = eventMessage(webhook.id, webhook.format, event);
    const outcome = await this.sender.send(
      webhook.url,
      signedHeaders(secret, message, at),
      message.body,
    );
    const fence = sql`id = ${webhook.id} and lease_id = ${webhook.leaseId}`;
    const record = (result: string, nextRetry: SQLFragment) => sql`
      update webhook_deliveries
      set outcome = ${result}, status_code = ${outcome.statusCode},
          duration_ms = ${outcome.durationMs}, error = ${outcome.error}, next_retry_at = ${nextRetry}
      where id = ${deliveryId}`;
    const code = outcome.statusCode;
    if (code !== null && code >= 200 && code < 300) {
      return { deliveryId, seq: event.seq, statusCode: code, durationMs: outcome.durationMs };
    }
    if (code === 410) {
      await this.database.db.transaction(async (tx) => {
        await tx.execute(record('FAILED', sql`null`));
        await tx.execute(sql`
          update webhooks
          set enabled = false, state = 'GONE', condition_reason = 'Gone',
              condition_message = 'the target answered 410 Gone: delivery is disabled until the webhook is enabled again',
              condition_time = now(), lease_id = null, leased_until = null, updated_at = now()
          where ${fence}`);
      });
      this.log.info({ webhookId: webhook.id }, 'webhook target answered 410 Gone: disabled');
      return null;
    }
    await this.database.db.transaction(async (tx) => {
      const [state] = rowsOf<{ attempt: number; failing_ms: number | string }>(
        await tx.execute(sql`
          select attempt, extract(epoch from now() - failing_since) * 1000 as failing_ms
          from webhooks where ${fence} for update`),
      );
      if (!state) {
        await tx.execute(record('FAILED', sql`null`));
        return;
      }
      const delay = retryDelayMs(
        Number(state.attempt),
        this.settings.backoffMinMs,
        this.settings.backoffMaxMs,
      );
      if (Number(state.failing_ms) + delay > this.settings.retryForMs) {
        await tx.execute(record('FAILED', sql`null`));
        await tx.execute(sql`
          update webhooks
          set state = 'FAILING', condition_reason = 'RetriesExhausted',
              condition_message = ${`event ${message.id} was not accepted after ${state.attempt} attempts (last: ${outcome.error ?? 'no answer'}); delivery is paused until the webhook is enabled again or redelivered`},
              condition_time = now(), lease_id = null, leased_until = null, updated_at = now()
          where ${fence}`);
        this.log.warn({ webhookId: webhook.id }, 'webhook target failing: retries exhausted');
        return;
      }
      const nextRetry = sql`now() + ${delay} * interval '1 millisecond'`;
      await tx.execute(record('FAILED', nextRetry));
      await tx.execute(sql`
        update webhooks
        set next_attempt_at = ${nextRetry}, lease_id = null, leased_until = null
        where ${fence}`);
    });
    if (this.settings.backoffMinMs < this.settings.pollMs) {
      const timer = setTimeout(() => this.poke(), this.settings.backoffMinMs);
      timer.unref();
    }
    return null;
  }

  /**
   * Hands the target back (this process is stopping, or the claim was lost) with the last
   * success written; the next claim anywhere resumes it.
   */
  private async release(webhook: ClaimedWebhook, succeeded: Success | null): Promise<void> {
    if (succeeded) await this.recordSuccess(webhook, succeeded);
    await this.database.db.execute(sql`
      update webhooks set lease_id = null, leased_until = null
      where id = ${webhook.id} and lease_id = ${webhook.leaseId}`);
  }

  private async prune(): Promise<void> {
    if (Date.now() - this.lastPrune < PRUNE_INTERVAL_MS) return;
    this.lastPrune = Date.now();
    await this.database.db.execute(sql`
      delete from webhook_deliveries
      where created_at < now() - ${this.retentionMs} * interval '1 millisecond'`);
  }
}

type SQLFragment = ReturnType<typeof sql>;

/** A delivered event whose success is not written yet. */
interface Success {
  deliveryId: number;
  seq: number;
  statusCode: number;
  durationMs: number;
}

function toEvent(row: Record<string, unknown>): StoredEvent {
  return {
    id: Number(row.id),
    seq: Number(row.seq),
    at: new Date(row.at as string | Date),
    namespace: row.namespace as string,
    stream: row.stream as string,
    tag: (row.tag as string | null) ?? null,
    type: row.type as string,
    cause: row.cause as string,
    payload: (typeof row.payload === 'string' ? JSON.parse(row.payload) : row.payload) as Record<
      string,
      unknown
    >,
    actor: (typeof row.actor === 'string' ? JSON.parse(row.actor) : (row.actor ?? null)) as
      | StoredEvent['actor']
      | null,
    actorSubject: (row.actor_subject as string | null) ?? null,
  };
}
