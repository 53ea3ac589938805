// Configuration: defaults, the two database modes, and errors that name the bad variable.
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.ts';

describe('loadConfig', () => {
  it('defaults to embedded PGlite under ./.tagraph', () => {
    const config = loadConfig({});
    expect(config.database).toEqual({ kind: 'pglite', dataDir: resolve('.tagraph') });
    expect(config.port).toBe(4000);
    expect(config.host).toBe('127.0.0.1');
  });

  it('keeps PGlite in memory for TAGRAPH_DATA_DIR=memory', () => {
    expect(loadConfig({ TAGRAPH_DATA_DIR: 'memory' }).database).toEqual({
      kind: 'pglite',
      dataDir: 'memory',
    });
  });

  it('uses Postgres when DATABASE_URL is set', () => {
    const config = loadConfig({
      DATABASE_URL: 'postgres://u@h:5432/db',
      TAGRAPH_DB_POOL_SIZE: '4',
      TAGRAPH_SECRET_KEY: 'ab'.repeat(32),
    });
    expect(config.database).toEqual({
      kind: 'postgres',
      url: 'postgres://u@h:5432/db',
      poolSize: 4,
      connectTimeoutSeconds: 10,
      acquireTimeoutMs: 15_000,
    });
  });

  it('reads the database timeouts, and refuses one that is not a positive number', () => {
    const config = loadConfig({
      DATABASE_URL: 'postgres://u@h:5432/db',
      TAGRAPH_SECRET_KEY: 'ab'.repeat(32),
      TAGRAPH_DB_CONNECT_TIMEOUT_SECONDS: '2',
      TAGRAPH_DB_ACQUIRE_TIMEOUT_SECONDS: '0.5',
    });
    expect(config.database).toMatchObject({ connectTimeoutSeconds: 2, acquireTimeoutMs: 500 });
    for (const variable of [
      'TAGRAPH_DB_CONNECT_TIMEOUT_SECONDS',
      'TAGRAPH_DB_ACQUIRE_TIMEOUT_SECONDS',
    ]) {
      expect(() => loadConfig({ [variable]: '0' })).toThrow(new RegExp(variable));
      expect(() => loadConfig({ [variable]: 'soon' })).toThrow(new RegExp(variable));
    }
  });

  it('serves /metrics openly on the public port unless a token or a port is set', () => {
    expect(loadConfig({}).metrics).toEqual({ token: null, port: null });
    expect(
      loadConfig({
        TAGRAPH_METRICS_TOKEN: 'metrics-token-0123456789',
        TAGRAPH_METRICS_PORT: '9464',
      }).metrics,
    ).toEqual({ token: 'metrics-token-0123456789', port: 9464 });
    expect(() => loadConfig({ TAGRAPH_METRICS_TOKEN: 'short' })).toThrow(/TAGRAPH_METRICS_TOKEN/);
    expect(() => loadConfig({ TAGRAPH_METRICS_PORT: 'x' })).toThrow(/TAGRAPH_METRICS_PORT/);
  });

  it('traces nothing unless an OTLP endpoint or OTEL_TRACES_EXPORTER=otlp asks for it', () => {
    expect(loadConfig({}).tracing).toBeNull();
    expect(loadConfig({ OTEL_SERVICE_NAME: 'x' }).tracing).toBeNull();
    expect(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' }).tracing).toEqual({
      endpoint: 'http://collector:4318/v1/traces',
      serviceName: 'tagraph',
    });
    expect(
      loadConfig({
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://traces.example/custom',
        OTEL_SERVICE_NAME: 'gateway-a',
      }).tracing,
    ).toEqual({ endpoint: 'https://traces.example/custom', serviceName: 'gateway-a' });
    expect(loadConfig({ OTEL_TRACES_EXPORTER: 'otlp' }).tracing?.endpoint).toBe(
      'http://localhost:4318/v1/traces',
    );
    const endpoint = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' };
    expect(loadConfig({ ...endpoint, OTEL_TRACES_EXPORTER: 'none' }).tracing).toBeNull();
    expect(loadConfig({ ...endpoint, OTEL_SDK_DISABLED: 'true' }).tracing).toBeNull();
    expect(() => loadConfig({ ...endpoint, OTEL_TRACES_EXPORTER: 'jaeger' })).toThrow(
      /OTEL_TRACES_EXPORTER: must be otlp or none/,
    );
    expect(() => loadConfig({ ...endpoint, OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' })).toThrow(
      /OTEL_EXPORTER_OTLP_PROTOCOL: must be http\/json/,
    );
    expect(() => loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' })).toThrow(
      /OTEL_EXPORTER_OTLP_ENDPOINT: must be an http/,
    );
  });

  it('refuses Postgres without a secret key, naming TAGRAPH_SECRET_KEY', () => {
    expect(() => loadConfig({ DATABASE_URL: 'postgres://u@h:5432/db' })).toThrow(
      /TAGRAPH_SECRET_KEY: required with DATABASE_URL/,
    );
  });

  it('reads a secret key as hex or base64, and refuses a short one', () => {
    const hex = loadConfig({ TAGRAPH_SECRET_KEY: 'ab'.repeat(32) }).secretKey;
    expect(hex).toEqual(Buffer.alloc(32, 0xab));
    const b64 = loadConfig({
      TAGRAPH_SECRET_KEY: Buffer.alloc(32, 1).toString('base64'),
    }).secretKey;
    expect(b64).toEqual(Buffer.alloc(32, 1));
    expect(() => loadConfig({ TAGRAPH_SECRET_KEY: 'abcd' })).toThrow(/TAGRAPH_SECRET_KEY/);
  });

  it('treats an empty variable as unset', () => {
    expect(loadConfig({ DATABASE_URL: '' }).database.kind).toBe('pglite');
  });

  it.each([
    ['TAGRAPH_PORT', 'eighty'],
    ['TAGRAPH_PORT', '70000'],
    ['DATABASE_URL', 'mysql://x'],
    ['TAGRAPH_LOG_LEVEL', 'loud'],
    ['TAGRAPH_GRAPHIQL', 'maybe'],
    ['TAGRAPH_REGISTRY_HOST', 'http://x/y'],
  ])('names %s when it is %s', (variable, value) => {
    expect(() => loadConfig({ [variable]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [variable]: value })).toThrow(new RegExp(variable));
  });

  it('reads the importer settings, with the server platform from this machine by default', () => {
    const defaults = loadConfig({});
    expect(defaults).toMatchObject({
      importWorker: true,
      importConcurrency: 4,
      importIntervalMs: 900_000,
      registryTimeoutMs: 30_000,
      registryCa: null,
    });
    expect(defaults.serverPlatform.os).toBe(process.platform);
    const set = loadConfig({
      TAGRAPH_IMPORT_WORKER: 'false',
      TAGRAPH_IMPORT_INTERVAL_SECONDS: '5',
      TAGRAPH_SERVER_PLATFORM: 'linux/arm/v7',
    });
    expect(set).toMatchObject({
      importWorker: false,
      importIntervalMs: 5000,
      serverPlatform: { os: 'linux', architecture: 'arm', variant: 'v7' },
    });
  });

  it('names bad importer settings: platform, interval, unreadable CA file', () => {
    expect(() => loadConfig({ TAGRAPH_SERVER_PLATFORM: 'amd64' })).toThrow(
      /TAGRAPH_SERVER_PLATFORM: must be os\/architecture/,
    );
    expect(() => loadConfig({ TAGRAPH_IMPORT_INTERVAL_SECONDS: '0' })).toThrow(
      /TAGRAPH_IMPORT_INTERVAL_SECONDS/,
    );
    expect(() => loadConfig({ TAGRAPH_REGISTRY_CA_FILE: '/nonexistent/ca.pem' })).toThrow(
      /TAGRAPH_REGISTRY_CA_FILE: cannot read \/nonexistent\/ca.pem/,
    );
  });

  it('reads the connection bounds, and names a bad one', () => {
    expect(loadConfig({})).toMatchObject({
      maxSubscriptionsPerConnection: 100,
      maxConnectionsPerToken: 100,
      credentialCheckIntervalMs: 10_000,
      maxReplays: 64,
      maxReplaysPerToken: 4,
    });
    expect(
      loadConfig({
        TAGRAPH_MAX_CONNECTIONS_PER_TOKEN: '0',
        TAGRAPH_CREDENTIAL_CHECK_SECONDS: '2.5',
        TAGRAPH_MAX_REPLAYS: '8',
        TAGRAPH_MAX_REPLAYS_PER_TOKEN: '2',
      }),
    ).toMatchObject({
      maxConnectionsPerToken: 0,
      credentialCheckIntervalMs: 2500,
      maxReplays: 8,
      maxReplaysPerToken: 2,
    });
    for (const [variable, value] of [
      ['TAGRAPH_MAX_CONNECTIONS_PER_TOKEN', '-1'],
      ['TAGRAPH_CREDENTIAL_CHECK_SECONDS', '0'],
      ['TAGRAPH_CREDENTIAL_CHECK_SECONDS', 'often'],
      ['TAGRAPH_MAX_REPLAYS', '0'],
      ['TAGRAPH_MAX_REPLAYS_PER_TOKEN', '1.5'],
    ]) {
      expect(() => loadConfig({ [variable!]: value })).toThrow(new RegExp(`${variable}:`));
    }
  });

  it('reads the import budgets and per-namespace concurrency, with bounded defaults', () => {
    expect(loadConfig({})).toMatchObject({
      importBudget: {
        maxChildren: 256,
        maxBytes: 64 * 1024 * 1024,
        deadlineMs: 300_000,
        maxListedTags: 10_000,
        maxTagListBytes: 4 * 1024 * 1024,
      },
      importNamespaceConcurrency: 2,
    });
    const set = loadConfig({
      TAGRAPH_IMPORT_MAX_CHILDREN: '10',
      TAGRAPH_IMPORT_MAX_JOB_BYTES: '1048576',
      TAGRAPH_IMPORT_JOB_DEADLINE_SECONDS: '1.5',
      TAGRAPH_IMPORT_MAX_LISTED_TAGS: '500',
      TAGRAPH_IMPORT_MAX_TAG_LIST_BYTES: '65536',
      TAGRAPH_IMPORT_NAMESPACE_CONCURRENCY: '1',
    });
    expect(set).toMatchObject({
      importBudget: {
        maxChildren: 10,
        maxBytes: 1_048_576,
        deadlineMs: 1500,
        maxListedTags: 500,
        maxTagListBytes: 65_536,
      },
      importNamespaceConcurrency: 1,
    });
    // A namespace can never be given more slots than the process has.
    expect(
      loadConfig({ TAGRAPH_IMPORT_CONCURRENCY: '3', TAGRAPH_IMPORT_NAMESPACE_CONCURRENCY: '8' })
        .importNamespaceConcurrency,
    ).toBe(3);
  });

  it.each([
    ['TAGRAPH_IMPORT_MAX_CHILDREN', '0'],
    ['TAGRAPH_IMPORT_MAX_JOB_BYTES', '1000'],
    ['TAGRAPH_IMPORT_JOB_DEADLINE_SECONDS', '0'],
    ['TAGRAPH_IMPORT_JOB_DEADLINE_SECONDS', 'soon'],
    ['TAGRAPH_IMPORT_MAX_LISTED_TAGS', '-1'],
    ['TAGRAPH_IMPORT_MAX_TAG_LIST_BYTES', '10'],
    ['TAGRAPH_IMPORT_NAMESPACE_CONCURRENCY', '0'],
  ])('names %s when it is %s', (variable, value) => {
    expect(() => loadConfig({ [variable]: value })).toThrow(new RegExp(variable));
  });

  it('reads push registries as JSON and names a bad entry', () => {
    const config = loadConfig({
      TAGRAPH_PUSH_REGISTRIES: '[{"host":"registry.example.com:5000","token":"0123456789abcdef0"}]',
    });
    expect(config.pushRegistries).toEqual([
      { host: 'registry.example.com:5000', token: '0123456789abcdef0', insecure: false },
    ]);
    expect(loadConfig({}).pushRegistries).toEqual([]);
    expect(() => loadConfig({ TAGRAPH_PUSH_REGISTRIES: 'nope' })).toThrow(
      /TAGRAPH_PUSH_REGISTRIES: must be a JSON array/,
    );
    expect(() =>
      loadConfig({ TAGRAPH_PUSH_REGISTRIES: '[{"host":"r.example.com","token":"short"}]' }),
    ).toThrow(/TAGRAPH_PUSH_REGISTRIES\.0\.token: token must be at least 16 characters/);
  });
});

describe('configuration errors', () => {
  const ADMIN_SECRET = 'admin-secret-too-short';
  const KEY_SECRET = 'not-a-key-but-secret-9f8e7d';
  const PUSH_SECRET = 'push-token-secret-0123456789';
  const DB_PASSWORD = 'db-Passw0rd-secret';

  it.each([
    ['TAGRAPH_ADMIN_TOKEN', ADMIN_SECRET, ADMIN_SECRET],
    ['TAGRAPH_SECRET_KEY', KEY_SECRET, KEY_SECRET],
    ['TAGRAPH_PUSH_REGISTRIES', `[{"host":"not a host","token":"${PUSH_SECRET}"}]`, PUSH_SECRET],
    ['TAGRAPH_PUSH_REGISTRIES', `[{"host":"r.example.com","token":"${PUSH_SECRET}"`, PUSH_SECRET],
    ['DATABASE_URL', `mysql://tagraph:${DB_PASSWORD}@db.example.com/tagraph`, DB_PASSWORD],
    ['DATABASE_URL', `tagraph:${DB_PASSWORD}@db.example.com`, DB_PASSWORD],
  ])('name %s but never show its secret', (variable, value, secret) => {
    let message = '';
    try {
      loadConfig({ [variable]: value });
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      message = (error as Error).message;
    }
    expect(message).toContain(variable);
    expect(message).not.toContain(secret);
  });

  it('show a database URL with its password masked, and other bad values as given', () => {
    expect(() =>
      loadConfig({ DATABASE_URL: `mysql://tagraph:${DB_PASSWORD}@db.example.com:3306/tagraph` }),
    ).toThrow('(got "mysql://tagraph:***@db.example.com:3306/tagraph")');
    expect(() => loadConfig({ TAGRAPH_PORT: 'eighty' })).toThrow('(got "eighty")');
    expect(() => loadConfig({ TAGRAPH_PORT: 'x'.repeat(500) })).toThrow(/\(500 characters\)/);
  });
});
