CREATE TABLE "stream_images" (
	"stream_id" bigint,
	"digest" text,
	"created" timestamp(3) with time zone,
	"created_asc_key" bigint NOT NULL,
	"created_desc_key" bigint NOT NULL,
	"history_item_count" integer NOT NULL,
	"first_seen" timestamp(3) with time zone NOT NULL,
	CONSTRAINT "stream_images_pkey" PRIMARY KEY("stream_id","digest"),
	CONSTRAINT "stream_images_count_positive" CHECK ("history_item_count" > 0)
);
--> statement-breakpoint
CREATE INDEX "stream_images_created_asc_idx" ON "stream_images" ("stream_id","created_asc_key","digest");--> statement-breakpoint
CREATE INDEX "stream_images_created_desc_idx" ON "stream_images" ("stream_id","created_desc_key","digest");--> statement-breakpoint
CREATE INDEX "stream_images_digest_idx" ON "stream_images" USING hash ("digest");--> statement-breakpoint
-- stream_images (ImageStream.images) is kept by the database: every writer of tag_history, tags
-- and images (tag, import, push, mapping, rollback, prune, delete) keeps it without a statement of
-- its own. History writes are handled once per statement, from transition tables, so a bulk insert
-- costs one aggregate and one upsert, not one per row. Rows are changed in (stream, digest) order,
-- so two writers of the same stream lock them in the same order.
CREATE FUNCTION tagraph_created_key(created timestamptz, unknown bigint) RETURNS bigint
LANGUAGE sql IMMUTABLE AS $$
  SELECT coalesce((extract(epoch FROM created::timestamptz(3)) * 1000)::bigint, unknown)
$$;--> statement-breakpoint
-- Adds history items: per stream and digest, how many and the oldest created time.
CREATE FUNCTION tagraph_stream_images_add(streams bigint[], digests text[], counts integer[], firsts timestamptz[]) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO stream_images AS s (stream_id, digest, created, created_asc_key, created_desc_key, history_item_count, first_seen)
  SELECT d.stream_id, d.digest, i.created::timestamptz(3),
    tagraph_created_key(i.created, 9007199254740991), tagraph_created_key(i.created, -9007199254740991),
    d.n, d.first
  FROM unnest(streams, digests, counts, firsts) AS d(stream_id, digest, n, first)
  JOIN images i ON i.digest = d.digest
  ORDER BY d.stream_id, d.digest
  ON CONFLICT (stream_id, digest) DO UPDATE SET
    history_item_count = s.history_item_count + excluded.history_item_count,
    first_seen = least(s.first_seen, excluded.first_seen);
END;
$$;--> statement-breakpoint
-- Removes history items: a row whose last item goes is deleted; when the oldest may have gone,
-- the first-seen time is read again, leaving out the items of `leaving_tag` (a tag about to be
-- deleted, whose history is still there).
CREATE FUNCTION tagraph_stream_images_remove(streams bigint[], digests text[], counts integer[], firsts timestamptz[], leaving_tag bigint) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM stream_images s
  USING unnest(streams, digests, counts) AS d(stream_id, digest, n)
  WHERE s.stream_id = d.stream_id AND s.digest = d.digest AND s.history_item_count <= d.n;
  UPDATE stream_images s SET
    history_item_count = s.history_item_count - d.n,
    first_seen = CASE WHEN d.first > s.first_seen THEN s.first_seen ELSE coalesce((
      SELECT min(h.created) FROM tag_history h JOIN tags t ON t.id = h.tag_id
      WHERE h.image_digest = s.digest AND t.stream_id = s.stream_id
        AND h.tag_id IS DISTINCT FROM leaving_tag), s.first_seen) END
  FROM unnest(streams, digests, counts, firsts) AS d(stream_id, digest, n, first)
  WHERE s.stream_id = d.stream_id AND s.digest = d.digest;
END;
$$;--> statement-breakpoint
CREATE FUNCTION tagraph_stream_images_history_inserted() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE streams bigint[]; digests text[]; counts integer[]; firsts timestamptz[];
BEGIN
  SELECT array_agg(d.stream_id ORDER BY d.stream_id, d.digest), array_agg(d.digest ORDER BY d.stream_id, d.digest),
    array_agg(d.n ORDER BY d.stream_id, d.digest), array_agg(d.first ORDER BY d.stream_id, d.digest)
  INTO streams, digests, counts, firsts
  FROM (SELECT t.stream_id, n.image_digest AS digest, count(*)::int AS n, min(n.created) AS first
    FROM new_items n JOIN tags t ON t.id = n.tag_id
    WHERE n.image_digest IS NOT NULL GROUP BY t.stream_id, n.image_digest) d;
  IF streams IS NOT NULL THEN PERFORM tagraph_stream_images_add(streams, digests, counts, firsts); END IF;
  RETURN NULL;
END;
$$;--> statement-breakpoint
-- A history item deleted with its tag is counted off by the tag's own trigger: its tag is gone
-- by now, so it joins no stream here.
CREATE FUNCTION tagraph_stream_images_history_deleted() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE streams bigint[]; digests text[]; counts integer[]; firsts timestamptz[];
BEGIN
  SELECT array_agg(d.stream_id ORDER BY d.stream_id, d.digest), array_agg(d.digest ORDER BY d.stream_id, d.digest),
    array_agg(d.n ORDER BY d.stream_id, d.digest), array_agg(d.first ORDER BY d.stream_id, d.digest)
  INTO streams, digests, counts, firsts
  FROM (SELECT t.stream_id, o.image_digest AS digest, count(*)::int AS n, min(o.created) AS first
    FROM old_items o JOIN tags t ON t.id = o.tag_id
    WHERE o.image_digest IS NOT NULL GROUP BY t.stream_id, o.image_digest) d;
  IF streams IS NOT NULL THEN PERFORM tagraph_stream_images_remove(streams, digests, counts, firsts, NULL); END IF;
  RETURN NULL;
