// API tokens: opaque random strings, stored only as SHA-256 hashes, shown once when issued.
import { createHash, randomBytes } from 'node:crypto';
import { and, eq, isNull, sql } from 'drizzle-orm';
import { type Db, rowsOf } from '../db/client.ts';
import { apiTokens } from '../db/schema.ts';
import type { Caller, Role } from './roles.ts';

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

/** What a token is issued as: a cluster admin's token, or a namespace's robot token. */
export interface TokenGrant {
  subject: string;
  groups: string[];
  clusterAdmin: boolean;
  description: string;
  namespace?: string | null;
  name?: string | null;
  role?: Role | null;
  expiresAt?: Date | null;
  createdBy?: string | null;
}

/** A new random token and the hash that is stored of it. */
export function newToken(): { token: string; tokenHash: string } {
  const token = `${TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
  return { token, tokenHash: hashToken(token) };
}

/** Issues a token; null when a robot token of that name is live in the namespace already. */
export async function issueToken(db: Db, input: TokenGrant): Promise<IssuedToken | null> {
  const { token, tokenHash } = newToken();
  const [row] = await db
    .insert(apiTokens)
    .values({ ...input, tokenHash })
    .onConflictDoNothing()
    .returning({ id: apiTokens.id });
  return row ? { id: row.id, token } : null;
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

/** How often a token's last-used time is written at most (a write per request would queue). */
const LAST_USED_RESOLUTION = '1 minute';

interface TokenRow {
  id: string | number;
  subject: string;
  groups: string[];
  cluster_admin: boolean;
  namespace: string | null;
  role: Role | null;
  expires_at: string | Date | null;
}

/**
 * The caller a bearer token stands for, or null (unknown, revoked or expired). The bootstrap
 * admin token from the configuration (compared by hash) is a cluster admin. The same statement
 * records when the token was last used, at most once a minute.
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
  const [row] = rowsOf<TokenRow>(
    await db.execute(sql`
      with found as (
        select id, subject, groups, cluster_admin, namespace, role, expires_at, last_used_at
        from ${apiTokens}
        where token_hash = ${hash} and revoked_at is null
          and (expires_at is null or expires_at > now())),
      touched as (
        update ${apiTokens} set last_used_at = now() from found
        where ${apiTokens.id} = found.id
          and (found.last_used_at is null
            or found.last_used_at < now() - ${LAST_USED_RESOLUTION}::interval)
        returning 1)
      select found.*, (select count(*) from touched) as touched from found`),
  );
  if (!row) return null;
  const expiresAt = row.expires_at === null ? null : new Date(row.expires_at).getTime();
  const robot = row.namespace !== null && row.role !== null;
  return {
    subject: row.subject,
    // A robot token holds its scope and nothing else: no groups, never a cluster admin.
    groups: robot ? [] : row.groups,
    clusterAdmin: robot ? false : row.cluster_admin,
    tokenId: Number(row.id),
    ...(expiresAt === null ? {} : { expiresAt }),
    ...(robot ? { scope: { namespace: row.namespace!, role: row.role! } } : {}),
  };
}

/** The token of an `Authorization: Bearer …` header value, or null. */
export function bearerToken(header: string | null | undefined): string | null {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return match ? match[1]! : null;
}
