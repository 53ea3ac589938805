// Queueing import work: a row in import_jobs, and a NOTIFY so idle workers wake at once.
import { sql } from 'drizzle-orm';
import type { Tx } from '../db/client.ts';
import { importJobs } from '../db/schema.ts';

export const IMPORT_JOBS_CHANNEL = 'tagraph_import_jobs';

export interface ImportRequest {
  namespace: string;
  stream: string;
  /** The spec tags to import; their spec says from where and how. */
  tags: string[];
  cause: 'tag' | 'import' | 'scheduled-import';
}

/** Enqueues an import in the caller's transaction; returns the job id. */
export async function enqueueImport(tx: Tx, request: ImportRequest): Promise<number> {
  const [job] = await tx
    .insert(importJobs)
    .values({
      namespace: request.namespace,
      stream: request.stream,
      request: { tags: request.tags, cause: request.cause },
    })
    .returning({ id: importJobs.id });
  await tx.execute(sql`select pg_notify(${IMPORT_JOBS_CHANNEL}, ${String(job!.id)})`);
  return job!.id;
}
