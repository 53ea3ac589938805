// Tag history: the push rule and picking a rollback target.
// The rules: docs/rules.md#tag-history-the-push-rule and #rollback-targets.
import { fail, ok, type Result } from '../errors.ts';
import { type DomainError, domainError } from './names.ts';
import { resolveImageId } from './shortIds.ts';

/** One item of a tag's history; item 0 is what the tag points at now. */
export interface TagEvent {
  created: Date;
  dockerImageReference: string;
  /** The image digest; null for a reference tag, which never imports. */
  image: string | null;
  generation: number;
  /** Set when a permanent `tag` copied the item from another tag (docs/rules.md#lineage). */
  copiedFrom?: TagLineage | null;
}

/** The source of a copied history item: the tag, by id and by name, and its item's generation. */
export interface TagLineage {
  tagId: number;
  namespace: string;
  stream: string;
  tag: string;
  generation: number;
}

/**
 * What applying an event does to a history, compared with item 0 only (as OpenShift's
 * AddTagEventToImageStream does). `item0` is the new item 0 to store; for in-place kinds it
 * replaces the old item 0 (same `created`), for `pushed` it goes on top.
 */
export type HistoryChange =
  | { kind: 'unchanged' }
  | { kind: 'updatedGeneration'; item0: TagEvent; clearConditions: true }
  | { kind: 'replacedImage'; item0: TagEvent; clearConditions: false }
  | { kind: 'replacedReference'; item0: TagEvent; clearConditions: false }
  | { kind: 'pushed'; item0: TagEvent; clearConditions: true };

/**
 * The push rule. The in-place replacements change only the one field that differs — generation and
 * `created` stay, conditions stay — exactly as the rule and OpenShift say: the tag still points
 * at what it pointed at, only described better (a digest now known, or a pull spec moved).
 */
export function applyTagEvent(history: readonly TagEvent[], next: TagEvent): HistoryChange {
  const top = history[0];
  if (top === undefined) return { kind: 'pushed', item0: { ...next }, clearConditions: true };
  const sameRef = top.dockerImageReference === next.dockerImageReference;
  const sameImage = top.image === next.image;
  // An item changed in place keeps its lineage, unless the change is itself a copy.
  const copiedFrom = next.copiedFrom ?? top.copiedFrom;
  if (sameRef && sameImage) {
    if (top.generation === next.generation) return { kind: 'unchanged' };
    return {
      kind: 'updatedGeneration',
      item0: { ...top, generation: next.generation, copiedFrom },
      clearConditions: true,
    };
  }
  if (sameRef) {
    return {
      kind: 'replacedImage',
      item0: { ...top, image: next.image, copiedFrom },
      clearConditions: false,
    };
  }
  if (sameImage) {
    return {
      kind: 'replacedReference',
      item0: { ...top, dockerImageReference: next.dockerImageReference, copiedFrom },
      clearConditions: false,
    };
  }
  return { kind: 'pushed', item0: { ...next }, clearConditions: true };
}

/** The history after a change: what a store would hold, for callers and tests that need it. */
export function nextHistory(history: readonly TagEvent[], change: HistoryChange): TagEvent[] {
  switch (change.kind) {
    case 'unchanged':
      return [...history];
    case 'pushed':
      return [change.item0, ...history];
    default:
      return [change.item0, ...history.slice(1)];
  }
}

export type RollbackBy = { index: number } | { generation: number } | { digest: string };

export interface RollbackTarget {
  index: number;
  event: TagEvent;
}

/**
 * The historical item a rollback points the tag at. Applying it (as a new event with the
 * spec's generation) goes through the push rule, so history is never rewritten. When several items
 * match a generation or a digest, the newest wins: it is what the tag last pointed at then.
 * A digest may be a short id, resolved among this tag's own history.
 */
export function rollbackTarget(
  history: readonly TagEvent[],
  by: RollbackBy,
): Result<RollbackTarget, DomainError> {
  let index = -1;
  if ('index' in by) {
    if (!Number.isInteger(by.index) || by.index < 0) {
      return fail(
        domainError('VALIDATION', `history index ${by.index} must be a whole number ≥ 0`, 'index'),
      );
    }
    if (by.index >= history.length) {
      return fail(
        domainError(
          'NOT_FOUND',
          `history has ${history.length} item(s); there is no item ${by.index}`,
          'index',
        ),
      );
    }
    index = by.index;
  } else if ('generation' in by) {
    index = history.findIndex((e) => e.generation === by.generation);
    if (index === -1) {
      return fail(
        domainError('NOT_FOUND', `no history item has generation ${by.generation}`, 'generation'),
      );
    }
  } else {
    const digests = history.flatMap((e) => (e.image === null ? [] : [e.image]));
    const resolved = resolveImageId(by.digest, digests);
    if (!resolved.ok && resolved.error.code === 'NOT_FOUND') {
      return fail(
        domainError('NOT_FOUND', `no history item has an image matching "${by.digest}"`, 'digest'),
      );
    }
    if (!resolved.ok) return { ok: false, error: { ...resolved.error, field: 'digest' } };
    index = history.findIndex((e) => e.image === resolved.value);
  }
  return ok({ index, event: history[index]! });
}
