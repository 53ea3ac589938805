// What the entry points share: flags and env, `--help`, one-line start-up failures, signals.
import { createServer } from 'node:net';
import { parseArgs } from 'node:util';
import type { Logger } from 'pino';
import { CONFIG_VARIABLES, type Config, ConfigError, loadConfig } from './config.ts';
import { DataDirLockedError } from './db/dataDirLock.ts';

export type Entry = 'gateway' | 'worker' | 'migrate';

interface Flag {
  variable: string;
  value: string;
  help: string;
  /** The entry points the flag means something to. */
  for: readonly Entry[];
}

/** Command-line flags override the environment variable of the same meaning. */
const FLAGS: Record<string, Flag> = {
  port: {
    variable: 'TAGRAPH_PORT',
    value: '<n>',
    help: 'port to listen on (default 4000; 0 picks a free one)',
    for: ['gateway'],
  },
  host: {
    variable: 'TAGRAPH_HOST',
    value: '<address>',
    help: 'address to listen on (default 127.0.0.1; 0.0.0.0 for all)',
    for: ['gateway'],
  },
  'database-url': {
    variable: 'DATABASE_URL',
    value: '<url>',
    help: 'postgres://user@host:5432/db (the gateway and migrate: unset means embedded PGlite)',
    for: ['gateway', 'worker', 'migrate'],
  },
  'data-dir': {
    variable: 'TAGRAPH_DATA_DIR',
    value: '<dir>',
    help: 'embedded PGlite data directory (default .tagraph; memory: nothing on disk)',
    for: ['gateway', 'migrate'],
  },
  'log-level': {
    variable: 'TAGRAPH_LOG_LEVEL',
    value: '<level>',
    help: 'fatal, error, warn, info, debug, trace or silent (default info)',
    for: ['gateway', 'worker'],
  },
  'log-format': {
    variable: 'TAGRAPH_LOG_FORMAT',
    value: '<format>',
    help: 'auto (pretty on a terminal, else JSON lines), json or pretty',
    for: ['gateway', 'worker'],
  },
  concurrency: {
    variable: 'TAGRAPH_IMPORT_CONCURRENCY',
    value: '<n>',
    help: 'import jobs this process runs at once (default 4)',
    for: ['gateway', 'worker'],
  },
};

const ABOUT: Record<Entry, string> = {
  gateway: `Usage: npm start -- [options]

The tagraph gateway: GraphQL over HTTP, SSE and graphql-ws on /graphql, and the import worker
(unless TAGRAPH_IMPORT_WORKER=false). Without DATABASE_URL it keeps its data in embedded PGlite
(TAGRAPH_DATA_DIR) and runs without authentication (open development mode); with DATABASE_URL
it needs TAGRAPH_SECRET_KEY, and every request a token (TAGRAPH_ADMIN_TOKEN or JWTs).`,
  worker: `Usage: npm run worker -- [options]

The import worker and scheduler alone, beside gateways on one Postgres. Needs DATABASE_URL and
the gateways' TAGRAPH_SECRET_KEY. What reaches registries is configured here, not in the
gateways: TAGRAPH_EGRESS_ALLOW, TAGRAPH_REGISTRY_CA_FILE, TAGRAPH_REGISTRY_TIMEOUT_SECONDS,
TAGRAPH_SERVER_PLATFORM and the import limits (README.md, "Which process reads what").`,
  migrate: `Usage: npm run migrate -- [options]

Applies the committed migrations to the database and exits (the gateway and the worker also
apply them at start). Needs DATABASE_URL, or the PGlite data directory.`,
};

/** `--help` for an entry point: its options with the variables they set, then every variable. */
export function usage(entry: Entry): string {
  const flags = Object.entries(FLAGS).filter(([, flag]) => flag.for.includes(entry));
  const left = flags.map(([name, flag]) => `  --${name} ${flag.value}`);
  const width = Math.max(...left.map((text) => text.length)) + 2;
  const variableWidth = Math.max(...flags.map(([, flag]) => flag.variable.length)) + 2;
  const lines = flags.map(
    ([, flag], i) => `${left[i]!.padEnd(width)}${flag.variable.padEnd(variableWidth)}${flag.help}`,
  );
  const names: string[] = [];
  let line = ' ';
  for (const name of CONFIG_VARIABLES) {
    if (line.length + name.length + 1 > 98) {
      names.push(line);
      line = ' ';
    }
    line += ` ${name}`;
  }
  names.push(line);
  return [
    ABOUT[entry],
    '',
    'Options (each sets the environment variable beside it, and wins over it):',
    ...lines,
    `  ${'-h, --help'.padEnd(width - 2)}${''.padEnd(variableWidth)}print this help and exit`,
    '',
    'Environment variables read (README.md, "Configuration", says what each means):',
    ...names,
    '',
  ].join('\n');
}

/**
 * Reads flags and environment; prints the problem and exits 2 when the configuration is bad,
 * and the usage, exiting 0, on `--help`.
 */
