// Running one import job: expand `all`, fetch each tag's source, record success or failure;
// a cancelled job stops its requests and writes nothing more.
import { and, eq } from 'drizzle-orm';
import type { Logger } from 'pino';
import type { ImportBudgetSettings, PushRegistry } from '../config.ts';
import type { Database } from '../db/client.ts';
import { imageStreams, tags } from '../db/schema.ts';
import { type Platform, platformPreference } from '../domain/platforms.ts';
import type { PolicyEvaluation } from '../domain/policyTags.ts';
import { type DockerReference, parseDockerReference } from '../domain/references.ts';
import { writeTransaction } from '../events/append.ts';
import { RequestBudget } from '../registry/budget.ts';
import type { RegistryClient } from '../registry/client.ts';
import { type ImageInput, saveImage } from '../services/images.ts';
import type { ImportJobRequest } from '../services/importJobs.ts';
import { leaseOf } from '../services/importQueue.ts';
import { expandAll } from './expandAll.ts';
import { describeFailure, logImportFailure, rethrowIfCancelled } from './failure.ts';
import { type FetchedSource, fetchSource } from './fetchImage.ts';
import type { ClaimedJob } from './jobRequest.ts';
import { type LeaseFence, leaseFence } from './lease.ts';
import { asSource, readThroughMirrors } from './mirrors.ts';
import { evaluatePolicy, type PolicyWinner, RepositoryListings } from './policy.ts';
import { importPush } from './push.ts';
import { recordImportFailure, recordImportSuccess, type TagSnapshot } from './record.ts';
import { isInsecure, openRegistry, type RegistrySettings } from './registries.ts';
import type { JobOutcome } from './worker.ts';

export interface ImporterOptions {
  database: Database;
  log: Logger;
  registry: RegistrySettings;
  serverPlatform: Platform;
  /** Re-check interval of scheduled tags. */
  intervalMs: number;
  /** Scheduled checks all schedulers together start in one minute (absent: no cap). */
  maxScheduledPerMinute?: number;
  /** Registries that report pushes, for their TLS setting. */
  pushRegistries: PushRegistry[];
  /** What one attempt of a job may spend on registries. */
  budget: ImportBudgetSettings;
}

/** The outcome for one tag, as the job's result and the importImage payload report it. */
export interface TagImportResult {
  tag: string;
  status: 'Success' | 'Failure' | 'Skipped';
  digest?: string;
  dockerImageReference?: string;
  reason?: string;
  message?: string;
  /** Whether another attempt may succeed (registry down, rate limited). */
  retryable?: boolean;
}

/**
 * What one attempt carries: the job's abort signal, the budget of its requests (aborted with the
 * signal too), and the fence every write of an outcome passes first.
 */
export interface Attempt {
  signal: AbortSignal;
  budget: RequestBudget;
  fence: LeaseFence;
}

export function createImportExecutor(options: ImporterOptions) {
  return async (job: ClaimedJob, signal: AbortSignal): Promise<JobOutcome> => {
    // One budget for the whole attempt: the listing and every tag draw on the same deadline
    // and the same bytes, so a job's cost does not grow with the tags it names.
    const budget = new RequestBudget(options.budget.maxBytes, options.budget.deadlineMs, signal);
    try {
      return await executeJob(options, job, {
        signal,
        budget,
        fence: leaseFence(leaseOf(job), signal),
      });
    } finally {
      budget.dispose();
    }
  };
}

