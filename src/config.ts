// Configuration from environment variables, validated at start with messages naming the variable.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse } from 'graphql';
import { z } from 'zod';
import type { JwtSettings } from './auth/jwt.ts';
import { hashToken } from './auth/tokens.ts';
import type { DatabaseTarget } from './db/client.ts';
import { type MirrorConfig, NO_MIRRORS, parseMirrorConfig } from './domain/mirrors.ts';
import type { Platform } from './domain/platforms.ts';
import { parseRegistryRules, type RegistryPolicy } from './domain/registryRules.ts';
import { parseAllowEntry } from './registry/egress.ts';

const boolean = z
  .enum(['true', 'false', '1', '0', 'yes', 'no', 'on', 'off'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes' || v === 'on');
const port = z.coerce.number().int().min(0).max(65535);

const otlpUrl = z
  .string()
  .refine(
    (value) => URL.canParse(value) && /^https?:$/.test(new URL(value).protocol),
    'must be an http:// or https:// URL',
  );
/** OTLP over HTTP with JSON bodies is what the built-in exporter speaks. */
const otlpProtocol = z.enum(['http/json'], {
  message: 'must be http/json (the exporter built in; grpc and http/protobuf are not)',
});

/** A registry list's entries, each checked (domain/registryRules.ts). */
function checkRegistryRules(text: string, ctx: z.RefinementCtx): void {
  try {
    parseRegistryRules(text);
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: (error as Error).message });
  }
}

