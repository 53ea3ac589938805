// Read helpers for the query side: `<stream>@<id>` resolution and tracking inputs.
// The rules: docs/rules.md#short-image-ids.
import { and, desc, eq, isNotNull } from 'drizzle-orm';
import { type Authorized, authorize, authorizeTagRef } from '../auth/authorize.ts';
import type { AccessChecker } from '../auth/roles.ts';
import type { Db } from '../db/client.ts';
import { imageManifests, imageStreams, images, tagHistory, tags } from '../db/schema.ts';
import { validateNamespace } from '../domain/names.ts';
import {
  parseDockerReference,
  parseImageStreamImageRef,
  pinnedReference,
  type StreamImageRef,
  type StreamTagRef,
} from '../domain/references.ts';
import { resolveImageId } from '../domain/shortIds.ts';
import type { StreamTags, TagSource } from '../domain/tracking.ts';
import { fromDomain, invalid, ok, type Result } from '../errors.ts';

/** The `<stream>@<id>` view: one image of a stream, as found through its tag histories. */
export interface StreamImage {
  streamId: number;
  namespace: string;
  stream: string;
  digest: string;
  /** The newest history item's reference for it, or `<repo>@<digest>` for a list's child. */
  dockerImageReference: string;
}

/**
 * A stream-tag lookup's arguments, checked: `ref` is `[ns/]stream:tag`, and the caller may read
 * the namespace it names (which need not be `namespace`).
 */
export async function authorizeStreamTagLookup(
  access: AccessChecker,
  namespace: string,
  ref: string,
): Promise<Result<Authorized<StreamTagRef>>> {
  const problems = validateNamespace(namespace, 'namespace');
  if (problems) return invalid(problems);
  return authorizeTagRef(access, 'image-puller', { namespace, ref });
}

/**
 * The caller must be able to read the namespace `ref` names. Then resolves `ref` (`[ns/]stream@id`,
 * id a digest or a prefix of one) against every image of the stream's tag histories and the
 * children of verified manifest lists among them. Null when the
 * stream does not exist or nothing matches; a ConflictError listing the candidates when more than
 * one image does.
 */
export async function findStreamImage(
  db: Db,
  access: AccessChecker,
  namespace: string,
  ref: string,
): Promise<Result<StreamImage | null>> {
  const problems = validateNamespace(namespace, 'namespace');
  if (problems) return invalid(problems);
  const syntax = parseImageStreamImageRef(ref, namespace, undefined, 'ref');
  if (!syntax.ok) return { ok: false, error: fromDomain(syntax.error) };
  const parsed = await authorize(access, 'image-puller', syntax.value, 'ref');
  if (!parsed.ok) return parsed;
  return resolveStreamImage(db, parsed.value, 'ref');
}

/**
 * Resolves an authorized `ns/stream@id` as findStreamImage does: null when the stream does not
 * exist or nothing matches, a ConflictError (on `field`) when the id is ambiguous.
 */
export async function resolveStreamImage(
  db: Db,
  ref: Authorized<StreamImageRef>,
  field: string,
): Promise<Result<StreamImage | null>> {
  const { namespace, stream, id } = ref;
  const [row] = await db
    .select({ id: imageStreams.id })
    .from(imageStreams)
    .where(and(eq(imageStreams.namespace, namespace), eq(imageStreams.name, stream)));
  if (!row) return ok(null);

  // Newest first, so the first item naming a digest is the reference it was last tagged with.
  const direct = await db
    .select({ digest: tagHistory.imageDigest, reference: tagHistory.dockerImageReference })
    .from(tagHistory)
    .innerJoin(tags, eq(tags.id, tagHistory.tagId))
    .where(and(eq(tags.streamId, row.id), isNotNull(tagHistory.imageDigest)))
    .orderBy(desc(tagHistory.created), desc(tagHistory.id));
  const children = await db
    .select({ digest: imageManifests.digest, parentReference: tagHistory.dockerImageReference })
    .from(imageManifests)
    // Only a verified list's entries: a declared list's could name any digest.
    .innerJoin(
      images,
      and(
        eq(images.digest, imageManifests.parentDigest),
        eq(images.metadataSource, 'registry-verified'),
      ),
    )
    .innerJoin(tagHistory, eq(tagHistory.imageDigest, imageManifests.parentDigest))
    .innerJoin(tags, eq(tags.id, tagHistory.tagId))
    .where(eq(tags.streamId, row.id))
    .orderBy(desc(tagHistory.created), desc(tagHistory.id), imageManifests.position);

  const candidates = [...direct.map((d) => d.digest!), ...children.map((c) => c.digest)];
  const resolved = resolveImageId(id, candidates);
  if (!resolved.ok) {
    if (resolved.error.code === 'NOT_FOUND') return ok(null);
    return { ok: false, error: fromDomain({ ...resolved.error, field }) };
  }
  const digest = resolved.value;
  const item = direct.find((d) => d.digest === digest);
  const child = children.find((c) => c.digest === digest);
  return ok({
    streamId: row.id,
    namespace,
    stream,
    digest,
    dockerImageReference: item ? item.reference : childReference(child!.parentReference, digest),
  });
}

/** `<repository of the list's reference>@<child digest>`: how a child of a list is pulled. */
export function childReference(parentReference: string, digest: string): string {
  const parsed = parseDockerReference(parentReference);
  if (parsed.ok) return pinnedReference(parsed.value, digest);
  return `${parentReference.replace(/[@].*$/, '')}@${digest}`;
}

/** The columns of a tag row that tracking reads. */
export type TrackingRow = Pick<
  typeof tags.$inferSelect,
  'name' | 'fromKind' | 'fromName' | 'fromNamespace'
>;

/** A stream's tags in the shape src/domain/tracking.ts reads; status-only tags have no source. */
export function trackingView(namespace: string, stream: string, rows: TrackingRow[]): StreamTags {
  return {
    namespace,
    stream,
    tags: new Map(rows.map((row) => [row.name, sourceOf(row)])),
  };
}

function sourceOf(row: TrackingRow): TagSource | null {
  if (!row.fromKind || !row.fromName) return null;
  return { kind: row.fromKind, name: row.fromName, namespace: row.fromNamespace };
}