async function executeJob(
  options: ImporterOptions,
  job: ClaimedJob,
  attempt: Attempt,
): Promise<JobOutcome> {
  const { request } = job;
  const { signal } = attempt;
  let tagNames = request.tags ?? [];
  let additionalTags: string[] = [];
  let tagListTruncated = false;
  if (request.all) {
    try {
      ({ tagNames, additionalTags, tagListTruncated } = await expandAll(
        options,
        job,
        request.all,
        attempt,
      ));
    } catch (error) {
      rethrowIfCancelled(error, signal);
      logImportFailure(options.log, error, { jobId: job.id, repository: request.all.from });
      const failure = describeFailure(error);
      options.registry.metrics?.importFinished(
        'Failure',
        failure.reason,
        registryOf(request.all.from),
        request.cause,
      );
      return { ok: false, error: failure.message, result: null, retry: failure.retryable };
    }
  }
  const images: TagImportResult[] = [];
  // Policy tags of one repository in this job share its listing.
  const listings = new RepositoryListings(options.budget);
  for (const name of tagNames) {
    signal.throwIfAborted();
    const source: { registry: string | null } = { registry: request.push?.registry ?? null };
    const image = request.push
      ? await importPush(options, job, name, request.push, attempt)
      : await importTag(options, job, name, request.cause ?? 'import', attempt, source, listings);
    options.registry.metrics?.importFinished(
      image.status,
      image.reason,
      source.registry,
      request.cause,
    );
    images.push(image);
  }
  const result = { tags: tagNames, images, additionalTags, tagListTruncated };
  const failures = images.filter((image) => image.status === 'Failure');
  if (failures.length === 0) return { ok: true, result };
  return {
    ok: false,
    error: failures.map((f) => `${f.tag}: ${f.message}`).join('; '),
    result,
    retry: failures.some((f) => f.retryable),
  };
}

async function importTag(
  options: ImporterOptions,
  job: ClaimedJob,
  tagName: string,
  cause: ImportJobRequest['cause'],
  attempt: Attempt,
  /** Set to the source's registry once the tag's reference is read (metrics). */
  source: { registry: string | null },
  listings: RepositoryListings,
): Promise<TagImportResult> {
  const snapshot = await readTag(options.database, job.namespace, job.stream, tagName);
  if (!snapshot) {
    return skipped(tagName, 'NotFound', `tag ${job.stream}:${tagName} no longer exists`);
  }
  if (snapshot.tag.fromKind !== 'DockerImage' || snapshot.tag.reference) {
    return skipped(
      tagName,
      'NotImportable',
      `tag ${job.stream}:${tagName} has no source to import`,
    );
  }
  const parsed = parseDockerReference(snapshot.tag.fromName ?? '', 'from');
  if (!parsed.ok) {
    const failure = { reason: 'InvalidReference', message: parsed.error.message, retryable: false };
    await recordImportFailure(options, snapshot, failure, cause, attempt.fence);
    return { tag: tagName, status: 'Failure', ...failure };
  }
  source.registry = parsed.value.registry;
  let fetched: FetchedSource;
  let from = parsed.value;
  let evaluation: PolicyEvaluation | undefined;
  try {
    if (snapshot.tag.policy) {
      const winner = await evaluateTagPolicy(options, snapshot, parsed.value, attempt, listings);
      from = winner.source;
      evaluation = winner.evaluation;
    }
    fetched = await fetchTag(options, snapshot, from, attempt);
  } catch (error) {
    rethrowIfCancelled(error, attempt.signal);
    const failure = describeFailure(error);
    logImportFailure(options.log, error, { jobId: job.id, tag: tagName });
    await recordImportFailure(options, snapshot, failure, cause, attempt.fence);
    return { tag: tagName, status: 'Failure', ...failure };
  }
  const written = await recordImportSuccess(options, snapshot, fetched, from, {
    // A policy tag's history moves because its policy picked the image, whoever asked.
    cause: evaluation ? 'policy' : cause,
    jobId: job.id,
    fence: attempt.fence,
    ...(evaluation ? { policyEvaluation: evaluation } : {}),
  });
  if (!written) {
    return skipped(
      tagName,
      'Superseded',
      `the spec of ${job.stream}:${tagName} changed during the import; its own import is queued`,
    );
  }
  return {
    tag: tagName,
    status: 'Success',
    digest: fetched.image.digest,
    dockerImageReference: fetched.image.dockerImageReference ?? undefined,
  };
}