/** Every variable tagraph reads, with its default. The README's configuration table mirrors it. */
const variables = z.object({
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')
    .optional(),
  TAGRAPH_DATA_DIR: z.string().min(1).default('.tagraph'),
  TAGRAPH_DB_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(10),
  TAGRAPH_HOST: z.string().min(1).default('127.0.0.1'),
  TAGRAPH_PORT: port.default(4000),
  TAGRAPH_LOG_LEVEL: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
    .default('info'),
  TAGRAPH_LOG_FORMAT: z.enum(['auto', 'json', 'pretty']).default('auto'),
  TAGRAPH_REGISTRY_HOST: z
    .string()
    .regex(/^[a-zA-Z0-9.-]+(:\d+)?$/, 'must be a host name with an optional :port')
    .default('image-registry.local:5000'),
  TAGRAPH_SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(8000),
  TAGRAPH_GRAPHIQL: boolean.optional(),
  TAGRAPH_WEB_UI: boolean.default(true),
  TAGRAPH_COMPILED_READS: boolean.default(true),
  TAGRAPH_INTROSPECTION: boolean.optional(),
  TAGRAPH_FEDERATION: boolean.default(false),
  TAGRAPH_MAX_BODY_BYTES: z.coerce.number().int().min(1024).max(100_000_000).default(1_000_000),
  TAGRAPH_EVENT_RETENTION_HOURS: z.coerce.number().positive().default(168),
  TAGRAPH_EVENT_TRIM_INTERVAL_SECONDS: z.coerce.number().positive().default(3600),
  TAGRAPH_SECRET_KEY: z
    .string()
    .refine((v) => decodeKey(v) !== null, 'must be 32 bytes, as 64 hex digits or base64')
    .optional(),
  TAGRAPH_AUTH: z.enum(['open', 'token']).optional(),
  TAGRAPH_ADMIN_TOKEN: z.string().min(32, 'must be at least 32 characters').optional(),
  TAGRAPH_IMPORT_MAX_TAGS: z.coerce.number().int().min(1).max(1000).default(50),
  TAGRAPH_IMPORT_WORKER: boolean.default(true),
  TAGRAPH_IMPORT_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(4),
  TAGRAPH_IMPORT_INTERVAL_SECONDS: z.coerce.number().int().min(1).default(900),
  TAGRAPH_IMPORT_BACKOFF_SCALE: z.coerce.number().min(0.001).max(100).default(1),
  // Which registries imports may read from, and how hard the scheduler may press them.
  TAGRAPH_IMPORT_ALLOWED_REGISTRIES: z.string().superRefine(checkRegistryRules).optional(),
  TAGRAPH_IMPORT_BLOCKED_REGISTRIES: z.string().superRefine(checkRegistryRules).optional(),
  TAGRAPH_IMPORT_MIRRORS_FILE: z.string().min(1).optional(),
  TAGRAPH_IMPORT_MAX_SCHEDULED_PER_MINUTE: z.coerce.number().int().min(1).max(100_000).default(60),
  // What one import job may spend, and how many jobs of one namespace a process runs at once.
  TAGRAPH_IMPORT_MAX_CHILDREN: z.coerce.number().int().min(1).max(10_000).default(256),
  TAGRAPH_IMPORT_MAX_JOB_BYTES: z.coerce
    .number()
    .int()
    .min(64 * 1024)
    .max(4 * 1024 ** 3)
    .default(64 * 1024 ** 2),
  TAGRAPH_IMPORT_JOB_DEADLINE_SECONDS: z.coerce.number().positive().max(3600).default(300),
  TAGRAPH_IMPORT_MAX_LISTED_TAGS: z.coerce.number().int().min(1).max(1_000_000).default(10_000),
  TAGRAPH_IMPORT_MAX_TAG_LIST_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .max(256 * 1024 ** 2)
    .default(4 * 1024 ** 2),
  TAGRAPH_IMPORT_NAMESPACE_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(2),
  TAGRAPH_REGISTRY_TIMEOUT_SECONDS: z.coerce.number().positive().max(600).default(30),
  TAGRAPH_WEBHOOK_DELIVERY: boolean.default(true),
  TAGRAPH_WEBHOOK_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(16),
  TAGRAPH_WEBHOOK_TIMEOUT_SECONDS: z.coerce.number().positive().max(60).default(10),
  TAGRAPH_WEBHOOK_RETRY_HOURS: z.coerce.number().positive().max(720).default(24),
  TAGRAPH_WEBHOOK_BACKOFF_MIN_MS: z.coerce.number().int().min(1).max(3_600_000).default(1000),
  TAGRAPH_WEBHOOK_BACKOFF_MAX_MS: z.coerce.number().int().min(1).max(86_400_000).default(3_600_000),
  TAGRAPH_WEBHOOK_POLL_MS: z.coerce.number().int().min(10).max(60_000).default(1000),
  TAGRAPH_EGRESS_ALLOW: z
    .string()
    .superRefine((text, ctx) => {
      for (const entry of egressEntries(text)) {
        try {
          parseAllowEntry(entry);
        } catch (error) {
          ctx.addIssue({ code: 'custom', message: (error as Error).message });
        }
      }
    })
    .optional(),
  TAGRAPH_JWT_JWKS_URL: z.string().url().optional(),
  TAGRAPH_JWT_PUBLIC_KEY_FILE: z.string().min(1).optional(),
  TAGRAPH_JWT_ALGORITHM: z.string().min(2).default('RS256'),
  TAGRAPH_JWT_ISSUER: z.string().min(1).optional(),
  TAGRAPH_JWT_AUDIENCE: z.string().min(1).optional(),
  TAGRAPH_JWT_GROUPS_CLAIM: z.string().min(1).default('groups'),
  TAGRAPH_JWT_ADMIN_GROUP: z.string().min(1).optional(),
  TAGRAPH_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(0).default(1200),
  TAGRAPH_MAX_SUBSCRIPTIONS_PER_CONNECTION: z.coerce.number().int().min(1).default(100),
  TAGRAPH_MAX_CONNECTIONS_PER_TOKEN: z.coerce.number().int().min(0).default(100),
  TAGRAPH_CREDENTIAL_CHECK_SECONDS: z.coerce.number().min(0.05).max(3600).default(10),
  TAGRAPH_MAX_REPLAYS: z.coerce.number().int().min(1).max(10_000).default(64),
  TAGRAPH_MAX_REPLAYS_PER_TOKEN: z.coerce.number().int().min(1).max(10_000).default(4),
  TAGRAPH_REGISTRY_CA_FILE: z.string().min(1).optional(),
  TAGRAPH_PUSH_REGISTRIES: z
    .string()
    .transform((text, ctx) => {
      try {
        return JSON.parse(text) as unknown;
      } catch {
        ctx.addIssue({ code: 'custom', message: 'must be a JSON array' });
        return z.NEVER;
      }
    })
    .pipe(
      z.array(
        z.object({
          host: z
            .string()
            .regex(/^[a-zA-Z0-9.-]+(:\d+)?$/, 'host must be a host name with an optional :port'),
          token: z.string().min(16, 'token must be at least 16 characters'),
          insecure: z.boolean().default(false),
        }),
      ),
    )
    .optional(),
  TAGRAPH_SERVER_PLATFORM: z
    .string()
    .regex(/^[a-z0-9]+\/[a-z0-9]+(\/[a-z0-9]+)?$/, 'must be os/architecture[/variant]')
    .optional(),
  TAGRAPH_SUBSCRIBER_QUEUE: z.coerce.number().int().min(10).max(1_000_000).default(1000),
  // Which documents run: a manifest's only, or any, with automatic persisted queries.
  TAGRAPH_TRUSTED_DOCUMENTS: z.string().min(1).optional(),
  TAGRAPH_TRUSTED_DOCUMENTS_ADMIN_ARBITRARY: boolean.default(false),
  TAGRAPH_APQ_MAX_DOCUMENTS: z.coerce.number().int().min(1).max(1_000_000).default(1000),
  TAGRAPH_APQ_MAX_DOCUMENT_BYTES: z.coerce.number().int().min(256).max(1_000_000).default(32_768),
  // Metrics and database timeouts.
  TAGRAPH_METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  TAGRAPH_METRICS_PORT: port.optional(),
  TAGRAPH_DB_CONNECT_TIMEOUT_SECONDS: z.coerce.number().positive().max(300).default(10),
  TAGRAPH_DB_ACQUIRE_TIMEOUT_SECONDS: z.coerce.number().positive().max(300).default(15),
  // Tracing: the standard OpenTelemetry variables (only these; the exporter reads
  // OTEL_EXPORTER_OTLP_HEADERS and OTEL_EXPORTER_OTLP_TIMEOUT itself).
  OTEL_SDK_DISABLED: boolean.optional(),
  OTEL_TRACES_EXPORTER: z
    .enum(['otlp', 'none'], { message: 'must be otlp or none (no other exporter is built in)' })
    .optional(),
  OTEL_EXPORTER_OTLP_ENDPOINT: otlpUrl.optional(),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: otlpUrl.optional(),
  OTEL_EXPORTER_OTLP_PROTOCOL: otlpProtocol.optional(),
  OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: otlpProtocol.optional(),
  OTEL_SERVICE_NAME: z.string().min(1).max(200).optional(),
});

