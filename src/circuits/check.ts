// The exactness check of a graph file: for every feature and logit node of an unpruned graph,
//   sum of incoming link weights + encoder bias + constant  =  pre-activation (or demeaned logit),
// with the right-hand side recomputed by a direct run of the model and the transcoders on the prompt (not
// read from the file), the encoder bias read from the transcoders, and the constant recomputed by the
// frozen bias-only run (replacement.ts). Only the links come from the file.
import { InputError } from '../errors.js';
import type { Transformer } from '../model/index.js';
import * as T from '../tensor/index.js';
import type { GraphJson } from './graph-json.js';
import { parseNodeId } from './node-index.js';
import { prepareReplacement } from './replacement.js';
import type { TranscoderSet } from './transcoder-set.js';

export interface ExactnessReport {
  /** Feature and logit nodes checked. */
  checked: number;
  features: number;
  logits: number;
  maxAbsError: number;
  /** Relative to max(|value|, |bias| + |constant| + sum |weights|), as attribute.ts defines it. */
  maxRelError: number;
  /** Relative to |value| alone, over nodes whose |value| is at least 1% of that scale. */
  maxRelErrorOfValue: number;
  worstNode: string | null;
  /** Nodes whose activation in the file differs from the direct run's (should be 0). */
  activationMismatches: number;
}

export function checkGraphExactness(graph: GraphJson, model: Transformer, set: TranscoderSet): ExactnessReport {
  const info = graph.metadata.info ?? {};
  if (info.pruned !== false) {
    throw new InputError('exactness holds for unpruned graphs only (a pruned graph drops edges): build the graph with --no-prune');
  }
  const ids = info.prompt_token_ids;
  if (!Array.isArray(ids) || ids.some((x) => !Number.isInteger(x))) throw new InputError('the graph records no prompt_token_ids (metadata.info); was it written by loupe attribute?');
  set.checkFits(model);
  const c = model.config;
  const N = c.nLayers;
  const D = c.dModel;
  const tokens = ids as number[];
  const Tn = tokens.length;

  // Direct run: the transcoder inputs and the logits, nothing frozen.
  const names = Array.from({ length: N }, (_, l) => set.inputHook(l));
  const run = T.noGrad(() => model.run([tokens], { cache: names }));
  const inputs = names.map((n) => run.cache.get(n).data);
  const V = c.vocabSize;
  const last = run.logits!.data.subarray((Tn - 1) * V, Tn * V);
  let mean = 0;
  for (const v of last) mean += v;
  mean /= V;
  const latents = set.layers.map((s, L) => s.encode(inputs[L]!, Tn));
  // Constants: the frozen model with every node zeroed.
  const st = prepareReplacement(model, set, tokens);
  let meanConst = 0;
  for (const v of st.constLogits) meanConst += v;
  meanConst /= V;

  const sums = new Map<string, { sum: number; l1: number }>();
  for (const link of graph.links) {
    const s = sums.get(link.target) ?? { sum: 0, l1: 0 };
    s.sum += link.weight;
    s.l1 += Math.abs(link.weight);
    sums.set(link.target, s);
  }
  const r: ExactnessReport = { checked: 0, features: 0, logits: 0, maxAbsError: 0, maxRelError: 0, maxRelErrorOfValue: 0, worstNode: null, activationMismatches: 0 };
  for (const node of graph.nodes) {
    const p = parseNodeId(node.node_id, N);
    if (!p) throw new InputError(`node id "${node.node_id}" is not a Loupe node id (see docs/circuits.md)`);
    if (p.kind !== 'feature' && p.kind !== 'logit') continue;
    if (p.pos >= Tn) throw new InputError(`node ${node.node_id} sits at position ${p.pos}, the prompt has ${Tn} tokens`);
    let value: number;
    let bias = 0;
    let constant: number;
    if (p.kind === 'feature') {
      const enc = set.layers[p.layer]!;
      if (p.index >= enc.F) throw new InputError(`node ${node.node_id}: layer ${p.layer} has ${enc.F} features`);
      const w = enc.W_enc_FD.subarray(p.index * D, (p.index + 1) * D);
      let pre = 0;
      let k = 0;
      for (let j = 0; j < D; j++) {
        pre += w[j]! * inputs[p.layer]![p.pos * D + j]!;
        k += w[j]! * st.constInputs[p.layer]![p.pos * D + j]!;
      }
      bias = enc.b_enc_F[p.index]!;
      value = pre + bias;
      constant = k;
      const lat = latents[p.layer]!;
      let act = 0;
      for (let e = lat.rowPtr[p.pos]!; e < lat.rowPtr[p.pos + 1]!; e++) if (lat.idx[e] === p.index) act = lat.val[e]!;
      if (node.activation === null || Math.abs(act - node.activation) > 1e-5 * Math.max(1, Math.abs(act))) r.activationMismatches++;
      r.features++;
    } else {
      if (p.index >= V) throw new InputError(`node ${node.node_id}: token ${p.index} is outside the model's vocabulary of ${V}`);
      if (p.pos !== Tn - 1) throw new InputError(`node ${node.node_id}: logit nodes sit at the last position (${Tn - 1})`);
      value = last[p.index]! - mean;
      constant = st.constLogits[p.index]! - meanConst;
      r.logits++;
    }
    const s = sums.get(node.node_id) ?? { sum: 0, l1: 0 };
    // A link weight that is not a finite number makes the row unverifiable: report it as an infinite error
    // rather than letting NaN slip through every comparison below.
    const raw = Math.abs(s.sum + bias + constant - value);
    const err = Number.isFinite(raw) ? raw : Infinity;
    const scale = Math.max(Math.abs(value), s.l1 + Math.abs(bias) + Math.abs(constant), 1e-30);
    const rel = Number.isFinite(raw) ? err / scale : Infinity;
    if (rel > r.maxRelError || r.worstNode === null) {
      r.maxRelError = Math.max(r.maxRelError, rel);
      r.worstNode = node.node_id;
    }
    if (Math.abs(value) >= 0.01 * scale) r.maxRelErrorOfValue = Math.max(r.maxRelErrorOfValue, err / Math.abs(value));
    r.maxAbsError = Math.max(r.maxAbsError, err);
    r.checked++;
  }
  return r;
}
