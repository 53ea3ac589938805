-- A tag that tracks another tag of its own stream (`oc tag --alias`) names it in `tracks_tag`, so
-- `follows`, `followers` and `dangling` are one indexed join per tag instead of a read of every
-- sibling. A trigger derives it from `from` on every write: a writer cannot get it wrong.
ALTER TABLE "tags" ADD COLUMN "tracks_tag" text;--> statement-breakpoint
CREATE FUNCTION tagraph_tag_tracks() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  stream_namespace text;
  stream_name text;
  colon integer;
BEGIN
  NEW.tracks_tag := NULL;
  IF NEW.from_kind = 'ImageStreamTag' AND NEW.from_name IS NOT NULL THEN
    SELECT namespace, name INTO stream_namespace, stream_name FROM image_streams WHERE id = NEW.stream_id;
    IF coalesce(NEW.from_namespace, '') = '' OR NEW.from_namespace = stream_namespace THEN
      colon := position(':' in NEW.from_name);
      IF colon = 0 THEN
        NEW.tracks_tag := NEW.from_name;
      ELSIF substring(NEW.from_name from 1 for colon - 1) = stream_name THEN
        NEW.tracks_tag := substring(NEW.from_name from colon + 1);
      END IF;
    END IF;
  END IF;
  RETURN NEW;
END;
$$;--> statement-breakpoint
CREATE TRIGGER tags_tracks BEFORE INSERT OR UPDATE OF stream_id, from_kind, from_name, from_namespace, tracks_tag ON tags
FOR EACH ROW EXECUTE FUNCTION tagraph_tag_tracks();--> statement-breakpoint
UPDATE "tags" SET "from_name" = "from_name" WHERE "from_kind" = 'ImageStreamTag';--> statement-breakpoint
CREATE INDEX "tags_tracks_idx" ON "tags" ("stream_id","tracks_tag","name") WHERE "tracks_tag" is not null;
