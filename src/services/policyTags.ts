// Policy tags on demand: re-evaluating one (an import), and read-only previews of a repository.
// The rules: docs/policy-tags.md.
import { and, eq } from 'drizzle-orm';
import { authorize, inNamespace } from '../auth/authorize.ts';
import type { AccessChecker } from '../auth/roles.ts';
import type { Db } from '../db/client.ts';
import { imageStreams, tags } from '../db/schema.ts';
import type { ImportMode } from '../domain/platforms.ts';
import {
  compileTagFilter,
  type PolicyEvaluation,
  parseTagSelectionPolicy,
  type TagSelectionPolicy,
  type TagSelectionPolicyInput,
} from '../domain/policyTags.ts';
import {
  type DockerReference,
  namesTagOrDigest,
  parseDockerReference,
  parseImageStreamTagRef,
} from '../domain/references.ts';
import {
  type ExpectedError,
  fail,
  fromDomain,
  invalid,
  NotFoundError,
  notFound,
  ok,
  type Result,
  ValidationError,
} from '../errors.ts';
import { writeTransaction } from '../events/append.ts';
import type { FetchedSource } from './images.ts';
import { enqueueImport } from './importJobs.ts';

export interface Reevaluation {
  namespace: string;
  tagId: number;
  importJobId: number;
}

/** The longest `reevaluateTag` waits for its import, as `importImage` does. */
export const REEVALUATE_MAX_WAIT_SECONDS = 300;

/**
 * Queues the import of a policy tag (cause `policy`); the caller must be an editor in its
 * namespace, as for `tag`. A tag without a policy is a VALIDATION error on `ref`; a
 * `timeoutSeconds` outside 1 to REEVALUATE_MAX_WAIT_SECONDS one on `timeoutSeconds`.
 */
export async function reevaluateTag(
  db: Db,
  access: AccessChecker,
  input: { namespace: string; ref: string; timeoutSeconds?: number | null },
): Promise<Result<Reevaluation>> {
  const timeout = input.timeoutSeconds;
  if (timeout != null && (timeout < 1 || timeout > REEVALUATE_MAX_WAIT_SECONDS)) {
    return invalid([
      {
        field: 'timeoutSeconds',
        message: `timeoutSeconds is 1 to ${REEVALUATE_MAX_WAIT_SECONDS}`,
      },
    ]);
  }
  const parsed = parseImageStreamTagRef(input.ref, input.namespace, undefined, 'ref');
  if (!parsed.ok) return fail(fromDomain(parsed.error));
  const ref = await authorize(access, 'editor', parsed.value, 'ref');
  if (!ref.ok) return ref;
  const { namespace, stream, tag } = ref.value;
  const [row] = await db
    .select({ id: tags.id, policy: tags.policy })
    .from(tags)
    .innerJoin(imageStreams, eq(imageStreams.id, tags.streamId))
    .where(
      and(eq(imageStreams.namespace, namespace), eq(imageStreams.name, stream), eq(tags.name, tag)),
    );
  if (!row) {
    return notFound(`image stream tag ${namespace}/${stream}:${tag} not found`, 'ref');
  }
  if (!row.policy) {
    return invalid([{ field: 'ref', message: `${stream}:${tag} has no policy to evaluate` }]);
  }
  const importJobId = await writeTransaction(db, (tx) =>
    enqueueImport(tx, { namespace, stream, tags: [tag], cause: 'policy' }),
  );
  return ok({ namespace, tagId: row.id, importJobId });
}

/** A registry read's outcome: the value, or why the registry could not give it. */
export type RemoteRead<T> = { ok: true; value: T } | { ok: false; reason: string; message: string };

/**
 * Reads a repository's tags with the pull secrets of `namespace` (implemented by the importer,
 * which owns registry clients, egress and budgets).
 */
export interface RemoteRegistryReader {
  listTags(
    namespace: string,
    repository: DockerReference,
    insecure: boolean,
  ): Promise<RemoteRead<{ tags: string[]; truncated: boolean }>>;
  evaluate(
    namespace: string,
    repository: DockerReference,
    insecure: boolean,
    policy: TagSelectionPolicy,
  ): Promise<RemoteRead<{ evaluation: PolicyEvaluation; truncated: boolean }>>;
  /**
   * Reads what an import of `source` would record (manifest, config, a list's children), as the
   * import would choose them for `mode` and the tag's platform annotations; stores nothing.
   */
  inspect(
    namespace: string,
    source: DockerReference,
    insecure: boolean,
    mode: ImportMode,
    annotations: Record<string, string>,
  ): Promise<RemoteRead<FetchedSource>>;
}

