// Reading what a registry's webhook says was pushed: one parser per vendor's documented payload.
import { parseDockerReference } from './references.ts';

export const RECEIVER_KINDS = ['DOCKER_HUB', 'QUAY', 'HARBOR', 'GITHUB', 'GENERIC'] as const;
export type ReceiverKind = (typeof RECEIVER_KINDS)[number];

/**
 * Kinds whose calls carry a secret: GitHub signs the body (`X-Hub-Signature-256`), GENERIC signs
 * timestamp and body, Harbor sends its webhook's "auth header" verbatim. Docker Hub and Quay
 * send nothing to check: the URL's token is their only credential.
 */
export const SIGNED_KINDS: ReadonlySet<ReceiverKind> = new Set(['HARBOR', 'GITHUB', 'GENERIC']);

/** Where a kind's repositories live when neither the payload nor the receiver says. */
const DEFAULT_HOSTS: Partial<Record<ReceiverKind, string>> = {
  DOCKER_HUB: 'docker.io',
  QUAY: 'quay.io',
  GITHUB: 'ghcr.io',
};

/** One pushed repository and the tags pushed to it, normalised (`docker.io/library/x`). */
export interface ReceivedPush {
  /** `host/path`, as tag sources are stored. */
  repository: string;
  tags: string[];
}

/** A call's payload read, or why it cannot be; `ignored` for events that are not pushes. */
export type ReadPayload =
  | { ok: true; push: ReceivedPush }
  | { ok: true; push: null; ignored: string }
  | { ok: false; error: string };

const MAX_TAGS = 100;

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const text = (value: unknown): string | null =>
  typeof value === 'string' && value.length > 0 && value.length <= 512 ? value : null;

