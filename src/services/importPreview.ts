// `importImage(dryRun: true)` (`oc import-image --dry-run`): what an import would record, read
// from the registry with the namespace's pull secrets; nothing is written.
import { and, desc, eq } from 'drizzle-orm';
import type { AccessChecker } from '../auth/roles.ts';
import type { Db } from '../db/client.ts';
import { imageStreams, tagHistory, tags } from '../db/schema.ts';
import type { ImageConfig } from '../domain/imageConfig.ts';
import { validateTagName } from '../domain/names.ts';
import { type ImportMode, parseImportMode } from '../domain/platforms.ts';
import {
  type DockerReference,
  namesTagOrDigest,
  parseDockerReference,
} from '../domain/references.ts';
import { isInsecure } from '../domain/tagPolicy.ts';
import { fail, fromDomain, invalid, notFound, ok, type Result } from '../errors.ts';
import { configMetadata } from './images.ts';
import { type ImportImageInput, importTarget } from './importImage.ts';
import type { RemoteRegistryReader } from './policyTags.ts';

/** One image of a manifest list: its platform and digest. */
export interface PreviewPlatform {
  digest: string;
  os: string | null;
  architecture: string | null;
  variant: string | null;
}

/** What an import of one tag would record now. */
export interface ImportPreview {
  namespace: string;
  stream: string;
  tag: string;
  /** The pull spec that would be imported. */
  from: string;
  importMode: ImportMode;
  /** What the source resolved to: the list itself for a manifest list. */
  sourceDigest: string;
  /** The image the tag's history item would point at (a list's chosen child in Legacy mode). */
  digest: string;
  mediaType: string;
  dockerImageReference: string;
  /** A manifest list's images; empty for a single image. */
  platforms: PreviewPlatform[];
  os: string | null;
  architecture: string | null;
  variant: string | null;
  created: Date | null;
  author: string | null;
  size: number | null;
  layerCount: number;
  config: ImageConfig | null;
  /** The digest the tag points at now; null for a new tag or one with no image. */
  currentDigest: string | null;
  /** Whether the import would push a history item (the tag would point at another image). */
  changed: boolean;
}

/**
 * Previews the import `input` describes, for one tag; the caller must be an editor of the stream's
 * namespace, as for the import itself. `all` is refused (preview one tag at a time).
 */
export async function previewImport(
  db: Db,
  access: AccessChecker,
  reader: RemoteRegistryReader,
  input: ImportImageInput,
): Promise<Result<ImportPreview>> {
  const ref = await importTarget(access, input);
  if (!ref.ok) return ref;
  const { namespace, stream, tag } = ref.value;
  const problems: { field: string; message: string }[] = [];
  if (input.all) {
    problems.push({ field: 'all', message: 'dryRun previews one tag: name it, without all' });
  }
  const mode = parseImportMode(input.importMode ?? 'Legacy');
  if (!mode.ok) problems.push({ field: 'importMode', message: mode.error.message });
  const tagName = validateTagName(tag, 'image');
  if (tagName) problems.push(...tagName);
  let from: DockerReference | null = null;
  if (input.from) {
    const source = parseDockerReference(input.from, 'from');
    if (!source.ok) problems.push({ field: 'from', message: source.error.message });
    else from = source.value;
  }
  if (problems.length > 0) return invalid(problems);

  const [streamRow] = await db
    .select({ id: imageStreams.id, annotations: imageStreams.annotations })
    .from(imageStreams)
    .where(and(eq(imageStreams.namespace, namespace), eq(imageStreams.name, stream)));
  if (!streamRow && !input.confirm) {
    return notFound(
      `image stream ${namespace}/${stream} does not exist: pass confirm to create it`,
      'image',
    );
  }
  const [tagRow] = streamRow
    ? await db
        .select({
          id: tags.id,
          fromKind: tags.fromKind,
          fromName: tags.fromName,
          reference: tags.reference,
          policy: tags.policy,
          annotations: tags.annotations,
          importInsecure: tags.importInsecure,
          importMode: tags.importMode,
        })
        .from(tags)
        .where(and(eq(tags.streamId, streamRow.id), eq(tags.name, tag)))
    : [];
  let text = input.from ?? null;
  if (!from) {
    if (tagRow?.fromKind !== 'DockerImage' || !tagRow.fromName || tagRow.reference) {
      return notFound(
        `tag ${stream}:${tag} has no DockerImage source to import: give from`,
        'from',
      );
    }
    if (tagRow.policy) {
      return invalid([
        {
          field: 'from',
          message: `${stream}:${tag} is a policy tag: previewPolicy shows what it would pick, or give from`,
        },
      ]);
    }
    const source = parseDockerReference(tagRow.fromName, 'from');
    if (!source.ok) return fail(fromDomain(source.error));
    from = source.value;
    text = tagRow.fromName;
  }
  const importMode: ImportMode =
    input.importMode != null && mode.ok ? mode.value : (tagRow?.importMode ?? 'Legacy');
  const insecure = isInsecure(
    input.insecure ?? (input.from ? false : (tagRow?.importInsecure ?? false)),
    streamRow?.annotations ?? {},
  );
  const read = await reader.inspect(
    namespace,
    from,
    insecure,
    importMode,
    tagRow?.annotations ?? {},
  );
  if (!read.ok) {
    if (read.reason === 'NotFound') return notFound(read.message, 'from');
    return invalid([{ field: 'from', message: `the image could not be read: ${read.message}` }]);
  }
  const { image, sourceDigest, listEntries } = read.value;
  const [head] = tagRow
    ? await db
        .select({ digest: tagHistory.imageDigest })
        .from(tagHistory)
        .where(eq(tagHistory.tagId, tagRow.id))
        .orderBy(desc(tagHistory.seq))
        .limit(1)
    : [];
  const currentDigest = head?.digest ?? null;
  const pulled = text!;
  return ok({
    namespace,
    stream,
    tag,
    from: namesTagOrDigest(pulled, from) ? pulled : `${pulled}:latest`,
    importMode,
    sourceDigest,
    digest: image.digest,
    mediaType: image.mediaType,
    dockerImageReference: image.dockerImageReference ?? pulled,
    platforms: (listEntries ?? []).map((m) => ({
      digest: m.digest,
      os: m.os ?? null,
      architecture: m.architecture ?? null,
      variant: m.variant ?? null,
    })),
    ...configMetadata(image),
    size: image.size ?? null,
    layerCount: image.layers?.length ?? 0,
    config: image.config ?? null,
    currentDigest,
    changed: currentDigest !== image.digest,
  });
}
