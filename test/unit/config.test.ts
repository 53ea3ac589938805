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
    });
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
