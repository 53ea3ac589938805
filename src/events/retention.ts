// Trims the events log to the retention window and remembers how far, to expire old cursors;
// reads the bounds a cursor must fall within.
import { sql } from 'drizzle-orm';
import { type Database, rowsOf } from '../db/client.ts';
import { sequenceEvents } from './sequencer.ts';

/**
 * Deletes events older than `retentionMs`; returns how many went. Safe to run concurrently. Only
 * events with a position go (it sequences first): one deleted before the sequencer numbered it
 * would vanish without expiring the cursors that now skip it.
 */
export async function trimEvents(database: Database, retentionMs: number): Promise<number> {
  await sequenceEvents(database.db);
  const rows = rowsOf<{ n: number }>(
    await database.db.execute(sql`
      with gone as (
        delete from events
        where at < now() - ${retentionMs} * interval '1 millisecond' and seq is not null
        returning seq
      ), mark as (
        insert into event_log_state (id, trimmed_through)
        select 1, max(seq) from gone having max(seq) is not null
        on conflict (id) do update
          set trimmed_through = greatest(event_log_state.trimmed_through, excluded.trimmed_through)
      )
      select count(*)::int as n from gone`),
  );
  return Number(rows[0]?.n ?? 0);
}

/**
 * The positions a cursor of this log may hold: above `trimmedThrough` (the newest position
 * trimmed away; 0 when none) and at most `newest` (the newest position given, kept or trimmed).
 * One statement, on the unique index of `seq`.
 */
export async function logBounds(
  database: Database,
): Promise<{ trimmedThrough: number; newest: number }> {
  const rows = rowsOf<{ trimmed: number | string; newest: number | string }>(
    await database.db.execute(sql`
      select coalesce(max(trimmed_through), 0) as trimmed,
        greatest(coalesce(max(trimmed_through), 0),
          coalesce((select max(seq) from events), 0)) as newest
      from event_log_state`),
  );
  return { trimmedThrough: Number(rows[0]?.trimmed ?? 0), newest: Number(rows[0]?.newest ?? 0) };
}
