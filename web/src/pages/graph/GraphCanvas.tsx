// The graph drawing and its pointer handling. Hover is handled outside Preact's render cycle (refs and
// direct canvas/DOM updates), so feedback costs one spatial lookup and one small overlay redraw; each
// hover's latency is recorded in window.__loupeHover for the responsiveness test.
import { useEffect, useMemo, useRef } from 'preact/hooks';
import { layout, type Graph } from './model';
import { drawBase, drawOverlay, rowLabel, SpatialGrid, type Layout } from './render';

declare global {
  interface Window {
    __loupeHover?: { handler: number[]; frame: number[] };
    __loupeGraph?: { nodeAt(id: string): { x: number; y: number } | null; shownIds(limit: number): string[]; hovered(): string | null };
  }
}

export interface CanvasProps {
  graph: Graph;
  nodeOn: Uint8Array;
  linkOn: Uint8Array;
  pinned: ReadonlySet<string>;
  selected: string | null;
  onSelect(id: string | null, pin: boolean): void;
}

export function GraphCanvas({ graph, nodeOn, linkOn, pinned, selected, onSelect }: CanvasProps) {
  const wrap = useRef<HTMLDivElement>(null);
  const base = useRef<HTMLCanvasElement>(null);
  const over = useRef<HTMLCanvasElement>(null);
  const tip = useRef<HTMLDivElement>(null);
  const state = useRef<{ L: Layout | null; grid: SpatialGrid | null; w: number; h: number; hover: number }>({ L: null, grid: null, w: 0, h: 0, hover: -1 });
  const pinnedIdx = useMemo(() => new Set([...pinned].map((id) => graph.byId.get(id)).filter((i): i is number => i !== undefined)), [graph, pinned]);
  const selectedIdx = selected ? (graph.byId.get(selected) ?? -1) : -1;
  const height = Math.max(520, Math.min(1100, (graph.nLayers + 2) * 56 + 48));

  const overlay = (): number => {
    const s = state.current;
    if (!s.L || !over.current) return 0;
    return drawOverlay(over.current, graph, s.L, s.w, s.h, { hover: s.hover, selected: selectedIdx, pinned: pinnedIdx, nodeOn, linkOn });
  };

  // Base layer and hit-test grid: on graph, pruning or size changes.
  useEffect(() => {
    const el = wrap.current;
    if (!el) return;
    state.current.hover = -1; // an index into the previous graph
    const redraw = (): void => {
      const w = Math.max(400, el.clientWidth);
      const s = state.current;
      s.w = w;
      s.h = height;
      s.L = layout(graph, w, height);
      s.grid = new SpatialGrid(s.L.x, s.L.y, nodeOn, w, height);
      if (!base.current) return;
      drawBase(base.current, graph, s.L, w, height, nodeOn, linkOn);
      overlay();
    };
    redraw();
    const ro = new ResizeObserver(() => {
      if (Math.max(400, el.clientWidth) !== state.current.w) redraw();
    });
    ro.observe(el);
    window.__loupeGraph = {
      nodeAt(id) {
        const i = graph.byId.get(id);
        const s = state.current;
        if (i === undefined || !s.L || !nodeOn[i]) return null;
        const r = over.current!.getBoundingClientRect();
        return { x: r.left + s.L.x[i]!, y: r.top + s.L.y[i]! };
      },
      shownIds(limit) {
        const out: string[] = [];
        for (let i = 0; i < graph.nodes.length && out.length < limit; i++) if (nodeOn[i]) out.push(graph.nodes[i]!.id);
        return out;
      },
      hovered: () => (state.current.hover >= 0 ? graph.nodes[state.current.hover]!.id : null),
    };
    return () => ro.disconnect();
  }, [graph, nodeOn, linkOn, height]);

  useEffect(() => void overlay(), [selectedIdx, pinnedIdx]);

  const onMove = (e: MouseEvent): void => {
    const t0 = performance.now();
    const s = state.current;
    if (!s.grid || !s.L) return;
    const r = over.current!.getBoundingClientRect();
    const i = s.grid.nearest(e.clientX - r.left, e.clientY - r.top);
    if (i !== s.hover) {
      s.hover = i;
      const links = overlay();
      const t = tip.current!;
      if (i >= 0) {
        const n = graph.nodes[i]!;
        // textContent: labels and tokens are shown as text, never as markup
        t.textContent = `${n.label || n.id}  ·  ${rowLabel(graph, n.row)} @ ${n.pos} “${graph.tokens[n.pos] ?? ''}”  ·  ${links} links`;
        t.style.display = 'block';
        t.style.left = `${Math.min(s.w - 260, s.L.x[i]! + 12)}px`;
        t.style.top = `${s.L.y[i]! + 10}px`;
        over.current!.style.cursor = 'pointer';
      } else {
        t.style.display = 'none';
        over.current!.style.cursor = 'default';
      }
      const stats = (window.__loupeHover ??= { handler: [], frame: [] });
      const t1 = performance.now();
      stats.handler.push(t1 - t0);
      const since = e.timeStamp;
      requestAnimationFrame(() => stats.frame.push(performance.now() - since));
    }
  };

  return (
    <div class="graph-canvas" ref={wrap} style={{ height: `${height}px` }}>
      <canvas ref={base} class="layer" />
      <canvas
        ref={over}
        class="layer"
        data-testid="graph-overlay"
        onMouseMove={onMove}
        onMouseLeave={() => {
          state.current.hover = -1;
          tip.current!.style.display = 'none';
          overlay();
        }}
        onClick={(e) => {
          const s = state.current;
          if (!s.grid) return;
          const r = over.current!.getBoundingClientRect();
          const i = s.grid.nearest(e.clientX - r.left, e.clientY - r.top);
          onSelect(i >= 0 ? graph.nodes[i]!.id : null, e.shiftKey || e.altKey);
        }}
      />
      <div class="graph-tip" ref={tip} />
    </div>
  );
}
