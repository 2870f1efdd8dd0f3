// Drawing an attribution graph on two stacked canvases: the base (grid, every shown link, every shown
// node) is drawn once per change of graph, pruning or size; the overlay (the hovered node's links and
// neighbours, pins, the selection) is redrawn on every hover, touching only that node's links. A uniform
// grid over node positions answers "which node is under the pointer" in constant time.
import type { Graph } from './model';

export interface Layout {
  x: Float32Array;
  y: Float32Array;
  colW: number;
  rowH: number;
  margin: { l: number; r: number; t: number; b: number };
}

const COLORS = {
  feature: '#f59e0b',
  error: '#9ca3af',
  embedding: '#6b7280',
  logit: '#16a34a',
  pos: [37, 99, 235] as const,
  neg: [220, 38, 38] as const,
};

export class SpatialGrid {
  private readonly cell: number;
  private readonly cols: number;
  private readonly rows: number;
  private readonly start: Int32Array;
  private readonly items: Int32Array;

  constructor(
    private readonly x: Float32Array,
    private readonly y: Float32Array,
    on: Uint8Array,
    width: number,
    height: number,
    cell = 16,
  ) {
    this.cell = cell;
    this.cols = Math.max(1, Math.ceil(width / cell));
    this.rows = Math.max(1, Math.ceil(height / cell));
    const n = this.cols * this.rows;
    const key = new Int32Array(x.length).fill(-1);
    const count = new Int32Array(n + 1);
    for (let i = 0; i < x.length; i++) {
      if (!on[i]) continue;
      const k = this.key(x[i]!, y[i]!);
      key[i] = k;
      count[k + 1]!++;
    }
    for (let i = 0; i < n; i++) count[i + 1]! += count[i]!;
    this.start = count;
    const fill = count.slice(0, n);
    this.items = new Int32Array(count[n]!);
    for (let i = 0; i < x.length; i++) if (key[i]! >= 0) this.items[fill[key[i]!]!++] = i;
  }

  private key(x: number, y: number): number {
    const c = Math.min(this.cols - 1, Math.max(0, Math.floor(x / this.cell)));
    const r = Math.min(this.rows - 1, Math.max(0, Math.floor(y / this.cell)));
    return r * this.cols + c;
  }

  /** The nearest node within radius of (px, py), or -1. */
  nearest(px: number, py: number, radius = 8): number {
    let best = -1;
    let bestD = radius * radius;
    const c0 = Math.floor((px - radius) / this.cell);
    const c1 = Math.floor((px + radius) / this.cell);
    const r0 = Math.floor((py - radius) / this.cell);
    const r1 = Math.floor((py + radius) / this.cell);
    for (let r = Math.max(0, r0); r <= Math.min(this.rows - 1, r1); r++) {
      for (let c = Math.max(0, c0); c <= Math.min(this.cols - 1, c1); c++) {
        const k = r * this.cols + c;
        for (let j = this.start[k]!; j < this.start[k + 1]!; j++) {
          const i = this.items[j]!;
          const dx = this.x[i]! - px;
          const dy = this.y[i]! - py;
          const d = dx * dx + dy * dy;
          if (d <= bestD) {
            bestD = d;
            best = i;
          }
        }
      }
    }
    return best;
  }
}

function sizeCanvas(c: HTMLCanvasElement, w: number, h: number): CanvasRenderingContext2D {
  const dpr = window.devicePixelRatio || 1;
  if (c.width !== Math.round(w * dpr) || c.height !== Math.round(h * dpr)) {
    c.width = Math.round(w * dpr);
    c.height = Math.round(h * dpr);
    c.style.width = `${w}px`;
    c.style.height = `${h}px`;
  }
  const ctx = c.getContext('2d')!;
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  return ctx;
}

function nodePath(ctx: CanvasRenderingContext2D, g: Graph, L: Layout, i: number, grow = 0): void {
  const n = g.nodes[i]!;
  const x = L.x[i]!;
  const y = L.y[i]!;
  if (n.kind === 'embedding' || n.kind === 'logit') {
    const s = 4.5 + grow;
    ctx.rect(x - s, y - s, 2 * s, 2 * s);
  } else if (n.kind === 'error') {
    const s = 3.2 + grow;
    ctx.moveTo(x, y - s);
    ctx.lineTo(x + s, y);
    ctx.lineTo(x, y + s);
    ctx.lineTo(x - s, y);
    ctx.closePath();
  } else {
    ctx.moveTo(x + 3 + grow, y);
    ctx.arc(x, y, 3 + grow, 0, Math.PI * 2);
  }
}

export function rowLabel(g: Graph, row: number): string {
  return row === 0 ? 'emb' : row === g.nLayers + 1 ? 'logit' : `L${row - 1}`;
}

