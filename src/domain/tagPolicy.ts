// Spec-tag policies: pull specs per reference policy, generations and pending imports, and when
// a scheduled import keeps running (docs/rules.md).
import type { ImportMode } from './platforms.ts';
import { samePolicy, type TagSelectionPolicy } from './policyTags.ts';
import type { TagSource } from './tracking.ts';

export type ReferencePolicy = 'Source' | 'Local';

/**
 * What consumers pull for a history item. `Source`: the reference as imported. `Local`: the
 * stream's own pull spec pinned by digest, so pulls go through the integrated registry; an item
 * with no digest (a reference tag) has nothing to pin, so it falls back to its source.
 */
export function pullSpecFor(
  policy: ReferencePolicy,
  item: { dockerImageReference: string; image: string | null },
  streamPullSpec: string,
): string {
  if (policy === 'Local' && item.image) return `${streamPullSpec}@${item.image}`;
  return item.dockerImageReference;
}

/**
 * An import is pending while the spec tag's generation is newer than both what the
 * history last recorded (item 0) and the last condition (a failed import records its
 * generation there). A tag with status but no spec (null generation) never waits on an import.
 */
export function isImportPending(
  specGeneration: number | null | undefined,
  item0Generation?: number | null,
  conditionGeneration?: number | null,
): boolean {
  if (specGeneration === null || specGeneration === undefined) return false;
  return (
    specGeneration > (item0Generation ?? Number.NEGATIVE_INFINITY) &&
    specGeneration > (conditionGeneration ?? Number.NEGATIVE_INFINITY)
  );
}

/** The parts of a spec tag that decide what it points at. */
export interface SpecTagIdentity {
  from: TagSource | null;
  reference: boolean;
  importMode: ImportMode;
  /** A policy tag's policy (docs/policy-tags.md); absent or null for any other tag. */
  policy?: TagSelectionPolicy | null;
}

function sameSource(a: TagSource | null, b: TagSource | null): boolean {
  if (a === null || b === null) return a === b;
  // An absent namespace and an empty one both mean "this namespace".
  return a.kind === b.kind && a.name === b.name && (a.namespace || '') === (b.namespace || '');
}

/**
 * A spec tag takes the stream's new generation when it is created or when `from`,
 * `reference`, `importMode` or its policy changes — the changes that can make it point elsewhere. Edits to
 * annotations, reference policy or the insecure/scheduled flags keep its generation, so they do
 * not make an import pending.
 */
export function needsNewGeneration(
  previous: SpecTagIdentity | null | undefined,
  next: SpecTagIdentity,
): boolean {
  if (!previous) return true;
  return (
    !sameSource(previous.from, next.from) ||
    previous.reference !== next.reference ||
    previous.importMode !== next.importMode ||
    !samePolicy(previous.policy, next.policy)
  );
}

/**
 * Whether a tag stays on the import schedule. Only a scheduled DockerImage source that
 * is not a reference tag is re-imported; one pinned by digest cannot change, so it leaves the
 * schedule once it has been imported successfully.
 */
export function staysScheduled(
  tag: { from: TagSource | null; reference: boolean; scheduled: boolean },
  importedOnce: boolean,
): boolean {
  if (!tag.scheduled || tag.reference || tag.from?.kind !== 'DockerImage') return false;
  return !(importedOnce && tag.from.name.includes('@'));
}

/** The stream annotation that makes every import of the stream insecure (`oc import-image --insecure`). */
export const INSECURE_REPOSITORY_ANNOTATION = 'openshift.io/image.insecureRepository';

/** Insecure when the tag's import policy or the stream's annotation says so. */
export function isInsecure(tagInsecure: boolean, streamAnnotations: Record<string, string>) {
  return tagInsecure || streamAnnotations[INSECURE_REPOSITORY_ANNOTATION] === 'true';
}

/**
 * The stream annotation imports stamp with the time of the stream's last import (RFC 3339), as
 * OpenShift does. The server owns it: `apply` leaves it alone unless a manifest names it.
 */
export const REPOSITORY_CHECK_ANNOTATION = 'openshift.io/image.dockerRepositoryCheck';
