ALTER TABLE "image_streams" ALTER COLUMN "updated_at" SET DATA TYPE timestamp(3) with time zone USING "updated_at"::timestamp(3) with time zone;--> statement-breakpoint
ALTER TABLE "tags" ALTER COLUMN "updated_at" SET DATA TYPE timestamp(3) with time zone USING "updated_at"::timestamp(3) with time zone;--> statement-breakpoint
CREATE INDEX "image_streams_namespace_updated_idx" ON "image_streams" ("namespace","updated_at","id");--> statement-breakpoint
CREATE INDEX "image_streams_namespace_generation_idx" ON "image_streams" ("namespace","generation","id");--> statement-breakpoint
CREATE INDEX "tags_stream_updated_idx" ON "tags" ("stream_id","updated_at","id");