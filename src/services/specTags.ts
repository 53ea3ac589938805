// Writing a spec tag (TagReference) and the generation rule that comes with it (docs/rules.md).
import { eq, sql } from 'drizzle-orm';
import type { Tx } from '../db/client.ts';
import { tags } from '../db/schema.ts';
import type { ImportMode } from '../domain/platforms.ts';
import type { TagSelectionPolicy } from '../domain/policyTags.ts';
import { needsNewGeneration, type ReferencePolicy } from '../domain/tagPolicy.ts';
import type { TagSource } from '../domain/tracking.ts';
import { bumpGeneration, type ImageStreamRow, touchStream } from './imageStreams.ts';
import { sourceOf } from './tagHistory.ts';

export interface SpecTagInput {
  from: TagSource;
  reference: boolean;
  referencePolicy: ReferencePolicy;
  importInsecure: boolean;
  importScheduled: boolean;
  importMode: ImportMode;
  annotations?: Record<string, string>;
  /** A policy tag's policy; absent or null for any other tag (docs/policy-tags.md). */
  policy?: TagSelectionPolicy | null;
}

export interface SpecTagWrite {
  tagId: number;
  /** The spec tag's generation after the write. */
  generation: number;
  created: boolean;
  /** Whether anything in the spec changed (a re-run of the same `oc tag` changes nothing). */
  changed: boolean;
}

/**
 * Creates or updates the spec of `tagName`. A new spec tag, or a new `from`, `reference` or
 * `importMode`, bumps the stream's generation and gives it to the tag; other edits keep it.
 * The caller holds the stream lock; `stream.generation` is kept current in memory.
 */
export async function writeSpecTag(
  tx: Tx,
  stream: ImageStreamRow,
  tagName: string,
  spec: SpecTagInput,
): Promise<SpecTagWrite> {
  const [existing] = await tx
    .select()
    .from(tags)
    .where(sql`${tags.streamId} = ${stream.id} and ${tags.name} = ${tagName}`);
  const previous =
    existing && existing.specGeneration !== null
      ? {
          from: sourceOf(existing),
          reference: existing.reference,
          importMode: existing.importMode,
          policy: existing.policy,
        }
      : null;
  const bump = needsNewGeneration(previous, spec);
  const changed =
    bump ||
    existing!.referencePolicy !== spec.referencePolicy ||
    existing!.importInsecure !== spec.importInsecure ||
    existing!.importScheduled !== spec.importScheduled ||
    (spec.annotations !== undefined &&
      JSON.stringify(existing!.annotations) !== JSON.stringify(spec.annotations));
  if (!changed) {
    return { tagId: existing!.id, generation: existing!.specGeneration!, created: false, changed };
  }
  // A bump gives the tag the stream's next generation. The caller holds the stream lock, so that
  // is the generation in memory plus one: the tag's write is sent in the same round trip as the
  // bump (Postgres runs the two in order on this connection) and checked against it after.
  const bumped = bump && !stream.createdNow;
  const generation = bumped
    ? stream.generation + 1
    : (existing?.specGeneration ?? stream.generation);
  const values = {
    fromKind: spec.from.kind,
    fromName: spec.from.name,
    fromNamespace: spec.from.namespace ?? null,
    reference: spec.reference,
    referencePolicy: spec.referencePolicy,
    importInsecure: spec.importInsecure,
    importScheduled: spec.importScheduled,
    importMode: spec.importMode,
    policy: spec.policy ?? null,
    specGeneration: generation,
    nextImportAt: spec.importScheduled ? new Date() : null,
    // A new source has not been imported yet: a scheduled check must not compare against the old.
    // Nor has a new policy been evaluated.
    // A changed spec starts any backoff of a gone or refused source over.
    importFailures: 0,
    ...(bump ? { importedSourceDigest: null, policyEvaluation: null } : {}),
    updatedAt: new Date(),
    ...(spec.annotations ? { annotations: spec.annotations } : {}),
  };
  const writeTag = async (): Promise<number> => {
    if (existing) {
      await tx.update(tags).set(values).where(eq(tags.id, existing.id));
      return existing.id;
    }
    const [row] = await tx
      .insert(tags)
      .values({ streamId: stream.id, name: tagName, ...values })
      .returning({ id: tags.id });
    return row!.id;
  };
  const [streamGeneration, tagId] = await Promise.all([
    bumped ? bumpGeneration(tx, stream.id) : null,
    writeTag(),
  ]);
  if (streamGeneration !== null) {
    if (streamGeneration !== generation) {
      throw new Error(
        `stream ${stream.id} moved to generation ${streamGeneration}, expected ${generation}: its row was not locked or not current`,
      );
    }
    stream.generation = streamGeneration;
  }
  await touchStream(tx, stream.id);
  return { tagId, generation, created: !existing, changed };
}
