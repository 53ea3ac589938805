// The query cost: multiplied over nested pages from literals, variables and defaults; fragments
// compiled and evaluated once however often they are spread.
import { parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from '../../src/builder.ts';
import { compileCost, evaluateCost } from '../../src/queryCost.ts';
import { schema } from '../../src/schema/index.ts';

const costOf = (document: string, variables: Record<string, unknown> = {}) =>
  evaluateCost(compileCost(schema, parse(document))!, variables);

describe('query cost', () => {
  const streams = (first: string) =>
    `query($n: Int) { imageStreams(namespace: "ns"${first}) { nodes { name } } }`;

  it('multiplies a page by its first, from a literal, a variable or the default page', () => {
    // A page's whole subtree is multiplied by its size: the connection (2), nodes (2), name (1).
    const page = (items: number) => items * (2 + 2 + 1);
    expect(costOf(streams(', first: 7'))).toBe(page(7));
    expect(costOf(streams(', first: $n'), { n: 7 })).toBe(page(7));
    expect(costOf(streams(''))).toBe(page(DEFAULT_PAGE_SIZE));
    expect(costOf(streams(', first: $n'), {})).toBe(page(DEFAULT_PAGE_SIZE));
    // Above the maximum is refused elsewhere; the cost clamps as the connection does.
    expect(costOf(streams(', first: $n'), { n: 1e9 })).toBe(page(MAX_PAGE_SIZE));
  });

  it('uses a list field’s own default page', () => {
    const events = costOf('{ tagEvents(namespace: "ns") { events { cursor } } }');
    expect(events).toBe(50 * (2 + 2 + 1));
    const jobs = costOf('{ importJobs(namespace: "ns") { id } }');
    expect(jobs).toBe(20 * 3);
  });

  it('multiplies nested pages', () => {
    const document = `query($a: Int, $b: Int) { imageStreams(namespace: "ns", first: $a) {
      nodes { tags(first: $b) { nodes { name } } } } }`;
    expect(costOf(document, { a: 10, b: 10 })).toBe(10 * (2 + 2 + 10 * (2 + 2 + 1)));
    expect(costOf(document, { a: 100, b: 100 })).toBeGreaterThan(100 * 100 * 3);
  });

  it('compiles and evaluates a fragment spread many times once', () => {
    // Each level spreads the next twice: 2^40 spreads if expanded.
    const levels = 40;
    const fragments = Array.from({ length: levels }, (_, i) =>
      i === levels - 1
        ? `fragment F${i} on Query { me { subject } }`
        : `fragment F${i} on Query { ...F${i + 1} ...F${i + 1} }`,
    ).join('\n');
    const started = performance.now();
    const cost = costOf(`{ ...F0 } ${fragments}`);
    expect(performance.now() - started).toBeLessThan(1000);
    expect(cost).toBeGreaterThan(1e12);
  });
});
