// Client for one registry's OCI distribution API: manifests, blobs and tags, all digest-verified.
import { createHash } from 'node:crypto';
import { validateTagName } from '../domain/names.ts';
import { Authorizer, pullScope, type RegistryCredential } from './auth.ts';
import type { RequestBudget } from './budget.ts';
import type { EgressPolicy } from './egress.ts';
import { RegistryError } from './errors.ts';
import {
  bareMediaType,
  isDigest,
  MANIFEST_ACCEPT,
  type ParsedManifest,
  parseManifest,
} from './manifests.ts';
import {
  type Exchange,
  firstHeader,
  isConnectionFailure,
  networkError,
  type RegistryRequestObserver,
  readBody,
  readBodyPrefix,
  Transport,
} from './transport.ts';

export interface RegistryClientOptions {
  /** `host[:port]` as in an image reference: `quay.io`, `127.0.0.1:5000`, `docker.io`. */
  registry: string;
  /** Sent only to the registry's own origin and, in the token flow, to its token realm. */
  credential?: RegistryCredential | null;
  /**
   * Skip TLS verification, and fall back to plain `http://` when HTTPS cannot connect.
   * @default false
   */
  insecure?: boolean;
  /** An extra PEM CA certificate to trust besides Node's bundled roots. */
  ca?: string;
  /** The SSRF guard; without one, any address may be reached. */
  egress?: EgressPolicy;
  /** Per request attempt: connecting, waiting for headers, and between body chunks. @default 30_000 */
  timeoutMs?: number;
  /** Retries on 429, 5xx and network errors, honouring Retry-After up to 30 s. @default 3 */
  retries?: number;
  /** @default 4 MiB */
  maxManifestBytes?: number;
  /** The default limit of `getBlob`. @default 8 MiB */
  maxConfigBytes?: number;
  /** Told of every request (metrics). */
  observe?: RegistryRequestObserver;
}

export interface FetchedManifest {
  /** The digest of `bytes` (the reference itself when it was a digest). */
  digest: string;
  mediaType: string;
  /** Exactly as served; the digest is computed over these. */
  bytes: Uint8Array;
  manifest: ParsedManifest;
}

export interface ListTagsOptions {
  /** Ask for pages of this many tags (`?n=`); the registry decides when absent. */
  pageSize?: number;
  /** Stop once this many tags are listed. @default 10_000 */
  maxTags?: number;
  /** Stop once this many bytes of pages are read, across pages. @default 4 MiB */
  maxBytes?: number;
  budget?: RequestBudget;
}

/** The tags of a repository, as far as the caps let the listing go. */
export interface TagListing {
  /** In the registry's order. */
  tags: string[];
  /** The registry had more (tags, bytes or pages past the caps) that were not read. */
  truncated: boolean;
}

const MiB = 1024 * 1024;
export const DEFAULT_MAX_LISTED_TAGS = 10_000;
export const DEFAULT_MAX_TAG_LIST_BYTES = 4 * MiB;
/** Pages followed at most; a registry paging endlessly is cut off here. */
const MAX_TAG_PAGES = 1_000;
/** Docker Hub's names for itself in image references; its API lives elsewhere. */
const DOCKER_HUB_NAMES = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io']);
const DOCKER_HUB_API = 'registry-1.docker.io';

// Distribution's reference grammar; checking it keeps `..`, `?` and `#` out of request paths.
const REPOSITORY =
  /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const HOST = /^[A-Za-z0-9.-]+(?::\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](?::\d{1,5})?$/;

export class RegistryClient {
  /** The registry as given, used in every message. */
  readonly registry: string;
  private readonly apiHost: string;
  private readonly insecure: boolean;
  private readonly maxManifestBytes: number;
  private readonly maxConfigBytes: number;
  private readonly transport: Transport;
  private readonly authorizer: Authorizer;
  private readonly hasCredential: boolean;
  /** `https://host` or, for an insecure registry that only speaks HTTP, `http://host`. */
  private origin: Promise<string> | null = null;

