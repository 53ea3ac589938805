// `oc import-image` as a service: set the spec tags, queue the import, optionally wait for it.
import { authorize } from '../auth/authorize.ts';
import type { AccessChecker } from '../auth/roles.ts';
import type { Db } from '../db/client.ts';
import { planRepositoryImport, planTagImport } from '../domain/importRules.ts';
import { type Problem, validateTagName } from '../domain/names.ts';
import { parseImportMode } from '../domain/platforms.ts';
import { parseDockerReference, parseImageStreamTagRef } from '../domain/references.ts';
import {
  OPEN_REGISTRY_POLICY,
  type RegistryPolicy,
  sourceRefusal,
} from '../domain/registryRules.ts';
import type { ReferencePolicy } from '../domain/tagPolicy.ts';
import type { StreamTags } from '../domain/tracking.ts';
import {
  denied,
  fail,
  fromDomain,
  invalid,
  NotFoundError,
  ok,
  type Result,
  ValidationError,
} from '../errors.ts';
import { appendEvents } from '../events/append.ts';
import { lockOrCreateStream, lockStream, recordRepository } from './imageStreams.ts';
import { enqueueImport, type ImportJobRequest } from './importJobs.ts';
import { getJob, type ImportJobRow } from './importQueue.ts';
import { writeSpecTag } from './specTags.ts';
import { Rollback, writeRollingBack } from './tagging.ts';
import { loadTags, sourceOf } from './tagHistory.ts';

export interface ImportImageInput {
  namespace: string;
  /** `stream` or `stream:tag`. */
  image: string;
  /** The pull spec to import from; without it, the tag's (or stream's) existing source. */
  from?: string | null;
  /**
   * Import every tag of the repository, up to the configured cap
   * (docs/rules.md#importing-every-tag-of-a-repository).
   */
  all?: boolean | null;
  /** Create the stream if it does not exist. */
  confirm?: boolean | null;
  scheduled?: boolean | null;
  insecure?: boolean | null;
  importMode?: string | null;
  referencePolicy?: ReferencePolicy | null;
}

/**
 * The tag `input.image` names (`stream` means `stream:latest`), once the caller is an editor of
 * its namespace: the target of an import and of its preview.
 */
export async function importTarget(access: AccessChecker, input: ImportImageInput) {
  const parsed = parseImageStreamTagRef(
    input.image.includes(':') ? input.image : `${input.image}:latest`,
    input.namespace,
    undefined,
    'image',
  );
  if (!parsed.ok) return fail(fromDomain(parsed.error));
  return authorize(access, 'editor', parsed.value, 'image');
}

/**
 * Imports into the stream `image` names, which may be in another namespace than `input.namespace`
 * (`ns/stream:tag`): the caller must be an editor there, checked before anything is written.
 */
