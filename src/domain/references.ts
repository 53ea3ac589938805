// Image references: docker pull specs, `<stream>:<tag>` and `<stream>@<id>`, and `oc tag` sources.
import { fail, ok, type Result } from '../errors.ts';
import {
  type DomainError,
  domainError,
  failWith,
  type Problem,
  validateNamespace,
  validateStreamName,
  validateTagName,
} from './names.ts';
import { normalizeImageId } from './shortIds.ts';

/** A parsed, normalised docker pull spec: `docker.io/library/ruby:latest`. */
export interface DockerReference {
  /** Host with optional port: `docker.io`, `quay.io`, `localhost:5000`, `[::1]:5000`. */
  registry: string;
  /** Path below the registry: `library/ruby`, `openshift/origin-cli`. */
  repository: string;
  tag?: string;
  /** `sha256:<64 hex>` (or another algorithm go-digest knows). */
  digest?: string;
}

export const DEFAULT_REGISTRY = 'docker.io';
const LEGACY_DEFAULT_REGISTRY = 'index.docker.io';
const OFFICIAL_REPO_PREFIX = 'library/';
export const DEFAULT_TAG = 'latest';
const NAME_TOTAL_LENGTH_MAX = 255;

// The grammar of github.com/distribution/reference (regexp.go), piece by piece. Go's RE2
// and JS agree on these constructs; `\w` is ASCII-only in both.
const alphanumeric = '[a-z0-9]+';
const separator = '(?:[._]|__|[-]+)';
const pathComponent = `${alphanumeric}(?:${separator}${alphanumeric})*`;
const domainNameComponent = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const ipv6Address = '\\[(?:[a-fA-F0-9:]+)\\]';
const domainName = `${domainNameComponent}(?:\\.${domainNameComponent})*`;
const domainAndPort = `(?:${domainName}|${ipv6Address})(?::[0-9]+)?`;
const tagPattern = '[\\w][\\w.-]{0,127}';
const digestPattern = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][0-9a-fA-F]{32,}';
const remoteName = `${pathComponent}(?:/${pathComponent})*`;
const namePattern = `(?:${domainAndPort}/)?${remoteName}`;

const REFERENCE = new RegExp(`^(${namePattern})(?::(${tagPattern}))?(?:@(${digestPattern}))?$`);
const ANCHORED_NAME = new RegExp(`^(?:(${domainAndPort})/)?(${remoteName})$`);
const ANCHORED_IDENTIFIER = /^[a-f0-9]{64}$/;

// go-digest's registered algorithms and their hex lengths.
const DIGEST_HEX_LENGTH: Record<string, number> = { sha256: 64, sha384: 96, sha512: 128 };

function invalid(input: string, reason: string, field?: string): Result<never, DomainError> {
  return fail(
    domainError('VALIDATION', `"${input}" is not a valid image reference: ${reason}`, field),
  );
}

/** go-digest's Digest.Validate, with its three error cases. */
function digestProblem(value: string): string | null {
  const i = value.indexOf(':');
  if (i <= 0 || i + 1 === value.length) return 'invalid checksum digest format';
  const length = DIGEST_HEX_LENGTH[value.slice(0, i)];
  if (length === undefined) return `unsupported digest algorithm "${value.slice(0, i)}"`;
  const hex = value.slice(i + 1);
  if (hex.length !== length) return `invalid checksum digest length (want ${length} hex digits)`;
  if (!/^[a-f0-9]+$/.test(hex)) return 'invalid checksum digest format (hex must be lowercase)';
  return null;
}

/** A full image digest (`sha256:<64 hex>`, lowercase), as manifests are named; not a short id. */
export function validateDigest(value: string, field = 'digest'): Problem[] | null {
  const problem = digestProblem(value);
  return problem ? [{ field, message: `"${value}" is not a full image digest: ${problem}` }] : null;
}

/**
 * docker/distribution's splitDockerDomain: the first path component is a registry host when it
 * contains '.' or ':', is `localhost`, or has an uppercase letter (a repository path never
 * does); otherwise the whole name is on Docker Hub, where a one-component name gets `library/`.
 */
function splitDockerDomain(name: string): { domain: string; remainder: string } {
  const i = name.indexOf('/');
  let domain = DEFAULT_REGISTRY;
  let remainder = name;
  if (i !== -1) {
    const first = name.slice(0, i);
    if (/[.:]/.test(first) || first === 'localhost' || first.toLowerCase() !== first) {
      domain = first;
      remainder = name.slice(i + 1);
    }
  }
  if (domain === LEGACY_DEFAULT_REGISTRY) domain = DEFAULT_REGISTRY;
  if (domain === DEFAULT_REGISTRY && !remainder.includes('/')) {
    remainder = OFFICIAL_REPO_PREFIX + remainder;
  }
  return { domain, remainder };
}

/**
 * Parses a pull spec exactly as `reference.ParseNormalizedNamed` does, then — like
 * `reference.TagNameOnly` — adds the `latest` tag when there is neither tag nor digest:
 * `ruby` → `docker.io/library/ruby:latest`.
 */
