// Gives committed events their place in the log (`seq`), after their writers have committed.
import { sql } from 'drizzle-orm';
import { type Db, rowsOf } from '../db/client.ts';

/**
 * Why a sequencer (docs/model.md, "Events": event order is commit order): readers page by position, so a
 * position must never appear below one a reader has already passed. Writers insert events with
 * no position and take no lock; a sequencer pass numbers the committed ones, in id order,
 * continuing from the highest position given so far (the log's, or the trimmed one's). Passes
 * serialize on an advisory lock (key 7242003) and each commits before the next starts, so a
 * reader that sees position N sees every position below it.
 *
 * Per-tag order holds too: two transactions that change one tag both lock its stream first and
 * insert their events last (append.ts), so the one that commits later inserts later and has the
 * higher id; any pass that sees it committed also sees the earlier one.
 *
 * Writers hold no lock between their insert and their commit, so concurrent commits can share a
 * WAL flush; the cost is that `id` is not commit order, which is why positions come from here.
 */

/** Events numbered per call; a pass repeats until none are left. */
const BATCH = 5_000;

/**
 * Numbers every committed event that has no position yet. Any process may call it at any time
 * (the hub does before each read, the polling query before it pages); concurrent calls wait for
 * each other. Returns how many events it numbered.
 *
 * The pass itself is the SQL function `tagraph_sequence_events` (migrations
 * 20261202142816_sequence_events_function and 20261202160249_sequence_events_idle_check): when
 * no event waits it returns at once, with one indexed read and no lock; otherwise it takes the
 * lock (key 7242003) and numbers up to BATCH events. One round trip either way, with plans
 * PL/pgSQL keeps per connection. Being VOLATILE, its update takes a fresh snapshot after the lock
 * is granted, so it sees the previous pass. A function rather than statements sent from here:
 * separate statements take a round trip each (begin, lock, update, commit), and one
 * multi-statement message is planned afresh on every pass.
 */
export async function sequenceEvents(db: Db): Promise<number> {
  let numbered = 0;
  for (;;) {
    const [row] = rowsOf<{ n: number }>(
      await db.execute(sql`select tagraph_sequence_events(${BATCH}) as n`),
    );
    const count = Number(row?.n ?? 0);
    numbered += count;
    if (count < BATCH) return numbered;
  }
}
