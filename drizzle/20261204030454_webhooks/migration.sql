CREATE TABLE "webhook_deliveries" (
	"id" bigserial PRIMARY KEY,
	"webhook_id" bigint NOT NULL,
	"event_seq" bigint,
	"replay" integer DEFAULT 0 NOT NULL,
	"attempt" integer NOT NULL,
	"outcome" text NOT NULL,
	"status_code" integer,
	"duration_ms" integer,
	"error" text,
	"next_retry_at" timestamp with time zone,
	"lease_id" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "webhooks" (
	"id" bigserial PRIMARY KEY,
	"namespace" text NOT NULL,
	"name" text NOT NULL,
	"url" text NOT NULL,
	"filter" jsonb NOT NULL,
	"format" text NOT NULL,
	"encrypted_secret" text NOT NULL,
	"enabled" boolean DEFAULT true NOT NULL,
	"state" text DEFAULT 'ACTIVE' NOT NULL,
	"condition_reason" text DEFAULT '' NOT NULL,
	"condition_message" text DEFAULT '' NOT NULL,
	"condition_time" timestamp with time zone,
	"position" bigint DEFAULT 0 NOT NULL,
	"attempt" integer DEFAULT 0 NOT NULL,
	"failing_since" timestamp with time zone,
	"next_attempt_at" timestamp with time zone DEFAULT now() NOT NULL,
	"replay" integer DEFAULT 0 NOT NULL,
	"lease_id" text,
	"leased_until" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "webhooks_namespace_name_unique" UNIQUE("namespace","name")
);
--> statement-breakpoint
CREATE UNIQUE INDEX "webhook_deliveries_attempt_unique" ON "webhook_deliveries" ("webhook_id","replay","event_seq","attempt");--> statement-breakpoint
CREATE INDEX "webhook_deliveries_webhook_idx" ON "webhook_deliveries" ("webhook_id","id");--> statement-breakpoint
CREATE INDEX "webhooks_due_idx" ON "webhooks" ("next_attempt_at") WHERE "enabled" and "state" = 'ACTIVE';--> statement-breakpoint
ALTER TABLE "webhook_deliveries" ADD CONSTRAINT "webhook_deliveries_webhook_id_webhooks_id_fkey" FOREIGN KEY ("webhook_id") REFERENCES "webhooks"("id") ON DELETE CASCADE;--> statement-breakpoint
ALTER TABLE "webhooks" ADD CONSTRAINT "webhooks_namespace_namespaces_name_fkey" FOREIGN KEY ("namespace") REFERENCES "namespaces"("name") ON DELETE RESTRICT;