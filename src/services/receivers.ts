// A namespace's webhook receivers: create (token and secret shown once), list, delete, and what a call queues.
import { createHash, randomBytes } from 'node:crypto';
import { and, eq, isNotNull, or, sql } from 'drizzle-orm';
import type { AccessChecker } from '../auth/roles.ts';
import type { Db, Tx } from '../db/client.ts';
import { imageStreams, receivers, tags } from '../db/schema.ts';
import { isDns1123Label, validateNamespace } from '../domain/names.ts';
import {
  type ReceivedPush,
  type ReceiverKind,
  SIGNED_KINDS,
  sourceRepository,
} from '../domain/receivers.ts';
import { type FieldProblem, invalid, ok, type Result } from '../errors.ts';
import { encrypt } from '../secrets.ts';
import { enqueueImport } from './importJobs.ts';
import { namespacedObjects } from './namespacedObjects.ts';

/** Receivers one namespace may have, which bounds the `receivers` list. */
export const MAX_RECEIVERS_PER_NAMESPACE = 50;
/**
 * Tags one call re-checks at most: the namespace's scheduled and policy tags of the pushed
 * repository; beyond that the schedule still checks the rest.
 */
export const MAX_TAGS_PER_CALL = 1000;
const REGISTRY_HOST = /^[a-zA-Z0-9.-]+(:[0-9]{1,5})?$|^\[[0-9a-fA-F:]+\](:[0-9]{1,5})?$/;

export type ReceiverRow = typeof receivers.$inferSelect;

export interface ReceiverInput {
  namespace: string;
  name: string;
  kind: ReceiverKind;
  registry?: string | null;
}

/** The hex SHA-256 a token is stored and looked up as. */
export function tokenHash(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** Who may manage receivers: admins of the namespace (a receiver triggers work from outside). */
const objects = namespacedObjects({
  table: receivers,
  role: 'admin',
  resource: 'receivers',
  noun: 'receiver',
  plural: 'receivers',
  max: MAX_RECEIVERS_PER_NAMESPACE,
});
const { refused } = objects;

function checkInput(input: ReceiverInput): FieldProblem[] {
  const problems: FieldProblem[] = [...(validateNamespace(input.namespace) ?? [])];
  if (!isDns1123Label(input.name)) {
    problems.push({
      field: 'name',
      message: `receiver name "${input.name}" must be a DNS-1123 label (lower case, digits, "-", at most 63)`,
    });
  }
  if (
    input.registry != null &&
    (!REGISTRY_HOST.test(input.registry) || input.registry.length > 255)
  ) {
    problems.push({ field: 'registry', message: 'registry must be a host, with an optional port' });
  }
  return problems;
}

/**
 * Creates a receiver; returns its token and, for the kinds that carry one, its secret: the only
 * time either can be read. Only the token's hash is kept; the secret is sealed.
 */
export async function createReceiver(
  db: Db,
  access: AccessChecker,
  key: Buffer,
  input: ReceiverInput,
): Promise<Result<{ receiver: ReceiverRow; token: string; secret: string | null }>> {
  const denied = await refused(access, input.namespace, 'create');
  if (denied) return denied;
  const problems = checkInput(input);
  if (problems.length > 0) return invalid(problems);
  const token = randomBytes(32).toString('base64url');
  const secret = SIGNED_KINDS.has(input.kind) ? randomBytes(32).toString('base64url') : null;
  return db.transaction(async (tx) => {
    const created = await objects.create(tx, {
      namespace: input.namespace,
      name: input.name,
      kind: input.kind,
      registry: input.registry ?? null,
      tokenHash: tokenHash(token),
      encryptedSecret: secret === null ? null : encrypt(key, secret),
      createdBy: access.caller.subject,
    });
    return created.ok ? ok({ receiver: created.value, token, secret }) : created;
  });
}

export const listReceivers = objects.list;

export const deleteReceiver = objects.remove;

/** The receiver a call's token names, or null. */
export async function receiverByToken(db: Db, token: string): Promise<ReceiverRow | null> {
  const [row] = await db
    .select()
    .from(receivers)
    .where(eq(receivers.tokenHash, tokenHash(token)))
    .limit(1);
  return row ?? null;
}

export interface TriggerSummary {
  /** Tags queued for a re-check. */
  queued: number;
  /** Import jobs queued (one per stream). */
  jobs: number;
}

/**
 * Queues a re-check of the receiver's namespace's tags that follow the pushed repository: policy
 * tags of that repository, and scheduled tags whose source is one of the pushed tags. One job per
 * stream, cause `webhook`, in one transaction with the receiver's `last_called_at`.
 */
export async function triggerReceiver(
  db: Db,
  receiver: ReceiverRow,
  push: ReceivedPush,
): Promise<TriggerSummary> {
  return db.transaction(async (tx) => {
    const rows = await candidates(tx, receiver.namespace, push);
    const byStream = new Map<string, string[]>();
    for (const row of rows) {
      const names = byStream.get(row.stream) ?? [];
      names.push(row.tag);
      byStream.set(row.stream, names);
    }
    for (const [stream, names] of byStream) {
      await enqueueImport(tx, {
        namespace: receiver.namespace,
        stream,
        tags: names,
        cause: 'webhook',
      });
    }
    await tx
      .update(receivers)
      .set({ lastCalledAt: sql`now()` })
      .where(eq(receivers.id, receiver.id));
    return { queued: rows.length, jobs: byStream.size };
  });
}

/**
 * The namespace's scheduled or policy tags with a DockerImage source, matched to the push by
 * their normalised source (sources are stored as given: `nginx`, `docker.io/library/nginx:1`).
 * The namespace's candidates are read up to a bound and compared here.
 */
async function candidates(
  tx: Tx,
  namespace: string,
  push: ReceivedPush,
): Promise<{ stream: string; tag: string }[]> {
  const rows = await tx
    .select({
      stream: imageStreams.name,
      tag: tags.name,
      from: tags.fromName,
      policy: isNotNull(tags.policy).mapWith(Boolean),
    })
    .from(tags)
    .innerJoin(imageStreams, eq(imageStreams.id, tags.streamId))
    .where(
      and(
        eq(imageStreams.namespace, namespace),
        eq(tags.fromKind, 'DockerImage'),
        or(eq(tags.importScheduled, true), isNotNull(tags.policy)),
      ),
    )
    .orderBy(imageStreams.name, tags.name)
    .limit(MAX_TAGS_PER_CALL * 10);
  const pushed = new Set(push.tags);
  const matched: { stream: string; tag: string }[] = [];
  for (const row of rows) {
    const source = row.from ? sourceRepository(row.from) : null;
    if (!source || source.repository !== push.repository) continue;
    if (!row.policy && (source.tag === null || !pushed.has(source.tag))) continue;
    matched.push({ stream: row.stream, tag: row.tag });
    if (matched.length >= MAX_TAGS_PER_CALL) break;
  }
  return matched;
}