/** The names of every environment variable loadConfig reads (for `--help`); any other is ignored. */
export const CONFIG_VARIABLES: readonly string[] = Object.keys(variables.shape);

export interface Config {
  database: DatabaseTarget;
  host: string;
  port: number;
  logLevel: z.infer<typeof variables>['TAGRAPH_LOG_LEVEL'];
  /** `auto`: pretty when stdout is a terminal, JSON lines otherwise. */
  logFormat: 'auto' | 'json' | 'pretty';
  /** The host part of every stream's pull spec: `<registryHost>/<ns>/<name>`. */
  registryHost: string;
  /** In-flight requests get this long after SIGTERM before connections are cut. */
  shutdownTimeoutMs: number;
  graphiql: boolean;
  /** Serve the web UI at `/` and its assets under `/ui/` (src/server/webUi.ts). */
  webUi: boolean;
  /** Schema introspection (on in the open development mode by default). */
  introspection: boolean;
  /** Answer covered read documents with one compiled statement (docs/compiled-reads.md). */
  compiledReads: boolean;
  /** Serve the Apollo Federation subgraph schema (`_service`, `_entities`; docs/federation.md). */
  federation: boolean;
  /** Largest request body accepted on /graphql. */
  maxBodyBytes: number;
  /** Events older than this are trimmed; a cursor older than the trim is expired. */
  eventRetentionMs: number;
  eventTrimIntervalMs: number;
  /** Live events a subscriber may have waiting before it is cut off as too slow. */
  subscriberQueue: number;
  /**
   * Trusted documents: only the manifest's documents run, asked for by their SHA-256 hash
   * (cluster admins may send any document when `adminArbitrary`). Null: any document runs, and
   * automatic persisted queries register documents by hash in a bounded store (`apq`).
   */
  trustedDocuments: TrustedDocuments | null;
  /** The automatic persisted queries' store: at most `maxDocuments` of `maxDocumentBytes`. */
  apq: { maxDocuments: number; maxDocumentBytes: number };
  /**
   * Encrypts pull secrets at rest (AES-256-GCM). Required with Postgres; the embedded mode
   * makes one in its data directory when unset (see secretKeyFor).
   */
  secretKey: Buffer | null;
  /** `importImage` with `all` imports at most this many tags. */
  importMaxTags: number;
  /** Run the import worker (and the scheduler) inside this process. */
  importWorker: boolean;
  /** Import jobs one worker process runs at once. */
  importConcurrency: number;
  /** How often a scheduled tag is re-checked (docs/rules.md#scheduled-imports). */
  importIntervalMs: number;
  /** Registries imports may and may not read from (docs/importer.md). */
  importRegistries: RegistryPolicy;
  /** Mirrors imports read through (IDMS for digests, ITMS for tags; docs/importer.md). */
  importMirrors: MirrorConfig;
  /** Scheduled checks all schedulers together start in one minute. */
  importMaxScheduledPerMinute: number;
  /** Multiplies the retry backoff of failed import jobs (tests shrink it). */
  importBackoffScale: number;
  /** What one attempt of an import job may spend on registries. */
  importBudget: ImportBudgetSettings;
  /** Import jobs of one namespace a worker process runs at once (at most `importConcurrency`). */
  importNamespaceConcurrency: number;
  /** Per-request timeout towards registries. */
  registryTimeoutMs: number;
  /** Extra CA certificates (PEM) trusted for registries, besides the system's. */
  registryCa: string | null;
  /**
   * Private or special addresses that outbound fetches (imports, push reads, token endpoints)
   * may reach anyway: IPs, CIDR ranges or host names, each with `:port` or `:*` (any port);
   * without a port, 443 and 80. Everything else private is refused. In open mode, unless
   * TAGRAPH_EGRESS_ALLOW is set, loopback on any port (LOOPBACK_EGRESS): a registry on the
   * developer's machine.
   */
  egressAllow: string[];
  /** egressAllow is open mode's loopback default (the start-up log says so). */
  egressLoopbackDefault: boolean;
  /** Outgoing webhook delivery (docs/webhooks.md). */
  webhooks: WebhookSettings;
  /** HTTP requests a token may make a minute, per process (0: no limit). */
  rateLimitPerMinute: number;
  /** Operations one graphql-ws connection may have running at once (subscriptions included). */
  maxSubscriptionsPerConnection: number;
  /** graphql-ws connections one token may hold open at once, per process (0: no limit). */
  maxConnectionsPerToken: number;
  /**
   * How often open graphql-ws connections and SSE streams re-read whether their API token was
   * revoked (a JWT's expiry ends them on time by a timer).
   */
  credentialCheckIntervalMs: number;
  /** Subscriptions with `since` replaying the log at once, per process. */
  maxReplays: number;
  /** Subscriptions with `since` replaying the log at once, per token (per subject for JWTs). */
  maxReplaysPerToken: number;
  /** The platform a Legacy import of a manifest list prefers after the tag's annotations. */
  serverPlatform: Platform;
  /**
   * `open`: no authentication, every caller a cluster admin (embedded development only).
   * `token`: every request needs a bearer token.
   */
  auth: { mode: 'open' | 'token'; adminTokenHash: string | null; jwt: JwtSettings | null };
  /** Registries whose push notifications `POST /registry/events` accepts, each with its token. */
  pushRegistries: PushRegistry[];
  /**
   * `/metrics`: with a token, only for `Authorization: Bearer <token>`; with a port, served on a
   * listener of its own (on `host`) and not on the public one.
   */
  metrics: { token: string | null; port: number | null };
  /** OpenTelemetry traces exported over OTLP/HTTP; null (the default) makes no spans at all. */
  tracing: TracingSettings | null;
}