export const REMOTE_TAGS_MAX_PAGE = 100;

export interface RemoteTagsPage {
  tags: string[];
  /** Tags that passed the filter, across pages. */
  totalCount: number;
  hasNextPage: boolean;
  /** The last tag of this page: pass it as `after` for the next. */
  endCursor: string | null;
  /** The registry had more tags than the listing caps let it read. */
  truncated: boolean;
}

/**
 * The caller may make the namespace's pull secrets serve a registry read: EDITOR, as for setting
 * a tag that imports with them. Then the repository, a pull spec without tag or digest.
 */
async function checkRemoteRead(
  access: AccessChecker,
  namespace: string,
  repository: string,
): Promise<Result<{ namespace: string; repository: DockerReference }>> {
  const allowed = await authorize(access, 'editor', inNamespace(namespace), 'namespace');
  if (!allowed.ok) return allowed;
  const text = repository.trim();
  const parsed = parseDockerReference(text, 'repository');
  if (!parsed.ok) return fail(fromDomain(parsed.error));
  if (namesTagOrDigest(text, parsed.value)) {
    return invalid([
      { field: 'repository', message: 'give a repository, without a tag or digest' },
    ]);
  }
  return ok({ namespace: allowed.value.namespace, repository: parsed.value });
}

function remoteFailure(failure: { reason: string; message: string }): ExpectedError {
  if (failure.reason === 'NotFound') return new NotFoundError(failure.message, 'repository');
  return new ValidationError([
    { field: 'repository', message: `the repository could not be listed: ${failure.message}` },
  ]);
}

/** A page of the repository's tags, in the registry's order, optionally filtered; writes nothing. */
export async function remoteTags(
  access: AccessChecker,
  reader: RemoteRegistryReader,
  input: {
    namespace: string;
    repository: string;
    filter?: string | null;
    first?: number | null;
    after?: string | null;
    insecure?: boolean | null;
  },
): Promise<Result<RemoteTagsPage>> {
  const checked = await checkRemoteRead(access, input.namespace, input.repository);
  if (!checked.ok) return checked;
  const first = input.first ?? 100;
  if (!Number.isInteger(first) || first < 1 || first > REMOTE_TAGS_MAX_PAGE) {
    return invalid([{ field: 'first', message: `first is 1 to ${REMOTE_TAGS_MAX_PAGE}` }]);
  }
  const filter = input.filter ? compileTagFilter(input.filter, 'filter') : ok(() => true);
  if (!filter.ok) return fail(fromDomain(filter.error));
  const listed = await reader.listTags(
    checked.value.namespace,
    checked.value.repository,
    Boolean(input.insecure),
  );
  if (!listed.ok) return fail(remoteFailure(listed));
  const matching = listed.value.tags.filter(filter.value);
  let start = 0;
  if (input.after) {
    const index = matching.indexOf(input.after);
    if (index === -1) {
      return invalid([{ field: 'after', message: `${input.after} is not a listed tag` }]);
    }
    start = index + 1;
  }
  const tags = matching.slice(start, start + first);
  return ok({
    tags,
    totalCount: matching.length,
    hasNextPage: start + first < matching.length,
    endCursor: tags.at(-1) ?? null,
    truncated: listed.value.truncated,
  });
}

/** What a policy would pick in the repository now; writes nothing. */
export async function previewPolicy(
  access: AccessChecker,
  reader: RemoteRegistryReader,
  input: {
    namespace: string;
    repository: string;
    policy: TagSelectionPolicyInput;
    insecure?: boolean | null;
  },
): Promise<Result<PolicyEvaluation & { truncated: boolean }>> {
  const checked = await checkRemoteRead(access, input.namespace, input.repository);
  if (!checked.ok) return checked;
  const policy = parseTagSelectionPolicy(input.policy, 'policy');
  if (!policy.ok) return fail(fromDomain(policy.error));
  const evaluated = await reader.evaluate(
    checked.value.namespace,
    checked.value.repository,
    Boolean(input.insecure),
    policy.value,
  );
  if (!evaluated.ok) return fail(remoteFailure(evaluated));
  return ok({ ...evaluated.value.evaluation, truncated: evaluated.value.truncated });
}