export function parseDockerReference(
  input: string,
  field?: string,
): Result<DockerReference, DomainError> {
  if (ANCHORED_IDENTIFIER.test(input)) {
    return invalid(input, 'a 64-character hexadecimal string is an image id, not a name', field);
  }
  const { domain, remainder } = splitDockerDomain(input);
  const tagSeparator = remainder.indexOf(':');
  const remote = tagSeparator === -1 ? remainder : remainder.slice(0, tagSeparator);
  if (remote.toLowerCase() !== remote) {
    return invalid(input, `repository name (${remote}) must be lowercase`, field);
  }
  const normalized = `${domain}/${remainder}`;
  const match = REFERENCE.exec(normalized);
  if (match === null) {
    if (input === '')
      return invalid(input, 'repository name must have at least one component', field);
    return invalid(input, 'invalid reference format', field);
  }
  const [, name, tag, digest] = match;
  if (name!.length > NAME_TOTAL_LENGTH_MAX) {
    return invalid(
      input,
      `repository name must not be more than ${NAME_TOTAL_LENGTH_MAX} characters`,
      field,
    );
  }
  if (digest !== undefined) {
    const problem = digestProblem(digest);
    if (problem !== null) return invalid(input, problem, field);
  }
  const parts = ANCHORED_NAME.exec(name!)!;
  if (parts[1] === undefined) {
    // Go would return a reference with an empty domain here (`foo_bar.com/x` is also a valid
    // path); a reference that names no registry is useless to an importer, so refuse it.
    return invalid(input, `"${domain}" is not a valid registry host`, field);
  }
  const ref: DockerReference = { registry: parts[1]!, repository: parts[2]! };
  if (tag !== undefined) ref.tag = tag;
  if (digest !== undefined) ref.digest = digest;
  if (tag === undefined && digest === undefined) ref.tag = DEFAULT_TAG;
  return ok(ref);
}

/**
 * Whether a pull spec names a tag or digest itself, rather than getting the default `latest`:
 * a policy tag's source must be a bare repository.
 */
export function namesTagOrDigest(input: string, parsed: DockerReference): boolean {
  return (
    parsed.digest !== undefined || parsed.tag !== DEFAULT_TAG || input.endsWith(`:${DEFAULT_TAG}`)
  );
}

/** Canonical form, `registry/repository[:tag][@digest]`: what is stored and compared. */
export function formatReference(ref: DockerReference): string {
  const tag = ref.tag === undefined ? '' : `:${ref.tag}`;
  const digest = ref.digest === undefined ? '' : `@${ref.digest}`;
  return `${ref.registry}/${ref.repository}${tag}${digest}`;
}

/** The short form docker prints (`reference.FamiliarString`): `ruby:2.0`, `quay.io/x/y:1`. */
export function familiarReference(ref: DockerReference): string {
  let name = `${ref.registry}/${ref.repository}`;
  if (ref.registry === DEFAULT_REGISTRY) {
    const official = ref.repository.slice(OFFICIAL_REPO_PREFIX.length);
    const isOfficial = ref.repository.startsWith(OFFICIAL_REPO_PREFIX) && !official.includes('/');
    name = isOfficial ? official : ref.repository;
  }
  const tag = ref.tag === undefined ? '' : `:${ref.tag}`;
  const digest = ref.digest === undefined ? '' : `@${ref.digest}`;
  return `${name}${tag}${digest}`;
}

/** `registry/repository@digest`: the pull spec that pins an image. */
export function pinnedReference(ref: DockerReference, digest: string): string {
  return `${ref.registry}/${ref.repository}@${digest}`;
}

export interface StreamTagRef {
  namespace: string;
  stream: string;
  tag: string;
}

export interface StreamImageRef {
  namespace: string;
  stream: string;
  /** The id as normalised hex (a prefix of the digest's hex); resolve it with resolveImageId. */
  id: string;
}

/** A VALIDATION error: `input` is not of the `form` a reference must have. */
function notOfForm<T>(
  input: string,
  form: string,
  field: string | undefined,
): Result<T, DomainError> {
  return fail(domainError('VALIDATION', `"${input}" must be of the form ${form}`, field));
}

/** `[ns/]stream`, as `oc tag` reads it: at most one '/', both parts non-empty. */
function splitStream(
  input: string,
  streamPart: string,
  defaultNamespace: string,
  field: string | undefined,
): Result<{ namespace: string; stream: string }, DomainError> {
  const parts = streamPart.split('/');
  if (parts.length > 2) {
    return fail(
      domainError(
        'VALIDATION',
        `"${input}" has more than one '/': expected [<namespace>/]<stream>, without a registry`,
        field,
      ),
    );
  }
  const [namespace, stream] = parts.length === 2 ? parts : [defaultNamespace, parts[0]];
  const problems: Problem[] = [
    ...(validateNamespace(namespace!, field ?? 'namespace') ?? []),
    ...(validateStreamName(namespace!, stream!, field ?? 'name') ?? []),
  ];
  if (problems.length > 0) return failWith(problems);
  return ok({ namespace: namespace!, stream: stream! });
}

