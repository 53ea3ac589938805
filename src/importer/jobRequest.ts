// Reading a claimed job's `request` column back into a typed value, once, before it runs.
import { z } from 'zod';
import type { ImportJobRequest } from '../services/importJobs.ts';
import type { ImportJobRow } from '../services/importQueue.ts';
import { ImportFailure } from './failure.ts';

/** A claimed job whose request has been checked: what the executor runs. */
export interface ClaimedJob extends Omit<ImportJobRow, 'request'> {
  request: ImportJobRequest;
}

/**
 * The shape enqueueImport writes. The bounds are the widest any producer writes
 * (TAGRAPH_IMPORT_MAX_TAGS is at most 1000), so a row that passes them cannot make a job
 * read an unbounded list; `satisfies` keeps the schema and the type written in step.
 */
const TEXT = z.string().min(1).max(4096);
const jobRequestSchema = z.object({
  tags: z.array(z.string().min(1).max(255)).max(1000),
  cause: z.enum(['tag', 'import', 'scheduled-import', 'push', 'policy', 'webhook']),
  all: z
    .object({
      from: TEXT,
      max: z.number().int().min(1).max(1000),
      scheduled: z.boolean(),
      insecure: z.boolean(),
      importMode: z.enum(['Legacy', 'PreserveOriginal']),
      referencePolicy: z.enum(['Source', 'Local']),
    })
    .optional(),
  push: z
    .object({
      registry: TEXT,
      repository: TEXT,
      digest: TEXT,
      insecure: z.boolean().optional(),
    })
    .optional(),
  actor: z
    .object({
      kind: z.enum(['USER', 'TOKEN', 'SYSTEM']),
      subject: TEXT,
      tokenId: z.number().int().nullable(),
      source: TEXT,
      requestId: TEXT.nullable(),
    })
    .optional(),
}) satisfies z.ZodType<ImportJobRequest>;

/** The reason a job with a malformed request fails with (not retried: the row will not change). */
export const MALFORMED_REQUEST_REASON = 'InvalidRequest';

/**
 * The job with its request parsed, or the `InvalidRequest` failure that says which fields are
 * wrong (their paths and what was expected, never their values).
 */
export function parseClaimedJob(
  row: ImportJobRow,
): { ok: true; job: ClaimedJob } | { ok: false; error: ImportFailure } {
  const parsed = jobRequestSchema.safeParse(row.request);
  if (parsed.success) return { ok: true, job: { ...row, request: parsed.data } };
  const problems = parsed.error.issues
    .slice(0, 5)
    .map(
      (issue) => `${issue.path.length > 0 ? issue.path.join('.') : '(request)'}: ${issue.message}`,
    )
    .join('; ');
  return {
    ok: false,
    error: new ImportFailure(
      MALFORMED_REQUEST_REASON,
      `import job ${row.id} has a malformed request: ${problems}`,
    ),
  };
}
