// One stream: its tag graph drawn as SVG, kept live by subscriptions, and the selected tag's panel.
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { routeHash } from './App.tsx';
import { keepSubscribed, request, subscriptionClient } from './api.ts';
import { buildTagGraph, type TagNode, upsertTag } from './graphModel.ts';
import { layoutGraph, NODE_HEIGHT, NODE_WIDTH } from './layout.ts';
import {
  MAX_GRAPH_TAGS,
  type Role,
  STREAM_CHANGED,
  STREAM_TAGS,
  type StreamChangedData,
  type StreamTagsData,
  TAG_CHANGED,
  type TagChangedData,
  type TagFields,
} from './queries.ts';
import { TagPanel } from './TagPanel.tsx';

interface Props {
  token: string | null;
  namespace: string;
  stream: string;
  selected: string | null;
}

interface Loaded {
  tags: TagFields[];
  total: number;
  pullSpec: string;
  role: Role | null;
}

const KIND_LABELS: Record<TagNode['kind'], string> = {
  permanent: 'pinned',
  tracking: 'tracking',
  reference: 'reference',
  external: 'imported',
  scheduled: 'scheduled',
  status: 'pushed',
  source: 'source',
};

/** How long a changed tag stays highlighted. */
const HIGHLIGHT_MS = 4000;

async function loadStream(props: Props): Promise<Loaded | null> {
  const tags: TagFields[] = [];
  let after: string | null = null;
  let total = 0;
  let pullSpec = '';
  let role: Role | null = null;
  do {
    const page: StreamTagsData = await request<StreamTagsData>(props.token, STREAM_TAGS, {
      namespace: props.namespace,
      name: props.stream,
      after,
    });
    if (!page.imageStream) return null;
    role = page.namespace?.myRole ?? null;
    pullSpec = page.imageStream.pullSpec;
    total = page.imageStream.tags.totalCount;
    tags.push(...page.imageStream.tags.nodes);
    after = page.imageStream.tags.pageInfo.hasNextPage
      ? page.imageStream.tags.pageInfo.endCursor
      : null;
  } while (after && tags.length < MAX_GRAPH_TAGS);
  return { tags, total, pullSpec, role };
}

export function StreamView(props: Props) {
  const [loaded, setLoaded] = useState<Loaded | null | undefined>(undefined);
  const [error, setError] = useState<string | null>(null);
  const [live, setLive] = useState(false);
  const [deleted, setDeleted] = useState(false);
  const [highlighted, setHighlighted] = useState<ReadonlySet<string>>(new Set());
  /** Bumped by every change of the selected tag, so its panel reloads history and image. */
  const [revision, setRevision] = useState(0);
  const selectedRef = useRef(props.selected);
  selectedRef.current = props.selected;

  useEffect(() => {
    const client = subscriptionClient(props.token);
    let cursor: string | null = null;
    let streamCursor: string | null = null;
    /** Changes that came while the tags were loading, applied once they are in. */
    let pending: TagChangedData['tagChanged'][] | null = [];
    const timers = new Set<ReturnType<typeof setTimeout>>();
    const apply = (change: TagChangedData['tagChanged']) => {
      setLoaded((current) =>
        current
          ? { ...current, tags: upsertTag(current.tags, change.tag, change.imageStreamTag) }
          : current,
      );
      setHighlighted((current) => new Set(current).add(change.tag));
      const timer = setTimeout(() => {
        timers.delete(timer);
        setHighlighted((current) => {
          const next = new Set(current);
          next.delete(change.tag);
          return next;
        });
      }, HIGHLIGHT_MS);
      timers.add(timer);
      if (change.tag === selectedRef.current) setRevision((r) => r + 1);
    };
    const load = () =>
      loadStream(props).then(
        (result) => {
          setLoaded(result);
          for (const change of pending ?? []) apply(change);
          pending = null;
        },
        (failure: Error) => setError(failure.message),
      );
    // Subscribe first, then load: a change made while loading is applied after, none is lost.
    // Resubscribing after a drop passes the last cursor, so the server replays what was missed.
    const tagsLive = keepSubscribed<TagChangedData>(
      client,
      TAG_CHANGED,
      () => ({ namespace: props.namespace, stream: props.stream, since: cursor }),
      (data) => {
        cursor = data.tagChanged.cursor;
        if (pending) pending.push(data.tagChanged);
        else apply(data.tagChanged);
      },
      setLive,
    );
    const streamLive = keepSubscribed<StreamChangedData>(
      client,
      STREAM_CHANGED,
      () => ({ namespace: props.namespace, name: props.stream, since: streamCursor }),
      (data) => {
        streamCursor = data.imageStreamChanged.cursor;
        setDeleted(data.imageStreamChanged.type === 'DELETED');
        if (data.imageStreamChanged.type === 'ADDED') void load();
      },
      () => {},
    );
    void load();
    return () => {
      tagsLive.stop();
      streamLive.stop();
      for (const timer of timers) clearTimeout(timer);
      void client.dispose();
    };
  }, [props.token, props.namespace, props.stream]);

  const graph = useMemo(
    () => (loaded ? buildTagGraph(props.namespace, props.stream, loaded.tags) : null),
    [loaded?.tags, props.namespace, props.stream],
  );
  const timed = useMemo(() => {
    if (!graph) return null;
    const start = performance.now();
    const layout = layoutGraph(graph, forcedLayout());
    return { layout, ms: performance.now() - start };
  }, [graph]);

  if (error) return <p class="error">{error}</p>;
  if (loaded === undefined) return <p class="loading">Loading the tag graph…</p>;
  if (loaded === null)
    return (
      <p>
        No stream {props.stream} in {props.namespace}, or you may not read it.
      </p>
    );
  if (!graph || !timed) return null;

  const canEdit = loaded.role === 'EDITOR' || loaded.role === 'ADMIN';
  const selectedTag = loaded.tags.find((tag) => tag.name === props.selected) ?? null;
  const go = (tag: string | null) => {
    location.hash = routeHash({ namespace: props.namespace, stream: props.stream, tag });
  };

  return (
    <div class={`stream${selectedTag ? ' with-panel' : ''}`}>
      <section class="graph-area" aria-label="Tag graph">
        <div class="graph-head">
          <h1>
            {props.namespace}/{props.stream}
          </h1>
          <code>{loaded.pullSpec}</code>
          <span class={`live ${live ? 'on' : 'off'}`} data-testid="live">
            {live ? 'live' : 'reconnecting'}
          </span>
          {deleted && <span class="error">This stream was deleted.</span>}
        </div>
        <Legend />
        {loaded.total > loaded.tags.length && (
          <p class="note">
            Showing {loaded.tags.length} of {loaded.total} tags.
          </p>
        )}
        {loaded.tags.length === 0 && <p>This stream has no tags yet.</p>}
        <GraphSvg
          graph={graph}
          layout={timed.layout}
          layoutMs={timed.ms}
          selected={props.selected}
          highlighted={highlighted}
          onSelect={go}
        />
      </section>
      {selectedTag && (
        <TagPanel
          key={selectedTag.name}
          token={props.token}
          namespace={props.namespace}
          stream={props.stream}
          tag={selectedTag}
          tagNames={loaded.tags.map((tag) => tag.name)}
          canEdit={canEdit}
          revision={revision}
          onClose={() => go(null)}
        />
      )}
    </div>
  );
}

