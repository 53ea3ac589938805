DROP INDEX "events_namespace_id_idx";--> statement-breakpoint
ALTER TABLE "events" ADD COLUMN "seq" bigint;--> statement-breakpoint
-- Written by hand: events from before the sequencer were inserted under a lock that made id order
-- commit order, so their ids are their positions, and cursors already issued stay valid.
UPDATE "events" SET "seq" = "id";--> statement-breakpoint
CREATE UNIQUE INDEX "events_seq_idx" ON "events" ("seq");--> statement-breakpoint
CREATE INDEX "events_namespace_seq_idx" ON "events" ("namespace","seq");--> statement-breakpoint
CREATE INDEX "events_unsequenced_idx" ON "events" ("id") WHERE "seq" is null;