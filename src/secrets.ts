// Encryption at rest for pull secrets: AES-256-GCM with the configured key.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Config } from './config.ts';

const VERSION = 'v1';

/** `v1.<iv>.<tag>.<ciphertext>`, base64url parts; a fresh 12-byte IV per secret. */
export function encrypt(key: Buffer, plaintext: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  const tag = cipher.getAuthTag();
  return [VERSION, iv, tag, ciphertext]
    .map((p) => (typeof p === 'string' ? p : p.toString('base64url')))
    .join('.');
}

export function decrypt(key: Buffer, sealed: string): string {
  const [version, iv, tag, ciphertext] = sealed.split('.');
  if (version !== VERSION || !iv || !tag || ciphertext === undefined) {
    throw new Error('stored secret is not in a format this server reads');
  }
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
  decipher.setAuthTag(Buffer.from(tag, 'base64url'));
  return Buffer.concat([
    decipher.update(Buffer.from(ciphertext, 'base64url')),
    decipher.final(),
  ]).toString('utf8');
}

/** The generated key's file inside the embedded data directory. */
export const SECRET_KEY_FILE = 'tagraph.secret.key';

/**
 * The key pull secrets are sealed with. Configured, it is used as is. In the embedded dev mode
 * without one, a key is made once and kept inside the data directory
 * (`<dataDir>/tagraph.secret.key`, mode 0600), so that whatever keeps the data out of git or
 * backs it up does the same for its key; or kept in memory for a throwaway `memory` database.
 * A key made by earlier versions beside the data directory (`<dataDir>.secret.key`) is still
 * read from there, so secrets sealed with it stay readable.
 */
export function secretKeyFor(config: Config, log?: Logger): Buffer {
  if (config.secretKey) return config.secretKey;
  if (config.database.kind !== 'pglite') {
    throw new Error('TAGRAPH_SECRET_KEY is required with Postgres');
  }
  const { dataDir } = config.database;
  if (dataDir === 'memory') return randomBytes(32);
  const file = join(dataDir, SECRET_KEY_FILE);
  if (existsSync(file)) return readKey(file);
  const beside = join(dataDir, '..', `${pathTail(dataDir)}.secret.key`);
  if (existsSync(beside)) {
    log?.warn(
      { file: beside },
      `using the pull-secret key beside the data directory, where earlier versions kept it; move it to ${file} (and keep it out of version control)`,
    );
    return readKey(beside);
  }
  mkdirSync(dataDir, { recursive: true });
  const key = randomBytes(32);
  writeFileSync(file, key.toString('hex'), { mode: 0o600 });
  chmodSync(file, 0o600);
  return key;
}

function readKey(file: string): Buffer {
  return Buffer.from(readFileSync(file, 'utf8').trim(), 'hex');
}

function pathTail(path: string): string {
  return path.split(/[\\/]/).filter(Boolean).pop() ?? 'tagraph';
}
