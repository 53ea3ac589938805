// A namespace's registry credentials: stored sealed, matched to images, never readable back.

import { and, eq } from 'drizzle-orm';
import { refusal } from '../auth/authorize.ts';
import type { AccessChecker, Role } from '../auth/roles.ts';
import type { Db } from '../db/client.ts';
import { pullSecrets } from '../db/schema.ts';
import { validateNamespace } from '../domain/names.ts';
import {
  matchCredential,
  parseDockerConfig,
  type RegistryCredential,
} from '../domain/pullSecrets.ts';
import {
  conflict,
  type FieldProblem,
  fromDomain,
  invalid,
  notFound,
  ok,
  type Result,
} from '../errors.ts';
import { writeTransaction } from '../events/append.ts';
import { decrypt, encrypt } from '../secrets.ts';
import { ensureNamespace } from './imageStreams.ts';

/** What may be read of a secret: never the credentials. */
export interface PullSecretInfo {
  id: number;
  namespace: string;
  name: string;
  registries: string[];
  createdAt: Date;
  updatedAt: Date;
}

const SECRET_NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

function info(row: typeof pullSecrets.$inferSelect): PullSecretInfo {
  return {
    id: row.id,
    namespace: row.namespace,
    name: row.name,
    registries: row.registryKeys,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

function check(namespace: string, name: string, document?: string) {
  const problems: FieldProblem[] = [...(validateNamespace(namespace) ?? [])];
  if (!SECRET_NAME.test(name) || name.length > 253) {
    problems.push({ field: 'name', message: `secret name "${name}" must be a DNS-1123 subdomain` });
  }
  let credentials: RegistryCredential[] = [];
  if (document !== undefined) {
    const parsed = parseDockerConfig(document);
    if (parsed.ok) credentials = parsed.value;
    else problems.push({ field: 'document', message: parsed.error.message });
  }
  return { problems, credentials };
}

export interface PullSecretInput {
  namespace: string;
  name: string;
  /** A docker config.json or podman auth.json document. */
  document: string;
}

/** Editors manage a namespace's pull secrets; whoever may read the namespace may list them. */
const secretRefusal = (access: AccessChecker, role: Role, namespace: string, verb: string) =>
  refusal(access, role, namespace, 'namespace', { verb, resource: 'secrets' });

/**
 * Creates (`replace: false`) or replaces (`replace: true`) a namespace's pull secret; the caller
 * must be an editor of the namespace.
 */
export async function savePullSecret(
  db: Db,
  access: AccessChecker,
  key: Buffer,
  input: PullSecretInput,
  replace: boolean,
): Promise<Result<PullSecretInfo>> {
  const refused = await secretRefusal(access, 'editor', input.namespace, 'update');
  if (refused) return refused;
  const { problems, credentials } = check(input.namespace, input.name, input.document);
  if (problems.length > 0) return invalid(problems);
  const values = {
    registryKeys: credentials.map((c) => c.key),
    encrypted: encrypt(key, input.document),
  };
  return writeTransaction(db, async (tx) => {
    if (replace) {
      const [row] = await tx
        .update(pullSecrets)
        .set({ ...values, updatedAt: new Date() })
        .where(and(eq(pullSecrets.namespace, input.namespace), eq(pullSecrets.name, input.name)))
        .returning();
      if (!row) {
        return notFound(`pull secret ${input.namespace}/${input.name} not found`, 'name');
      }
      return ok(info(row));
    }
    await ensureNamespace(tx, input.namespace);
    const [row] = await tx
      .insert(pullSecrets)
      .values({ namespace: input.namespace, name: input.name, ...values })
      .onConflictDoNothing()
      .returning();
    if (!row) {
      return conflict(`pull secret ${input.namespace}/${input.name} already exists`, 'name');
    }
    return ok(info(row));
  });
}

/** Deletes a pull secret; the caller must be an editor of its namespace. */
export async function deletePullSecret(
  db: Db,
  access: AccessChecker,
  namespace: string,
  name: string,
): Promise<Result<PullSecretInfo>> {
  const refused = await secretRefusal(access, 'editor', namespace, 'delete');
  if (refused) return refused;
  const [row] = await db
    .delete(pullSecrets)
    .where(and(eq(pullSecrets.namespace, namespace), eq(pullSecrets.name, name)))
    .returning();
  if (!row) return notFound(`pull secret ${namespace}/${name} not found`, 'name');
  return ok(info(row));
}

/** The namespace's secrets (names and registries only); the caller must be able to read it. */
export async function listPullSecrets(
  db: Db,
  access: AccessChecker,
  namespace: string,
): Promise<Result<PullSecretInfo[]>> {
  const refused = await secretRefusal(access, 'image-puller', namespace, 'list');
  if (refused) return refused;
  const rows = await db
    .select()
    .from(pullSecrets)
    .where(eq(pullSecrets.namespace, namespace))
    .orderBy(pullSecrets.name);
  return ok(rows.map(info));
}

/**
 * The credential of the namespace's secrets whose key matches the image best (longest
 * key wins across all secrets), or null to pull anonymously.
 */
export async function credentialFor(
  db: Db,
  key: Buffer,
  namespace: string,
  registry: string,
  repository: string,
): Promise<RegistryCredential | null> {
  const rows = await db.select().from(pullSecrets).where(eq(pullSecrets.namespace, namespace));
  const keys = rows.flatMap((row) => row.registryKeys);
  const best = matchCredential(keys, registry, repository);
  if (best === null) return null;
  const row = rows.find((r) => r.registryKeys.includes(best))!;
  const parsed = parseDockerConfig(decrypt(key, row.encrypted));
  if (!parsed.ok) throw fromDomain(parsed.error);
  return parsed.value.find((c) => c.key === best) ?? null;
}