export interface WebhookSettings {
  /** Deliver webhooks from this process (the server and `npm run worker` both may). */
  deliver: boolean;
  /** Webhook targets one process delivers to at once. */
  concurrency: number;
  /** The longest one delivery may take, connection to last byte read. */
  timeoutMs: number;
  /** How long an event is retried before its target is marked FAILING. */
  retryForMs: number;
  /** The first retry's delay; each next one doubles, up to `backoffMaxMs`. */
  backoffMinMs: number;
  backoffMaxMs: number;
  /** How often due targets are looked for besides the new-event notification. */
  pollMs: number;
}

export interface TrustedDocuments {
  /** Each document by the lowercase hex SHA-256 of its text. */
  documents: ReadonlyMap<string, string>;
  /** Cluster admins may run documents that are not in the manifest. */
  adminArbitrary: boolean;
}

export interface TracingSettings {
  /** Where spans are POSTed: the full URL of the traces endpoint (`…/v1/traces`). */
  endpoint: string;
  /** The `service.name` resource attribute. */
  serviceName: string;
}

export interface ImportBudgetSettings {
  /** Children a preserved manifest list may have. */
  maxChildren: number;
  /** Bytes of registry responses one job may read, across all its requests. */
  maxBytes: number;
  /** Wall-clock time of one job, across all its requests and their retries. */
  deadlineMs: number;
  /** `importImage` with `all` lists at most this many of the repository's tags. */
  maxListedTags: number;
  /** ...and reads at most this many bytes of tag-list pages. */
  maxTagListBytes: number;
}

export interface PushRegistry {
  /** The host[:port] images are pulled from, as in `<host>/<namespace>/<stream>:<tag>`. */
  host: string;
  /** The bearer token the registry sends with its notifications. */
  token: string;
  /** Plain HTTP or unverified TLS when reading the pushed manifests. */
  insecure: boolean;
}

/** Go's GOOS/GOARCH names for Node's process.platform/arch. */
function ownPlatform(): Platform {
  const arch: Record<string, string> = { x64: 'amd64', ia32: '386', arm64: 'arm64', arm: 'arm' };
  const os = process.platform === 'win32' ? 'windows' : process.platform;
  return { os, architecture: arch[process.arch] ?? process.arch };
}

