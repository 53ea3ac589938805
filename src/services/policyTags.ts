// Re-evaluating a policy tag on demand: queue its import, which lists and picks the winner.
// The rules: docs/policy-tags.md.
import { and, eq } from 'drizzle-orm';
import { authorize } from '../auth/authorize.ts';
import type { AccessChecker } from '../auth/roles.ts';
import type { Db } from '../db/client.ts';
import { imageStreams, tags } from '../db/schema.ts';
import { parseImageStreamTagRef } from '../domain/references.ts';
import { fail, fromDomain, NotFoundError, ok, type Result, ValidationError } from '../errors.ts';
import { writeTransaction } from '../events/append.ts';
import { enqueueImport } from './importJobs.ts';

export interface Reevaluation {
  namespace: string;
  tagId: number;
  importJobId: number;
}

/**
 * Queues the import of a policy tag (cause `policy`); the caller must be an editor in its
 * namespace, as for `tag`. A tag without a policy is a VALIDATION error on `ref`.
 */
export async function reevaluateTag(
  db: Db,
  access: AccessChecker,
  input: { namespace: string; ref: string },
): Promise<Result<Reevaluation>> {
  const parsed = parseImageStreamTagRef(input.ref, input.namespace, undefined, 'ref');
  if (!parsed.ok) return fail(fromDomain(parsed.error));
  const ref = await authorize(access, 'editor', parsed.value, 'ref');
  if (!ref.ok) return ref;
  const { namespace, stream, tag } = ref.value;
  const [row] = await db
    .select({ id: tags.id, policy: tags.policy })
    .from(tags)
    .innerJoin(imageStreams, eq(imageStreams.id, tags.streamId))
    .where(
      and(eq(imageStreams.namespace, namespace), eq(imageStreams.name, stream), eq(tags.name, tag)),
    );
  if (!row) {
    return fail(
      new NotFoundError(`image stream tag ${namespace}/${stream}:${tag} not found`, 'ref'),
    );
  }
  if (!row.policy) {
    return fail(
      new ValidationError([
        { field: 'ref', message: `${stream}:${tag} has no policy to evaluate` },
      ]),
    );
  }
  const importJobId = await writeTransaction(db, (tx) =>
    enqueueImport(tx, { namespace, stream, tags: [tag], cause: 'policy' }),
  );
  return ok({ namespace, tagId: row.id, importJobId });
}
