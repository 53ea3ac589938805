CREATE TABLE "retention_policies" (
	"id" bigserial PRIMARY KEY,
	"namespace" text NOT NULL,
	"name" text NOT NULL,
	"keep_tag_revisions" integer NOT NULL,
	"keep_younger_than_minutes" integer NOT NULL,
	"streams" jsonb NOT NULL,
	"include_tags" jsonb NOT NULL,
	"exclude_tags" jsonb NOT NULL,
	"interval_minutes" integer NOT NULL,
	"enabled" boolean DEFAULT true NOT NULL,
	"next_run_at" timestamp with time zone NOT NULL,
	"last_run_at" timestamp with time zone,
	"last_result" jsonb,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "retention_policies_namespace_name_unique" UNIQUE("namespace","name"),
	CONSTRAINT "retention_policies_interval_check" CHECK ("interval_minutes" >= 5)
);
--> statement-breakpoint
CREATE INDEX "retention_policies_due_idx" ON "retention_policies" ("next_run_at") WHERE "enabled";--> statement-breakpoint
ALTER TABLE "retention_policies" ADD CONSTRAINT "retention_policies_namespace_namespaces_name_fkey" FOREIGN KEY ("namespace") REFERENCES "namespaces"("name") ON DELETE CASCADE;