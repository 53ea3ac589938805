// Evaluating policy tags: list the repository once per pass, pick the winner, read build times;
// and the read-only registry reads of previewPolicy and remoteTags.
// The rules: docs/policy-tags.md.
import { LRUCache } from 'lru-cache';
import type { ImportBudgetSettings } from '../config.ts';
import { type Platform, platformPreference } from '../domain/platforms.ts';
import {
  type PolicyEvaluation,
  policyCandidates,
  selectWinner,
  type TagSelectionPolicy,
} from '../domain/policyTags.ts';
import type { DockerReference } from '../domain/references.ts';
import { RequestBudget } from '../registry/budget.ts';
import type { RegistryClient, TagListing } from '../registry/client.ts';
import type { RemoteRead, RemoteRegistryReader } from '../services/policyTags.ts';
import type { ImporterOptions } from './execute.ts';
import { describeFailure, ImportFailure } from './failure.ts';
import { fetchSource } from './fetchImage.ts';
import { openRegistry } from './registries.ts';

/** Candidates whose build time one newestBuild evaluation reads at most. */
export const MAX_BUILD_READS = 50;

/** Build times by `registry/repository@digest`: an image's config never changes. */
const buildTimes = new LRUCache<string, { created: Date | null }>({ max: 10_000 });

/**
 * The listings of one pass (a job's attempt, or a scheduler pass), one per namespace and
 * repository: the namespace is part of the key because its pull secrets decide what is listed.
 */
export class RepositoryListings {
  private readonly listings = new Map<string, Promise<TagListing>>();

  constructor(
    private readonly budget: Pick<ImportBudgetSettings, 'maxListedTags' | 'maxTagListBytes'>,
  ) {}

  list(
    namespace: string,
    client: RegistryClient,
    repository: DockerReference,
    insecure: boolean,
    requests?: RequestBudget,
  ): Promise<TagListing> {
    const key = `${namespace}\0${repository.registry}\0${repository.repository}\0${insecure}`;
    let listing = this.listings.get(key);
    if (!listing) {
      listing = client.listTags(repository.repository, {
        maxTags: this.budget.maxListedTags,
        maxBytes: this.budget.maxTagListBytes,
        ...(requests ? { budget: requests } : {}),
      });
      // A failed listing is not kept: the next tag of the pass tries again.
      listing.catch(() => this.listings.delete(key));
      this.listings.set(key, listing);
    }
    return listing;
  }

  /** How many repositories were listed (or are being listed). */
  get size(): number {
    return this.listings.size;
  }
}

export interface PolicyWinner {
  /** The repository pinned to the winning tag. */
  source: DockerReference;
  evaluation: PolicyEvaluation;
}

/**
 * Picks the repository tag `policy` follows among `listing`. Fails as `NoMatchingTag` when none
 * qualifies. A newestBuild policy reads the build time of at most MAX_BUILD_READS candidates
 * (HEAD for the digest, then the image's config unless that digest was read before).
 */
export async function evaluatePolicy(
  client: RegistryClient,
  repository: DockerReference,
  policy: TagSelectionPolicy,
  listing: TagListing,
  context: { serverPlatform: Platform; budget?: RequestBudget },
): Promise<PolicyWinner> {
  const evaluation = await evaluateListing(client, repository, policy, listing, context);
  if (evaluation.winner === null) {
    throw new ImportFailure(
      'NoMatchingTag',
      `${repository.registry}/${repository.repository}: ${evaluation.reason} (${evaluation.listed} tags listed)`,
    );
  }
  return { source: { ...repository, tag: evaluation.winner }, evaluation };
}

/** The policy's choice among the listed tags, reading build times when the policy needs them. */
async function evaluateListing(
  client: RegistryClient,
  repository: DockerReference,
  policy: TagSelectionPolicy,
  listing: TagListing,
  context: { serverPlatform: Platform; budget?: RequestBudget },
) {
  const created =
    policy.kind === 'newestBuild'
      ? await readBuildTimes(
          client,
          repository,
          policyCandidates(listing.tags, policy).candidates,
          context,
        )
      : undefined;
  return selectWinner(listing.tags, policy, created);
}

async function readBuildTimes(
  client: RegistryClient,
  repository: DockerReference,
  candidates: string[],
  context: { serverPlatform: Platform; budget?: RequestBudget },
): Promise<Map<string, Date | null>> {
  const times = new Map<string, Date | null>();
  for (const tag of candidates.slice(0, MAX_BUILD_READS)) {
    const head = await client.headManifest(repository.repository, tag);
    if (!head) continue;
    const key = `${repository.registry}/${repository.repository}@${head.digest}`;
    let known = buildTimes.get(key);
    if (!known) {
      const fetched = await fetchSource(
        client,
        { ...repository, digest: head.digest },
        {
          mode: 'Legacy',
          preference: {},
          serverPlatform: context.serverPlatform,
          ...(context.budget ? { budget: context.budget } : {}),
        },
      );
      known = { created: fetched.image.created ?? null };
      buildTimes.set(key, known);
    }
    times.set(tag, known.created);
  }
  return times;
}

/**
 * The registry reads behind previewPolicy and remoteTags: the same clients, pull secrets, egress
 * guard and listing caps as imports, with one job's deadline and byte allowance per read.
 */
export function createRemoteRegistryReader(
  options: Pick<ImporterOptions, 'database' | 'registry' | 'budget' | 'serverPlatform'>,
): RemoteRegistryReader {
  const open = async <T>(
    namespace: string,
    repository: DockerReference,
    insecure: boolean,
    body: (client: RegistryClient, budget: RequestBudget) => Promise<T>,
  ): Promise<RemoteRead<T>> => {
    const budget = new RequestBudget(options.budget.maxBytes, options.budget.deadlineMs);
    try {
      const client = await openRegistry(
        options.database.db,
        options.registry,
        namespace,
        repository,
        insecure,
      );
      return { ok: true, value: await body(client, budget) };
    } catch (error) {
      const failure = describeFailure(error);
      return { ok: false, reason: failure.reason, message: failure.message };
    } finally {
      budget.dispose();
    }
  };
  const read = <T>(
    namespace: string,
    repository: DockerReference,
    insecure: boolean,
    body: (client: RegistryClient, listing: TagListing, budget: RequestBudget) => Promise<T>,
  ): Promise<RemoteRead<T>> =>
    open(namespace, repository, insecure, async (client, budget) => {
      const listing = await new RepositoryListings(options.budget).list(
        namespace,
        client,
        repository,
        insecure,
        budget,
      );
      return body(client, listing, budget);
    });
  return {
    inspect: (namespace, source, insecure, mode, annotations) =>
      open(namespace, source, insecure, (client, budget) =>
        fetchSource(client, source, {
          mode,
          preference: platformPreference(annotations),
          serverPlatform: options.serverPlatform,
          budget,
          maxChildren: options.budget.maxChildren,
        }),
      ),
    listTags: (namespace, repository, insecure) =>
      read(namespace, repository, insecure, async (_client, listing) => listing),
    evaluate: (namespace, repository, insecure, policy) =>
      read(namespace, repository, insecure, async (client, listing, budget) => ({
        evaluation: await evaluateListing(client, repository, policy, listing, {
          serverPlatform: options.serverPlatform,
          budget,
        }),
        truncated: listing.truncated,
      })),
  };
}
