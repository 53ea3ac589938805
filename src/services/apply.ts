// Spec tag annotations (`spec.tags[].annotations`), which `tagraph apply` sets after `tag`.
import { and, eq } from 'drizzle-orm';
import { authorizeTagRef } from '../auth/authorize.ts';
import type { AccessChecker } from '../auth/roles.ts';
import type { Db } from '../db/client.ts';
import { tags } from '../db/schema.ts';
import { validateAnnotations } from '../domain/names.ts';
import { PREFER_ARCH_ANNOTATION, PREFER_OS_ANNOTATION } from '../domain/platforms.ts';
import {
  type FieldProblem,
  fail,
  NotFoundError,
  ok,
  type Result,
  ValidationError,
} from '../errors.ts';
import { appendEvents, writeTransaction } from '../events/append.ts';
import { type KeyValue, lockStream, toRecord, touchStream } from './imageStreams.ts';
import { enqueueImport } from './importJobs.ts';

export interface SetTagAnnotationsInput {
  namespace: string;
  /** `[ns/]stream:tag` */
  ref: string;
  /** The whole set: keys not given are removed. */
  annotations: KeyValue[];
  expectedResourceVersion?: string | null;
}

export interface TagAnnotationsSet {
  tagId: number;
  changed: boolean;
  /** A re-import queued because the platform preference of a Legacy import changed. */
  importJobId: number | null;
}

/**
 * The annotations a Legacy import of a manifest list reads
 * (docs/rules.md#manifest-lists-and-import-modes).
 */
const IMPORT_PREFERENCES = [PREFER_ARCH_ANNOTATION, PREFER_OS_ANNOTATION];

function sameRecord(a: Record<string, string>, b: Record<string, string>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => b[k] === a[k]);
}

/**
 * Replaces a spec tag's annotations. Not a change of `from`, `reference` or `importMode`, so the
 * generation stays (docs/rules.md#generations-and-pending-imports). When the platform preference of
 * an imported tag changes, the tag is queued for import again: `apply` writes the tag first (which
 * queues its import) and the annotations second, and the import must not keep a child chosen
 * without them. The caller must be an editor in the namespace `ref` names.
 */
export async function setTagAnnotations(
  db: Db,
  access: AccessChecker,
  input: SetTagAnnotationsInput,
): Promise<Result<TagAnnotationsSet>> {
  const ref = await authorizeTagRef(access, 'editor', input);
  if (!ref.ok) return ref;
  const problems: FieldProblem[] = [];
  const annotations = toRecord(input.annotations, 'annotations', problems);
  // The list, not the record: a problem then names its entry (`annotations.2.key`).
  problems.push(...(validateAnnotations(input.annotations) ?? []));
  if (problems.length > 0) return fail(new ValidationError(problems));
  const { namespace, stream, tag } = ref.value;

  return writeTransaction(db, async (tx) => {
    const locked = await lockStream(tx, {
      namespace,
      name: stream,
      expectedResourceVersion: input.expectedResourceVersion,
    });
    if (!locked.ok) {
      return locked.error.code === 'NOT_FOUND'
        ? fail<TagAnnotationsSet>(new NotFoundError(locked.error.message, 'ref'))
        : fail<TagAnnotationsSet>(locked.error);
    }
    const [row] = await tx
      .select()
      .from(tags)
      .where(and(eq(tags.streamId, locked.value.id), eq(tags.name, tag)));
    if (!row) {
      return fail<TagAnnotationsSet>(
        new NotFoundError(`image stream tag ${namespace}/${stream}:${tag} not found`, 'ref'),
      );
    }
    if (row.specGeneration === null) {
      return fail<TagAnnotationsSet>(
        new ValidationError([
          {
            field: 'ref',
            message: `${namespace}/${stream}:${tag} has no spec tag (it was pushed): tag it first`,
          },
        ]),
      );
    }
    const previous = (row.annotations ?? {}) as Record<string, string>;
    if (sameRecord(previous, annotations)) {
      return ok({ tagId: row.id, changed: false, importJobId: null });
    }
    await tx.update(tags).set({ annotations, updatedAt: new Date() }).where(eq(tags.id, row.id));
    await touchStream(tx, locked.value.id);
    appendEvents(tx, [
      {
        namespace,
        stream,
        tag,
        type: 'UPDATED',
        cause: 'update',
        payload: { spec: true, annotations: true },
      },
    ]);
    const preferenceChanged = IMPORT_PREFERENCES.some((k) => previous[k] !== annotations[k]);
    const imported = row.fromKind === 'DockerImage' && !row.reference;
    const importJobId =
      preferenceChanged && imported
        ? await enqueueImport(tx, { namespace, stream, tags: [tag], cause: 'tag' })
        : null;
    return ok({ tagId: row.id, changed: true, importJobId });
  });
}
