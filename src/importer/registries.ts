// Opening a registry client for an image: the namespace's pull secret, TLS policy (rules 13, 14).
import type { Db } from '../db/client.ts';
import type { DockerReference } from '../domain/references.ts';
import { RegistryClient } from '../registry/client.ts';
import type { EgressPolicy } from '../registry/egress.ts';
import { credentialFor } from '../services/pullSecrets.ts';

/** The stream annotation that marks every tag of a stream insecure (rule 14). */
export const INSECURE_REPOSITORY_ANNOTATION = 'openshift.io/image.insecureRepository';

export interface RegistrySettings {
  secretKey: Buffer;
  /** Extra CA certificates (PEM) trusted besides the system's. */
  ca: string | null;
  timeoutMs: number;
  egress: EgressPolicy;
}

/** Insecure when the tag's import policy or the stream's annotation says so. */
export function isInsecure(tagInsecure: boolean, streamAnnotations: Record<string, string>) {
  return tagInsecure || streamAnnotations[INSECURE_REPOSITORY_ANNOTATION] === 'true';
}

/** A client for `image`'s registry, with the namespace credential that matches it best. */
export async function openRegistry(
  db: Db,
  settings: RegistrySettings,
  namespace: string,
  image: DockerReference,
  insecure: boolean,
): Promise<RegistryClient> {
  const credential = await credentialFor(
    db,
    settings.secretKey,
    namespace,
    image.registry,
    image.repository,
  );
  return new RegistryClient({
    registry: image.registry,
    credential,
    insecure,
    ca: settings.ca ?? undefined,
    timeoutMs: settings.timeoutMs,
    egress: settings.egress,
  });
}
