// Unit tests for the history push rule and rollback targets.
// The rules: docs/rules.md#tag-history-the-push-rule and #rollback-targets.
import { describe, expect, it } from 'vitest';
import {
  applyTagEvent,
  nextHistory,
  rollbackTarget,
  type TagEvent,
} from '../../src/domain/history.ts';

const D1 = `sha256:${'1'.repeat(64)}`;
const D2 = `sha256:${'2'.repeat(64)}`;
const D3 = `sha256:${'3'.repeat(64)}`;
const T0 = new Date('2024-01-01T00:00:00Z');
const T1 = new Date('2024-02-01T00:00:00Z');

function event(image: string | null, generation: number, ref?: string, created = T0): TagEvent {
  return { created, image, generation, dockerImageReference: ref ?? `quay.io/a/b@${image}` };
}

describe('applyTagEvent', () => {
  it('pushes onto an empty history and clears conditions', () => {
    const next = event(D1, 1);
    expect(applyTagEvent([], next)).toEqual({ kind: 'pushed', item0: next, clearConditions: true });
  });

  it('same reference, image and generation: unchanged', () => {
    const top = event(D1, 2);
    expect(applyTagEvent([top], event(D1, 2, undefined, T1))).toEqual({ kind: 'unchanged' });
  });

  it('same reference and image, new generation: updates item 0 generation only', () => {
    const top = event(D1, 2);
    const change = applyTagEvent([top, event(D2, 1)], event(D1, 3, undefined, T1));
    expect(change).toEqual({
      kind: 'updatedGeneration',
      item0: { ...top, generation: 3 },
      clearConditions: true,
    });
  });

  it('same reference, different image: replaces item 0 image in place', () => {
    const top = event(D1, 2, 'quay.io/a/b:latest');
    const change = applyTagEvent([top], event(D2, 3, 'quay.io/a/b:latest', T1));
    expect(change).toEqual({
      kind: 'replacedImage',
      item0: { ...top, image: D2 },
      clearConditions: false,
    });
  });

  it('same image, different reference: replaces item 0 reference in place', () => {
    const top = event(D1, 2, `quay.io/a/b@${D1}`);
    const change = applyTagEvent([top], event(D1, 2, `mirror.io/a/b@${D1}`, T1));
    expect(change).toEqual({
      kind: 'replacedReference',
      item0: { ...top, dockerImageReference: `mirror.io/a/b@${D1}` },
      clearConditions: false,
    });
  });

  it('different reference and image: pushes the new event', () => {
    const next = event(D2, 2, undefined, T1);
    expect(applyTagEvent([event(D1, 1)], next)).toEqual({
      kind: 'pushed',
      item0: next,
      clearConditions: true,
    });
  });

  it('switching back to an older image pushes a new item: history is a timeline', () => {
    let history = [event(D1, 1)];
    for (const next of [event(D2, 2), event(D1, 3)]) {
      history = nextHistory(history, applyTagEvent(history, next));
    }
    expect(history.map((e) => e.image)).toEqual([D1, D2, D1]);
  });

  it('compares with item 0 only', () => {
    // D1 is item 1, not item 0: the event is new again.
    const history = [event(D2, 2), event(D1, 1)];
    expect(applyTagEvent(history, event(D1, 1)).kind).toBe('pushed');
  });

  it('treats two reference-tag events (no image) with the same pull spec as the same', () => {
    const top = event(null, 1, 'quay.io/a/b:1');
    expect(applyTagEvent([top], event(null, 1, 'quay.io/a/b:1'))).toEqual({ kind: 'unchanged' });
    expect(applyTagEvent([top], event(null, 2, 'quay.io/a/b:1')).kind).toBe('updatedGeneration');
    expect(applyTagEvent([top], event(null, 2, 'quay.io/a/b:2')).kind).toBe('replacedReference');
  });

  it('does not mutate its inputs', () => {
    const top = event(D1, 1);
    const history = [top];
    const change = applyTagEvent(history, event(D1, 2));
    expect(top.generation).toBe(1);
    if (change.kind !== 'unchanged') expect(change.item0).not.toBe(top);
  });
});

