CREATE TYPE "role_name" AS ENUM('image-puller', 'editor', 'admin');--> statement-breakpoint
CREATE TYPE "subject_kind" AS ENUM('User', 'Group');--> statement-breakpoint
CREATE TABLE "api_tokens" (
	"id" bigserial PRIMARY KEY,
	"token_hash" text NOT NULL CONSTRAINT "api_tokens_hash_unique" UNIQUE,
	"subject" text NOT NULL,
	"groups" jsonb DEFAULT '[]' NOT NULL,
	"cluster_admin" boolean DEFAULT false NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"revoked_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "role_bindings" (
	"namespace" text,
	"role" "role_name",
	"subject_kind" "subject_kind",
	"subject_name" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "role_bindings_pkey" PRIMARY KEY("namespace","role","subject_kind","subject_name")
);
--> statement-breakpoint
CREATE INDEX "role_bindings_subject_idx" ON "role_bindings" ("subject_kind","subject_name");