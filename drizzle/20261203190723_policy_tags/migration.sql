ALTER TABLE "tags" ADD COLUMN "policy" jsonb;--> statement-breakpoint
ALTER TABLE "tags" ADD COLUMN "policy_evaluation" jsonb;