export function drawBase(canvas: HTMLCanvasElement, g: Graph, L: Layout, width: number, height: number, nodeOn: Uint8Array, linkOn: Uint8Array): void {
  const ctx = sizeCanvas(canvas, width, height);
  ctx.clearRect(0, 0, width, height);
  const rows = g.nLayers + 2;
  // grid: rows (layers) and columns (token positions)
  ctx.font = '11px system-ui, sans-serif';
  ctx.textBaseline = 'middle';
  for (let r = 0; r < rows; r++) {
    const y = L.margin.t + (rows - 1 - r + 0.5) * L.rowH;
    ctx.fillStyle = r % 2 ? '#fafafa' : '#f3f4f6';
    ctx.fillRect(L.margin.l, y - L.rowH / 2, width - L.margin.l - L.margin.r, L.rowH);
    ctx.fillStyle = '#6b7280';
    ctx.textAlign = 'right';
    ctx.fillText(rowLabel(g, r), L.margin.l - 8, y);
  }
  ctx.strokeStyle = '#e5e7eb';
  ctx.beginPath();
  for (let p = 0; p <= g.nPos; p++) {
    const x = L.margin.l + p * L.colW;
    ctx.moveTo(x, L.margin.t);
    ctx.lineTo(x, height - L.margin.b);
  }
  ctx.stroke();
  // token labels under their columns (canvas text: never parsed as markup)
  ctx.fillStyle = '#111827';
  ctx.textAlign = 'center';
  for (let p = 0; p < g.nPos; p++) {
    const t = (g.tokens[p] ?? '').replace(/\n/g, '↵');
    const maxChars = Math.max(2, Math.floor(L.colW / 6.5));
    ctx.fillText(t.length > maxChars ? t.slice(0, maxChars - 1) + '…' : t, L.margin.l + (p + 0.5) * L.colW, height - L.margin.b + 14);
  }
  // links, batched into 8 paths by sign and strength
  let maxW = 0;
  for (let i = 0; i < g.weight.length; i++) if (linkOn[i]) maxW = Math.max(maxW, Math.abs(g.weight[i]!));
  const BINS = 4;
  const paths: Path2D[] = Array.from({ length: 2 * BINS }, () => new Path2D());
  for (let i = 0; i < g.src.length; i++) {
    if (!linkOn[i]) continue;
    const w = g.weight[i]!;
    const b = Math.min(BINS - 1, Math.floor(Math.sqrt(Math.abs(w) / (maxW || 1)) * BINS));
    const p = paths[(w >= 0 ? 0 : BINS) + b]!;
    const s = g.src[i]!;
    const t = g.dst[i]!;
    p.moveTo(L.x[s]!, L.y[s]!);
    p.lineTo(L.x[t]!, L.y[t]!);
  }
  ctx.lineWidth = 0.8;
  for (let k = 0; k < 2 * BINS; k++) {
    const [r, gg, bb] = k < BINS ? COLORS.pos : COLORS.neg;
    const a = 0.04 + 0.22 * ((k % BINS) + 1) / BINS;
    ctx.strokeStyle = `rgba(${r},${gg},${bb},${a.toFixed(3)})`;
    ctx.stroke(paths[k]!);
  }
  // nodes, one path per kind
  for (const kind of ['error', 'feature', 'embedding', 'logit'] as const) {
    ctx.beginPath();
    for (let i = 0; i < g.nodes.length; i++) if (nodeOn[i] && g.nodes[i]!.kind === kind) nodePath(ctx, g, L, i);
    ctx.fillStyle = COLORS[kind];
    ctx.fill();
  }
  ctx.beginPath();
  for (let i = 0; i < g.nodes.length; i++) if (nodeOn[i] && g.nodes[i]!.target) nodePath(ctx, g, L, i, 1.5);
  ctx.strokeStyle = '#14532d';
  ctx.lineWidth = 2;
  ctx.stroke();
}

/** The hovered node's links and neighbours, pinned and selected nodes. Returns the links drawn. */
export function drawOverlay(canvas: HTMLCanvasElement, g: Graph, L: Layout, width: number, height: number, o: { hover: number; selected: number; pinned: ReadonlySet<number>; nodeOn: Uint8Array; linkOn: Uint8Array }): number {
  const ctx = sizeCanvas(canvas, width, height);
  ctx.clearRect(0, 0, width, height);
  let drawn = 0;
  const focus = o.hover >= 0 ? o.hover : o.selected;
  if (focus >= 0) {
    const ids: number[] = [];
    for (let j = g.outStart[focus]!; j < g.outStart[focus + 1]!; j++) ids.push(g.outIdx[j]!);
    for (let j = g.inStart[focus]!; j < g.inStart[focus + 1]!; j++) ids.push(g.inIdx[j]!);
    let maxW = 0;
    for (const li of ids) if (o.linkOn[li]) maxW = Math.max(maxW, Math.abs(g.weight[li]!));
    const ring = new Path2D();
    for (const li of ids) {
      if (!o.linkOn[li]) continue;
      const w = g.weight[li]!;
      const s = g.src[li]!;
      const t = g.dst[li]!;
      const [r, gg, bb] = w >= 0 ? COLORS.pos : COLORS.neg;
      ctx.strokeStyle = `rgba(${r},${gg},${bb},0.85)`;
      ctx.lineWidth = 0.8 + 3 * Math.sqrt(Math.abs(w) / (maxW || 1));
      ctx.beginPath();
      ctx.moveTo(L.x[s]!, L.y[s]!);
      ctx.lineTo(L.x[t]!, L.y[t]!);
      ctx.stroke();
      const other = s === focus ? t : s;
      ring.moveTo(L.x[other]! + 5, L.y[other]!);
      ring.arc(L.x[other]!, L.y[other]!, 5, 0, Math.PI * 2);
      drawn++;
    }
    ctx.strokeStyle = '#111827';
    ctx.lineWidth = 1;
    ctx.stroke(ring);
  }
  if (o.pinned.size) {
    ctx.beginPath();
    for (const i of o.pinned) nodePath(ctx, g, L, i, 2.5);
    ctx.strokeStyle = '#7c3aed';
    ctx.lineWidth = 2;
    ctx.stroke();
  }
  for (const [i, color] of [[o.selected, '#111827'], [o.hover, '#000000']] as const) {
    if (i < 0) continue;
    ctx.beginPath();
    nodePath(ctx, g, L, i, 3.5);
    ctx.strokeStyle = color;
    ctx.lineWidth = 2.5;
    ctx.stroke();
  }
  return drawn;
}
