-- Lineage of history items: the tag a permanent `tag` copied the item from, by id and by name,
-- and the generation of the source item. No foreign key, so a deleted source leaves its names.
ALTER TABLE "tag_history" ADD COLUMN "copied_from_tag_id" bigint;--> statement-breakpoint
ALTER TABLE "tag_history" ADD COLUMN "copied_from_namespace" text;--> statement-breakpoint
ALTER TABLE "tag_history" ADD COLUMN "copied_from_stream" text;--> statement-breakpoint
ALTER TABLE "tag_history" ADD COLUMN "copied_from_tag" text;--> statement-breakpoint
ALTER TABLE "tag_history" ADD COLUMN "copied_from_generation" integer;--> statement-breakpoint
CREATE INDEX "tag_history_copied_from_idx" ON "tag_history" ("copied_from_tag_id") WHERE "copied_from_tag_id" is not null;--> statement-breakpoint
ALTER TABLE "tag_history" ADD CONSTRAINT "tag_history_copied_from_complete" CHECK (num_nonnulls("copied_from_tag_id", "copied_from_namespace", "copied_from_stream", "copied_from_tag", "copied_from_generation") in (0, 5));