/**
 * A layout engine chosen for this tab (sessionStorage `tagraph.layout`: `dagre` or `layered`),
 * for comparing them on one stream; else the graph's size decides.
 */
function forcedLayout(): 'dagre' | 'layered' | undefined {
  const chosen = sessionStorage.getItem('tagraph.layout');
  return chosen === 'dagre' || chosen === 'layered' ? chosen : undefined;
}

function Legend() {
  return (
    <ul class="legend" aria-label="Legend">
      {(['permanent', 'tracking', 'external', 'scheduled', 'reference', 'status'] as const).map(
        (kind) => (
          <li key={kind}>
            <span class={`swatch kind-${kind}`} /> {KIND_LABELS[kind]}
          </li>
        ),
      )}
      <li>
        <span class="swatch failing" /> import failing
      </li>
      <li>
        <span class="edge-swatch tracks" /> tracks
      </li>
      <li>
        <span class="edge-swatch promoted" /> promoted from
      </li>
      <li>
        <span class="edge-swatch imports" /> imports
      </li>
    </ul>
  );
}

interface GraphProps {
  graph: ReturnType<typeof buildTagGraph>;
  layout: ReturnType<typeof layoutGraph>;
  layoutMs: number;
  selected: string | null;
  highlighted: ReadonlySet<string>;
  onSelect: (tag: string | null) => void;
}

/** Nodes in reading order (left to right, top to bottom): what arrow keys walk through. */
function readingOrder(graph: GraphProps['graph'], layout: GraphProps['layout']): TagNode[] {
  return graph.nodes
    .filter((node) => node.tag !== null)
    .sort((a, b) => {
      const pa = layout.positions.get(a.id)!;
      const pb = layout.positions.get(b.id)!;
      return pa.x - pb.x || pa.y - pb.y;
    });
}

