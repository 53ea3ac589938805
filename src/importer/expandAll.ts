// `import-image --all`: list the repository's tags, keep the cap in order, write specs.
// The rules: docs/rules.md#importing-every-tag-of-a-repository.

import { orderTagsForImport } from '../domain/importOrder.ts';
import { formatReference, parseDockerReference } from '../domain/references.ts';
import { appendEvents, writeTransaction } from '../events/append.ts';
import { lockStream } from '../services/imageStreams.ts';
import type { ImportJobRequest } from '../services/importJobs.ts';
import { writeSpecTag } from '../services/specTags.ts';
import type { Attempt, ImporterOptions } from './execute.ts';
import { ImportFailure } from './failure.ts';
import type { ClaimedJob } from './jobRequest.ts';
import { isInsecure, openRegistry } from './registries.ts';

type AllRequest = NonNullable<ImportJobRequest['all']>;

/**
 * Lists the repository (at most `budget.maxListedTags` tags and `maxTagListBytes` bytes of
 * pages), orders its tags and sets a spec tag for each one kept (an unchanged spec is left
 * alone, so a retried job writes nothing twice). Returns the tags to import, the rest, and
 * whether the listing stopped at its cap with more tags unread. With an `attempt`, its budget
 * bounds the listing and its fence guards the spec writes.
 */
export async function expandAll(
  options: Pick<ImporterOptions, 'database' | 'registry' | 'budget'>,
  job: ClaimedJob,
  all: AllRequest,
  attempt?: Pick<Attempt, 'budget' | 'fence'>,
): Promise<{ tagNames: string[]; additionalTags: string[]; tagListTruncated: boolean }> {
  const parsed = parseDockerReference(all.from, 'from');
  if (!parsed.ok) throw new ImportFailure('InvalidReference', parsed.error.message);
  const repository = { ...parsed.value, tag: undefined, digest: undefined };
  const db = options.database.db;
  const stream = await db.query.imageStreams.findFirst({
    where: { namespace: job.namespace, name: job.stream },
  });
  const insecure = isInsecure(all.insecure, stream?.annotations ?? {});
  const client = await openRegistry(db, options.registry, job.namespace, repository, insecure);
  const listed = await client.listTags(repository.repository, {
    maxTags: options.budget.maxListedTags,
    maxBytes: options.budget.maxTagListBytes,
    ...(attempt ? { budget: attempt.budget } : {}),
  });
  const { selected, additional } = orderTagsForImport(listed.tags, all.max);

  await writeTransaction(db, async (tx) => {
    await attempt?.fence(tx);
    const locked = await lockStream(tx, { namespace: job.namespace, name: job.stream });
    if (!locked.ok) throw new ImportFailure('NotFound', `image stream ${job.stream} was deleted`);
    for (const tag of selected) {
      const write = await writeSpecTag(tx, locked.value, tag, {
        from: { kind: 'DockerImage', name: formatReference({ ...repository, tag }) },
        reference: false,
        referencePolicy: all.referencePolicy,
        importInsecure: all.insecure,
        importScheduled: all.scheduled,
        importMode: all.importMode,
      });
      if (!write.changed) continue;
      appendEvents(tx, [
        {
          namespace: job.namespace,
          stream: job.stream,
          tag,
          type: write.created ? 'ADDED' : 'UPDATED',
          cause: 'import',
          payload: { spec: true },
        },
      ]);
    }
  });
  return { tagNames: selected, additionalTags: additional, tagListTruncated: listed.truncated };
}
