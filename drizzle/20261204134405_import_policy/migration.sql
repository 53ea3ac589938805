CREATE TABLE "scheduled_import_windows" (
	"window_start" timestamp with time zone PRIMARY KEY,
	"started" integer DEFAULT 0 NOT NULL
);
--> statement-breakpoint
ALTER TABLE "tags" ADD COLUMN "import_failures" integer DEFAULT 0 NOT NULL;