END;
$$;--> statement-breakpoint
-- An item replaced in place counts as its old self removed and its new self added, when its
-- image, created time or tag changed.
CREATE FUNCTION tagraph_stream_images_history_updated() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE streams bigint[]; digests text[]; counts integer[]; firsts timestamptz[];
BEGIN
  SELECT array_agg(d.stream_id ORDER BY d.stream_id, d.digest), array_agg(d.digest ORDER BY d.stream_id, d.digest),
    array_agg(d.n ORDER BY d.stream_id, d.digest), array_agg(d.first ORDER BY d.stream_id, d.digest)
  INTO streams, digests, counts, firsts
  FROM (SELECT t.stream_id, o.image_digest AS digest, count(*)::int AS n, min(o.created) AS first
    FROM old_items o JOIN new_items n ON n.id = o.id JOIN tags t ON t.id = o.tag_id
    WHERE o.image_digest IS NOT NULL
      AND (o.image_digest, o.created, o.tag_id) IS DISTINCT FROM (n.image_digest, n.created, n.tag_id)
    GROUP BY t.stream_id, o.image_digest) d;
  IF streams IS NOT NULL THEN PERFORM tagraph_stream_images_remove(streams, digests, counts, firsts, NULL); END IF;
  SELECT array_agg(d.stream_id ORDER BY d.stream_id, d.digest), array_agg(d.digest ORDER BY d.stream_id, d.digest),
    array_agg(d.n ORDER BY d.stream_id, d.digest), array_agg(d.first ORDER BY d.stream_id, d.digest)
  INTO streams, digests, counts, firsts
  FROM (SELECT t.stream_id, n.image_digest AS digest, count(*)::int AS n, min(n.created) AS first
    FROM new_items n JOIN old_items o ON o.id = n.id JOIN tags t ON t.id = n.tag_id
    WHERE n.image_digest IS NOT NULL
      AND (o.image_digest, o.created, o.tag_id) IS DISTINCT FROM (n.image_digest, n.created, n.tag_id)
    GROUP BY t.stream_id, n.image_digest) d;
  IF streams IS NOT NULL THEN PERFORM tagraph_stream_images_add(streams, digests, counts, firsts); END IF;
  RETURN NULL;
END;
$$;--> statement-breakpoint
-- A tag about to be deleted takes its history's counts with it (its items are deleted after it).
CREATE FUNCTION tagraph_stream_images_tag_deleted() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE streams bigint[]; digests text[]; counts integer[]; firsts timestamptz[];
BEGIN
  SELECT array_agg(OLD.stream_id ORDER BY d.digest), array_agg(d.digest ORDER BY d.digest),
    array_agg(d.n ORDER BY d.digest), array_agg(d.first ORDER BY d.digest)
  INTO streams, digests, counts, firsts
  FROM (SELECT h.image_digest AS digest, count(*)::int AS n, min(h.created) AS first
    FROM tag_history h WHERE h.tag_id = OLD.id AND h.image_digest IS NOT NULL
    GROUP BY h.image_digest) d;
  IF streams IS NOT NULL THEN PERFORM tagraph_stream_images_remove(streams, digests, counts, firsts, OLD.id); END IF;
  RETURN OLD;
END;
$$;--> statement-breakpoint
CREATE FUNCTION tagraph_stream_images_image_created() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  UPDATE stream_images SET created = NEW.created::timestamptz(3),
    created_asc_key = tagraph_created_key(NEW.created, 9007199254740991),
    created_desc_key = tagraph_created_key(NEW.created, -9007199254740991)
  WHERE digest = NEW.digest;
  RETURN NULL;
END;
$$;--> statement-breakpoint
CREATE TRIGGER tag_history_stream_images_insert AFTER INSERT ON tag_history
REFERENCING NEW TABLE AS new_items
FOR EACH STATEMENT EXECUTE FUNCTION tagraph_stream_images_history_inserted();--> statement-breakpoint
CREATE TRIGGER tag_history_stream_images_delete AFTER DELETE ON tag_history
REFERENCING OLD TABLE AS old_items
FOR EACH STATEMENT EXECUTE FUNCTION tagraph_stream_images_history_deleted();--> statement-breakpoint
CREATE TRIGGER tag_history_stream_images_update AFTER UPDATE ON tag_history
REFERENCING OLD TABLE AS old_items NEW TABLE AS new_items
FOR EACH STATEMENT EXECUTE FUNCTION tagraph_stream_images_history_updated();--> statement-breakpoint
CREATE TRIGGER tags_stream_images_delete BEFORE DELETE ON tags
FOR EACH ROW EXECUTE FUNCTION tagraph_stream_images_tag_deleted();--> statement-breakpoint
CREATE TRIGGER images_stream_images_created AFTER UPDATE OF created ON images
FOR EACH ROW WHEN (OLD.created IS DISTINCT FROM NEW.created)
EXECUTE FUNCTION tagraph_stream_images_image_created();--> statement-breakpoint
-- Backfill: the histories written before this migration.
INSERT INTO stream_images (stream_id, digest, created, created_asc_key, created_desc_key, history_item_count, first_seen)
SELECT t.stream_id, h.image_digest, i.created::timestamptz(3),
  tagraph_created_key(i.created, 9007199254740991), tagraph_created_key(i.created, -9007199254740991),
  count(*)::int, min(h.created)
FROM tag_history h JOIN tags t ON t.id = h.tag_id JOIN images i ON i.digest = h.image_digest
GROUP BY t.stream_id, h.image_digest, i.created;