  constructor(options: RegistryClientOptions) {
    if (!HOST.test(options.registry)) {
      throw new RegistryError(
        'InternalError',
        `${JSON.stringify(options.registry)} is not a registry host`,
      );
    }
    this.registry = options.registry;
    const host = options.registry.toLowerCase();
    this.apiHost = DOCKER_HUB_NAMES.has(host) ? DOCKER_HUB_API : host;
    this.insecure = options.insecure ?? false;
    this.maxManifestBytes = options.maxManifestBytes ?? 4 * MiB;
    this.maxConfigBytes = options.maxConfigBytes ?? 8 * MiB;
    this.transport = new Transport({
      ...(options.egress ? { egress: options.egress } : {}),
      ...(options.ca ? { ca: options.ca } : {}),
      insecure: this.insecure,
      timeoutMs: options.timeoutMs ?? 30_000,
      retries: options.retries ?? 3,
      ...(options.observe ? { observe: options.observe } : {}),
    });
    this.hasCredential = Boolean(options.credential);
    this.authorizer = new Authorizer(this.transport, options.credential ?? null, this.registry);
  }

  /** Checks that the registry answers `GET /v2/` and accepts our credentials. */
  async ping(): Promise<void> {
    const subject = 'the /v2/ endpoint';
    await this.guard(subject, async () => {
      const response = await this.exchange('GET', '/v2/', null, subject);
      await response.body.dump();
      if (response.status !== 200) throw this.statusError(response.status, subject);
    });
  }

  /** A manifest, checked against its digest; `budget` bounds its time and bytes. */
  async getManifest(
    repository: string,
    reference: string,
    budget?: RequestBudget,
  ): Promise<FetchedManifest> {
    const subject = manifestSubject(repository, checkReference(repository, reference));
    return this.guard(
      subject,
      async () => {
        const { response, bytes } = await this.pullBody(
          `/v2/${repository}/manifests/${reference}`,
          repository,
          subject,
          this.maxManifestBytes,
          budget,
          { accept: MANIFEST_ACCEPT },
        );
        const digest = this.verifyManifest(bytes, reference, response, subject);
        let manifest: ParsedManifest;
        try {
          manifest = parseManifest(bytes, firstHeader(response.headers['content-type']) ?? null);
        } catch (error) {
          if (!(error instanceof RegistryError)) throw error;
          throw new RegistryError(
            error.reason,
            `${subject} from ${this.registry}: ${error.message}`,
          );
        }
        return { digest, mediaType: manifest.mediaType, bytes, manifest };
      },
      budget,
    );
  }

  /** The digest and media type without the body; null when there is no such manifest. */
  async headManifest(
    repository: string,
    reference: string,
  ): Promise<{ digest: string; mediaType: string } | null> {
    const subject = manifestSubject(repository, checkReference(repository, reference));
    const head = await this.guard(subject, async () => {
      const response = await this.exchange(
        'HEAD',
        `/v2/${repository}/manifests/${reference}`,
        pullScope(repository),
        subject,
        { accept: MANIFEST_ACCEPT },
      );
      await response.body.dump();
      if (response.status === 404) return null;
      if (response.status !== 200) throw this.statusError(response.status, subject);
      const digest = firstHeader(response.headers['docker-content-digest']);
      const mediaType = bareMediaType(firstHeader(response.headers['content-type']));
      if (digest && isDigest(reference) && digest !== reference) {
        throw this.mismatch(subject, reference, digest);
      }
      // Without both headers only the body can tell: fall back to a GET below.
      return digest && isDigest(digest) && mediaType ? { digest, mediaType } : undefined;
    });
    if (head !== undefined) return head;
    const { digest, mediaType } = await this.getManifest(repository, reference);
    return { digest, mediaType };
  }

  /**
   * A blob, checked against its digest; at most `maxBytes` (default `maxConfigBytes`), and
   * within `budget` when given.
   */
  async getBlob(
    repository: string,
    digest: string,
    maxBytes = this.maxConfigBytes,
    budget?: RequestBudget,
  ): Promise<Uint8Array> {
    checkRepository(repository);
    if (!isDigest(digest)) throw invalidArgument(`${JSON.stringify(digest)} is not a digest`);
    const subject = `blob ${repository}@${digest}`;
    return this.guard(
      subject,
      async () => {
        const { bytes } = await this.pullBody(
          `/v2/${repository}/blobs/${digest}`,
          repository,
          subject,
          maxBytes,
          budget,
        );
        const actual = hash(digest, bytes);
        if (actual !== digest) throw this.mismatch(subject, digest, actual);
        return bytes;
      },
      budget,
    );
  }