function GraphSvg(props: GraphProps) {
  const { graph, layout } = props;
  const svgRef = useRef<SVGSVGElement>(null);
  const order = useMemo(() => readingOrder(graph, layout), [graph, layout]);

  // Keep the selected node in view and focused when the selection changes.
  useEffect(() => {
    if (!props.selected) return;
    const element = svgRef.current?.querySelector<SVGGElement>(
      `[data-tag="${CSS.escape(props.selected)}"]`,
    );
    if (element && document.activeElement !== element && !isTyping()) {
      element.focus({ preventScroll: true });
      element.scrollIntoView({ block: 'nearest', inline: 'nearest' });
    }
  }, [props.selected]);

  const onKeyDown = (event: KeyboardEvent) => {
    const target = event.target as Element;
    const tag = target.getAttribute?.('data-tag');
    if (tag === null || tag === undefined) return;
    const index = order.findIndex((node) => node.tag === tag);
    let next: TagNode | undefined;
    if (event.key === 'ArrowDown' || event.key === 'ArrowRight' || event.key === 'j') {
      next = order[Math.min(order.length - 1, index + 1)];
    } else if (event.key === 'ArrowUp' || event.key === 'ArrowLeft' || event.key === 'k') {
      next = order[Math.max(0, index - 1)];
    } else if (event.key === 'Home') next = order[0];
    else if (event.key === 'End') next = order[order.length - 1];
    else if (event.key === 'Enter' || event.key === ' ') {
      event.preventDefault();
      props.onSelect(tag);
      return;
    } else if (event.key === 'Escape') {
      props.onSelect(null);
      return;
    } else return;
    event.preventDefault();
    if (next?.tag) {
      const element = svgRef.current?.querySelector<SVGGElement>(
        `[data-tag="${CSS.escape(next.tag)}"]`,
      );
      element?.focus();
      element?.scrollIntoView({ block: 'nearest', inline: 'nearest' });
    }
  };

  return (
    <div class="graph-scroll">
      <svg
        ref={svgRef}
        class="graph"
        aria-label={`Tag graph: ${order.length} tags`}
        width={Math.max(layout.width, 200)}
        height={Math.max(layout.height, 80)}
        data-testid="graph"
        data-layout-ms={props.layoutMs.toFixed(1)}
        data-layout-engine={layout.engine}
        data-node-count={graph.nodes.length}
        onKeyDown={onKeyDown}
      >
        <defs>
          {(['tracks', 'promoted', 'imports'] as const).map((kind) => (
            <marker
              key={kind}
              id={`arrow-${kind}`}
              class={`arrow ${kind}`}
              viewBox="0 0 10 10"
              refX="9"
              refY="5"
              markerWidth="7"
              markerHeight="7"
              orient="auto-start-reverse"
            >
              <path d="M0,0 L10,5 L0,10 z" />
            </marker>
          ))}
        </defs>
        <g class="edges">
          {graph.edges.map((edge, index) => {
            const points = layout.routes[index] ?? [];
            if (points.length < 2) return null;
            return (
              <polyline
                key={`${edge.from}>${edge.to}`}
                class={`edge ${edge.kind}`}
                data-edge={`${edge.from}>${edge.to}`}
                points={points.map((p) => `${p.x},${p.y}`).join(' ')}
                marker-end={`url(#arrow-${edge.kind})`}
              />
            );
          })}
        </g>
        <g class="nodes">
          {graph.nodes.map((node) => {
            const position = layout.positions.get(node.id)!;
            const isTag = node.tag !== null;
            const classes = [
              'node',
              `kind-${node.kind}`,
              node.failing ? 'failing' : '',
              node.dangling ? 'dangling' : '',
              node.tag && node.tag === props.selected ? 'selected' : '',
              node.tag && props.highlighted.has(node.tag) ? 'changed' : '',
            ]
              .filter(Boolean)
              .join(' ');
            const markers = [
              node.policy ? 'policy' : '',
              node.kind === 'scheduled' ? 'scheduled' : '',
              node.failing ? 'import failing' : '',
              node.dangling ? 'dangling' : '',
              node.pending ? 'import pending' : '',
            ].filter(Boolean);
            return (
              <g
                key={node.id}
                class={classes}
                transform={`translate(${position.x - NODE_WIDTH / 2},${position.y - NODE_HEIGHT / 2})`}
                {...(isTag
                  ? {
                      // SVG attributes keep their case: `tabindex`, not `tabIndex`.
                      tabindex: node.tag === (props.selected ?? order[0]?.tag) ? 0 : -1,
                      role: 'button',
                      'data-tag': node.tag,
                      'aria-label': `${node.label}: ${KIND_LABELS[node.kind]}${markers.length ? `, ${markers.join(', ')}` : ''}`,
                      'aria-pressed': node.tag === props.selected,
                      onClick: () => props.onSelect(node.tag),
                    }
                  : { 'data-source': node.label })}
              >
                <title>{node.tag ? `${node.label} (${KIND_LABELS[node.kind]})` : node.label}</title>
                <rect width={NODE_WIDTH} height={NODE_HEIGHT} rx={isTag ? 6 : 14} />
                <text x={10} y={17} class="label">
                  {truncate(node.label, 22)}
                </text>
                <text x={10} y={32} class="sub">
                  {node.digest
                    ? node.digest.slice(7, 19)
                    : isTag
                      ? 'no image'
                      : 'outside the stream'}
                  {markers.length > 0 ? ` · ${markerIcons(node)}` : ''}
                </text>
              </g>
            );
          })}
        </g>
      </svg>
    </div>
  );
}

function markerIcons(node: TagNode): string {
  return [
    node.policy ? 'policy' : '',
    node.kind === 'scheduled' ? 'scheduled' : '',
    node.failing ? 'failing' : '',
    node.dangling ? 'dangling' : '',
    node.pending ? 'pending' : '',
  ]
    .filter(Boolean)
    .join(' ');
}

function truncate(text: string, length: number): string {
  return text.length > length ? `${text.slice(0, length - 1)}…` : text;
}

function isTyping(): boolean {
  const active = document.activeElement;
  return active instanceof HTMLInputElement || active instanceof HTMLTextAreaElement;
}