/** The host of a `host/path[:tag]` the payload gives (Quay's docker_url, Harbor's resource_url). */
function hostOf(url: string | null): string | null {
  if (!url) return null;
  const slash = url.replace(/^https?:\/\//, '').indexOf('/');
  return slash > 0 ? url.replace(/^https?:\/\//, '').slice(0, slash) : null;
}

/**
 * The normalised repository of `path` on `host` (host given by the receiver, else by the payload,
 * else the kind's default; null: `path` names its host, or is on Docker Hub), and the tags; an
 * error when it is no valid reference.
 */
function pushOf(host: string | null, path: string, tags: string[]): ReadPayload {
  const valid = tags.filter((tag) => /^[\w][\w.-]{0,127}$/.test(tag)).slice(0, MAX_TAGS);
  if (valid.length === 0) return { ok: false, error: 'the payload names no valid tag' };
  const parsed = parseDockerReference(host ? `${host}/${path.toLowerCase()}` : path);
  if (!parsed.ok) return { ok: false, error: parsed.error.message };
  return {
    ok: true,
    push: { repository: `${parsed.value.registry}/${parsed.value.repository}`, tags: valid },
  };
}

/** Docker Hub: `repository.repo_name` and `push_data.tag`. */
function dockerHub(body: Json, host: string | null): ReadPayload {
  const repository = isObject(body.repository) ? text(body.repository.repo_name) : null;
  const tag = isObject(body.push_data) ? text(body.push_data.tag) : null;
  if (!repository || !tag) {
    return { ok: false, error: 'expected repository.repo_name and push_data.tag' };
  }
  return pushOf(host ?? DEFAULT_HOSTS.DOCKER_HUB!, repository, [tag]);
}

/**
 * Quay's repository push: `repository` (`namespace/name`), `docker_url` (`host/namespace/name`)
 * and `updated_tags`, a list in current Quay (a map of tag to image id in early versions).
 */
function quay(body: Json, host: string | null): ReadPayload {
  const repository = text(body.repository);
  const updated = body.updated_tags;
  const tags = Array.isArray(updated)
    ? updated.filter((t): t is string => typeof t === 'string')
    : isObject(updated)
      ? Object.keys(updated)
      : null;
  if (!repository || !tags) return { ok: false, error: 'expected repository and updated_tags' };
  return pushOf(host ?? hostOf(text(body.docker_url)) ?? DEFAULT_HOSTS.QUAY!, repository, tags);
}

/**
 * Harbor's default payload: `type` PUSH_ARTIFACT, `event_data.repository.repo_full_name` and
 * `event_data.resources[].tag` (with `resource_url`, `host/project/repo:tag`).
 */
function harbor(body: Json, host: string | null): ReadPayload {
  const type = text(body.type);
  if (type && type !== 'PUSH_ARTIFACT') return { ok: true, push: null, ignored: `${type} events` };
  const data = isObject(body.event_data) ? body.event_data : null;
  const repository =
    data && isObject(data.repository) ? text(data.repository.repo_full_name) : null;
  const resources = data && Array.isArray(data.resources) ? data.resources.filter(isObject) : null;
  if (!repository || !resources || resources.length === 0) {
    return {
      ok: false,
      error: 'expected event_data.repository.repo_full_name and event_data.resources[].tag',
    };
  }
  const tags = resources.map((r) => text(r.tag)).filter((t): t is string => t !== null);
  const from = host ?? hostOf(text(resources[0]!.resource_url));
  if (!from) return { ok: false, error: 'the payload names no registry host (resource_url)' };
  return pushOf(from, repository, tags);
}

/**
 * GitHub's `package` (and older `registry_package`) event: `package.namespace`/`package.name`
 * and `package.package_version.container_metadata.tag.name`; other package types and actions
 * are ignored.
 */
function github(body: Json, host: string | null): ReadPayload {
  const pkg = isObject(body.package)
    ? body.package
    : isObject(body.registry_package)
      ? body.registry_package
      : null;
  if (!pkg) return { ok: false, error: 'expected package' };
  const type = text(pkg.package_type)?.toLowerCase();
  if (type && type !== 'container' && type !== 'docker') {
    return { ok: true, push: null, ignored: `${type} packages` };
  }
  const namespace = text(pkg.namespace);
  const name = text(pkg.name);
  const version = isObject(pkg.package_version) ? pkg.package_version : null;
  const metadata =
    version && isObject(version.container_metadata) ? version.container_metadata : null;
  const tag = metadata && isObject(metadata.tag) ? text(metadata.tag.name) : null;
  if (!namespace || !name || !tag) {
    return {
      ok: false,
      error:
        'expected package.namespace, package.name and package.package_version.container_metadata.tag.name',
    };
  }
  return pushOf(host ?? DEFAULT_HOSTS.GITHUB!, `${namespace}/${name}`, [tag]);
}

/**
 * GENERIC: `{repository, tag}`; `repository` is a path on the receiver's registry when it has
 * one, else a pull spec's name (`host/path`, or a Docker Hub name).
 */
function generic(body: Json, host: string | null): ReadPayload {
  const repository = text(body.repository);
  const tag = text(body.tag);
  if (!repository || !tag) return { ok: false, error: 'expected repository and tag' };
  return pushOf(host, repository, [tag]);
}

const READERS: Record<ReceiverKind, (body: Json, host: string | null) => ReadPayload> = {
  DOCKER_HUB: dockerHub,
  QUAY: quay,
  HARBOR: harbor,
  GITHUB: github,
  GENERIC: generic,
};

/** Reads a parsed JSON body as `kind` sends it; `registry` is the receiver's host, if set. */
export function readReceiverPayload(
  kind: ReceiverKind,
  body: unknown,
  registry: string | null,
): ReadPayload {
  if (!isObject(body)) return { ok: false, error: 'the body is not a JSON object' };
  return READERS[kind](body, registry);
}

/**
 * The repository a tag's DockerImage source names (`host/path`, normalised), and its tag; null
 * when the source does not parse.
 */
export function sourceRepository(from: string): { repository: string; tag: string | null } | null {
  const parsed = parseDockerReference(from);
  if (!parsed.ok) return null;
  return {
    repository: `${parsed.value.registry}/${parsed.value.repository}`,
    tag: parsed.value.digest ? null : (parsed.value.tag ?? null),
  };
}
