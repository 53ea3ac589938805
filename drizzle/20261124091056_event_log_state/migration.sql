CREATE TABLE "event_log_state" (
	"id" integer PRIMARY KEY DEFAULT 1,
	"trimmed_through" bigint DEFAULT 0 NOT NULL
);
