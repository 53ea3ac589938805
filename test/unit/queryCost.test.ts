// The query cost: multiplied over nested pages from literals, variables and defaults; fragments
// compiled and evaluated once however often they are spread.
import { parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from '../../src/builder.ts';
import {
  compileCost,
  evaluateCost,
  evaluateDeferred,
  UNPAGED_LIST_ITEMS,
} from '../../src/queryCost.ts';
import { schema } from '../../src/schema/index.ts';

const costOf = (document: string, variables: Record<string, unknown> = {}) =>
  evaluateCost(compileCost(schema, parse(document))!, variables);
const deferredOf = (document: string, variables: Record<string, unknown> = {}) =>
  evaluateDeferred(compileCost(schema, parse(document))!, variables);

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

describe('deferred deliveries', () => {
  const tags = (inner: string, first = 'first: $n') =>
    `query($n: Int, $m: Int, $d: Boolean!) { imageStreams(namespace: "ns", first: $m) { nodes {
      tags(${first}) { nodes { name ${inner} } } } } }`;

  it('counts a @defer once per item of the lists around it', () => {
    const inner = '... @defer { image { digest } }';
    expect(deferredOf(tags(inner), { m: 1, n: 30, d: true })).toBe(30);
    expect(deferredOf(tags(inner), { m: 4, n: 30, d: true })).toBe(120);
    expect(deferredOf(tags(''), { m: 4, n: 30, d: true })).toBe(0);
  });

  it('counts fragment spreads, and @defer(if: $d) whatever $d is, but not if: false', () => {
    const spread = `${tags('...Image @defer')} fragment Image on ImageStreamTag { image { digest } }`;
    expect(deferredOf(spread, { m: 2, n: 10 })).toBe(20);
    const variable = tags('... @defer(if: $d) { image { digest } }');
    expect(deferredOf(variable, { m: 2, n: 10, d: false })).toBe(20);
    expect(deferredOf(tags('... @defer(if: false) { image { digest } }'), { m: 2, n: 10 })).toBe(0);
  });

  it('counts each item of a streamed list', () => {
    const edges = `query { imageStreams(namespace: "ns", first: 3) { nodes {
      tags(first: 10) { edges @stream(initialCount: 1) { node { name } } } } } }`;
    expect(deferredOf(edges)).toBe(30);
    const layers = '{ image(digest: "d") { layers @stream { digest } config { env @stream } } }';
    expect(deferredOf(layers)).toBe(2 * UNPAGED_LIST_ITEMS);
  });

  it('prices the fields under @defer as without it', () => {
    const inner = (defer: string) => `... ${defer} { image { digest layers { digest } } }`;
    const variables = { m: 3, n: 10, d: true };
    expect(costOf(tags(inner('@defer')), variables)).toBe(costOf(tags(inner('')), variables));
  });
});
