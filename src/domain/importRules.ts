// What `import-image <stream>[:<tag>]` imports into an existing stream, and what it refuses.
import { fail, ok, type Result } from '../errors.ts';
import { type DomainError, domainError, type Problem } from './names.ts';
import { namesTagOrDigest, parseDockerReference } from './references.ts';
import { followTagReference, type StreamTags } from './tracking.ts';

export interface TagImportPlan {
  /** The tag that receives the image: the named tag, or the tag it tracks. */
  tag: string;
  /** The pull spec to import. */
  from: string;
  /** Whether the spec tag has to be written (a new tag, or one given its source by `from`). */
  writeSpec: boolean;
}

/**
 * Resolves a one-tag import the way `oc import-image` does: a tracking tag imports into the tag
 * it follows; a tag whose source is not a registry image cannot be re-imported; `from` may not
 * change an existing tag's source (that is what `tag` is for); a missing tag needs `from`, except
 * `latest` of a stream with a repository to import from. `spec.tags` holds the spec tags only.
 */
export function planTagImport(
  spec: StreamTags,
  tag: string,
  from: string | null,
  dockerImageRepository: string | null,
  field = 'image',
): Result<TagImportPlan, DomainError> {
  const refuse = (message: string) => fail(domainError('VALIDATION', message, field));
  const followed = followTagReference(spec, tag);
  if (!followed.ok) {
    switch (followed.error.reason) {
      case 'invalid':
        return refuse(`tag "${tag}" points to an invalid imagestreamtag`);
      case 'crossStream':
        return refuse(`tag "${tag}" points to an imagestreamtag from another ImageStream`);
      case 'circular':
        return refuse(`tag "${tag}" on the image stream is a reference to same tag`);
      case 'notFound': {
        const source = from || (tag === 'latest' ? dockerImageRepository : null);
        if (!source) {
          return fail(
            domainError(
              'NOT_FOUND',
              `the tag "${tag}" does not exist on the image stream - choose an existing tag to import or use the 'tag' command to create a new tag`,
              field,
            ),
          );
        }
        // A chain that ends at a missing tag imports into the tag that was named.
        return ok({ tag, from: source, writeSpec: true });
      }
    }
  }
  const { tag: finalTag, source, followed: multiple } = followed.value;
  if (source && source.kind !== 'DockerImage') {
    return refuse(
      `tag "${tag}" points to existing ${source.kind} "${source.name}", it cannot be re-imported`,
    );
  }
  if (!source) {
    return refuse(
      `tag "${tag}" already exists - you must use the 'tag' command if you want to change the source to "${from ?? ''}"`,
    );
  }
  if (from && from !== source.name) {
    return refuse(
      multiple
        ? `the tag "${tag}" points to the tag "${finalTag}" which points to "${source.name}" - use the 'tag' command if you want to change the source to "${from}"`
        : `the tag "${tag}" points to "${source.name}" - use the 'tag' command if you want to change the source to "${from}"`,
    );
  }
  return ok({ tag: finalTag, from: source.name, writeSpec: Boolean(from) });
}

/**
 * Where `import-image --all` imports from: `from`, else the stream's repository. Changing the
 * recorded repository (or recording a first one) needs `confirm`, as oc asks for `--confirm`.
 * Null when neither is given: then the stream's registry tags are re-imported instead.
 */
export function planRepositoryImport(
  from: string | null,
  dockerImageRepository: string | null,
  confirm: boolean,
  field = 'from',
): Result<{ from: string; record: boolean } | null, DomainError> {
  const source = from || dockerImageRepository;
  if (!source) return ok(null);
  if (source === dockerImageRepository) return ok({ from: source, record: false });
  if (!confirm) {
    return fail(
      domainError(
        'VALIDATION',
        dockerImageRepository
          ? `the image stream has a different import spec "${dockerImageRepository}", pass confirm to update`
          : 'the image stream does not currently import an entire Docker repository, pass confirm to update',
        field,
      ),
    );
  }
  return ok({ from: source, record: true });
}

/**
 * Problems with a stream's `spec.dockerImageRepository`: a pull spec naming a repository only,
 * as the API server checks it (a tag or digest belongs to a tag's source, not here).
 */
export function validateDockerImageRepository(
  value: string,
  field = 'dockerImageRepository',
): Problem[] | null {
  const parsed = parseDockerReference(value, field);
  if (!parsed.ok) return [{ field, message: parsed.error.message }];
  if (parsed.value.digest !== undefined) {
    return [{ field, message: `${field}: the repository name may not contain an ID` }];
  }
  if (namesTagOrDigest(value, parsed.value)) {
    return [{ field, message: `${field}: the repository name may not contain a tag` }];
  }
  return null;
}
