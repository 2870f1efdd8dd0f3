// The residual stream as a sum of parts, read from a run's cache: accumulated (resid_pre of each block,
// then the final resid_post) for the logit lens, or decomposed per component (embeddings, each head,
// each attention bias, each MLP) for direct logit attribution. Positions are picked per sequence so
// padded batches work.
import { InputError } from '../../errors.js';
import * as T from '../../tensor/index.js';
import type { Tensor } from '../../tensor/index.js';
import type { ActivationCache, Transformer } from '../../model/index.js';

/** Which position of each sequence to read: its last real token (default), or an index. */
export type PositionPick = 'last' | number;

export function positionOf(cache: ActivationCache, b: number, pick: PositionPick): number {
  const len = cache.batch.lengths[b]!;
  const t = pick === 'last' ? len - 1 : pick < 0 ? len + pick : pick;
  if (!Number.isInteger(t) || t < 0 || t >= len) throw new InputError(`position ${pick} is outside sequence ${b} of length ${len}`);
  return t;
}

/** Row [d_model] of a [batch, pos, d] activation at (b, t), as float64. */
export function rowAt(act_BTD: Tensor, b: number, t: number): Float64Array {
  const [, Tn, D] = act_BTD.shape as [number, number, number];
  return Float64Array.from(act_BTD.data.subarray((b * Tn + t) * D, (b * Tn + t + 1) * D));
}

/** Hook names of the accumulated residual stream: resid_pre of each block (and resid_mid), then the final resid_post. */
export function accumulatedNames(model: Transformer, inclMid = false): { names: string[]; labels: string[] } {
  const names: string[] = [];
  const labels: string[] = [];
  const c = model.config;
  for (let i = 0; i < c.nLayers; i++) {
    names.push(`blocks.${i}.hook_resid_pre`);
    labels.push(`${i}_pre`);
    if (inclMid && !c.parallelAttnMlp && !c.attnOnly) {
      names.push(`blocks.${i}.hook_resid_mid`);
      labels.push(`${i}_mid`);
    }
  }
  names.push(`blocks.${c.nLayers - 1}.hook_resid_post`);
  labels.push('final_post');
  return { names, labels };
}

/** Stack of accumulated residuals [components, batch, pos, d_model] from a cache holding them. */
export function accumulatedResidual(model: Transformer, cache: ActivationCache, inclMid = false): { labels: string[]; resid: Tensor } {
  const { names, labels } = accumulatedNames(model, inclMid);
  const parts = names.map((n) => T.unsqueeze(cache.get(n), 0));
  return { labels, resid: T.concat(parts, 0) };
}

/**
 * The final residual stream at one position as a sum of components (exactly, up to float rounding):
 * embed, pos_embed, L{i}H{h} (per-head results), L{i}.attn_bias (b_O), L{i}.mlp.
 * The cache must hold the names componentNames() lists.
 */
export function componentNames(model: Transformer): string[] {
  const c = model.config;
  const names = ['hook_embed'];
  if (c.positional === 'learned') names.push('hook_pos_embed');
  for (let i = 0; i < c.nLayers; i++) {
    names.push(`blocks.${i}.attn.hook_result`);
    if (!c.attnOnly) names.push(`blocks.${i}.hook_mlp_out`);
  }
  return names;
}

export function decomposeResidual(model: Transformer, cache: ActivationCache, b: number, t: number): { labels: string[]; parts: Float64Array[] } {
  const c = model.config;
  const labels: string[] = ['embed'];
  const parts: Float64Array[] = [rowAt(cache.get('hook_embed'), b, t)];
  if (c.positional === 'learned') {
    labels.push('pos_embed');
    parts.push(rowAt(cache.get('hook_pos_embed'), b, t));
  }
  const D = c.dModel;
  for (let i = 0; i < c.nLayers; i++) {
    const res = cache.get(`blocks.${i}.attn.hook_result`); // [B, T, H, D]
    const [, Tn, H] = res.shape as [number, number, number, number];
    for (let h = 0; h < H; h++) {
      labels.push(`L${i}H${h}`);
      const o = ((b * Tn + t) * H + h) * D;
      parts.push(Float64Array.from(res.data.subarray(o, o + D)));
    }
    const bO = model.params.blocks[i]!.attn.b_O;
    if (bO) {
      labels.push(`L${i}.attn_bias`);
      parts.push(Float64Array.from(bO.data));
    }
    if (!c.attnOnly) {
      labels.push(`L${i}.mlp`);
      parts.push(rowAt(cache.get(`blocks.${i}.hook_mlp_out`), b, t));
    }
  }
  return { labels, parts };
}
