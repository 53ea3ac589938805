// imageDiff: two images named through streams the caller may read, resolved and compared.
// The rules: docs/images.md#comparing-two-images.
import { and, desc, eq } from 'drizzle-orm';
import { type Authorized, authorizeAll } from '../auth/authorize.ts';
import type { AccessChecker } from '../auth/roles.ts';
import type { Db } from '../db/client.ts';
import { type ImageMetadataSource, imageStreams, tagHistory, tags } from '../db/schema.ts';
import { type DiffableImage, diffImages, type ImageDiffResult } from '../domain/imageDiff.ts';
import { parseStreamImageReference, type StreamImageReference } from '../domain/references.ts';
import {
  type FieldProblem,
  fromDomain,
  invalid,
  notFound,
  ok,
  type Result,
  type ValidationError,
} from '../errors.ts';
import { resolveStreamImage } from './queries.ts';

/** One side of a diff: the reference as resolved, and the image it named. */
export interface ImageDiffSide {
  namespace: string;
  /** `<stream>:<tag>` as given, or `<stream>@<digest>` with the id resolved to the digest. */
  name: string;
  digest: string;
  mediaType: string;
  metadataSource: ImageMetadataSource;
}

export interface ImageDiffView extends ImageDiffResult {
  from: ImageDiffSide;
  to: ImageDiffSide;
}

type Field = 'from' | 'to';

/**
 * Parses both references, authorizes both namespaces (image-puller in each) before reading
 * anything, resolves each to a digest, loads both images in one statement and compares them.
 */
export async function diffStreamImages(
  db: Db,
  access: AccessChecker,
  fromInput: string,
  toInput: string,
): Promise<Result<ImageDiffView>> {
  const fromRef = parseStreamImageReference(fromInput, 'from');
  const toRef = parseStreamImageReference(toInput, 'to');
  const problems: FieldProblem[] = [];
  for (const parsed of [fromRef, toRef]) {
    if (!parsed.ok) {
      const error = fromDomain(parsed.error) as ValidationError;
      problems.push(...error.problems);
    }
  }
  if (!fromRef.ok || !toRef.ok) return invalid(problems);

  const checked = await authorizeAll<StreamImageReference>(access, [
    { role: 'image-puller', target: fromRef.value, field: 'from' },
    { role: 'image-puller', target: toRef.value, field: 'to' },
  ]);
  if (!checked.ok) return checked;
  const [from, to] = checked.value as [
    Authorized<StreamImageReference>,
    Authorized<StreamImageReference>,
  ];

  const [fromDigest, toDigest] = await Promise.all([
    resolveDigest(db, from, 'from'),
    resolveDigest(db, to, 'to'),
  ]);
  if (!fromDigest.ok) return fromDigest;
  if (!toDigest.ok) return toDigest;

  const loaded = await loadImages(db, [fromDigest.value.digest, toDigest.value.digest]);
  const sides: [DiffableImage, ImageDiffSide][] = [];
  for (const [field, resolved] of [
    ['from', fromDigest.value],
    ['to', toDigest.value],
  ] as const) {
    const image = loaded.get(resolved.digest);
    // Defensive: history items and verified lists' entries name stored images.
    if (!image) {
      return notFound(
        `"${resolved.namespace}/${resolved.name}" names ${resolved.digest}, whose metadata is not stored`,
        field,
      );
    }
    sides.push([
      image,
      {
        ...resolved,
        mediaType: image.mediaType,
        metadataSource: image.metadataSource,
      },
    ]);
  }
  const [[fromImage, fromSide], [toImage, toSide]] = sides as [
    [DiffableImage, ImageDiffSide],
    [DiffableImage, ImageDiffSide],
  ];
  return ok({ ...diffImages(fromImage, toImage), from: fromSide, to: toSide });
}

interface ResolvedReference {
  namespace: string;
  name: string;
  digest: string;
}

/** The digest a reference names: a tag's item 0, or the stream's image the id picks. */
async function resolveDigest(
  db: Db,
  ref: Authorized<StreamImageReference>,
  field: Field,
): Promise<Result<ResolvedReference>> {
  if (ref.kind === 'ImageStreamImage') {
    const found = await resolveStreamImage(db, ref, field);
    if (!found.ok) return found;
    if (!found.value) {
      return notFound(
        `no image in the image stream "${ref.namespace}/${ref.stream}" matches the id "${ref.id}"`,
        field,
      );
    }
    return ok({
      namespace: ref.namespace,
      name: `${ref.stream}@${found.value.digest}`,
      digest: found.value.digest,
    });
  }
  const name = `${ref.stream}:${ref.tag}`;
  // Item 0 is the highest seq; a tag without history gives one row with a null item.
  const [row] = await db
    .select({ item: tagHistory.id, digest: tagHistory.imageDigest })
    .from(tags)
    .innerJoin(imageStreams, eq(imageStreams.id, tags.streamId))
    .leftJoin(tagHistory, eq(tagHistory.tagId, tags.id))
    .where(
      and(
        eq(imageStreams.namespace, ref.namespace),
        eq(imageStreams.name, ref.stream),
        eq(tags.name, ref.tag),
      ),
    )
    .orderBy(desc(tagHistory.seq))
    .limit(1);
  const where = `"${ref.namespace}/${name}"`;
  if (!row) return notFound(`image stream tag ${where} not found`, field);
  if (row.item === null) {
    return notFound(`image stream tag ${where} points at no image yet`, field);
  }
  if (row.digest === null) {
    return notFound(
      `image stream tag ${where} is a reference tag: it names a pull spec, not an imported image`,
      field,
    );
  }
  return ok({ namespace: ref.namespace, name, digest: row.digest });
}

type LoadedImage = DiffableImage & { mediaType: string; metadataSource: ImageMetadataSource };

/** Both images with their layers and entries, in one statement; the manifest bytes are not read. */
async function loadImages(db: Db, digests: string[]): Promise<Map<string, LoadedImage>> {
  const rows = await db.query.images.findMany({
    where: { digest: { in: [...new Set(digests)] } },
    columns: {
      digest: true,
      mediaType: true,
      metadataSource: true,
      size: true,
      os: true,
      architecture: true,
      variant: true,
      config: true,
    },
    with: {
      layers: {
        columns: { digest: true, size: true, mediaType: true },
        orderBy: { position: 'asc' },
      },
      manifests: {
        columns: { digest: true, os: true, architecture: true, variant: true },
        orderBy: { position: 'asc' },
      },
    },
  });
  return new Map(rows.map((row) => [row.digest, row]));
}
