// Gives committed events their place in the log (`seq`), after their writers have committed.
import { sql } from 'drizzle-orm';
import { type Database, rowsOf } from '../db/client.ts';

/**
 * Why a sequencer (DESIGN.md §3, "event order is commit order"): readers page by position, so a
 * position must never appear below one a reader has already passed. Writers insert events with
 * no position and take no lock; a sequencer pass numbers the committed ones, in id order,
 * continuing from the highest position given so far (the log's, or the trimmed one's). Passes
 * serialize on this lock and each commits before the next starts, so a reader that sees
 * position N sees every position below it.
 *
 * Per-tag order holds too: two transactions that change one tag both lock its stream first and
 * insert their events last (append.ts), so the one that commits later inserts later and has the
 * higher id; any pass that sees it committed also sees the earlier one.
 *
 * Until 2026-12 writers serialized on an advisory lock from their event insert to their commit
 * instead, so ids were commit order; that lock kept commits from sharing a WAL flush (bench/
 * RESULTS.md, scenario 4). Events written then got `seq = id` by the migration.
 */
const SEQUENCER_LOCK_KEY = 7_242_003;

/** Events numbered per statement; a pass repeats until none are left. */
const BATCH = 5_000;

/**
 * One pass over at most BATCH events: lock, then number, sent as one message. Several statements
 * in one simple-protocol message run as one implicit transaction (the lock is held to its end),
 * and each statement takes its own snapshot, so the update sees what the previous pass committed
 * even if it waited for the lock. One round trip instead of five (begin, lock, update, commit):
 * with sparse writes every change costs a pass (bench/RESULTS.md, scenario 4).
 */
const PASS = `
  select pg_advisory_xact_lock(${SEQUENCER_LOCK_KEY});
  with pending as (
    select id, row_number() over (order by id) as n
    from events where seq is null order by id limit ${BATCH}
  ), numbered as (
    update events e
    set seq = greatest(
      (select coalesce(max(seq), 0) from events),
      -- the retention job may have trimmed the whole log: never count from below it
      (select coalesce(max(trimmed_through), 0) from event_log_state)
    ) + pending.n
    from pending where e.id = pending.id
    returning 1
  )
  select count(*)::int as n from numbered`;

/**
 * Numbers every committed event that has no position yet. Any process may call it at any time
 * (the hub does before each read, the polling query before it pages); concurrent calls wait for
 * each other. Returns how many events it numbered.
 */
export async function sequenceEvents(database: Database): Promise<number> {
  let numbered = 0;
  for (;;) {
    // The common case, nothing waiting, costs one indexed read and no lock.
    const pending = rowsOf<{ waiting: boolean }>(
      await database.db.execute(
        sql`select exists (select 1 from events where seq is null) as waiting`,
      ),
    );
    if (!pending[0]?.waiting) return numbered;
    const [row] = await database.exec(PASS);
    const count = Number(row?.n ?? 0);
    numbered += count;
    if (count < BATCH) return numbered;
  }
}
