// An attribution graph in the circuit-tracer JSON schema, read into flat arrays for drawing and hit
// testing: nodes by index, links as parallel typed arrays, and both directions of adjacency (CSR), so
// hovering a node finds its links without scanning 50,000 of them.

export type NodeKind = 'feature' | 'error' | 'embedding' | 'logit';

export interface GNode {
  id: string;
  kind: NodeKind;
  /** Row: 0 = embeddings, 1..L = layers 0..L-1, L+1 = logits. */
  row: number;
  /** The model layer (null for embeddings and logits). */
  layer: number | null;
  pos: number;
  /** Feature index within its layer's dictionary (feature nodes), vocabulary id (logits), else null. */
  index: number | null;
  label: string;
  influence: number | null;
  activation: number | null;
  tokenProb: number;
  target: boolean;
}

export interface Graph {
  slug: string;
  prompt: string;
  tokens: string[];
  nodes: GNode[];
  byId: Map<string, number>;
  nLayers: number;
  nPos: number;
  src: Int32Array;
  dst: Int32Array;
  weight: Float32Array;
  /** Links leaving node i: outIdx[outStart[i] .. outStart[i+1]) (link indices); likewise entering. */
  outStart: Int32Array;
  outIdx: Int32Array;
  inStart: Int32Array;
  inIdx: Int32Array;
  /** |weight| of each link's rank (0 = strongest), for the link slider. */
  linkRank: Int32Array;
  pinnedIds: string[];
  supernodes: string[][];
  /** The transcoders the graph was made with, where its file says (`loupe attribute` writes metadata.info.transcoders). */
  transcoders: GraphTranscoders | null;
  warnings: string[];
}

export interface GraphTranscoders {
  kind: string;
  /** Hook the transcoders read within each block, e.g. "ln2.hook_normalized". */
  input: string;
  /** Latents per layer. */
  features: number[];
}

export class GraphFormatError extends Error {}

const KINDS: Record<string, NodeKind> = {
  'cross layer transcoder': 'feature',
  transcoder: 'feature',
  'per layer transcoder': 'feature',
  lorsa: 'feature',
  'mlp reconstruction error': 'error',
  'lorsa error': 'error',
  embedding: 'embedding',
  logit: 'logit',
};

