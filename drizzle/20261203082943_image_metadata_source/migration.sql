-- Where each image's metadata came from. A verified import replaces declared metadata and nothing
-- replaces verified metadata; existing rows are not known to be verified, so they start declared.
CREATE TYPE "image_metadata_source" AS ENUM('registry-verified', 'declared');--> statement-breakpoint
ALTER TABLE "images" ADD COLUMN "metadata_source" "image_metadata_source" DEFAULT 'declared'::"image_metadata_source" NOT NULL;