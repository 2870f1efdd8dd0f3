// Graph JSON in the schema the circuit-tracer / Neuronpedia frontend reads (ARCHITECTURE.md "Attribution
// graphs"; ids in node-index.ts), plus a few fields of Loupe's own, documented in docs/circuits.md:
//   every node    influence_score   raw influence on the logits (circuit-tracer's "influence" is the
//                                   cumulative share at the node's rank, kept as is)
//   features      pre_activation, encoder_bias, constant   pre_activation = encoder_bias + constant + the
//                                   sum of incoming link weights (exact on unpruned graphs)
//   logits        demeaned_logit, constant                 demeaned_logit = constant + sum of incoming weights
//   errors        error_norm        |MLP output - reconstruction| at that (layer, position)
//   metadata.info creator, model, transcoders, token ids, thresholds, pruned, scores, exactness, timings
// Written in pieces (nodes and links a few thousand at a time), so a large graph never becomes one string.
import * as fs from 'node:fs';
import { FormatError, InputError } from '../errors.js';
import type { AttributionGraph } from './attribute.js';
import { nodeId } from './node-index.js';

export type FeatureType = 'cross layer transcoder' | 'mlp reconstruction error' | 'embedding' | 'logit';

export interface GraphNodeJson {
  node_id: string;
  feature: number;
  layer: string;
  ctx_idx: number;
  feature_type: FeatureType;
  token_prob: number;
  is_target_logit: boolean;
  run_idx: number;
  reverse_ctx_idx: number;
  clerp: string;
  influence: number | null;
  activation: number | null;
  influence_score?: number;
  pre_activation?: number;
  encoder_bias?: number;
  constant?: number;
  demeaned_logit?: number;
  error_norm?: number;
}

export interface GraphLinkJson {
  source: string;
  target: string;
  weight: number;
}

export interface GraphJson {
  metadata: {
    slug: string;
    scan: string;
    prompt: string;
    prompt_tokens: string[];
    node_threshold: number;
    schema_version: number;
    /** The dictionaries, as circuit-tracer's metadata names them: one entry per layer, or the CLT file. */
    transcoder_list: string[];
    info: Record<string, unknown>;
  };
  qParams: { pinnedIds: string[]; supernodes: string[][]; linkType: string; clickedId: string; sg_pos: string };
  nodes: GraphNodeJson[];
  links: GraphLinkJson[];
}

export interface GraphJsonOptions {
  prompt: string;
  /** Display string of each prompt token. */
  promptTokens: string[];
  /** Display string of a vocabulary id (logit labels). */
  tokenString: (id: number) => string;
  slug?: string;
  scan?: string;
  /** Feature labels by `${layer}:${feature}` (from feature stores). */
  labels?: Map<string, string>;
  info?: Record<string, unknown>;
}

/** The kept nodes of a graph, in global order. */
export function graphNodes(g: AttributionGraph, o: GraphJsonOptions): GraphNodeJson[] {
  const idx = g.index;
  const N = idx.nLayers;
  const D = g.state.model.config.dModel;
  const nodes: GraphNodeJson[] = [];
  const base = { token_prob: 0, is_target_logit: false, run_idx: 0, reverse_ctx_idx: 0, clerp: '', activation: null as number | null };
  for (let i = 0; i < idx.size; i++) {
    if (!g.keep[i]) continue;
    const id = nodeId(idx, i, g.tokenIds, g.logitTokens);
    const pos = idx.posOf(i);
    const influence = round(g.cumulativeInfluence[i]!);
    const influence_score = round(g.influence[i]!);
    switch (idx.kind(i)) {
      case 'feature': {
        const L = idx.featLayer[i]!;
        const f = idx.featLatent[i]!;
        nodes.push({
          ...base,
          node_id: id,
          feature: f,
          layer: String(L),
          ctx_idx: pos,
          feature_type: 'cross layer transcoder',
          clerp: o.labels?.get(`${L}:${f}`) ?? '',
          influence,
          influence_score,
          activation: round(g.values.activation[i]!),
          pre_activation: round(g.values.value[i]!),
          encoder_bias: round(g.values.bias[i]!),
          constant: round(g.values.constant[i]!),
        });
        break;
      }
      case 'error': {
        const l = idx.layerOf(i);
        const e = g.state.errors[l]!;
        let s = 0;
        for (let j = 0; j < D; j++) s += e[pos * D + j]! ** 2;
        nodes.push({ ...base, node_id: id, feature: -1, layer: String(l), ctx_idx: pos, feature_type: 'mlp reconstruction error', influence, influence_score, error_norm: round(Math.sqrt(s)) });
        break;
      }
      case 'token':
        nodes.push({ ...base, node_id: id, feature: pos, layer: 'E', ctx_idx: pos, feature_type: 'embedding', clerp: o.promptTokens[pos] ?? '', influence, influence_score });
        break;
      case 'logit': {
        const k = i - idx.logitStart;
        const tok = g.logitTokens[k]!;
        const p = g.logitProbs[k]!;
        nodes.push({
          ...base,
          node_id: id,
          feature: tok,
          layer: String(N + 1),
          ctx_idx: pos,
          feature_type: 'logit',
          token_prob: round(p),
          is_target_logit: k === 0,
          clerp: `Output ${JSON.stringify(o.tokenString(tok))} (p=${p.toFixed(3)})`,
          influence,
          influence_score,
          demeaned_logit: round(g.values.value[i]!),
          constant: round(g.values.constant[i]!),
        });
        break;
      }
    }
  }
  return nodes;
}

