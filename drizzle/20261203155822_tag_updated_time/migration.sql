-- A tag's updated time (tags.updated_at, which the tag list orders and filters by) also moves when
-- its history or its import condition is written: every writer (tag, import, push, mapping,
-- rollback, tracking) gets it without one more round trip. Removing a condition is not a change of
-- its own: it comes with the history item of a successful import.
CREATE FUNCTION tagraph_touch_tag() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  UPDATE tags SET updated_at = now() WHERE id = NEW.tag_id AND updated_at IS DISTINCT FROM now()::timestamptz(3);
  RETURN NULL;
END;
$$;--> statement-breakpoint
CREATE TRIGGER tag_history_touch_tag AFTER INSERT OR UPDATE ON tag_history
FOR EACH ROW EXECUTE FUNCTION tagraph_touch_tag();--> statement-breakpoint
CREATE TRIGGER tag_conditions_touch_tag AFTER INSERT OR UPDATE ON tag_conditions
FOR EACH ROW EXECUTE FUNCTION tagraph_touch_tag();
