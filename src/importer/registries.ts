// Opening a registry client for an image: the namespace's pull secret, TLS policy (docs/rules.md).
// Clients are kept for a while and shared by jobs and scheduled checks, so a token, the detected
// scheme and pooled connections serve many requests instead of one.
import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { Db } from '../db/client.ts';
import type { MirrorConfig } from '../domain/mirrors.ts';
import type { RegistryCredential } from '../domain/pullSecrets.ts';
import type { DockerReference } from '../domain/references.ts';
import { type RegistryPolicy, registryRefusal } from '../domain/registryRules.ts';
import { RegistryClient } from '../registry/client.ts';
import type { EgressPolicy } from '../registry/egress.ts';
import { credentialFor } from '../services/pullSecrets.ts';
import { ImportFailure } from './failure.ts';

export { INSECURE_REPOSITORY_ANNOTATION, isInsecure } from '../domain/tagPolicy.ts';

import type { ImporterMetrics } from './metrics.ts';

/**
 * The stream annotation that marks every tag of a stream insecure
 * (docs/rules.md#insecure-registries).
 */

/** Clients kept per process, and how long an unused one lives. */
const MAX_CLIENTS = 200;
const IDLE_MS = 5 * 60_000;

export interface RegistrySettings {
  secretKey: Buffer;
  /** Extra CA certificates (PEM) trusted besides the system's. */
  ca: string | null;
  timeoutMs: number;
  egress: EgressPolicy;
  clients: RegistryClients;
  /** The registries imports may read from (TAGRAPH_IMPORT_ALLOWED/BLOCKED_REGISTRIES); absent: any. */
  policy?: RegistryPolicy;
  /** Mirrors reads of a source go through first (TAGRAPH_IMPORT_MIRRORS_FILE); absent: none. */
  mirrors?: MirrorConfig;
  /** Counts imports and times registry requests; absent where nothing is measured. */
  metrics?: ImporterMetrics;
}

/**
 * Registry clients by registry, TLS mode and credential (a fingerprint: a changed pull secret
 * gets a new client). Evicted clients are closed.
 */
export class RegistryClients {
  private readonly cache = new LRUCache<string, RegistryClient>({
    max: MAX_CLIENTS,
    ttl: IDLE_MS,
    updateAgeOnGet: true,
    dispose: (client) => void client.close().catch(() => {}),
  });

  get(key: string, create: () => RegistryClient): RegistryClient {
    let client = this.cache.get(key);
    if (!client) {
      client = create();
      this.cache.set(key, client);
    }
    return client;
  }

  /** Closes every client (at shutdown). */
  clear(): void {
    this.cache.clear();
  }
}

/** Finds the pull-secret credential for a repository (decrypted), or null. */
export type CredentialLookup = (
  namespace: string,
  registry: string,
  repository: string,
) => Promise<RegistryCredential | null>;

/**
 * A lookup that reads each namespace's secrets once per (registry, repository) for its lifetime:
 * a scheduler pass makes one per pass, so 10,000 checks of 20 repositories cost 20 lookups, and a
 * secret changed meanwhile applies from the next pass.
 */
export function memoizedCredentials(db: Db, secretKey: Buffer): CredentialLookup {
  const found = new Map<string, Promise<RegistryCredential | null>>();
  return (namespace, registry, repository) => {
    const key = `${namespace}\0${registry}\0${repository}`;
    let credential = found.get(key);
    if (!credential) {
      credential = credentialFor(db, secretKey, namespace, registry, repository);
      credential.catch(() => found.delete(key));
      found.set(key, credential);
    }
    return credential;
  };
}

/**
 * A client for `image`'s registry, with the namespace credential that matches it best. A registry
 * the import policy refuses fails as `Forbidden` before anything is looked up or fetched.
 */
export async function openRegistry(
  db: Db,
  settings: RegistrySettings,
  namespace: string,
  image: DockerReference,
  insecure: boolean,
  lookup: CredentialLookup = (ns, registry, repository) =>
    credentialFor(db, settings.secretKey, ns, registry, repository),
  /** A mirror the administrator configured: the import policy judges its source, not it. */
  mirror = false,
): Promise<RegistryClient> {
  const refusal =
    settings.policy && !mirror ? registryRefusal(settings.policy, image.registry, insecure) : null;
  if (refusal) throw new ImportFailure('Forbidden', refusal);
  const credential = await lookup(namespace, image.registry, image.repository);
  const fingerprint = credential
    ? createHash('sha256')
        .update(`${credential.username}\0${credential.password}\0${credential.identityToken ?? ''}`)
        .digest('hex')
    : 'anonymous';
  const key = `${image.registry}|${insecure}|${fingerprint}`;
  return settings.clients.get(
    key,
    () =>
      new RegistryClient({
        registry: image.registry,
        credential,
        insecure,
        ca: settings.ca ?? undefined,
        timeoutMs: settings.timeoutMs,
        egress: settings.egress,
        ...(settings.metrics ? { observe: settings.metrics.registryObserver(image.registry) } : {}),
      }),
  );
}
