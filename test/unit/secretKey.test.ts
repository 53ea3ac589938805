// Where the embedded mode keeps its generated pull-secret key, and the key of earlier versions.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { createLogger } from '../../src/log.ts';
import { SECRET_KEY_FILE, secretKeyFor } from '../../src/secrets.ts';

const root = mkdtempSync(join(tmpdir(), 'tagraph-key-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('secretKeyFor (embedded, no TAGRAPH_SECRET_KEY)', () => {
  it('makes the key inside the data directory, mode 0600, and reads it back', () => {
    const dataDir = join(root, 'fresh');
    const config = loadConfig({ TAGRAPH_DATA_DIR: dataDir });
    const key = secretKeyFor(config);
    expect(readFileSync(join(dataDir, SECRET_KEY_FILE), 'utf8')).toBe(key.toString('hex'));
    expect(secretKeyFor(config).equals(key)).toBe(true);
  });

  it('still reads a key an earlier version left beside the data directory, and says so', () => {
    const dataDir = join(root, 'old');
    mkdirSync(dataDir);
    const old = Buffer.alloc(32, 9);
    writeFileSync(`${dataDir}.secret.key`, old.toString('hex'));
    const lines: string[] = [];
    const log = createLogger(
      'info',
      new Writable({
        write(chunk, _e, done) {
          lines.push(String(chunk));
          done();
        },
      }),
    );
    expect(secretKeyFor(loadConfig({ TAGRAPH_DATA_DIR: dataDir }), log).equals(old)).toBe(true);
    expect(lines.join('')).toContain('earlier versions kept it');
  });
});

describe('egress in open mode', () => {
  it('allows loopback by default; TAGRAPH_EGRESS_ALLOW replaces it; token mode keeps none', () => {
    expect(loadConfig({}).egressAllow).toEqual(['127.0.0.0/8:*', '[::1]:*']);
    expect(loadConfig({ TAGRAPH_EGRESS_ALLOW: '10.0.0.5:5000' }).egressAllow).toEqual([
      '10.0.0.5:5000',
    ]);
    expect(loadConfig({ TAGRAPH_AUTH: 'token' }).egressAllow).toEqual([]);
  });
});
