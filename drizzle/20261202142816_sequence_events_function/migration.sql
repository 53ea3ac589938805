-- The events sequencer's pass (src/events/sequencer.ts) as a function: one round trip, and
-- PL/pgSQL keeps the update's plan per connection instead of planning it on every call.
-- VOLATILE, so each statement inside takes a fresh snapshot: the update, which runs after the
-- lock is granted, sees everything the previous pass committed.
CREATE FUNCTION tagraph_sequence_events(batch integer) RETURNS integer
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  numbered integer;
BEGIN
  PERFORM pg_advisory_xact_lock(7242003);
  WITH pending AS (
    SELECT id, row_number() OVER (ORDER BY id) AS n
    FROM events WHERE seq IS NULL ORDER BY id LIMIT batch
  ), updated AS (
    UPDATE events e
    SET seq = greatest(
      (SELECT coalesce(max(seq), 0) FROM events),
      -- the retention job may have trimmed the whole log: never count from below it
      (SELECT coalesce(max(trimmed_through), 0) FROM event_log_state)
    ) + pending.n
    FROM pending WHERE e.id = pending.id
    RETURNING 1
  )
  SELECT count(*)::integer INTO numbered FROM updated;
  RETURN numbered;
END;
$$;