describe('lineage through the push rule', () => {
  const fromDev = { tagId: 7, namespace: 'dev', stream: 'app', tag: '1', generation: 4 };
  const fromQa = { tagId: 9, namespace: 'qa', stream: 'app', tag: '2', generation: 6 };
  const copy = (base: TagEvent, copiedFrom: typeof fromDev) => ({ ...base, copiedFrom });

  it('a copy pushed on top carries its source; any other event pushed on top carries none', () => {
    const pushed = applyTagEvent([event(D1, 1)], copy(event(D2, 2), fromDev));
    expect(pushed).toMatchObject({ kind: 'pushed', item0: { copiedFrom: fromDev } });
    const over = applyTagEvent([copy(event(D2, 2), fromDev)], event(D3, 3));
    expect(over.kind).toBe('pushed');
    if (over.kind !== 'unchanged') expect(over.item0.copiedFrom ?? null).toBeNull();
  });

  it('an in-place change keeps the lineage of item 0, unless it is itself a copy', () => {
    const top = copy(event(D1, 2), fromDev);
    const newGeneration = applyTagEvent([top], event(D1, 3));
    expect(newGeneration).toMatchObject({
      kind: 'updatedGeneration',
      item0: { copiedFrom: fromDev },
    });
    const moved = applyTagEvent([top], event(D1, 2, `mirror.io/a/b@${D1}`));
    expect(moved).toMatchObject({ kind: 'replacedReference', item0: { copiedFrom: fromDev } });
    const recopied = applyTagEvent([top], copy(event(D1, 3), fromQa));
    expect(recopied).toMatchObject({ kind: 'updatedGeneration', item0: { copiedFrom: fromQa } });
  });

  it('a copy of what item 0 already is, at the same generation, writes nothing', () => {
    expect(applyTagEvent([event(D1, 2)], copy(event(D1, 2), fromDev))).toEqual({
      kind: 'unchanged',
    });
  });
});

describe('nextHistory', () => {
  const history = [event(D2, 2), event(D1, 1)];

  it('keeps the history for unchanged', () => {
    expect(nextHistory(history, { kind: 'unchanged' })).toEqual(history);
  });

  it('replaces item 0 for in-place changes', () => {
    const change = applyTagEvent(history, event(D2, 5));
    expect(nextHistory(history, change)).toEqual([{ ...history[0], generation: 5 }, history[1]]);
  });

  it('puts a pushed item on top', () => {
    const next = event(D3, 3);
    expect(nextHistory(history, applyTagEvent(history, next))).toEqual([next, ...history]);
  });
});

describe('rollbackTarget', () => {
  const history = [event(D3, 3), event(D2, 2), event(D1, 2), event(D2, 1)];

  it('by index', () => {
    expect(rollbackTarget(history, { index: 2 })).toEqual({
      ok: true,
      value: { index: 2, event: history[2] },
    });
    expect(rollbackTarget(history, { index: 0 })).toMatchObject({ ok: true, value: { index: 0 } });
  });

  it('by index out of range is not found', () => {
    expect(rollbackTarget(history, { index: 4 })).toEqual({
      ok: false,
      error: {
        code: 'NOT_FOUND',
        message: 'history has 4 item(s); there is no item 4',
        field: 'index',
      },
    });
  });

  it.each([-1, 1.5, Number.NaN])('by index %s is invalid', (index) => {
    expect(rollbackTarget(history, { index })).toMatchObject({
      ok: false,
      error: { code: 'VALIDATION', field: 'index' },
    });
  });

  it('by generation picks the newest item of that generation', () => {
    expect(rollbackTarget(history, { generation: 2 })).toEqual({
      ok: true,
      value: { index: 1, event: history[1] },
    });
    expect(rollbackTarget(history, { generation: 9 })).toEqual({
      ok: false,
      error: {
        code: 'NOT_FOUND',
        message: 'no history item has generation 9',
        field: 'generation',
      },
    });
  });

  it('by digest picks the newest item with that image', () => {
    expect(rollbackTarget(history, { digest: D2 })).toEqual({
      ok: true,
      value: { index: 1, event: history[1] },
    });
    expect(rollbackTarget(history, { digest: D1 })).toMatchObject({
      ok: true,
      value: { index: 2 },
    });
  });

  it('by digest accepts a short id and reports ambiguity or absence', () => {
    expect(rollbackTarget(history, { digest: '111' })).toMatchObject({
      ok: true,
      value: { index: 2 },
    });
    const mixed = [event(`sha256:ab${'0'.repeat(62)}`, 2), event(`sha256:ab${'1'.repeat(62)}`, 1)];
    expect(rollbackTarget(mixed, { digest: 'ab' })).toMatchObject({
      ok: false,
      error: { code: 'CONFLICT', field: 'digest' },
    });
    expect(rollbackTarget(history, { digest: 'fff' })).toEqual({
      ok: false,
      error: {
        code: 'NOT_FOUND',
        message: 'no history item has an image matching "fff"',
        field: 'digest',
      },
    });
  });

  it('applying the target pushes a new item, never rewriting history', () => {
    const target = rollbackTarget(history, { index: 2 });
    if (!target.ok) throw new Error('expected a target');
    const next = { ...target.value.event, generation: 4, created: T1 };
    const updated = nextHistory(history, applyTagEvent(history, next));
    expect(updated).toEqual([next, ...history]);
  });

  it('ignores reference items (no image) when looking up digests', () => {
    expect(rollbackTarget([event(null, 1, 'quay.io/x:1')], { digest: '1' })).toMatchObject({
      ok: false,
      error: { code: 'NOT_FOUND' },
    });
  });
});
