// Reading a source through its mirrors: each mirror in order, then the source unless the rule
// forbids it (docs/importer.md#mirrors). Each location gets the pull secret of its own host.
import { mirroredLocations, NO_MIRRORS } from '../domain/mirrors.ts';
import { type DockerReference, pinnedReference } from '../domain/references.ts';
import { registryRefusal } from '../domain/registryRules.ts';
import type { RegistryClient } from '../registry/client.ts';
import type { ImporterOptions } from './execute.ts';
import { ImportFailure, rethrowIfCancelled } from './failure.ts';
import type { FetchedSource } from './fetchImage.ts';
import { type CredentialLookup, openRegistry } from './registries.ts';

/**
 * Runs `read` against the first location of `source` that answers it: its mirrors, then the
 * source. The import policy judges the source, before any mirror is asked; a mirror is the
 * administrator's and is not judged. A failure at one location moves on to the next; the last
 * location's failure is the result.
 */
export async function readThroughMirrors<T>(
  options: Pick<ImporterOptions, 'database' | 'registry' | 'log'>,
  namespace: string,
  source: DockerReference,
  insecure: boolean,
  read: (client: RegistryClient, location: DockerReference) => Promise<T>,
  context: { signal?: AbortSignal; lookup?: CredentialLookup } = {},
): Promise<T> {
  const { registry } = options;
  const refusal = registry.policy
    ? registryRefusal(registry.policy, source.registry, insecure)
    : null;
  if (refusal) throw new ImportFailure('Forbidden', refusal);
  const locations = mirroredLocations(registry.mirrors ?? NO_MIRRORS, source);
  for (const [index, location] of locations.entries()) {
    const mirror = location !== source;
    try {
      // The credential is looked up for the location's own host and repository, so a secret
      // for the source never reaches a mirror, nor a mirror's secret the source.
      const client = await openRegistry(
        options.database.db,
        registry,
        namespace,
        location,
        insecure,
        context.lookup,
        mirror,
      );
      return await read(client, location);
    } catch (error) {
      rethrowIfCancelled(error, context.signal);
      if (index === locations.length - 1) throw error;
      options.log.info(
        {
          err: error,
          location: `${location.registry}/${location.repository}`,
          source: `${source.registry}/${source.repository}`,
        },
        'reading through a mirror failed; trying the next location',
      );
    }
  }
  throw new Error('no location to read from');
}

/** A source read from a mirror, with its references naming the source as the user gave it. */
export function asSource(fetched: FetchedSource, source: DockerReference): FetchedSource {
  return {
    ...fetched,
    image: {
      ...fetched.image,
      dockerImageReference: pinnedReference(source, fetched.image.digest),
    },
    children: fetched.children.map((child) => ({
      ...child,
      dockerImageReference: pinnedReference(source, child.digest),
    })),
  };
}
