-- The claim (src/importer/queue.ts) orders runnable jobs by (run_at, id). With run_at alone in
-- the index, Postgres read and sorted every runnable job on each claim; now it reads the index
-- from the front and stops at the first rows it can lock.
DROP INDEX "import_jobs_runnable_idx";--> statement-breakpoint
CREATE INDEX "import_jobs_runnable_idx" ON "import_jobs" ("run_at","id") WHERE "status" in ('queued', 'running');
