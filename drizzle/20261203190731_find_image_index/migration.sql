DROP INDEX "tag_history_image_idx";--> statement-breakpoint
CREATE INDEX "tag_history_image_pattern_idx" ON "tag_history" ("image_digest" text_pattern_ops);--> statement-breakpoint
CREATE INDEX "tag_history_reference_idx" ON "tag_history" USING hash ("docker_image_reference");