// Whether a caller's credential still holds (an API token not revoked, a JWT not expired), and
// watches that end open connections and streams once it, or a subscription's grant, no longer does.
import DataLoader from 'dataloader';
import { and, inArray, isNull } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { apiTokens } from '../db/schema.ts';
import type { Caller } from './roles.ts';

/** graphql-ws close code for a connection whose credential was revoked or expired (Forbidden). */
export const CLOSE_FORBIDDEN = 4403;
export const CREDENTIAL_ENDED_REASON = 'Forbidden: the token was revoked or has expired';
export const CREDENTIAL_ENDED_MESSAGE =
  'the token was revoked or has expired: authenticate again with a valid token';

/** Largest setTimeout delay Node honours; a later expiry is caught by the periodic check. */
const MAX_TIMER_MS = 2_147_483_647;
/** API token ids read by one statement (bind parameters stay far below any driver's limit). */
const MAX_TOKENS_PER_STATEMENT = 1000;

/** A live subscription's access, re-read at every check while it is open, idle or not. */
interface GrantWatch {
  /** Whether the caller may still read what the subscription delivers (a fresh read). */
  holds: () => Promise<boolean>;
  onRevoked: () => void;
}

interface Watch {
  caller: Caller;
  onEnded: () => void;
  expiryTimer: NodeJS.Timeout | null;
}

/**
 * The credential checks of one process. `valid` reads an API token's revocation fresh, batching
 * the questions asked in the same tick into one statement (a fan-out to many subscribers is one
 * read); a JWT's expiry is compared locally. `watch` calls back once, when the credential ends:
 * at a JWT's `exp` by a timer, and for API tokens within `checkIntervalMs` of the revocation
 * (every watched token is re-read together, one statement per thousand tokens).
 */
export class Credentials {
  private readonly liveTokens: DataLoader<number, boolean>;
  private readonly watches = new Set<Watch>();
  private readonly grants = new Set<GrantWatch>();
  private readonly timer: NodeJS.Timeout;
  private checking = false;
  private checkingGrants = false;

  constructor(db: Db, checkIntervalMs: number) {
    this.liveTokens = new DataLoader(
      async (ids) => {
        const rows = await db
          .select({ id: apiTokens.id })
          .from(apiTokens)
          .where(and(inArray(apiTokens.id, [...ids]), isNull(apiTokens.revokedAt)));
        const live = new Set(rows.map((row) => row.id));
        return ids.map((id) => live.has(id));
      },
      { cache: false, maxBatchSize: MAX_TOKENS_PER_STATEMENT },
    );
    this.timer = setInterval(() => {
      void this.checkWatched();
      void this.checkGrants();
    }, checkIntervalMs);
    this.timer.unref();
  }

  /** Whether a JWT's expiry has passed (compared locally, no I/O). */
  expired(caller: Caller, now = Date.now()): boolean {
    return caller.expiresAt != null && now >= caller.expiresAt;
  }

  /** Whether the caller's credential holds now: not expired, and an API token not revoked. */
  async valid(caller: Caller): Promise<boolean> {
    if (this.expired(caller)) return false;
    if (caller.tokenId === null) return true;
    return this.liveTokens.load(caller.tokenId);
  }

  /** Open watches, for tests and metrics. */
  get watchCount(): number {
    return this.watches.size;
  }

  /**
   * Calls `onEnded` once when the caller's credential ends; returns the function that stops
   * watching. A credential that cannot end (the bootstrap admin token, open mode) is not watched.
   */
  watch(caller: Caller, onEnded: () => void): () => void {
    if (caller.tokenId === null && caller.expiresAt == null) return () => {};
    const watch: Watch = { caller, onEnded, expiryTimer: null };
    this.watches.add(watch);
    if (caller.expiresAt != null) {
      const delay = caller.expiresAt - Date.now();
      if (delay <= MAX_TIMER_MS) {
        watch.expiryTimer = setTimeout(() => this.end(watch), Math.max(0, delay));
        watch.expiryTimer.unref();
      }
    }
    return () => this.unwatch(watch);
  }

  /**
   * Calls `onRevoked` once, at the first periodic check (every `checkIntervalMs`) at which
   * `holds` answers false; returns the function that stops watching. Every watch's `holds` is
   * started in the same tick, so fresh role reads batched by a DataLoader go to the database
   * together. A failed read is retried at the next check.
   */
  watchGrant(holds: () => Promise<boolean>, onRevoked: () => void): () => void {
    const watch: GrantWatch = { holds, onRevoked };
    this.grants.add(watch);
    return () => this.grants.delete(watch);
  }

  /** Open grant watches, for tests and metrics. */
  get grantWatchCount(): number {
    return this.grants.size;
  }

  /** Stops the periodic check (server shutdown); the watches' owners end them as they close. */
  stop(): void {
    clearInterval(this.timer);
    for (const watch of this.watches) this.unwatch(watch);
    this.grants.clear();
  }

  private unwatch(watch: Watch): void {
    if (watch.expiryTimer) clearTimeout(watch.expiryTimer);
    this.watches.delete(watch);
  }

  private end(watch: Watch): void {
    if (!this.watches.has(watch)) return;
    this.unwatch(watch);
    watch.onEnded();
  }

  /** Ends every grant watch whose access no longer holds; one check at a time. */
  private async checkGrants(): Promise<void> {
    if (this.checkingGrants || this.grants.size === 0) return;
    this.checkingGrants = true;
    try {
      const watches = [...this.grants];
      const answers = await Promise.allSettled(watches.map((watch) => watch.holds()));
      answers.forEach((answer, i) => {
        const watch = watches[i]!;
        if (answer.status === 'fulfilled' && !answer.value && this.grants.delete(watch)) {
          watch.onRevoked();
        }
      });
    } finally {
      this.checkingGrants = false;
    }
  }

  /** Ends every watch whose credential expired or was revoked since the last check. */
  private async checkWatched(): Promise<void> {
    if (this.checking || this.watches.size === 0) return;
    this.checking = true;
    try {
      const now = Date.now();
      const tokenIds = new Set<number>();
      for (const watch of this.watches) {
        if (this.expired(watch.caller, now)) this.end(watch);
        else if (watch.caller.tokenId !== null) tokenIds.add(watch.caller.tokenId);
      }
      if (tokenIds.size === 0) return;
      const ids = [...tokenIds];
      const live = await this.liveTokens.loadMany(ids);
      // Only a read that answered "revoked" ends a watch; a failed one is retried next time.
      const revoked = new Set(ids.filter((_, i) => live[i] === false));
      for (const watch of this.watches) {
        if (watch.caller.tokenId !== null && revoked.has(watch.caller.tokenId)) this.end(watch);
      }
    } catch {
      // A failed read (database briefly away) is retried at the next interval.
    } finally {
      this.checking = false;
    }
  }
}

/** The key a caller's limits are counted under: its API token, or its subject. */
export function limitKey(caller: Caller): string {
  return caller.tokenId === null ? caller.subject : `token:${caller.tokenId}`;
}