  /**
   * The repository's tags, following `Link: <…>; rel="next"` pages until `maxTags` tags or
   * `maxBytes` bytes of pages (or 1,000 pages) have been read: what lies beyond is never read,
   * and `truncated` says it was there. A page cut at the byte cap yields its complete names.
   * Names that are not valid tags are dropped and count toward no cap but the bytes.
   * A next link to another origin is refused rather than followed: the distribution spec makes
   * it a path on the registry, and a registry pointing elsewhere is broken or hostile either way.
   */
  async listTags(repository: string, options: ListTagsOptions = {}): Promise<TagListing> {
    checkRepository(repository);
    const subject = `the tags of ${repository}`;
    const maxTags = options.maxTags ?? DEFAULT_MAX_LISTED_TAGS;
    const { budget } = options;
    return this.guard(
      subject,
      async () => {
        const origin = await untilAborted(this.resolveOrigin(), budget?.signal);
        let url = new URL(`/v2/${repository}/tags/list`, origin);
        if (options.pageSize) url.searchParams.set('n', String(options.pageSize));
        const tags: string[] = [];
        let bytesLeft = options.maxBytes ?? DEFAULT_MAX_TAG_LIST_BYTES;
        const seen = new Set<string>();
        for (let page = 0; page < MAX_TAG_PAGES; page++) {
          seen.add(url.href);
          const response = await this.pull(url, repository, subject, budget);
          const body = await readBodyPrefix(
            response,
            bytesLeft,
            `a page of ${subject} from ${this.registry}`,
            budget,
          );
          bytesLeft -= body.bytes.length;
          const names = body.cut ? parseTagsPrefix(body.bytes) : parseTags(body.bytes, subject);
          // One by one: spreading a page of 100,000 names into push() overflows the stack.
          // A name outside the tag grammar (a NUL, a lone surrogate, a slash) names nothing any
          // client can pull, and could not be stored as a tag: it is left out.
          for (const name of names) {
            if (validateTagName(name) !== null) continue;
            if (tags.length >= maxTags) return { tags, truncated: true };
            tags.push(name);
          }
          if (body.cut) return { tags, truncated: true };
          const next = nextLink(response.headers.link);
          if (next === null) return { tags, truncated: false };
          if (tags.length >= maxTags || bytesLeft <= 0) return { tags, truncated: true };
          url = new URL(next, url);
          if (url.origin !== origin) {
            throw new RegistryError(
              'InternalError',
              `${this.registry} pointed the next page of ${subject} at another origin (${url.origin}); refusing to follow`,
            );
          }
          if (seen.has(url.href)) {
            throw new RegistryError(
              'InternalError',
              `${this.registry} sent a tag page link that loops`,
            );
          }
        }
        return { tags, truncated: true };
      },
      budget,
    );
  }

  async close(): Promise<void> {
    await this.transport.close();
  }

  /**
   * One request with authentication: credentials learnt from earlier challenges go up front; a
   * 401 is answered once (Basic, or a fresh Bearer token), and a second 401 is final.
   */
  private async exchange(
    method: 'GET' | 'HEAD',
    path: string | URL,
    scope: string | null,
    subject: string,
    headers: Record<string, string> = {},
    budget?: RequestBudget,
  ): Promise<Exchange> {
    budget?.checkDeadline();
    // The scheme probe and a token fetch are shared by concurrent requests, so neither is
    // aborted for one job; the job stops waiting for them at its deadline or cancellation.
    const origin = await untilAborted(this.resolveOrigin(), budget?.signal);
    const url = typeof path === 'string' ? new URL(path, origin) : path;
    const send = (authorization: string | null) =>
      this.transport.send(url, {
        method,
        headers,
        authorization,
        trustedOrigin: origin,
        subject: `${subject} from ${this.registry}`,
        ...(budget ? { signal: budget.signal } : {}),
      });
    const sent = this.authorizer.upFront(scope);
    const first = await send(sent);
    if (first.status !== 401) return first;
    await first.body.dump();
    const retryWith = await untilAborted(
      this.authorizer.answer(first.headers['www-authenticate'], scope, sent, subject),
      budget?.signal,
    );
    if (retryWith === null) throw this.unauthorized(401, subject);
    const second = await send(retryWith);
    if (second.status !== 401) return second;
    await second.body.dump();
    throw this.unauthorized(401, subject);
  }