/** What open mode allows when TAGRAPH_EGRESS_ALLOW is unset: this machine, on any port. */
export const LOOPBACK_EGRESS: readonly string[] = ['127.0.0.0/8:*', '[::1]:*'];

/** TAGRAPH_EGRESS_ALLOW's comma-separated entries. */
function egressEntries(text: string): string[] {
  return text
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
}

function readFile(variable: string, path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(
      `invalid configuration:\n  ${variable}: cannot read ${path} (${(error as Error).message})`,
    );
  }
}

/** TAGRAPH_IMPORT_MIRRORS_FILE's rules; any fault is a ConfigError naming the file. */
function readMirrors(path: string): MirrorConfig {
  try {
    return parseMirrorConfig(readFile('TAGRAPH_IMPORT_MIRRORS_FILE', path));
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    throw new ConfigError(
      `invalid configuration:\n  TAGRAPH_IMPORT_MIRRORS_FILE: ${path}: ${(error as Error).message}`,
    );
  }
}

/** The lowercase hex SHA-256 of a document's UTF-8 text: its persisted-document hash. */
export function documentHash(document: string): string {
  return createHash('sha256').update(document, 'utf8').digest('hex');
}

/** A persisted-document hash as sent or listed (`<hex>` or `sha256:<hex>`), normalized; or null. */
export function normalizedDocumentHash(key: string): string | null {
  const match = /^(?:sha256:)?([0-9a-fA-F]{64})$/.exec(key);
  return match ? match[1]!.toLowerCase() : null;
}

const TRUSTED_DOCUMENTS_FORMAT =
  'must be a JSON object of "<sha256 hex>": "<document>" (GraphQL Codegen persisted documents, gql.tada) or an Apollo persisted query manifest';
/** The two manifest formats: a plain map, and Apollo's (`operations` with `id` and `body`). */
const trustedDocumentsManifest = z.union([
  z.object({
    format: z.literal('apollo-persisted-query-manifest'),
    version: z.literal(1),
    operations: z.array(z.object({ id: z.string(), body: z.string() })),
  }),
  z.record(z.string(), z.string()),
]);

/**
 * TAGRAPH_TRUSTED_DOCUMENTS's manifest, each entry checked: its key is the SHA-256 of its
 * document, and the document parses. Any fault is a ConfigError naming the entry.
 */
function readTrustedDocuments(path: string): Map<string, string> {
  const refuse = (message: string) =>
    new ConfigError(`invalid configuration:\n  TAGRAPH_TRUSTED_DOCUMENTS: ${path}: ${message}`);
  let json: unknown;
  try {
    json = JSON.parse(readFile('TAGRAPH_TRUSTED_DOCUMENTS', path));
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    throw refuse(`is not JSON (${(error as Error).message})`);
  }
  const manifest = trustedDocumentsManifest.safeParse(json);
  if (!manifest.success) throw refuse(TRUSTED_DOCUMENTS_FORMAT);
  const entries =
    'operations' in manifest.data && Array.isArray(manifest.data.operations)
      ? manifest.data.operations.map((operation) => [operation.id, operation.body] as const)
      : Object.entries(manifest.data as Record<string, string>);
  if (entries.length === 0) throw refuse('has no documents');
  const documents = new Map<string, string>();
  for (const [key, document] of entries) {
    const hash = normalizedDocumentHash(key);
    const shown = JSON.stringify(key.length > 80 ? `${key.slice(0, 80)}…` : key);
    if (hash === null) throw refuse(`entry ${shown} is not a SHA-256 hash (64 hex digits)`);
    const actual = documentHash(document);
    if (actual !== hash) {
      throw refuse(`entry ${shown} does not match its document, whose SHA-256 is ${actual}`);
    }
    try {
      parse(document);
    } catch (error) {
      throw refuse(`entry ${shown} does not parse: ${(error as Error).message.split('\n')[0]}`);
    }
    documents.set(hash, document);
  }
  return documents;
}

/**
 * TAGRAPH_TRUSTED_DOCUMENTS's manifests, comma separated (e.g. the CLI's and a front end's),
 * merged into one map: a document listed by several runs once.
 */
function readTrustedManifests(paths: string): Map<string, string> {
  const files = paths
    .split(',')
    .map((path) => path.trim())
    .filter((path) => path !== '');
  if (files.length === 0) {
    throw new ConfigError('invalid configuration:\n  TAGRAPH_TRUSTED_DOCUMENTS: names no file');
  }
  const documents = new Map<string, string>();
  for (const path of files) {
    for (const [hash, document] of readTrustedDocuments(path)) documents.set(hash, document);
  }
  return documents;
}

