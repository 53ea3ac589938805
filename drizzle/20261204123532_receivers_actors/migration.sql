CREATE TABLE "receivers" (
	"id" bigserial PRIMARY KEY,
	"namespace" text NOT NULL,
	"name" text NOT NULL,
	"kind" text NOT NULL,
	"registry" text,
	"token_hash" text NOT NULL CONSTRAINT "receivers_token_hash_unique" UNIQUE,
	"encrypted_secret" text,
	"created_by" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_called_at" timestamp with time zone,
	CONSTRAINT "receivers_namespace_name_unique" UNIQUE("namespace","name")
);
--> statement-breakpoint
ALTER TABLE "events" ADD COLUMN "actor" jsonb;--> statement-breakpoint
ALTER TABLE "events" ADD COLUMN "actor_subject" text;--> statement-breakpoint
ALTER TABLE "tag_history" ADD COLUMN "actor" jsonb;--> statement-breakpoint
CREATE INDEX "events_actor_idx" ON "events" ("namespace","actor_subject","seq") WHERE "actor_subject" is not null;--> statement-breakpoint
ALTER TABLE "receivers" ADD CONSTRAINT "receivers_namespace_namespaces_name_fkey" FOREIGN KEY ("namespace") REFERENCES "namespaces"("name") ON DELETE RESTRICT;