export function configFromCommandLine(entry: Entry = 'gateway'): Config {
  const env: Record<string, string | undefined> = { ...process.env };
  try {
    const { values } = parseArgs({
      options: {
        ...Object.fromEntries(
          Object.keys(FLAGS).map((flag) => [flag, { type: 'string' as const }]),
        ),
        help: { type: 'boolean', short: 'h' },
      },
    });
    if (values.help) {
      process.stdout.write(usage(entry));
      process.exit(0);
    }
    for (const [flag, { variable }] of Object.entries(FLAGS)) {
      const value = (values as Record<string, unknown>)[flag];
      if (typeof value === 'string') env[variable] = value;
    }
    return loadConfig(env, { secretKeyRequired: entry !== 'migrate' });
  } catch (error) {
    const known =
      error instanceof ConfigError ||
      (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
    if (!known) throw error;
    const hint = error instanceof ConfigError ? '' : ' (--help lists the options)';
    console.error(`tagraph: ${(error as Error).message}${hint}`);
    process.exit(2);
  }
}

/** A system error's code, or a Postgres SQLSTATE, found along the cause chain. */
function errorCode(error: unknown): string | undefined {
  for (let e = error, depth = 0; e && depth < 6; e = (e as Error).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
  }
  return undefined;
}

/**
 * Fails at once when the gateway could not listen, before it opens the database or starts the
 * importer: binds the port (and the metrics port) and lets go of it again. Port 0 always works.
 */
export async function checkListenable(config: Config): Promise<void> {
  const ports = [
    { port: config.port, flag: '--port or TAGRAPH_PORT' },
    ...(config.metrics.port !== null
      ? [{ port: config.metrics.port, flag: 'TAGRAPH_METRICS_PORT' }]
      : []),
  ];
  for (const { port, flag } of ports) {
    if (port === 0) continue;
    const server = createServer();
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ port, host: config.host, exclusive: true }, resolve);
      });
    } catch (error) {
      exitWith(listenFailure(error, config.host, port, flag) ?? `tagraph: cannot listen: ${error}`);
    }
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

function listenFailure(error: unknown, host: string, port: number, flag: string): string | null {
  const where = `${host}:${port}`;
  switch (errorCode(error)) {
    case 'EADDRINUSE':
      return `tagraph: port ${port} is already in use (${where}): stop what is using it, or choose another port with ${flag} (0 picks a free one)`;
    case 'EACCES':
      return `tagraph: not allowed to listen on port ${port} (${where}): use a port above 1023 with ${flag}`;
    case 'EADDRNOTAVAIL':
    case 'ENOTFOUND':
      return `tagraph: ${host} is not an address of this machine: choose another with --host or TAGRAPH_HOST`;
    default:
      return null;
  }
}

/** The parts of DATABASE_URL that may be shown: never its password or query. */
function databaseTarget(url: string) {
  const parsed = new URL(url);
  return {
    host: parsed.hostname || 'localhost',
    port: parsed.port || '5432',
    user: decodeURIComponent(parsed.username) || null,
    name: decodeURIComponent(parsed.pathname.replace(/^\//, '')) || 'postgres',
  };
}

/**
 * One line for a start-up failure the operator can fix (a port in use, a database that does not
 * exist, cannot be reached or refuses the login), or null for anything else. Never shows the
 * password of DATABASE_URL.
 */
export function startupFailure(error: unknown, config: Config): string | null {
  if (error instanceof DataDirLockedError) return `tagraph failed to start: ${error.message}`;
  const listen = listenFailure(error, config.host, config.port, '--port or TAGRAPH_PORT');
  if (listen && (error as { syscall?: string }).syscall === 'listen') return listen;
  if (config.database.kind !== 'postgres') return null;
  let db: ReturnType<typeof databaseTarget>;
  try {
    db = databaseTarget(config.database.url);
  } catch {
    return null;
  }
  const server = `${db.host}:${db.port}`;
  const user = db.user ? ` -U ${db.user}` : '';
  switch (errorCode(error)) {
    case '3D000':
      return `tagraph: the database "${db.name}" does not exist on ${server}: create it with \`createdb -h ${db.host} -p ${db.port}${user} ${db.name}\` (or CREATE DATABASE "${db.name}"; in psql), then start again; tagraph creates its tables itself`;
    case '28P01':
    case '28000':
      return `tagraph: Postgres at ${server} refused the login${db.user ? ` of user "${db.user}"` : ''} to "${db.name}": check the user and password in DATABASE_URL`;
    case 'ECONNREFUSED':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EHOSTUNREACH':
    case 'ETIMEDOUT':
    case 'CONNECT_TIMEOUT':
      return `tagraph: cannot reach Postgres at ${server} (${errorCode(error)}): is it running, and is DATABASE_URL right?`;
    default:
      return null;
  }
}

function exitWith(line: string): never {
  console.error(line);
  process.exit(1);
}

/** Ends a process that failed to start: one line when the cause is known, else the error. */
export function exitOnStartupFailure(error: unknown, config: Config | null, name: string): never {
  const line = config ? startupFailure(error, config) : null;
  if (line) exitWith(line);
  console.error(`${name} failed to start:`, error);
  process.exit(1);
}

/** On SIGTERM or SIGINT: run `stop` once and exit 0, or 1 if it fails or takes over 10 s. */
export function exitOnSignals(log: Logger, stop: () => Promise<void>): void {
  let signalled = false;
  const shutdown = (signal: string) => {
    if (signalled) return;
    signalled = true;
    log.info({ signal }, 'shutting down');
    setTimeout(() => {
      log.error('shutdown took too long; exiting');
      process.exit(1);
    }, 10_000).unref();
    stop().then(
      () => process.exit(0),
      (error) => {
        log.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}