/** Validates and indexes a parsed GRAPH.json; throws GraphFormatError saying what is wrong and where. */
export function readGraph(raw: unknown): Graph {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new GraphFormatError('expected a JSON object with "metadata", "nodes" and "links"');
  const g = raw as { metadata?: Record<string, unknown>; nodes?: unknown; links?: unknown; qParams?: Record<string, unknown> };
  if (!Array.isArray(g.nodes)) throw new GraphFormatError('no "nodes" array: this is not an attribution graph in the circuit-tracer schema');
  if (!Array.isArray(g.links)) throw new GraphFormatError('no "links" array: this is not an attribution graph in the circuit-tracer schema');
  const meta = (g.metadata ?? {}) as Record<string, unknown>;
  const warnings: string[] = [];
  const parsed: Omit<GNode, 'row'>[] = [];
  const layerNums: number[] = [];
  let maxPos = 0;
  const byId = new Map<string, number>();
  g.nodes.forEach((n: unknown, i: number) => {
    if (typeof n !== 'object' || n === null) throw new GraphFormatError(`node ${i} is not an object`);
    const o = n as Record<string, unknown>;
    const id = o.node_id ?? o.jsNodeId;
    if (typeof id !== 'string' || !id) throw new GraphFormatError(`node ${i} has no "node_id"`);
    if (byId.has(id)) throw new GraphFormatError(`node id "${id}" appears twice (nodes ${byId.get(id)} and ${i})`);
    const type = String(o.feature_type ?? '');
    const kind = KINDS[type];
    if (!kind) throw new GraphFormatError(`node "${id}" has feature_type ${JSON.stringify(o.feature_type)}; expected one of ${Object.keys(KINDS).map((k) => `"${k}"`).join(', ')}`);
    const pos = Number(o.ctx_idx);
    if (!Number.isInteger(pos) || pos < 0) throw new GraphFormatError(`node "${id}" has ctx_idx ${JSON.stringify(o.ctx_idx)}; expected a position >= 0`);
    maxPos = Math.max(maxPos, pos);
    let layer: number | null = null;
    if (kind === 'feature' || kind === 'error') {
      layer = Number(o.layer);
      if (!Number.isInteger(layer) || layer < 0) throw new GraphFormatError(`node "${id}" has layer ${JSON.stringify(o.layer)}; expected a layer number`);
      layerNums.push(layer);
    }
    // Feature nodes are "{layer}_{index}_{pos}"; their "feature" field may be a Cantor pairing.
    const parts = id.split('_');
    const fromId = parts.length === 3 ? Number(parts[1]) : NaN;
    const index = kind === 'feature' ? (Number.isInteger(fromId) ? fromId : Number(o.feature)) : kind === 'logit' ? Number(o.feature) : null;
    const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
    byId.set(id, parsed.length);
    parsed.push({
      id,
      kind,
      layer,
      pos,
      index: index !== null && Number.isFinite(index) ? index : null,
      label: typeof o.clerp === 'string' ? o.clerp : '',
      influence: num(o.influence),
      activation: num(o.activation),
      tokenProb: num(o.token_prob) ?? 0,
      target: o.is_target_logit === true,
    });
  });
  const nLayers = layerNums.length ? Math.max(...layerNums) + 1 : 0;
  const nodes: GNode[] = parsed.map((n) => ({ ...n, row: n.kind === 'embedding' ? 0 : n.kind === 'logit' ? nLayers + 1 : n.layer! + 1 }));
  const tokens = Array.isArray(meta.prompt_tokens) ? meta.prompt_tokens.map((t) => String(t)) : [];
  const nPos = Math.max(maxPos + 1, tokens.length);
  for (const n of nodes) if (n.kind === 'embedding' && !n.label) n.label = tokens[n.pos] ?? '';

  const L = g.links.length;
  const src = new Int32Array(L);
  const dst = new Int32Array(L);
  const weight = new Float32Array(L);
  let kept = 0;
  let unknown = 0;
  for (let i = 0; i < L; i++) {
    const l = g.links[i] as Record<string, unknown> | null;
    const s = l ? byId.get(String(l.source)) : undefined;
    const t = l ? byId.get(String(l.target)) : undefined;
    const w = l ? Number(l.weight) : NaN;
    if (s === undefined || t === undefined || !Number.isFinite(w)) {
      unknown++;
      continue;
    }
    src[kept] = s;
    dst[kept] = t;
    weight[kept] = w;
    kept++;
  }
  if (unknown) warnings.push(`${unknown} link${unknown === 1 ? '' : 's'} named unknown nodes or had no numeric weight and ${unknown === 1 ? 'was' : 'were'} left out`);
  const csr = (from: Int32Array): { start: Int32Array; idx: Int32Array } => {
    const start = new Int32Array(nodes.length + 1);
    for (let i = 0; i < kept; i++) start[from[i]! + 1]!++;
    for (let i = 0; i < nodes.length; i++) start[i + 1]! += start[i]!;
    const fill = start.slice(0, nodes.length);
    const idx = new Int32Array(kept);
    for (let i = 0; i < kept; i++) idx[fill[from[i]!]!++] = i;
    return { start, idx };
  };
  const out = csr(src.subarray(0, kept));
  const inn = csr(dst.subarray(0, kept));
  const order = Array.from({ length: kept }, (_, i) => i).sort((a, b) => Math.abs(weight[b]!) - Math.abs(weight[a]!));
  const linkRank = new Int32Array(kept);
  order.forEach((li, r) => (linkRank[li] = r));
  const q = (g.qParams ?? {}) as { pinnedIds?: unknown; supernodes?: unknown };
  return {
    slug: String(meta.slug ?? 'graph'),
    prompt: String(meta.prompt ?? tokens.join('')),
    tokens,
    nodes,
    byId,
    nLayers,
    nPos,
    src: src.slice(0, kept),
    dst: dst.slice(0, kept),
    weight: weight.slice(0, kept),
    outStart: out.start,
    outIdx: out.idx,
    inStart: inn.start,
    inIdx: inn.idx,
    linkRank,
    pinnedIds: Array.isArray(q.pinnedIds) ? q.pinnedIds.filter((x): x is string => typeof x === 'string' && byId.has(x)) : [],
    supernodes: Array.isArray(q.supernodes) ? q.supernodes.filter((s): s is string[] => Array.isArray(s) && s.every((x) => typeof x === 'string')) : [],
    transcoders: readTranscoders(meta.info),
    warnings,
  };
}

