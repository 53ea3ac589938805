-- The sequencer's pass checks for unnumbered events itself: an idle pass (the common case for a
-- gateway's hub, which runs one before every read) is one round trip and takes no lock, where it
-- was a separate `exists` query and then the call (src/events/sequencer.ts).
CREATE OR REPLACE FUNCTION tagraph_sequence_events(batch integer) RETURNS integer
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  numbered integer;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM events WHERE seq IS NULL) THEN
    RETURN 0;
  END IF;
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
