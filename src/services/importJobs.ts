// Queueing import work: a row in import_jobs, and a NOTIFY so idle workers wake at once.
import { sql } from 'drizzle-orm';
import type { Tx } from '../db/client.ts';
import { importJobs } from '../db/schema.ts';
import type { ImportMode } from '../domain/platforms.ts';
import type { ReferencePolicy } from '../domain/tagPolicy.ts';

export const IMPORT_JOBS_CHANNEL = 'tagraph_import_jobs';

/** `import-image --all`: the repository to list, and the settings of the spec tags it makes. */
export interface AllTagsRequest {
  from: string;
  max: number;
  scheduled: boolean;
  insecure: boolean;
  importMode: ImportMode;
  referencePolicy: ReferencePolicy;
}

export interface ImportRequest {
  namespace: string;
  stream: string;
  /** The spec tags to import; their spec says from where and how. */
  tags: string[];
  cause: 'tag' | 'import' | 'scheduled-import' | 'push';
  all?: AllTagsRequest;
  /** A registry reported this push (rule 16): map the manifest to the tag, creating both. */
  push?: PushRequest;
}

export interface PushRequest {
  /** A configured push registry's host. */
  registry: string;
  repository: string;
  digest: string;
}

/** What a job row's `request` holds; the worker reads it back. */
export type ImportJobRequest = Omit<ImportRequest, 'namespace' | 'stream'>;

/** Enqueues an import in the caller's transaction; returns the job id. */
export async function enqueueImport(tx: Tx, request: ImportRequest): Promise<number> {
  const [job] = await tx
    .insert(importJobs)
    .values({
      namespace: request.namespace,
      stream: request.stream,
      request: {
        tags: request.tags,
        cause: request.cause,
        ...(request.all ? { all: request.all } : {}),
        ...(request.push ? { push: request.push } : {}),
      },
    })
    .returning({ id: importJobs.id });
  await tx.execute(sql`select pg_notify(${IMPORT_JOBS_CHANNEL}, ${String(job!.id)})`);
  return job!.id;
}