/** A 32-byte key from 64 hex digits or base64, or null. */
export function decodeKey(value: string): Buffer | null {
  const trimmed = value.trim();
  const key = /^[0-9a-fA-F]{64}$/.test(trimmed)
    ? Buffer.from(trimmed, 'hex')
    : Buffer.from(trimmed, 'base64');
  return key.length === 32 ? key : null;
}

function parsePlatform(value: string): Platform {
  const [os, architecture, variant] = value.split('/') as [string, string, string?];
  return { os, architecture, variant: variant ?? null };
}

/**
 * Variables whose values are secrets, or hold them: named, never shown. Any variable whose name
 * says token, secret, key, password or credential counts too, so a new one is covered.
 */
const SECRET_VARIABLES = new Set([
  'TAGRAPH_ADMIN_TOKEN',
  'TAGRAPH_SECRET_KEY',
  'TAGRAPH_PUSH_REGISTRIES',
]);
const SECRET_NAME = /TOKEN|SECRET|KEY|PASSWORD|PASSWD|CREDENTIAL/i;
/** Whether a variable's value is a secret (or holds one) that is never shown or logged. */
export function isSecretVariable(variable: string): boolean {
  return SECRET_VARIABLES.has(variable) || SECRET_NAME.test(variable);
}
/** A bad value is quoted at most this long in an error. */
const SHOWN_LENGTH = 100;

/**
 * How a bad value appears in a configuration error: null (not shown) for a secret variable, and
 * for a DATABASE_URL that does not parse as a URL; a URL with its password and query masked
 * (`postgres://user:***@host/db`); otherwise quoted and shortened, with anything like a URL's
 * password or a `password=` parameter masked.
 */