  /** A GET with pull access to `repository` that must answer 200: anything else is thrown. */
  private async pull(
    path: string | URL,
    repository: string,
    subject: string,
    budget?: RequestBudget,
    headers: Record<string, string> = {},
  ): Promise<Exchange> {
    const response = await this.exchange(
      'GET',
      path,
      pullScope(repository),
      subject,
      headers,
      budget,
    );
    if (response.status !== 200) {
      await response.body.dump();
      throw this.statusError(response.status, subject);
    }
    return response;
  }

  /** pull(), and the whole body read: at most `maxBytes`. */
  private async pullBody(
    path: string,
    repository: string,
    subject: string,
    maxBytes: number,
    budget?: RequestBudget,
    headers: Record<string, string> = {},
  ): Promise<{ response: Exchange; bytes: Buffer }> {
    const response = await this.pull(path, repository, subject, budget, headers);
    const bytes = await readBody(response, maxBytes, `${subject} from ${this.registry}`, budget);
    return { response, bytes };
  }

  private resolveOrigin(): Promise<string> {
    if (!this.origin) {
      this.origin = this.detectOrigin();
      // A failed probe is not remembered: the next call tries again.
      this.origin.catch(() => {
        this.origin = null;
      });
    }
    return this.origin;
  }

  /**
   * HTTPS always, except that an insecure registry which cannot be reached over HTTPS (refused,
   * or not speaking TLS, as a plain-HTTP registry on 127.0.0.1) is tried over HTTP; the scheme
   * that answered is kept for the life of the client.
   */
  private async detectOrigin(): Promise<string> {
    const secure = new URL(`https://${this.apiHost}`).origin;
    if (!this.insecure) return secure;
    try {
      await this.transport.probe(new URL('/v2/', secure), false);
      return secure;
    } catch (error) {
      if (!isConnectionFailure(error)) throw error;
    }
    const plain = new URL(`http://${this.apiHost}`).origin;
    await this.transport.probe(new URL('/v2/', plain), true);
    return plain;
  }

  /** The digest of manifest bytes, checked against the reference or the registry's header. */
  private verifyManifest(
    bytes: Uint8Array,
    reference: string,
    response: Exchange,
    subject: string,
  ): string {
    if (isDigest(reference)) {
      const actual = hash(reference, bytes);
      if (actual !== reference) throw this.mismatch(subject, reference, actual);
      return reference;
    }
    const claimed = firstHeader(response.headers['docker-content-digest']);
    if (claimed !== undefined) {
      const actual = isDigest(claimed) ? hash(claimed, bytes) : null;
      if (actual !== claimed)
        throw this.mismatch(subject, claimed, actual ?? 'an unparseable digest');
    }
    return hash('sha256:', bytes);
  }

  /**
   * Runs one operation, turning what it throws into a RegistryError; once the budget's signal is
   * aborted, whatever the aborted request threw is reported as the signal's reason instead (the
   * deadline's `Timeout`, or the job's cancellation, which is not a RegistryError).
   */
  private async guard<T>(
    subject: string,
    operation: () => Promise<T>,
    budget?: RequestBudget,
  ): Promise<T> {
    try {
      return await operation();
    } catch (error) {
      budget?.checkDeadline();
      throw networkError(error, this.registry, subject);
    }
  }

