// Positions of the tag graph's nodes: dagre's layered layout, or a quicker layered one for big graphs.
import dagre from '@dagrejs/dagre';
import type { TagGraph } from './graphModel.ts';

export const NODE_WIDTH = 168;
export const NODE_HEIGHT = 40;
/** Above this many nodes the simple layered layout is used (dagre's cost grows much faster). */
export const DAGRE_MAX_NODES = 400;

export interface Point {
  x: number;
  y: number;
}

export interface Layout {
  /** Node centres by node id. */
  positions: Map<string, Point>;
  /** Each edge's polyline (by index in the graph's edges). */
  routes: Point[][];
  width: number;
  height: number;
  engine: 'dagre' | 'layered';
}

/** Lays the graph out left to right; `engine` forces one (tests and measurements). */
export function layoutGraph(graph: TagGraph, engine?: 'dagre' | 'layered'): Layout {
  const chosen = engine ?? (graph.nodes.length <= DAGRE_MAX_NODES ? 'dagre' : 'layered');
  return chosen === 'dagre' ? dagreLayout(graph) : layeredLayout(graph);
}

function dagreLayout(graph: TagGraph): Layout {
  const g = new dagre.graphlib.Graph();
  g.setGraph({ rankdir: 'LR', nodesep: 14, ranksep: 70, marginx: 16, marginy: 16 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const node of graph.nodes) g.setNode(node.id, { width: NODE_WIDTH, height: NODE_HEIGHT });
  for (const edge of graph.edges) g.setEdge(edge.from, edge.to);
  dagre.layout(g);
  const positions = new Map<string, Point>();
  for (const node of graph.nodes) {
    const { x, y } = g.node(node.id);
    positions.set(node.id, { x, y });
  }
  const routes = graph.edges.map((edge) => g.edge(edge.from, edge.to)?.points ?? []);
  const { width = 0, height = 0 } = g.graph();
  return { positions, routes, width, height, engine: 'dagre' };
}

/** At most this many nodes stacked in one column of a layer before it wraps into another. */
const COLUMN_ROWS = 40;
const COLUMN_GAP = 24;
const LAYER_GAP = 90;
const ROW_GAP = 12;
const MARGIN = 16;

/**
 * Layers by longest path from a node with no incoming edge (cycles broken by visiting order),
 * nodes in a layer in the graph's order, a layer wrapped into columns of COLUMN_ROWS; edges are
 * straight lines. Linear in nodes and edges.
 */
export function layeredLayout(graph: TagGraph): Layout {
  const incoming = new Map<string, string[]>();
  for (const edge of graph.edges) {
    const list = incoming.get(edge.to) ?? [];
    list.push(edge.from);
    incoming.set(edge.to, list);
  }
  const layer = new Map<string, number>();
  const visiting = new Set<string>();
  const layerOf = (id: string): number => {
    const known = layer.get(id);
    if (known !== undefined) return known;
    if (visiting.has(id)) return 0;
    visiting.add(id);
    let depth = 0;
    for (const from of incoming.get(id) ?? []) depth = Math.max(depth, layerOf(from) + 1);
    visiting.delete(id);
    layer.set(id, depth);
    return depth;
  };
  const layers: string[][] = [];
  for (const node of graph.nodes) {
    const depth = layerOf(node.id);
    const ids = layers[depth] ?? [];
    ids.push(node.id);
    layers[depth] = ids;
  }
  const positions = new Map<string, Point>();
  let x = MARGIN;
  let height = 0;
  for (const ids of layers) {
    if (!ids) continue;
    const columns = Math.ceil(ids.length / COLUMN_ROWS);
    ids.forEach((id, index) => {
      const column = Math.floor(index / COLUMN_ROWS);
      const row = index % COLUMN_ROWS;
      positions.set(id, {
        x: x + column * (NODE_WIDTH + COLUMN_GAP) + NODE_WIDTH / 2,
        y: MARGIN + row * (NODE_HEIGHT + ROW_GAP) + NODE_HEIGHT / 2,
      });
    });
    const rows = Math.min(ids.length, COLUMN_ROWS);
    height = Math.max(height, MARGIN * 2 + rows * (NODE_HEIGHT + ROW_GAP) - ROW_GAP);
    x += columns * (NODE_WIDTH + COLUMN_GAP) - COLUMN_GAP + LAYER_GAP;
  }
  const routes = graph.edges.map((edge) => {
    const from = positions.get(edge.from);
    const to = positions.get(edge.to);
    if (!from || !to) return [];
    return [
      { x: from.x + NODE_WIDTH / 2, y: from.y },
      { x: to.x - NODE_WIDTH / 2, y: to.y },
    ];
  });
  return { positions, routes, width: x - LAYER_GAP + MARGIN, height, engine: 'layered' };
}