export function shownValue(variable: string, value: string | undefined): string | null {
  if (value === undefined) return 'nothing';
  if (isSecretVariable(variable)) return null;
  if (variable === 'DATABASE_URL') return maskedUrl(value);
  const masked = value
    .replace(/(\/\/[^/?#@:]*:).*@/g, '$1***@')
    .replace(/((?:^|[?&;\s])(?:password|passwd|pass|token|secret)=)[^&;\s]*/gi, '$1***');
  const short =
    masked.length > SHOWN_LENGTH
      ? `${masked.slice(0, SHOWN_LENGTH)}… (${masked.length} characters)`
      : masked;
  return JSON.stringify(short);
}

/** A URL without its password and query, or null when `value` is no `scheme://` URL. */
function maskedUrl(value: string): string | null {
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(value) || !URL.canParse(value)) return null;
  const url = new URL(value);
  const user = url.username ? `${url.username}${url.password ? ':***' : ''}@` : '';
  const query = url.search ? '?***' : '';
  return JSON.stringify(`${url.protocol}//${user}${url.host}${url.pathname}${query}`);
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/**
 * Reads configuration from `env`; throws a ConfigError naming each bad variable. `migrate` reads
 * no pull secret, so it alone may leave out TAGRAPH_SECRET_KEY with DATABASE_URL.
 */
export function loadConfig(
  env: Record<string, string | undefined> = process.env,
  options: { secretKeyRequired?: boolean } = {},
): Config {
  const present = Object.fromEntries(
    Object.entries(env).filter(([key, value]) => key in variables.shape && value !== ''),
  );
  const parsed = variables.safeParse(present);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => {
      const variable = String(issue.path[0]);
      const shown = shownValue(variable, present[variable]);
      return `  ${issue.path.join('.')}: ${issue.message}${shown === null ? '' : ` (got ${shown})`}`;
    });
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
  }
  const v = parsed.data;
  if (v.DATABASE_URL && !v.TAGRAPH_SECRET_KEY && options.secretKeyRequired !== false) {
    throw new ConfigError(
      'invalid configuration:\n  TAGRAPH_SECRET_KEY: required with DATABASE_URL (it encrypts pull secrets); make one with `openssl rand -hex 32`',
    );
  }
  const authMode = v.TAGRAPH_AUTH ?? (v.DATABASE_URL ? 'token' : 'open');
  if (authMode === 'open' && v.DATABASE_URL) {
    throw new ConfigError(
      'invalid configuration:\n  TAGRAPH_AUTH: open is only for the embedded database; with DATABASE_URL every request needs a token',
    );
  }
  return {
    auth: {
      mode: authMode,
      adminTokenHash: v.TAGRAPH_ADMIN_TOKEN ? hashToken(v.TAGRAPH_ADMIN_TOKEN) : null,
      jwt:
        v.TAGRAPH_JWT_JWKS_URL || v.TAGRAPH_JWT_PUBLIC_KEY_FILE
          ? {
              jwksUrl: v.TAGRAPH_JWT_JWKS_URL ?? null,
              publicKey: v.TAGRAPH_JWT_PUBLIC_KEY_FILE
                ? readFile('TAGRAPH_JWT_PUBLIC_KEY_FILE', v.TAGRAPH_JWT_PUBLIC_KEY_FILE)
                : null,
              algorithm: v.TAGRAPH_JWT_ALGORITHM,
              issuer: v.TAGRAPH_JWT_ISSUER ?? null,
              audience: v.TAGRAPH_JWT_AUDIENCE ?? null,
              groupsClaim: v.TAGRAPH_JWT_GROUPS_CLAIM,
              adminGroup: v.TAGRAPH_JWT_ADMIN_GROUP ?? null,
            }
          : null,
    },
    database: v.DATABASE_URL
      ? {
          kind: 'postgres',
          url: v.DATABASE_URL,
          poolSize: v.TAGRAPH_DB_POOL_SIZE,
          connectTimeoutSeconds: v.TAGRAPH_DB_CONNECT_TIMEOUT_SECONDS,
          acquireTimeoutMs: v.TAGRAPH_DB_ACQUIRE_TIMEOUT_SECONDS * 1000,
        }
      : {
          kind: 'pglite',
          dataDir: v.TAGRAPH_DATA_DIR === 'memory' ? 'memory' : resolve(v.TAGRAPH_DATA_DIR),
        },
    host: v.TAGRAPH_HOST,
    port: v.TAGRAPH_PORT,
    logLevel: v.TAGRAPH_LOG_LEVEL,
    logFormat: v.TAGRAPH_LOG_FORMAT,
    registryHost: v.TAGRAPH_REGISTRY_HOST,
    shutdownTimeoutMs: v.TAGRAPH_SHUTDOWN_TIMEOUT_MS,
    graphiql: v.TAGRAPH_GRAPHIQL ?? authMode === 'open',
    webUi: v.TAGRAPH_WEB_UI,
    compiledReads: v.TAGRAPH_COMPILED_READS,
    introspection: v.TAGRAPH_INTROSPECTION ?? authMode === 'open',
    federation: v.TAGRAPH_FEDERATION,
    maxBodyBytes: v.TAGRAPH_MAX_BODY_BYTES,
    eventRetentionMs: v.TAGRAPH_EVENT_RETENTION_HOURS * 3_600_000,
    eventTrimIntervalMs: v.TAGRAPH_EVENT_TRIM_INTERVAL_SECONDS * 1000,
    subscriberQueue: v.TAGRAPH_SUBSCRIBER_QUEUE,
    trustedDocuments: v.TAGRAPH_TRUSTED_DOCUMENTS
      ? {
          documents: readTrustedManifests(v.TAGRAPH_TRUSTED_DOCUMENTS),
          adminArbitrary: v.TAGRAPH_TRUSTED_DOCUMENTS_ADMIN_ARBITRARY,
        }
      : null,
    apq: {
      maxDocuments: v.TAGRAPH_APQ_MAX_DOCUMENTS,
      maxDocumentBytes: v.TAGRAPH_APQ_MAX_DOCUMENT_BYTES,
    },
    secretKey: v.TAGRAPH_SECRET_KEY ? decodeKey(v.TAGRAPH_SECRET_KEY) : null,
    importMaxTags: v.TAGRAPH_IMPORT_MAX_TAGS,
    importWorker: v.TAGRAPH_IMPORT_WORKER,
    importConcurrency: v.TAGRAPH_IMPORT_CONCURRENCY,
    importIntervalMs: v.TAGRAPH_IMPORT_INTERVAL_SECONDS * 1000,
    importBackoffScale: v.TAGRAPH_IMPORT_BACKOFF_SCALE,
    importRegistries: {
      allowed: v.TAGRAPH_IMPORT_ALLOWED_REGISTRIES
        ? parseRegistryRules(v.TAGRAPH_IMPORT_ALLOWED_REGISTRIES)
        : null,
      blocked: parseRegistryRules(v.TAGRAPH_IMPORT_BLOCKED_REGISTRIES ?? ''),
    },
    importMirrors: v.TAGRAPH_IMPORT_MIRRORS_FILE
      ? readMirrors(v.TAGRAPH_IMPORT_MIRRORS_FILE)
      : NO_MIRRORS,
    importMaxScheduledPerMinute: v.TAGRAPH_IMPORT_MAX_SCHEDULED_PER_MINUTE,
    importBudget: {
      maxChildren: v.TAGRAPH_IMPORT_MAX_CHILDREN,
      maxBytes: v.TAGRAPH_IMPORT_MAX_JOB_BYTES,
      deadlineMs: Math.round(v.TAGRAPH_IMPORT_JOB_DEADLINE_SECONDS * 1000),
      maxListedTags: v.TAGRAPH_IMPORT_MAX_LISTED_TAGS,
      maxTagListBytes: v.TAGRAPH_IMPORT_MAX_TAG_LIST_BYTES,
    },
    importNamespaceConcurrency: Math.min(
      v.TAGRAPH_IMPORT_NAMESPACE_CONCURRENCY,
      v.TAGRAPH_IMPORT_CONCURRENCY,
    ),
    registryTimeoutMs: v.TAGRAPH_REGISTRY_TIMEOUT_SECONDS * 1000,
    rateLimitPerMinute: v.TAGRAPH_RATE_LIMIT_PER_MINUTE,
    maxSubscriptionsPerConnection: v.TAGRAPH_MAX_SUBSCRIPTIONS_PER_CONNECTION,
    maxConnectionsPerToken: v.TAGRAPH_MAX_CONNECTIONS_PER_TOKEN,
    credentialCheckIntervalMs: Math.round(v.TAGRAPH_CREDENTIAL_CHECK_SECONDS * 1000),
    maxReplays: v.TAGRAPH_MAX_REPLAYS,
    maxReplaysPerToken: v.TAGRAPH_MAX_REPLAYS_PER_TOKEN,
    egressAllow:
      v.TAGRAPH_EGRESS_ALLOW === undefined && authMode === 'open'
        ? [...LOOPBACK_EGRESS]
        : egressEntries(v.TAGRAPH_EGRESS_ALLOW ?? ''),
    egressLoopbackDefault: v.TAGRAPH_EGRESS_ALLOW === undefined && authMode === 'open',
    webhooks: {
      deliver: v.TAGRAPH_WEBHOOK_DELIVERY,
      concurrency: v.TAGRAPH_WEBHOOK_CONCURRENCY,
      timeoutMs: Math.round(v.TAGRAPH_WEBHOOK_TIMEOUT_SECONDS * 1000),
      retryForMs: Math.round(v.TAGRAPH_WEBHOOK_RETRY_HOURS * 3_600_000),
      backoffMinMs: v.TAGRAPH_WEBHOOK_BACKOFF_MIN_MS,
      backoffMaxMs: Math.max(v.TAGRAPH_WEBHOOK_BACKOFF_MAX_MS, v.TAGRAPH_WEBHOOK_BACKOFF_MIN_MS),
      pollMs: v.TAGRAPH_WEBHOOK_POLL_MS,
    },
    registryCa: v.TAGRAPH_REGISTRY_CA_FILE
      ? readFile('TAGRAPH_REGISTRY_CA_FILE', v.TAGRAPH_REGISTRY_CA_FILE)
      : null,
    pushRegistries: v.TAGRAPH_PUSH_REGISTRIES ?? [],
    serverPlatform: v.TAGRAPH_SERVER_PLATFORM
      ? parsePlatform(v.TAGRAPH_SERVER_PLATFORM)
      : ownPlatform(),
    metrics: { token: v.TAGRAPH_METRICS_TOKEN ?? null, port: v.TAGRAPH_METRICS_PORT ?? null },
    tracing: tracingSettings(v),
  };
}

/** The OTLP endpoint as the OpenTelemetry specification resolves it for traces. */
const DEFAULT_OTLP_ENDPOINT = 'http://localhost:4318';

/**
 * Tracing is on when an OTLP endpoint is given (OTEL_EXPORTER_OTLP_TRACES_ENDPOINT as is, or
 * OTEL_EXPORTER_OTLP_ENDPOINT with `/v1/traces` added) or OTEL_TRACES_EXPORTER=otlp asks for
 * it (then the specification's default endpoint), and off otherwise: unlike the specification's
 * default exporter, nothing is sent unless asked for. OTEL_TRACES_EXPORTER=none and
 * OTEL_SDK_DISABLED=true turn it off.
 */
function tracingSettings(v: z.infer<typeof variables>): TracingSettings | null {
  if (v.OTEL_SDK_DISABLED || v.OTEL_TRACES_EXPORTER === 'none') return null;
  const base = v.OTEL_EXPORTER_OTLP_ENDPOINT;
  const endpoint =
    v.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ??
    (base ? `${base.replace(/\/+$/, '')}/v1/traces` : null) ??
    (v.OTEL_TRACES_EXPORTER === 'otlp' ? `${DEFAULT_OTLP_ENDPOINT}/v1/traces` : null);
  if (endpoint === null) return null;
  return { endpoint, serviceName: v.OTEL_SERVICE_NAME ?? 'tagraph' };
}