export async function importImage(
  db: Db,
  access: AccessChecker,
  input: ImportImageInput,
  maxTags: number,
  /** Registries imports may read from: a refused `from` fails as ForbiddenError, queueing nothing. */
  registries: RegistryPolicy = OPEN_REGISTRY_POLICY,
): Promise<Result<number>> {
  const problems: Problem[] = [];
  const ref = await importTarget(access, input);
  if (!ref.ok) return ref;
  const explicitTag = input.image.includes(':');
  const importMode = parseImportMode(input.importMode ?? 'Legacy');
  if (!importMode.ok) problems.push({ field: 'importMode', message: importMode.error.message });
  if (input.from) {
    const parsed = parseDockerReference(input.from, 'from');
    if (!parsed.ok) problems.push({ field: 'from', message: parsed.error.message });
    else if (input.all && (parsed.value.digest || input.from.includes('@'))) {
      problems.push({
        field: 'from',
        message: 'all imports a repository: give it without a digest',
      });
    }
  }
  if (input.all && explicitTag) {
    problems.push({
      field: 'image',
      message: `cannot specify a tag "${input.image}" as well as all`,
    });
  }
  if (problems.length > 0) return invalid(problems);
  const refusal = input.from
    ? sourceRefusal(registries, input.from, Boolean(input.insecure))
    : null;
  if (refusal) return denied(refusal, 'from');
  const { namespace, stream, tag } = ref.value;
  const mode = importMode.ok ? importMode.value : 'Legacy';
  const settings = {
    importInsecure: Boolean(input.insecure),
    importScheduled: Boolean(input.scheduled),
    importMode: mode,
    referencePolicy: input.referencePolicy ?? ('Source' as const),
  };

  return writeRollingBack(db, async (tx) => {
    const locked = input.confirm
      ? await lockOrCreateStream(tx, namespace, stream, { cause: 'import' })
      : await lockStream(tx, { namespace, name: stream });
    if (!locked.ok) {
      throw new Rollback(
        new NotFoundError(
          `no image stream named "${stream}" exists, pass confirm to create and import`,
          'image',
        ),
      );
    }
    const row = locked.value;
    const rows = await loadTags(tx, row.id);

    if (input.all) {
      const repository = planRepositoryImport(
        input.from ?? null,
        row.dockerImageRepository,
        Boolean(input.confirm),
      );
      if (!repository.ok) throw new Rollback(fromDomain(repository.error));
      if (!repository.value) {
        // No repository to import: every registry tag of the spec, as oc re-imports them.
        const external = rows.filter((t) => sourceOf(t)?.kind === 'DockerImage' && !t.reference);
        if (external.length === 0) {
          throw new Rollback(
            new ValidationError([
              {
                field: 'from',
                message: 'image stream does not have tags pointing to external container images',
              },
            ]),
          );
        }
        const tags = external.map((t) => t.name).sort();
        return ok(await enqueueImport(tx, { namespace, stream, tags, cause: 'import' }));
      }
      const { from, record } = repository.value;
      if (record) await recordRepository(tx, row, from);
      const request: ImportJobRequest = {
        tags: [],
        cause: 'import',
        all: {
          from,
          max: maxTags,
          scheduled: settings.importScheduled,
          insecure: settings.importInsecure,
          importMode: mode,
          referencePolicy: settings.referencePolicy,
        },
      };
      return ok(await enqueueImport(tx, { namespace, stream, ...request }));
    }

    const specTags: StreamTags = {
      namespace,
      stream,
      tags: new Map(
        rows.filter((t) => t.specGeneration !== null).map((t) => [t.name, sourceOf(t)]),
      ),
    };
    const plan = planTagImport(specTags, tag, input.from ?? null, row.dockerImageRepository);
    if (!plan.ok) throw new Rollback(fromDomain(plan.error));
    if (plan.value.writeSpec) {
      const tagProblems = validateTagName(plan.value.tag, 'image');
      if (tagProblems) throw new Rollback(new ValidationError(tagProblems));
      const spec = await writeSpecTag(tx, row, plan.value.tag, {
        from: { kind: 'DockerImage', name: plan.value.from },
        reference: false,
        ...settings,
      });
      if (spec.changed) {
        appendEvents(tx, [
          {
            namespace,
            stream,
            tag: plan.value.tag,
            type: spec.created ? 'ADDED' : 'UPDATED',
            cause: 'import',
            payload: { spec: true },
          },
        ]);
      }
    }
    return ok(
      await enqueueImport(tx, { namespace, stream, tags: [plan.value.tag], cause: 'import' }),
    );
  });
}

/** Waits until the job has finished (succeeded, or failed for good) or the timeout passes. */
export async function waitForJob(
  db: Db,
  jobId: number,
  timeoutMs: number,
): Promise<ImportJobRow | null> {
  const deadline = Date.now() + timeoutMs;
  let job = await getJob(db, jobId);
  // A 50 ms poll of one row by key: cheap, and no wake-up channel to keep per waiting request.
  while (job && job.status !== 'succeeded' && job.status !== 'failed' && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, Math.min(50, Math.max(1, deadline - Date.now()))));
    job = await getJob(db, jobId);
  }
  return job;
}
