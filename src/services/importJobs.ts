// Queueing import work (a row in import_jobs, and a NOTIFY so idle workers wake at once) and
// reading jobs back for the callers allowed to see them.
import { and, desc, eq, lt, sql } from 'drizzle-orm';
import { authorize, inNamespace } from '../auth/authorize.ts';
import type { AccessChecker } from '../auth/roles.ts';
import type { Db, Tx } from '../db/client.ts';
import { importJobs } from '../db/schema.ts';
import type { StoredActor } from '../domain/actors.ts';
import type { ImportMode } from '../domain/platforms.ts';
import type { ReferencePolicy } from '../domain/tagPolicy.ts';
import type { Result } from '../errors.ts';
import { currentActor } from '../events/append.ts';
import { getJob, type ImportJobRow } from './importQueue.ts';

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
  /**
   * `policy`: a caller asked for a policy tag's re-evaluation (reevaluateTag); `webhook`: a
   * namespace's webhook receiver was called.
   */
  cause: 'tag' | 'import' | 'scheduled-import' | 'push' | 'policy' | 'webhook';
  all?: AllTagsRequest;
  /**
   * A registry reported this push (docs/rules.md#image-stream-mapping): map the manifest to the
   * tag, creating both.
   */
  push?: PushRequest;
}

export interface PushRequest {
  /** A configured push registry's host. */
  registry: string;
  repository: string;
  digest: string;
  /**
   * Plain HTTP or unverified TLS when reading the pushed manifest, as the gateway that accepted
   * the notification was configured: the worker reads it from the job, not from its own
   * TAGRAPH_PUSH_REGISTRIES (a separate worker need not have it). Absent in jobs queued before
   * it was recorded; the worker's own configuration answers for those.
   */
  insecure?: boolean;
}

/**
 * What a job row's `request` holds; the worker reads it back. `actor` is who queued the job
 * (currentActor when it was queued), the author of what the job writes.
 */
export type ImportJobRequest = Omit<ImportRequest, 'namespace' | 'stream'> & {
  actor?: StoredActor;
};

/** Enqueues an import in the caller's transaction; returns the job id. */
export async function enqueueImport(tx: Tx, request: ImportRequest): Promise<number> {
  const actor = currentActor();
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
        ...(actor ? { actor } : {}),
      },
    })
    .returning({ id: importJobs.id });
  await tx.execute(sql`select pg_notify(${IMPORT_JOBS_CHANNEL}, ${String(job!.id)})`);
  return job!.id;
}

/**
 * The job with this id when the caller may read its namespace; null otherwise. A job of a
 * namespace the caller cannot read answers exactly as a missing one does (nothing else is read).
 */
export async function findReadableJob(
  access: AccessChecker,
  id: string,
): Promise<ImportJobRow | null> {
  if (!/^[1-9][0-9]{0,15}$/.test(id) || !Number.isSafeInteger(Number(id))) return null;
  const job = await getJob(access.db, Number(id));
  if (!job || !(await access.can('image-puller', job.namespace))) return null;
  return job;
}

export interface ImportJobsQuery {
  namespace: string;
  stream?: string | null;
  /** Only jobs with a smaller id. */
  before?: number | null;
  limit: number;
}

/** Jobs of one namespace, newest first; the caller must be able to read the namespace. */
export async function listImportJobs(
  db: Db,
  access: AccessChecker,
  query: ImportJobsQuery,
): Promise<Result<ImportJobRow[]>> {
  const allowed = await authorize(
    access,
    'image-puller',
    inNamespace(query.namespace),
    'namespace',
  );
  if (!allowed.ok) return allowed;
  const rows = await db
    .select({ id: importJobs.id })
    .from(importJobs)
    .where(
      and(
        eq(importJobs.namespace, allowed.value.namespace),
        query.stream ? eq(importJobs.stream, query.stream) : undefined,
        query.before ? lt(importJobs.id, query.before) : undefined,
      ),
    )
    .orderBy(desc(importJobs.id))
    .limit(query.limit);
  const jobs = await Promise.all(rows.map((r) => getJob(db, r.id)));
  return { ok: true, value: jobs.filter((j): j is ImportJobRow => j !== null) };
}
