// API tokens: opaque random strings, stored only as SHA-256 hashes, shown once when issued.
import { createHash, randomBytes } from 'node:crypto';
import { and, eq, isNull } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { apiTokens } from '../db/schema.ts';
import type { Caller } from './roles.ts';

/** Tokens start with this so secret scanners and people recognise them. */
const TOKEN_PREFIX = 'tgr_';

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export interface IssuedToken {
  id: number;
  /** The only time the token is available in plain text. */
  token: string;
}

export async function issueToken(
  db: Db,
  input: { subject: string; groups: string[]; clusterAdmin: boolean; description: string },
): Promise<IssuedToken> {
  const token = `${TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
  const [row] = await db
    .insert(apiTokens)
    .values({ ...input, tokenHash: hashToken(token) })
    .returning({ id: apiTokens.id });
  return { id: row!.id, token };
}

/** Revokes a token; returns false if there was no such live token. */
export async function revokeToken(db: Db, id: number): Promise<boolean> {
  const rows = await db
    .update(apiTokens)
    .set({ revokedAt: new Date() })
    .where(and(eq(apiTokens.id, id), isNull(apiTokens.revokedAt)))
    .returning({ id: apiTokens.id });
  return rows.length > 0;
}

/**
 * The caller a bearer token stands for, or null. The bootstrap admin token from the
 * configuration (compared by hash) is a cluster admin.
 */
export async function authenticate(
  db: Db,
  token: string,
  adminTokenHash: string | null,
): Promise<Caller | null> {
  const hash = hashToken(token);
  if (adminTokenHash !== null && hash === adminTokenHash) {
    return { subject: 'system:admin', groups: [], clusterAdmin: true, tokenId: null };
  }
  const [row] = await db
    .select()
    .from(apiTokens)
    .where(and(eq(apiTokens.tokenHash, hash), isNull(apiTokens.revokedAt)));
  if (!row) return null;
  return {
    subject: row.subject,
    groups: row.groups,
    clusterAdmin: row.clusterAdmin,
    tokenId: row.id,
  };
}

/** The token of an `Authorization: Bearer …` header value, or null. */
export function bearerToken(header: string | null | undefined): string | null {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return match ? match[1]! : null;
}