/**
 * A registry client for `reference` with the credentials of the tag's namespace, and whether the
 * tag (or its stream) allows an insecure registry.
 */
async function openTagRegistry(
  options: ImporterOptions,
  snapshot: TagSnapshot,
  reference: DockerReference,
): Promise<{ client: RegistryClient; insecure: boolean }> {
  const insecure = isInsecure(snapshot.tag.importInsecure, snapshot.stream.annotations);
  const client = await openRegistry(
    options.database.db,
    options.registry,
    snapshot.stream.namespace,
    reference,
    insecure,
  );
  return { client, insecure };
}

/** Lists the policy tag's repository (once per job) and picks the tag to import. */
async function evaluateTagPolicy(
  options: ImporterOptions,
  snapshot: TagSnapshot,
  repository: DockerReference,
  attempt: Attempt,
  listings: RepositoryListings,
): Promise<PolicyWinner> {
  const { client, insecure } = await openTagRegistry(options, snapshot, repository);
  const namespace = snapshot.stream.namespace;
  const listing = await listings.list(namespace, client, repository, insecure, attempt.budget);
  return evaluatePolicy(client, repository, snapshot.tag.policy!, listing, {
    serverPlatform: options.serverPlatform,
    budget: attempt.budget,
  });
}

async function fetchTag(
  options: ImporterOptions,
  snapshot: TagSnapshot,
  source: DockerReference,
  { budget, signal }: Attempt,
): Promise<FetchedSource> {
  const insecure = isInsecure(snapshot.tag.importInsecure, snapshot.stream.annotations);
  return readThroughMirrors(
    options,
    snapshot.stream.namespace,
    source,
    insecure,
    async (client, location) => {
      const fromMirror = location !== source;
      const fetched = await fetchSource(client, location, {
        mode: snapshot.tag.importMode,
        preference: platformPreference(snapshot.tag.annotations),
        serverPlatform: options.serverPlatform,
        budget,
        maxChildren: options.budget.maxChildren,
        saveChild: (child) =>
          saveChildImage(
            options,
            fromMirror
              ? asSource({ image: child, children: [], sourceDigest: '' }, source).image
              : child,
            signal,
          ),
      });
      return fromMirror ? asSource(fetched, source) : fetched;
    },
    { signal },
  );
}

/**
 * Stores one child of a preserved list on its own, as soon as it is read. A list that fails
 * later leaves only these content-addressed image rows behind: no tag, history item or list
 * refers to them until the list itself is stored. A cancelled job stores no more of them.
 */
export async function saveChildImage(
  options: Pick<ImporterOptions, 'database'>,
  child: ImageInput,
  signal?: AbortSignal,
): Promise<void> {
  signal?.throwIfAborted();
  await writeTransaction(options.database.db, (tx) => saveImage(tx, child, 'registry-verified'));
}

/** The stream and spec tag as they are now, read without locks (the write re-checks them). */
export async function readTag(
  database: Database,
  namespace: string,
  stream: string,
  tagName: string,
): Promise<TagSnapshot | null> {
  const [row] = await database.db
    .select({ stream: imageStreams, tag: tags })
    .from(tags)
    .innerJoin(imageStreams, eq(tags.streamId, imageStreams.id))
    .where(
      and(
        eq(imageStreams.namespace, namespace),
        eq(imageStreams.name, stream),
        eq(tags.name, tagName),
      ),
    );
  return row ?? null;
}

/** The registry of a stored reference, or null when it does not parse. */
function registryOf(reference: string): string | null {
  const parsed = parseDockerReference(reference, 'from');
  return parsed.ok ? parsed.value.registry : null;
}

function skipped(tag: string, reason: string, message: string): TagImportResult {
  return { tag, status: 'Skipped', reason, message };
}