function readTranscoders(info: unknown): GraphTranscoders | null {
  const t = (info as { transcoders?: Record<string, unknown> } | null)?.transcoders;
  if (!t || typeof t !== 'object' || typeof t.kind !== 'string' || typeof t.input !== 'string' || !Array.isArray(t.features)) return null;
  return { kind: t.kind, input: t.input, features: t.features.map(Number) };
}

/**
 * Which nodes and links are shown. Nodes: influence (circuit-tracer's cumulative influence, smaller =
 * more important) at most nodeThreshold; embeddings, logits and pinned nodes always. Links: the
 * strongest linkFraction of all links by |weight|, between shown nodes.
 */
export function prune(g: Graph, nodeThreshold: number, linkFraction: number, pinned: ReadonlySet<string>): { nodeOn: Uint8Array; linkOn: Uint8Array; nodes: number; links: number } {
  const nodeOn = new Uint8Array(g.nodes.length);
  let nn = 0;
  g.nodes.forEach((n, i) => {
    const on = n.kind === 'embedding' || n.kind === 'logit' || pinned.has(n.id) || n.influence === null || n.influence <= nodeThreshold;
    if (on) {
      nodeOn[i] = 1;
      nn++;
    }
  });
  const maxRank = Math.ceil(linkFraction * g.src.length);
  const linkOn = new Uint8Array(g.src.length);
  let nl = 0;
  for (let i = 0; i < g.src.length; i++) {
    if (g.linkRank[i]! < maxRank && nodeOn[g.src[i]!] && nodeOn[g.dst[i]!]) {
      linkOn[i] = 1;
      nl++;
    }
  }
  return { nodeOn, linkOn, nodes: nn, links: nl };
}

/** Node positions in CSS pixels: x by token position (nodes of one cell spread across its column), y by row. */
export function layout(g: Graph, width: number, height: number, margin = { l: 64, r: 16, t: 8, b: 40 }): { x: Float32Array; y: Float32Array; colW: number; rowH: number; margin: typeof margin } {
  const x = new Float32Array(g.nodes.length);
  const y = new Float32Array(g.nodes.length);
  const rows = g.nLayers + 2;
  const colW = (width - margin.l - margin.r) / Math.max(1, g.nPos);
  const rowH = (height - margin.t - margin.b) / rows;
  const cells = new Map<number, number[]>();
  g.nodes.forEach((n, i) => {
    const key = n.row * 100000 + n.pos;
    let c = cells.get(key);
    if (!c) cells.set(key, (c = []));
    c.push(i);
  });
  const cellW = colW * 0.9;
  const cellH = rowH * 0.72;
  for (const members of cells.values()) {
    // most influential first; a crowded cell becomes a small grid centred on its (position, row)
    members.sort((a, b) => (g.nodes[a]!.influence ?? 0) - (g.nodes[b]!.influence ?? 0) || g.nodes[b]!.tokenProb - g.nodes[a]!.tokenProb);
    const k = members.length;
    const cols = Math.max(1, Math.min(k, Math.ceil(Math.sqrt((k * cellW) / Math.max(1, cellH)))));
    const nr = Math.ceil(k / cols);
    const dx = Math.min(16, cellW / cols);
    const dy = nr > 1 ? Math.min(16, cellH / nr) : 0;
    members.forEach((ni, j) => {
      const n = g.nodes[ni]!;
      const c = j % cols;
      const r = Math.floor(j / cols);
      x[ni] = margin.l + (n.pos + 0.5) * colW + (c - (Math.min(cols, k) - 1) / 2) * dx;
      y[ni] = margin.t + (rows - 1 - n.row + 0.5) * rowH + (r - (nr - 1) / 2) * dy;
    });
  }
  return { x, y, colW, rowH, margin };
}
