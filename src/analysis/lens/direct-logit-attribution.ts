// Direct logit attribution: how much each component writing to the residual stream (embeddings, each
// attention head, each attention bias, each MLP) pushes a logit (or a logit difference) directly,
// through the final norm with its scale frozen at the value of the actual run. With the scale frozen
// the map from the residual to the logit is affine, so the parts add up to the logit exactly: sum of
// attributions + the ln_final bias term = the model's logit (tested).
import { InputError } from '../../errors.js';
import type { TokenInput, Transformer } from '../../model/index.js';
import { componentNames, decomposeResidual, positionOf, type PositionPick } from './residual.js';

export interface DlaOptions {
  /** The logit of this token, or the difference logit[a] - logit[b] for [a, b]. */
  target: number | [number, number];
  /** Sequence in the batch (default 0). */
  batchIndex?: number;
  /** Position (default: the sequence's last token). */
  position?: PositionPick;
}

export interface DlaResult {
  /** "embed", "pos_embed", "L0H0" ..., "L0.attn_bias", "L0.mlp", ... */
  labels: string[];
  /** Direct contribution of each component, same order as labels. */
  values: number[];
  /** Contribution of ln_final's bias (LayerNorm models; 0 otherwise). */
  biasTerm: number;
  /** The model's actual logit (or logit difference) at that position. */
  logit: number;
  position: number;
}

export function directLogitAttribution(model: Transformer, input: TokenInput, opts: DlaOptions): DlaResult {
  const c = model.config;
  const [a, bTok] = Array.isArray(opts.target) ? opts.target : [opts.target, null];
  for (const tok of [a, bTok]) {
    if (tok !== null && (!Number.isInteger(tok) || tok < 0 || tok >= c.vocabSize)) throw new InputError(`target token ${tok} is outside the vocabulary [0, ${c.vocabSize})`);
  }
  const run = model.run(input, { cache: [...componentNames(model), 'ln_final.hook_scale'], withGrad: false });
  const bi = opts.batchIndex ?? 0;
  if (!Number.isInteger(bi) || bi < 0 || bi >= run.batch.batch) throw new InputError(`batchIndex ${bi} is outside the batch of ${run.batch.batch}`);
  const t = positionOf(run.cache, bi, opts.position ?? 'last');
  const D = c.dModel;
  // Direction in the residual stream: W_U[a] (- W_U[b]), times the ln weight, over the frozen scale.
  const W = model.params.W_U.data;
  const ln = model.params.lnFinal;
  const Tn = run.batch.maxLen;
  const scale = run.cache.get('ln_final.hook_scale').data[bi * Tn + t]!;
  const dir = new Float64Array(D);
  for (let j = 0; j < D; j++) dir[j] = (W[a * D + j]! - (bTok === null ? 0 : W[bTok * D + j]!)) * ln.w.data[j]!;
  let biasTerm = 0;
  if (ln.b) for (let j = 0; j < D; j++) biasTerm += (W[a * D + j]! - (bTok === null ? 0 : W[bTok * D + j]!)) * ln.b.data[j]!;
  const { labels, parts } = decomposeResidual(model, run.cache, bi, t);
  const values = parts.map((p) => {
    // LayerNorm's centring is linear, so it applies to each part separately.
    let mean = 0;
    if (c.norm === 'layer') {
      for (let j = 0; j < D; j++) mean += p[j]!;
      mean /= D;
    }
    let s = 0;
    for (let j = 0; j < D; j++) s += (p[j]! - mean) * dir[j]!;
    return s / scale;
  });
  const V = c.vocabSize;
  const row = run.logits!.data.subarray((bi * Tn + t) * V, (bi * Tn + t + 1) * V);
  const logit = row[a]! - (bTok === null ? 0 : row[bTok]!);
  return { labels, values, biasTerm, logit, position: t };
}
