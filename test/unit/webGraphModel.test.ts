// The web UI's tag graph model and layered layout, without a browser: nodes, edges, kinds, markers.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sameStreamSource } from '../../src/domain/tracking.ts';
import {
  buildTagGraph,
  repositoryOf,
  type TagData,
  tagKind,
  trackedTag,
  upsertTag,
} from '../../web/src/graphModel.ts';
import { layeredLayout, layoutGraph, NODE_HEIGHT, NODE_WIDTH } from '../../web/src/layout.ts';

function tag(name: string, extra: Partial<TagData> = {}): TagData {
  return {
    name,
    importPending: false,
    spec: {
      from: { kind: 'DockerImage', name: `quay.io/acme/app:${name}`, namespace: null },
      reference: false,
      importPolicy: { scheduled: false },
    },
    policy: null,
    conditions: [],
    image: { digest: `sha256:${'a'.repeat(64)}` },
    promotedFrom: null,
    ...extra,
  };
}

const tracking = (name: string, source: string, namespace: string | null = null): TagData =>
  tag(name, {
    spec: {
      from: { kind: 'ImageStreamTag', name: source, namespace },
      reference: false,
      importPolicy: { scheduled: false },
    },
  });

describe('the tag graph model', () => {
  it('draws tracking, promotion and import edges, and sources outside the stream once', () => {
    const graph = buildTagGraph('shop', 'web', [
      tag('1.0'),
      tag('1.1'),
      tracking('latest', '1.1'),
      tracking('stable', 'web:latest'),
      tag('prod', {
        spec: {
          from: { kind: 'ImageStreamImage', name: 'web@sha256:aa', namespace: null },
          reference: false,
          importPolicy: { scheduled: false },
        },
        promotedFrom: { namespace: 'shop', stream: 'web', tag: '1.0' },
      }),
      tag('mirror', {
        spec: {
          from: { kind: 'ImageStreamImage', name: 'base@sha256:bb', namespace: 'ops' },
          reference: false,
          importPolicy: { scheduled: false },
        },
        promotedFrom: { namespace: 'ops', stream: 'base', tag: 'v1' },
      }),
    ]);
    expect(graph.nodes.map((n) => n.id)).toEqual([
      'tag:1.0',
      'tag:1.1',
      'tag:latest',
      'tag:mirror',
      'tag:prod',
      'tag:stable',
      'ext:repo:quay.io/acme/app',
      'ext:tag:ops/base:v1',
    ]);
    expect(graph.edges).toEqual([
      { from: 'ext:repo:quay.io/acme/app', to: 'tag:1.0', kind: 'imports' },
      { from: 'ext:repo:quay.io/acme/app', to: 'tag:1.1', kind: 'imports' },
      { from: 'tag:1.1', to: 'tag:latest', kind: 'tracks' },
      { from: 'ext:tag:ops/base:v1', to: 'tag:mirror', kind: 'promoted' },
      { from: 'tag:1.0', to: 'tag:prod', kind: 'promoted' },
      { from: 'tag:latest', to: 'tag:stable', kind: 'tracks' },
    ]);
    expect(graph.nodes.find((n) => n.id === 'ext:tag:ops/base:v1')!.label).toBe('ops/base:v1');
  });

  it('marks dangling, failing, scheduled, policy, reference and pushed tags', () => {
    const graph = buildTagGraph('shop', 'web', [
      tracking('orphan', 'gone'),
      tag('broken', {
        conditions: [{ type: 'ImportSuccess', status: 'False', reason: 'NotFound', message: 'x' }],
      }),
      tag('nightly', {
        spec: {
          from: { kind: 'DockerImage', name: 'quay.io/acme/app:nightly', namespace: null },
          reference: false,
          importPolicy: { scheduled: true },
        },
        policy: { kind: 'SEMVER' },
      }),
      tag('ref', {
        spec: {
          from: { kind: 'DockerImage', name: 'quay.io/acme/app:ref', namespace: null },
          reference: true,
          importPolicy: { scheduled: false },
        },
        image: null,
      }),
      tag('pushed', { spec: null }),
    ]);
    const byTag = new Map(graph.nodes.map((n) => [n.tag, n]));
    expect(byTag.get('orphan')).toMatchObject({ kind: 'tracking', dangling: true });
    expect(byTag.get('broken')).toMatchObject({ kind: 'external', failing: true });
    expect(byTag.get('nightly')).toMatchObject({ kind: 'scheduled', policy: true });
    expect(byTag.get('ref')).toMatchObject({ kind: 'reference', digest: null });
    expect(byTag.get('pushed')).toMatchObject({ kind: 'status' });
    // A dangling tag has no edge (its source is gone); a reference imports nothing.
    expect(graph.edges.map((e) => e.to).sort()).toEqual(['tag:broken', 'tag:nightly']);
  });

  it('decides tracking exactly as the server does', () => {
    const from = fc.record({
      kind: fc.constantFrom('DockerImage', 'ImageStreamTag', 'ImageStreamImage'),
      name: fc.oneof(
        fc.constantFrom('latest', 'web:latest', 'api:latest', 'web:', ':x'),
        fc.string({ maxLength: 8 }),
      ),
      namespace: fc.constantFrom(null, 'shop', 'other'),
    });
    fc.assert(
      fc.property(from, (source) => {
        const ours = trackedTag('shop', 'web', source);
        const servers = sameStreamSource({ namespace: 'shop', stream: 'web' }, source as never);
        expect(ours).toBe(servers);
      }),
    );
    expect(tagKind('shop', 'web', tracking('x', 'api:latest'))).toBe('permanent');
    expect(tagKind('shop', 'web', tracking('x', 'latest', 'other'))).toBe('permanent');
  });

  it('names a repository without its tag or digest', () => {
    expect(repositoryOf('quay.io/acme/app:1.2')).toBe('quay.io/acme/app');
    expect(repositoryOf('localhost:5000/app')).toBe('localhost:5000/app');
    expect(repositoryOf(`localhost:5000/app@sha256:${'b'.repeat(64)}`)).toBe('localhost:5000/app');
    expect(repositoryOf('localhost:5000/app:v1@sha256:ab')).toBe('localhost:5000/app');
  });

  it('applies a live change: replaces, adds, removes by name', () => {
    const tags = [tag('a'), tag('b')];
    expect(
      upsertTag(tags, 'b', tag('b', { importPending: true })).map((t) => t.importPending),
    ).toEqual([false, true]);
    expect(upsertTag(tags, 'c', tag('c')).map((t) => t.name)).toEqual(['a', 'b', 'c']);
    expect(upsertTag(tags, 'a', null).map((t) => t.name)).toEqual(['b']);
  });
});

