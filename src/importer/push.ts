// A push reported by a registry: read the pushed manifest, map it to its stream tag.
// The rules: docs/rules.md#image-stream-mapping.
import { and, eq, gt, sql } from 'drizzle-orm';
import { importJobs } from '../db/schema.ts';
import type { DockerReference } from '../domain/references.ts';
import type { PushRequest } from '../services/importJobs.ts';
import { createImageStreamMapping } from '../services/mapping.ts';
import {
  type Attempt,
  type ImporterOptions,
  saveChildImage,
  type TagImportResult,
} from './execute.ts';
import { describeFailure, logImportFailure, rethrowIfCancelled } from './failure.ts';
import { fetchSource } from './fetchImage.ts';
import type { ClaimedJob } from './jobRequest.ts';
import { openRegistry } from './registries.ts';

export async function importPush(
  options: ImporterOptions,
  job: ClaimedJob,
  tag: string,
  push: PushRequest,
  attempt?: Attempt,
): Promise<TagImportResult> {
  // Pushes to one tag may be handled in parallel; the older never overwrites the newer.
  if (await newerPushExists(options, job, tag)) {
    return {
      tag,
      status: 'Skipped',
      reason: 'Superseded',
      message: `a newer push of ${job.stream}:${tag} was reported`,
    };
  }
  // What the accepting gateway recorded; the worker's own list only for jobs queued without it.
  const insecure =
    push.insecure ??
    options.pushRegistries.find((r) => r.host === push.registry)?.insecure ??
    false;
  const source: DockerReference = {
    registry: push.registry,
    repository: push.repository,
    digest: push.digest,
  };
  try {
    const client = await openRegistry(
      options.database.db,
      options.registry,
      job.namespace,
      source,
      insecure,
    );
    // A pushed index is kept whole, as the registry holds it; its children become images.
    const fetched = await fetchSource(client, source, {
      mode: 'PreserveOriginal',
      preference: {},
      serverPlatform: options.serverPlatform,
      ...(attempt ? { budget: attempt.budget } : {}),
      maxChildren: options.budget.maxChildren,
      saveChild: (child) => saveChildImage(options, child, attempt?.signal),
    });
    const mapped = await createImageStreamMapping(
      options.database.db,
      {
        namespace: job.namespace,
        stream: job.stream,
        tag,
        image: { ...fetched.image, dockerImageReference: fetched.image.dockerImageReference ?? '' },
        children: fetched.children,
      },
      // fetchSource checked the manifests and config blobs against their digests.
      'registry-verified',
      'push',
      attempt?.fence,
    );
    if (!mapped.ok) {
      return { tag, status: 'Failure', reason: 'Invalid', message: mapped.error.message };
    }
    return {
      tag,
      status: 'Success',
      digest: fetched.image.digest,
      dockerImageReference: fetched.image.dockerImageReference ?? undefined,
    };
  } catch (error) {
    rethrowIfCancelled(error, attempt?.signal);
    logImportFailure(options.log, error, { jobId: job.id, tag });
    return { tag, status: 'Failure', ...describeFailure(error) };
  }
}

async function newerPushExists(options: ImporterOptions, job: ClaimedJob, tag: string) {
  const [newer] = await options.database.db
    .select({ id: importJobs.id })
    .from(importJobs)
    .where(
      and(
        eq(importJobs.namespace, job.namespace),
        eq(importJobs.stream, job.stream),
        gt(importJobs.id, job.id),
        sql`${importJobs.request} ->> 'cause' = 'push'`,
        sql`jsonb_exists(${importJobs.request} -> 'tags', ${tag})`,
      ),
    )
    .limit(1);
  return newer !== undefined;
}