/** Metadata and qParams of a graph (everything but nodes and links). */
export function graphHeader(g: AttributionGraph, o: GraphJsonOptions): Pick<GraphJson, 'metadata' | 'qParams'> {
  const s = g.settings;
  let kept = 0;
  for (const k of g.keep) kept += k;
  return {
    metadata: {
      slug: o.slug ?? slugOf(o.prompt),
      scan: o.scan ?? '',
      prompt: o.prompt,
      prompt_tokens: o.promptTokens,
      node_threshold: s.nodeThreshold,
      schema_version: 1,
      transcoder_list:
        g.state.set.kind === 'clt' ? ['clt.safetensors'] : Array.from({ length: g.state.set.nLayers }, (_, l) => `layer-${l}`),
      info: {
        creator: 'loupe',
        prompt_token_ids: g.tokenIds,
        pruned: s.prune,
        edge_threshold: s.edgeThreshold,
        max_feature_nodes: s.maxFeatureNodes,
        feature_cap_applied: s.featureCapApplied,
        logit_tokens: g.logitTokens,
        logit_probabilities: g.logitProbs,
        active_features: g.index.nFeatures,
        nodes: kept,
        links: g.edges.weight.length,
        replacement_score: g.replacementScore,
        completeness_score: g.completenessScore,
        exactness: { checked: g.exactness.checked, max_abs_error: g.exactness.maxAbsError, max_rel_error: g.exactness.maxRelError, max_rel_error_of_value: g.exactness.maxRelErrorOfValue },
        transcoders: g.state.set.summary(),
        seconds: g.seconds,
        peak_rss_mb: g.peakRssMb,
        ...o.info,
      },
    },
    qParams: { pinnedIds: [], supernodes: [], linkType: 'both', clickedId: '', sg_pos: '' },
  };
}

/** Write the graph to `file` (streamed). Returns the numbers of nodes and links written. */
export function writeGraphJson(g: AttributionGraph, file: string, o: GraphJsonOptions): { nodes: number; links: number } {
  const nodes = graphNodes(g, o);
  const header = graphHeader(g, o);
  const ids = new Map<number, string>();
  for (let i = 0; i < g.index.size; i++) if (g.keep[i]) ids.set(i, nodeId(g.index, i, g.tokenIds, g.logitTokens));
  const tmp = `${file}.tmp-${process.pid}`;
  const fd = fs.openSync(tmp, 'w');
  try {
    const put = (s: string): void => void fs.writeSync(fd, s);
    put(`{"metadata":${JSON.stringify(header.metadata)},"qParams":${JSON.stringify(header.qParams)},"nodes":[`);
    for (let a = 0; a < nodes.length; a += 2000) put((a ? ',' : '') + nodes.slice(a, a + 2000).map((n) => JSON.stringify(n)).join(','));
    put('],"links":[');
    const { source, target, weight } = g.edges;
    let parts: string[] = [];
    let first = true;
    const flush = (): void => {
      if (!parts.length) return;
      put((first ? '' : ',') + parts.join(','));
      first = false;
      parts = [];
    };
    for (let e = 0; e < weight.length; e++) {
      parts.push(`{"source":${JSON.stringify(ids.get(source[e]!)!)},"target":${JSON.stringify(ids.get(target[e]!)!)},"weight":${round(weight[e]!)}}`);
      if (parts.length === 5000) flush();
    }
    flush();
    put(']}\n');
    fs.closeSync(fd);
    fs.renameSync(tmp, file);
  } catch (err) {
    try {
      fs.closeSync(fd);
    } catch {
      /* already closed */
    }
    fs.rmSync(tmp, { force: true });
    throw new InputError(`cannot write ${file}: ${(err as Error).message}`);
  }
  return { nodes: nodes.length, links: g.edges.weight.length };
}

export function readGraphJson(file: string): GraphJson {
  if (!fs.existsSync(file)) throw new InputError(`${file}: no such graph file`);
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new FormatError(file, `not valid JSON: ${(err as Error).message}`);
  }
  const g = raw as GraphJson;
  if (!g || typeof g !== 'object' || !g.metadata || !Array.isArray(g.nodes) || !Array.isArray(g.links)) {
    throw new FormatError(file, 'not an attribution graph (expected metadata, nodes and links)');
  }
  return g;
}

/** Float64 -> a JSON number with float32-level precision (about 9 significant digits keeps sums exact to 1e-7). */
function round(v: number): number {
  return Number.isFinite(v) ? Number(v.toPrecision(9)) : 0;
}

function slugOf(prompt: string): string {
  const s = prompt
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 48);
  return s || 'graph';
}