/**
 * `[ns/]stream:tag`. When `defaultStream` is given, a bare `tag` means that stream's tag, which
 * is how a spec tag's `from` names a tag of its own stream (`{kind: ImageStreamTag, name: "2.0"}`).
 */
export function parseImageStreamTagRef(
  input: string,
  defaultNamespace: string,
  defaultStream?: string,
  field?: string,
): Result<StreamTagRef, DomainError> {
  const colon = input.indexOf(':');
  if (colon === -1 && defaultStream === undefined) {
    return notOfForm(input, '[<namespace>/]<stream>:<tag>', field);
  }
  const streamPart = colon === -1 ? '' : input.slice(0, colon);
  const tag = colon === -1 ? input : input.slice(colon + 1);
  const where =
    colon === -1
      ? ok({ namespace: defaultNamespace, stream: defaultStream! })
      : splitStream(input, streamPart, defaultNamespace, field);
  if (!where.ok) return where;
  const problems = validateTagName(tag, field ?? 'tag');
  if (problems) return failWith(problems);
  return ok({ ...where.value, tag });
}

/** `[ns/]stream@id`, where id is a digest or a prefix of one (docs/rules.md#short-image-ids). */
export function parseImageStreamImageRef(
  input: string,
  defaultNamespace: string,
  defaultStream?: string,
  field?: string,
): Result<StreamImageRef, DomainError> {
  const segments = input.split('@');
  if (segments.length > 2 || (segments.length === 1 && defaultStream === undefined)) {
    return notOfForm(input, '[<namespace>/]<stream>@<id>', field);
  }
  const [streamPart, id] = segments.length === 2 ? segments : ['', segments[0]];
  const where =
    segments.length === 1
      ? ok({ namespace: defaultNamespace, stream: defaultStream! })
      : splitStream(input, streamPart!, defaultNamespace, field);
  if (!where.ok) return where;
  const normalized = normalizeImageId(id!);
  if (!normalized.ok)
    return fail(domainError('VALIDATION', normalized.error.message, field ?? 'id'));
  return ok({ ...where.value, id: normalized.value });
}

export type TagSourceKind = 'DockerImage' | 'ImageStreamTag' | 'ImageStreamImage';

/**
 * The kind `oc tag SOURCE DEST` gives a source when `--source` is not given (openshift/oc
 * pkg/cli/tag/tag.go, Complete): it parses SOURCE as a pull spec *without* normalising it, then
 *   1. a registry in it → DockerImage. The first of two or more '/'-separated components is a
 *      registry when it contains '.' or ':' or is `localhost` (so `docker.io/ruby`,
 *      `quay.io/x/y:1`, `localhost/x`, `[::1]:5000/x` are all DockerImage);
 *   2. an `@id` → ImageStreamImage (`ruby@sha256:…`, `ns/ruby@3a335d7`);
 *   3. a `:tag` → ImageStreamTag (`ruby:2.0`, `ns/ruby:2.0`);
 *   4. anything else (`ruby`, `ns/ruby`) → DockerImage, i.e. `docker.io/…:latest`.
 * Only the shape is classified; parse the source with the kind's parser to validate it.
 */
export function inferTagSourceKind(source: string): TagSourceKind {
  const slash = source.indexOf('/');
  if (slash !== -1) {
    const first = source.slice(0, slash);
    if (/[.:]/.test(first) || first === 'localhost') return 'DockerImage';
  }
  if (source.includes('@')) return 'ImageStreamImage';
  if (source.includes(':')) return 'ImageStreamTag';
  return 'DockerImage';
}

/** An image named through a stream: `ns/stream:tag` (what the tag points at now) or `ns/stream@id`. */
export type StreamImageReference =
  | ({ kind: 'ImageStreamTag' } & StreamTagRef)
  | ({ kind: 'ImageStreamImage' } & StreamImageRef);

/**
 * `ns/stream:tag` or `ns/stream@id`, the namespace always given: with two references that may
 * name different namespaces, neither borrows one from the other or from an argument.
 */
export function parseStreamImageReference(
  input: string,
  field: string,
): Result<StreamImageReference, DomainError> {
  const name = input.split(/[@:]/, 1)[0]!;
  if (!name.includes('/') || !/[@:]/.test(input)) {
    return notOfForm(input, '<namespace>/<stream>:<tag> or <namespace>/<stream>@<id>', field);
  }
  if (input.includes('@')) {
    const parsed = parseImageStreamImageRef(input, '', undefined, field);
    return parsed.ok ? ok({ kind: 'ImageStreamImage', ...parsed.value }) : parsed;
  }
  const parsed = parseImageStreamTagRef(input, '', undefined, field);
  return parsed.ok ? ok({ kind: 'ImageStreamTag', ...parsed.value }) : parsed;
}
