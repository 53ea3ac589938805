CREATE TYPE "condition_status" AS ENUM('True', 'False', 'Unknown');--> statement-breakpoint
CREATE TYPE "import_job_status" AS ENUM('queued', 'running', 'succeeded', 'failed');--> statement-breakpoint
CREATE TYPE "import_mode" AS ENUM('Legacy', 'PreserveOriginal');--> statement-breakpoint
CREATE TYPE "reference_policy_type" AS ENUM('Source', 'Local');--> statement-breakpoint
CREATE TYPE "tag_source_kind" AS ENUM('DockerImage', 'ImageStreamTag', 'ImageStreamImage');--> statement-breakpoint
CREATE TABLE "events" (
	"id" bigserial PRIMARY KEY,
	"tx_id" bigint DEFAULT (pg_current_xact_id()::text::bigint) NOT NULL,
	"at" timestamp with time zone DEFAULT now() NOT NULL,
	"namespace" text NOT NULL,
	"stream" text NOT NULL,
	"tag" text,
	"type" text NOT NULL,
	"cause" text NOT NULL,
	"payload" jsonb DEFAULT '{}' NOT NULL
);
--> statement-breakpoint
CREATE TABLE "image_layers" (
	"image_digest" text,
	"position" integer,
	"digest" text NOT NULL,
	"size" bigint NOT NULL,
	"media_type" text NOT NULL,
	CONSTRAINT "image_layers_pkey" PRIMARY KEY("image_digest","position")
);
--> statement-breakpoint
CREATE TABLE "image_manifests" (
	"parent_digest" text,
	"position" integer,
	"digest" text NOT NULL,
	"media_type" text NOT NULL,
	"size" bigint NOT NULL,
	"os" text,
	"architecture" text,
	"variant" text,
	CONSTRAINT "image_manifests_pkey" PRIMARY KEY("parent_digest","position")
);
--> statement-breakpoint
CREATE TABLE "image_streams" (
	"id" bigserial PRIMARY KEY,
	"namespace" text NOT NULL,
	"name" text NOT NULL,
	"labels" jsonb DEFAULT '{}' NOT NULL,
	"annotations" jsonb DEFAULT '{}' NOT NULL,
	"lookup_local" boolean DEFAULT false NOT NULL,
	"docker_image_repository" text,
	"generation" integer DEFAULT 1 NOT NULL,
	"resource_version" bigint DEFAULT 1 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "image_streams_namespace_name_unique" UNIQUE("namespace","name"),
	CONSTRAINT "image_streams_full_name_length" CHECK (char_length("namespace") + 1 + char_length("name") <= 255)
);
--> statement-breakpoint
CREATE TABLE "images" (
	"digest" text PRIMARY KEY,
	"media_type" text NOT NULL,
	"docker_image_reference" text,
	"architecture" text,
	"os" text,
	"variant" text,
	"created" timestamp with time zone,
	"author" text,
	"size" bigint DEFAULT 0 NOT NULL,
	"config" jsonb,
	"manifest" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "images_digest_format" CHECK ("digest" ~ '^sha256:[0-9a-f]{64}$')
);
--> statement-breakpoint
CREATE TABLE "import_jobs" (
	"id" bigserial PRIMARY KEY,
	"namespace" text NOT NULL,
	"stream" text NOT NULL,
	"request" jsonb NOT NULL,
	"status" "import_job_status" DEFAULT 'queued'::"import_job_status" NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"max_attempts" integer DEFAULT 5 NOT NULL,
	"run_at" timestamp with time zone DEFAULT now() NOT NULL,
	"locked_by" text,
	"locked_until" timestamp with time zone,
	"last_error" text,
	"result" jsonb,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "namespaces" (
	"name" text PRIMARY KEY,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "namespaces_name_length" CHECK (char_length("name") between 1 and 63)
);
--> statement-breakpoint
CREATE TABLE "pull_secrets" (
	"id" bigserial PRIMARY KEY,
	"namespace" text NOT NULL,
	"name" text NOT NULL,
	"registry_keys" text[] NOT NULL,
	"encrypted" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "pull_secrets_namespace_name_unique" UNIQUE("namespace","name")
);
--> statement-breakpoint
CREATE TABLE "registry_notifications" (
	"event_id" text PRIMARY KEY,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL,
	"registry_host" text NOT NULL,
	"action" text NOT NULL,
	"payload" jsonb NOT NULL,
	"processed_at" timestamp with time zone,
	"error" text
);
--> statement-breakpoint
CREATE TABLE "tag_conditions" (
	"tag_id" bigint,
	"type" text,
	"status" "condition_status" NOT NULL,
	"reason" text DEFAULT '' NOT NULL,
	"message" text DEFAULT '' NOT NULL,
	"generation" integer NOT NULL,
	"last_transition_time" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "tag_conditions_pkey" PRIMARY KEY("tag_id","type")
);
--> statement-breakpoint
CREATE TABLE "tag_history" (
	"id" bigserial PRIMARY KEY,
	"tag_id" bigint NOT NULL,
	"seq" integer NOT NULL,
	"created" timestamp with time zone DEFAULT now() NOT NULL,
	"docker_image_reference" text NOT NULL,
	"image_digest" text,
	"generation" integer NOT NULL,
	CONSTRAINT "tag_history_tag_seq_unique" UNIQUE("tag_id","seq")
);
--> statement-breakpoint
CREATE TABLE "tags" (
	"id" bigserial PRIMARY KEY,
	"stream_id" bigint NOT NULL,
	"name" text NOT NULL,
	"annotations" jsonb DEFAULT '{}' NOT NULL,
	"from_kind" "tag_source_kind",
	"from_name" text,
	"from_namespace" text,
	"reference" boolean DEFAULT false NOT NULL,
	"reference_policy" "reference_policy_type" DEFAULT 'Source'::"reference_policy_type" NOT NULL,
	"import_insecure" boolean DEFAULT false NOT NULL,
	"import_scheduled" boolean DEFAULT false NOT NULL,
	"import_mode" "import_mode" DEFAULT 'Legacy'::"import_mode" NOT NULL,
	"spec_generation" integer,
	"next_import_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "tags_stream_name_unique" UNIQUE("stream_id","name"),
	CONSTRAINT "tags_from_complete" CHECK (("from_kind" is null) = ("from_name" is null))
);
--> statement-breakpoint
CREATE INDEX "events_namespace_id_idx" ON "events" ("namespace","id");--> statement-breakpoint
CREATE INDEX "events_at_idx" ON "events" ("at");--> statement-breakpoint
CREATE INDEX "image_manifests_digest_idx" ON "image_manifests" ("digest");--> statement-breakpoint
CREATE INDEX "import_jobs_runnable_idx" ON "import_jobs" ("run_at") WHERE "status" in ('queued', 'running');--> statement-breakpoint
CREATE INDEX "import_jobs_namespace_idx" ON "import_jobs" ("namespace","id");--> statement-breakpoint
CREATE INDEX "registry_notifications_pending_idx" ON "registry_notifications" ("received_at") WHERE "processed_at" is null;--> statement-breakpoint
CREATE INDEX "tag_history_image_idx" ON "tag_history" ("image_digest");--> statement-breakpoint
CREATE INDEX "tags_scheduled_due_idx" ON "tags" ("next_import_at") WHERE "import_scheduled" and "next_import_at" is not null;--> statement-breakpoint
CREATE INDEX "tags_from_idx" ON "tags" ("stream_id","from_kind","from_name");--> statement-breakpoint
ALTER TABLE "image_layers" ADD CONSTRAINT "image_layers_image_digest_images_digest_fkey" FOREIGN KEY ("image_digest") REFERENCES "images"("digest") ON DELETE CASCADE;--> statement-breakpoint
ALTER TABLE "image_manifests" ADD CONSTRAINT "image_manifests_parent_digest_images_digest_fkey" FOREIGN KEY ("parent_digest") REFERENCES "images"("digest") ON DELETE CASCADE;--> statement-breakpoint
ALTER TABLE "image_streams" ADD CONSTRAINT "image_streams_namespace_namespaces_name_fkey" FOREIGN KEY ("namespace") REFERENCES "namespaces"("name") ON DELETE RESTRICT;--> statement-breakpoint
ALTER TABLE "pull_secrets" ADD CONSTRAINT "pull_secrets_namespace_namespaces_name_fkey" FOREIGN KEY ("namespace") REFERENCES "namespaces"("name") ON DELETE RESTRICT;--> statement-breakpoint
ALTER TABLE "tag_conditions" ADD CONSTRAINT "tag_conditions_tag_id_tags_id_fkey" FOREIGN KEY ("tag_id") REFERENCES "tags"("id") ON DELETE CASCADE;--> statement-breakpoint
ALTER TABLE "tag_history" ADD CONSTRAINT "tag_history_tag_id_tags_id_fkey" FOREIGN KEY ("tag_id") REFERENCES "tags"("id") ON DELETE CASCADE;--> statement-breakpoint
ALTER TABLE "tag_history" ADD CONSTRAINT "tag_history_image_digest_images_digest_fkey" FOREIGN KEY ("image_digest") REFERENCES "images"("digest") ON DELETE RESTRICT;--> statement-breakpoint
ALTER TABLE "tags" ADD CONSTRAINT "tags_stream_id_image_streams_id_fkey" FOREIGN KEY ("stream_id") REFERENCES "image_streams"("id") ON DELETE CASCADE;