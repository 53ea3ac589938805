// Pull secrets: reading an auths document, and which key serves an image.
// The rules: docs/rules.md#pull-secrets-which-key-serves-an-image.
import { fail, ok, type Result } from '../errors.ts';
import { type DomainError, domainError } from './names.ts';

export interface RegistryCredential {
  /** The `auths` key exactly as written: `quay.io`, `https://index.docker.io/v1/`, … */
  key: string;
  username: string;
  password: string;
  email?: string;
  /** An OAuth refresh token (`docker login` against an identity provider). */
  identityToken?: string;
}

/** A key taken apart: host (may hold `*` globs), port ('' for none), path segments. */
export interface RegistryKey {
  host: string;
  port: string;
  path: string[];
}

const DOCKER_HUB_HOSTS = ['docker.io', 'index.docker.io', 'registry-1.docker.io'];
const HOST_PORT = /^(\[[0-9a-fA-F:]+\]|[^:[\]]+)(?::(\d+))?$/;
const HOST_CHARS = /^[a-z0-9*?.-]+$/;

/**
 * Reads a key as Kubernetes' credentialprovider keyring does: an optional `http(s)://` is
 * dropped; a leading `/v1/` or `/v2/` is the registry API, not a repository (so
 * `https://index.docker.io/v1/` is just `index.docker.io`); what remains of the path is a
 * repository prefix. Hosts compare case-insensitively, so they are lowercased.
 */
