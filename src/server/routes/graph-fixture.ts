// A generated attribution graph in the circuit-tracer JSON schema (the one `loupe attribute` writes), for
// the demo and the workbench tests: token-embedding nodes at the bottom, one error node per (layer,
// position), features spread over layers and positions, the top logits at the last position; links go
// from a lower layer to a higher one at the same or an earlier position, as in a causal model.
// Deterministic in its seed. Not a real attribution: every number is made up.

export interface GraphNode {
  node_id: string;
  feature: number;
  layer: string;
  ctx_idx: number;
  feature_type: 'cross layer transcoder' | 'mlp reconstruction error' | 'embedding' | 'logit';
  token_prob: number;
  is_target_logit: boolean;
  clerp: string;
  influence: number | null;
  activation: number | null;
}

export interface GraphJson {
  metadata: { slug: string; scan: string; prompt: string; prompt_tokens: string[]; node_threshold: number; schema_version: number; [k: string]: unknown };
  qParams: { pinnedIds: string[]; supernodes: string[][]; linkType: string; clickedId: string; sg_pos: string };
  nodes: GraphNode[];
  links: { source: string; target: string; weight: number }[];
}

export interface FixtureOptions {
  nodes: number;
  links: number;
  layers?: number;
  tokens?: string[];
  seed?: number;
  /** Feature indices drawn from [0, nFeatures). */
  nFeatures?: number;
  slug?: string;
}

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = ['Fact', ':', ' the', ' capital', ' of', ' the', ' state', ' containing', ' Dallas', ' is'];
const LABELS = ['Texas', 'capital', 'state', 'say a capital', 'Dallas', 'place names', 'US cities', 'preposition', 'fact recall', 'Austin'];

export function syntheticGraph(o: FixtureOptions): GraphJson {
  const rand = rng(o.seed ?? 1);
  const L = o.layers ?? 12;
  const tokens = o.tokens ?? WORDS;
  const P = tokens.length;
  const nFeatures = o.nFeatures ?? 16384;
  const nodes: GraphNode[] = [];
  const base = { token_prob: 0, is_target_logit: false, clerp: '', influence: null, activation: null };
  tokens.forEach((t, pos) => nodes.push({ ...base, node_id: `E_${100 + pos}_${pos}`, feature: pos, layer: 'E', ctx_idx: pos, feature_type: 'embedding', clerp: t }));
  const logits = ['Austin', 'Texas', 'the', 'Dallas', 'a'];
  logits.forEach((t, i) => {
    const p = [0.45, 0.2, 0.08, 0.05, 0.03][i]!;
    nodes.push({ ...base, node_id: `${L + 1}_${900 + i}_${P - 1}`, feature: 900 + i, layer: String(L + 1), ctx_idx: P - 1, feature_type: 'logit', token_prob: p, is_target_logit: i === 0, clerp: `Output "${t}" (p=${p.toFixed(3)})` });
  });
  for (let l = 0; l < L; l++) {
    for (let pos = 0; pos < P; pos++) nodes.push({ ...base, node_id: `${l}_-1_${pos}`, feature: -1, layer: String(l), ctx_idx: pos, feature_type: 'mlp reconstruction error', influence: rand() });
  }
  const used = new Set(nodes.map((n) => n.node_id));
  while (nodes.length < o.nodes) {
    const l = Math.floor(rand() * L);
    // later positions carry more features, as in real graphs
    const pos = Math.min(P - 1, Math.floor(Math.sqrt(rand()) * P));
    const f = Math.floor(rand() * nFeatures);
    const id = `${l}_${f}_${pos}`;
    if (used.has(id)) continue;
    used.add(id);
    const label = `${LABELS[f % LABELS.length]} (${f})`;
    nodes.push({ ...base, node_id: id, feature: f, layer: String(l), ctx_idx: pos, feature_type: 'cross layer transcoder', clerp: label, activation: 1 + 9 * rand(), influence: rand() });
  }
  // influence: cumulative fraction by importance rank, as circuit-tracer writes it
  const ranked = nodes.filter((n) => n.influence !== null).sort((a, b) => a.influence! - b.influence!);
  ranked.forEach((n, i) => (n.influence = (i + 1) / ranked.length));

  const layerOf = (n: GraphNode): number => (n.layer === 'E' ? -1 : Number(n.layer));
  const byLayer = new Map<number, GraphNode[]>();
  for (const n of nodes) {
    const k = layerOf(n);
    if (!byLayer.has(k)) byLayer.set(k, []);
    byLayer.get(k)!.push(n);
  }
  const targets = nodes.filter((n) => n.feature_type !== 'embedding');
  const links: GraphJson['links'] = [];
  const seen = new Set<string>();
  let guard = 0;
  while (links.length < o.links && guard++ < o.links * 20) {
    const t = targets[Math.floor(rand() * targets.length)]!;
    const tl = layerOf(t);
    const sl = Math.floor(rand() * (tl + 1)) - 1; // -1 (embeddings) .. tl-1
    const pool = byLayer.get(sl);
    if (!pool?.length) continue;
    const s = pool[Math.floor(rand() * pool.length)]!;
    if (s.ctx_idx > t.ctx_idx || s.feature_type === 'logit') continue;
    const key = `${s.node_id}>${t.node_id}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const w = (rand() < 0.75 ? 1 : -1) * Math.pow(rand(), 3) * 10;
    links.push({ source: s.node_id, target: t.node_id, weight: Number(w.toFixed(4)) });
  }
  return {
    metadata: { slug: o.slug ?? 'synthetic-graph', scan: 'synthetic', prompt: tokens.join(''), prompt_tokens: tokens, node_threshold: 0.8, schema_version: 1 },
    qParams: { pinnedIds: [], supernodes: [], linkType: 'both', clickedId: '', sg_pos: '' },
    nodes,
    links,
  };
}
