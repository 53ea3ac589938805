ALTER TABLE "api_tokens" ADD COLUMN "namespace" text;--> statement-breakpoint
ALTER TABLE "api_tokens" ADD COLUMN "name" text;--> statement-breakpoint
ALTER TABLE "api_tokens" ADD COLUMN "role" "role_name";--> statement-breakpoint
ALTER TABLE "api_tokens" ADD COLUMN "expires_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "api_tokens" ADD COLUMN "last_used_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "api_tokens" ADD COLUMN "created_by" text;--> statement-breakpoint
CREATE UNIQUE INDEX "api_tokens_robot_name_idx" ON "api_tokens" ("namespace","name") WHERE "revoked_at" is null and "namespace" is not null;--> statement-breakpoint
ALTER TABLE "api_tokens" ADD CONSTRAINT "api_tokens_robot_complete" CHECK (("namespace" is null) = ("name" is null) and ("namespace" is null) = ("role" is null));