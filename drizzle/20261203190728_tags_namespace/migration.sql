-- A tag carries its stream's namespace, so a namespace's tag list (Namespace.tags) reads one index
-- in order across streams. A trigger copies it on insert: every writer gets it without one more
-- statement, and a value a writer gives is replaced.
ALTER TABLE "tags" ADD COLUMN "namespace" text;--> statement-breakpoint
UPDATE "tags" SET "namespace" = s."namespace" FROM "image_streams" s WHERE s."id" = "tags"."stream_id";--> statement-breakpoint
ALTER TABLE "tags" ALTER COLUMN "namespace" SET NOT NULL;--> statement-breakpoint
CREATE FUNCTION tagraph_tag_namespace() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  SELECT namespace INTO NEW.namespace FROM image_streams WHERE id = NEW.stream_id;
  RETURN NEW;
END;
$$;--> statement-breakpoint
CREATE TRIGGER tags_namespace BEFORE INSERT OR UPDATE OF stream_id ON tags
FOR EACH ROW EXECUTE FUNCTION tagraph_tag_namespace();--> statement-breakpoint
ALTER TABLE "tag_history" ALTER COLUMN "created" SET DATA TYPE timestamp(3) with time zone USING "created"::timestamp(3) with time zone;--> statement-breakpoint
CREATE INDEX "tag_history_tag_created_idx" ON "tag_history" ("tag_id","created","id");--> statement-breakpoint
CREATE INDEX "tag_history_tag_generation_idx" ON "tag_history" ("tag_id","generation","id");--> statement-breakpoint
CREATE INDEX "tags_namespace_updated_idx" ON "tags" ("namespace","updated_at","id");--> statement-breakpoint
CREATE INDEX "tags_namespace_name_idx" ON "tags" ("namespace","name","id");
