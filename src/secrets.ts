// Encryption at rest for pull secrets: AES-256-GCM with the configured key.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
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

/**
 * The key pull secrets are sealed with. Configured, it is used as is. In the embedded dev mode
 * without one, a key is made once and kept beside the data (`<dataDir>/secret.key`, mode 0600),
 * or kept in memory for a throwaway `memory` database.
 */
export function secretKeyFor(config: Config): Buffer {
  if (config.secretKey) return config.secretKey;
  if (config.database.kind !== 'pglite') {
    throw new Error('TAGRAPH_SECRET_KEY is required with Postgres');
  }
  if (config.database.dataDir === 'memory') return randomBytes(32);
  const file = join(
    config.database.dataDir,
    '..',
    `${pathTail(config.database.dataDir)}.secret.key`,
  );
  if (existsSync(file)) return Buffer.from(readFileSync(file, 'utf8').trim(), 'hex');
  mkdirSync(join(file, '..'), { recursive: true });
  const key = randomBytes(32);
  writeFileSync(file, key.toString('hex'), { mode: 0o600 });
  chmodSync(file, 0o600);
  return key;
}

function pathTail(path: string): string {
  return path.split(/[\\/]/).filter(Boolean).pop() ?? 'tagraph';
}