describe('the layouts', () => {
  const chain = (n: number): TagData[] =>
    Array.from({ length: n }, (_, i) => (i === 0 ? tag('t0') : tracking(`t${i}`, `t${i - 1}`)));

  it('put every follower right of what it tracks, with no two nodes overlapping', () => {
    for (const engine of ['dagre', 'layered'] as const) {
      const graph = buildTagGraph('shop', 'web', [...chain(6), tag('x'), tag('y')]);
      const layout = layoutGraph(graph, engine);
      expect(layout.engine).toBe(engine);
      for (const edge of graph.edges) {
        expect(layout.positions.get(edge.from)!.x, engine).toBeLessThan(
          layout.positions.get(edge.to)!.x,
        );
      }
      const boxes = [...layout.positions.values()];
      for (const [i, a] of boxes.entries()) {
        for (const b of boxes.slice(i + 1)) {
          const apart = Math.abs(a.x - b.x) >= NODE_WIDTH || Math.abs(a.y - b.y) >= NODE_HEIGHT;
          expect(apart, engine).toBe(true);
        }
      }
      expect(layout.routes.every((route) => route.length >= 2)).toBe(true);
    }
  });

  it('switches to the layered layout for a big graph and wraps a wide layer into columns', () => {
    const many = Array.from({ length: 1000 }, (_, i) => tag(`v${i}`));
    const graph = buildTagGraph('shop', 'web', many);
    const layout = layoutGraph(graph);
    expect(layout.engine).toBe('layered');
    expect(layout.height).toBeLessThan(50 * (NODE_HEIGHT + 12));
    expect(layout.width).toBeGreaterThan(10 * NODE_WIDTH);
  });

  it('survives a cycle of tracking tags (the server refuses them, old data may hold one)', () => {
    const graph = buildTagGraph('shop', 'web', [tracking('a', 'b'), tracking('b', 'a')]);
    const layout = layeredLayout(graph);
    expect(layout.positions.size).toBe(2);
  });
});