  private statusError(status: number, subject: string): RegistryError {
    if (status === 404) {
      return new RegistryError('NotFound', `${subject} not found in ${this.registry}`, { status });
    }
    if (status === 401 || status === 403) return this.unauthorized(status, subject);
    const retryable = status === 429 || status >= 500;
    const reason =
      status === 429 || status === 502 || status === 503 || status === 504
        ? 'Unavailable'
        : 'InternalError';
    return new RegistryError(reason, `${this.registry} answered HTTP ${status} for ${subject}`, {
      status,
      retryable,
    });
  }

  private unauthorized(status: number, subject: string): RegistryError {
    const message = this.hasCredential
      ? `${this.registry} denied access to ${subject} (HTTP ${status}): the credentials were rejected or lack pull access, or the repository does not exist`
      : `${this.registry} requires authentication for ${subject}, and no credentials were configured`;
    return new RegistryError('Unauthorized', message, { status });
  }

  private mismatch(subject: string, expected: string, actual: string): RegistryError {
    return new RegistryError(
      'DigestMismatch',
      `${subject} from ${this.registry} has digest ${actual}, not the expected ${expected}`,
    );
  }
}

function manifestSubject(repository: string, reference: string): string {
  return `manifest ${repository}${isDigest(reference) ? '@' : ':'}${reference}`;
}

function checkRepository(repository: string): void {
  if (!REPOSITORY.test(repository) || repository.length > 255) {
    throw invalidArgument(`${JSON.stringify(repository)} is not a repository name`);
  }
}

function checkReference(repository: string, reference: string): string {
  checkRepository(repository);
  if (!TAG.test(reference) && !isDigest(reference)) {
    throw invalidArgument(`${JSON.stringify(reference)} is neither a tag nor a digest`);
  }
  return reference;
}

function invalidArgument(message: string): RegistryError {
  return new RegistryError('InternalError', message);
}

/** `algorithm:hex` of the bytes, with the algorithm taken from `like` (`sha256:…`/`sha512:…`). */
function hash(like: string, bytes: Uint8Array): string {
  const algorithm = like.startsWith('sha512:') ? 'sha512' : 'sha256';
  return `${algorithm}:${createHash(algorithm).update(bytes).digest('hex')}`;
}

function parseTags(bytes: Buffer, subject: string): string[] {
  let body: unknown;
  try {
    body = JSON.parse(bytes.toString('utf8'));
  } catch {
    body = undefined;
  }
  const tags = (body as { tags?: unknown } | undefined)?.tags;
  if (tags === null) return []; // distribution sends null for a repository without tags
  if (!Array.isArray(tags) || !tags.every((t) => typeof t === 'string')) {
    throw new RegistryError('InternalError', `${subject} came back in an unexpected format`);
  }
  return tags;
}

/**
 * The complete names at the start of a page cut off mid-way: `{"name":"a","tags":["x","y","z`
 * gives x and y (the last may be unfinished), and a page cut before its list gives none. Tag
 * names never hold quotes or backslashes.
 */
function parseTagsPrefix(bytes: Buffer): string[] {
  const text = bytes.toString('utf8');
  const start = /"tags"\s*:\s*\[/.exec(text);
  if (!start) return [];
  const item = /\s*"([^"\\]*)"\s*([,\]])/y;
  item.lastIndex = start.index + start[0].length;
  const tags: string[] = [];
  for (let match = item.exec(text); match; match = item.exec(text)) {
    tags.push(match[1]!);
    if (match[2] === ']') break;
  }
  return tags;
}

/** Resolves as `promise`, or rejects with the signal's reason once it is aborted. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  signal.throwIfAborted();
  return new Promise<T>((resolve, reject) => {
    const abort = () => reject(signal.reason);
    signal.addEventListener('abort', abort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', abort));
  });
}

/** The target of `rel="next"` in a Link header, if any. */
function nextLink(header: string | string[] | undefined): string | null {
  const values = Array.isArray(header) ? header : header ? [header] : [];
  for (const value of values) {
    for (const link of value.split(/,\s*(?=<)/)) {
      const match = /^\s*<([^>]*)>(.*)$/.exec(link);
      if (match && /;\s*rel\s*=\s*"?next"?(?:[\s;]|$)/i.test(match[2]!)) return match[1]!;
    }
  }
  return null;
}