export function parseRegistryKey(key: string): Result<RegistryKey, DomainError> {
  let rest = key.trim().replace(/^https?:\/\//i, '');
  if (rest.includes('://')) {
    return fail(
      domainError('VALIDATION', `registry "${key}" has a scheme other than http:// or https://`),
    );
  }
  const slash = rest.indexOf('/');
  const hostPort = slash === -1 ? rest : rest.slice(0, slash);
  rest = slash === -1 ? '' : rest.slice(slash);
  if (rest.startsWith('/v1/') || rest.startsWith('/v2/')) rest = rest.slice(3);
  const match = HOST_PORT.exec(hostPort);
  const host = match?.[1]?.toLowerCase() ?? '';
  if (!match || (!host.startsWith('[') && !HOST_CHARS.test(host))) {
    return fail(
      domainError(
        'VALIDATION',
        `registry "${key}" must be a host name with an optional port and path, like "quay.io", "registry.example.com:5000/team" or "*.example.com"`,
      ),
    );
  }
  const path = rest.split('/').filter((s) => s !== '');
  return ok({ host, port: match[2] ?? '', path });
}

/** `filepath.Match` for one host label: `*` is any run of characters, `?` one character. */
function globMatch(pattern: string, value: string): boolean {
  const source = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${source}$`).test(value);
}

function hostMatches(pattern: string, host: string): boolean {
  const want = pattern.split('.');
  const have = host.split('.');
  return want.length === have.length && want.every((p, i) => globMatch(p, have[i]!));
}

function matches(key: RegistryKey, hosts: string[], port: string, path: string[]): boolean {
  if (key.port !== port) return false;
  if (!hosts.some((h) => hostMatches(key.host, h))) return false;
  return key.path.length <= path.length && key.path.every((s, i) => s === path[i]);
}

/**
 * Every key that may serve `registry/repository`, best first. A key matches when its host
 * matches label by label (`*.example.com` globs; same number of labels), its port equals the
 * image's (none = none), and its path is a prefix of the repository, whole segments only
 * (`quay.io/repo` does not serve `quay.io/repository-main/x`; the keyring's plain string prefix
 * would). Docker Hub images also match keys for `index.docker.io` and `registry-1.docker.io`.
 * Best = the longest key: more path segments, then fewer wildcards, then more characters, then
 * alphabetical (only so the order is stable). Keys that do not parse are skipped.
 */
export function rankCredentials(
  keys: readonly string[],
  imageRegistry: string,
  imageRepository: string,
): string[] {
  const hostPort = HOST_PORT.exec(imageRegistry.toLowerCase());
  if (!hostPort) return [];
  const host = hostPort[1]!;
  const port = hostPort[2] ?? '';
  const hosts = DOCKER_HUB_HOSTS.includes(host) && port === '' ? DOCKER_HUB_HOSTS : [host];
  const path = imageRepository.split('/').filter((s) => s !== '');
  const found: { key: string; parsed: RegistryKey; length: number; wildcards: number }[] = [];
  for (const key of keys) {
    const parsed = parseRegistryKey(key);
    if (!parsed.ok || !matches(parsed.value, hosts, port, path)) continue;
    const { host: h, path: p } = parsed.value;
    const wildcards = (h.match(/[*?]/g) ?? []).length;
    found.push({ key, parsed: parsed.value, length: h.length + p.join('/').length, wildcards });
  }
  found.sort(
    (a, b) =>
      b.parsed.path.length - a.parsed.path.length ||
      a.wildcards - b.wildcards ||
      b.length - a.length ||
      (a.key < b.key ? -1 : a.key > b.key ? 1 : 0),
  );
  return found.map((f) => f.key);
}

/** The one key to use for an image, or null when none matches (then pull anonymously). */
export function matchCredential(
  keys: readonly string[],
  imageRegistry: string,
  imageRepository: string,
): string | null {
  return rankCredentials(keys, imageRegistry, imageRepository)[0] ?? null;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function decodeAuth(value: string): string | null {
  try {
    const binary = atob(value.replace(/\s+/g, ''));
    return utf8.decode(Uint8Array.from(binary, (c) => c.charCodeAt(0)));
  } catch {
    return null;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function optionalString(entry: Record<string, unknown>, name: string): string | undefined | null {
  const value = entry[name];
  if (value === undefined || value === null) return undefined;
  return typeof value === 'string' ? value : null;
}

function readEntry(key: string, entry: unknown): Result<RegistryCredential, DomainError> {
  const at = `auths[${JSON.stringify(key)}]`;
  if (!isObject(entry)) return fail(domainError('VALIDATION', `${at} must be an object`));
  const fields: Record<string, string | undefined> = {};
  for (const name of ['auth', 'username', 'password', 'email', 'identitytoken']) {
    const value = optionalString(entry, name);
    if (value === null) return fail(domainError('VALIDATION', `${at}.${name} must be a string`));
    fields[name] = value;
  }
  let { username = '', password = '' } = fields;
  // Like docker's config loader, a non-empty `auth` wins over `username`/`password`.
  if (fields.auth) {
    const decoded = decodeAuth(fields.auth);
    if (decoded === null)
      return fail(domainError('VALIDATION', `${at}.auth is not valid base64 text`));
    const colon = decoded.indexOf(':');
    if (colon === -1) {
      return fail(
        domainError(
          'VALIDATION',
          `${at}.auth must be base64 of "username:password" (no ':' found)`,
        ),
      );
    }
    username = decoded.slice(0, colon);
    password = decoded.slice(colon + 1);
  }
  if (!(username && password) && !fields.identitytoken) {
    return fail(
      domainError(
        'VALIDATION',
        `${at} has no credentials: give "auth" (base64 of username:password), "username" and "password", or "identitytoken"`,
      ),
    );
  }
  const credential: RegistryCredential = { key, username, password };
  if (fields.email) credential.email = fields.email;
  if (fields.identitytoken) credential.identityToken = fields.identitytoken;
  return ok(credential);
}

/**
 * Parses a docker `config.json` / podman `auth.json` document. Other top-level members
 * (`credsStore`, `credHelpers`, …) are ignored: helpers run programs, which a server must not.
 */
export function parseDockerConfig(text: string): Result<RegistryCredential[], DomainError> {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    return fail(
      domainError('VALIDATION', `pull secret is not valid JSON: ${(error as Error).message}`),
    );
  }
  if (!isObject(document) || !isObject(document.auths)) {
    return fail(
      domainError(
        'VALIDATION',
        'pull secret must be a JSON object with an "auths" object, as in a docker config.json or podman auth.json',
      ),
    );
  }
  const entries = Object.entries(document.auths);
  if (entries.length === 0)
    return fail(domainError('VALIDATION', 'pull secret has no registries in "auths"'));
  const credentials: RegistryCredential[] = [];
  for (const [key, entry] of entries) {
    const parsedKey = parseRegistryKey(key);
    if (!parsedKey.ok) return parsedKey;
    const credential = readEntry(key, entry);
    if (!credential.ok) return credential;
    credentials.push(credential.value);
  }
  return ok(credentials);
}
