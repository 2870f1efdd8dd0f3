// Multi-head / grouped-query attention, all heads in one batched matmul. Query heads are grouped by the
// key/value head they share (head h uses kv head floor(h / group)), so q viewed as
// [batch, kvHeads, group*pos, d_head] multiplies the un-repeated keys directly: no copies of K or V.
// Hooks (TransformerLens names and shapes): hook_q/k/v [batch, pos, heads, d_head] (k, v have kvHeads
// heads), hook_rot_q/k after RoPE, hook_attn_scores (scaled, masked with -inf) and hook_pattern
// [batch, head, query_pos, key_pos], hook_z [batch, pos, head, d_head], and hook_result
// [batch, pos, head, d_model] (per-head outputs, computed only when asked for).
import * as T from '../../tensor/index.js';
import type { Tensor } from '../../tensor/index.js';
import type { ModelConfig } from '../config.js';
import type { HookRunner } from '../hooks.js';
import type { KVCache } from '../kv-cache.js';
import type { AttnParams } from '../params.js';
import { expScoresInPlace, maskScores, maskedSoftmax, scaleRowsInPlace, type QueryOffset } from './attention-mask.js';
import { linear } from './linear.js';

export interface AttentionContext {
  config: ModelConfig;
  runner: HookRunner;
  layer: number;
  /** Absolute position of the first query (cached length when decoding), or of each sequence's [batch]. */
  offset: QueryOffset;
  /** Keys j >= keyLimit[b] are padding (null: no padding). */
  keyLimit: Int32Array | null;
  kvCache: KVCache | null;
  /** With a cache whose sequences differ in length: each sequence's real new positions [batch] (null: all pos). */
  newLengths: Int32Array | null;
  ropeInvFreq: Float32Array | null;
}

/** x [batch, pos, d_model] (already normalised) -> attn_out [batch, pos, d_model] (before hook_attn_out). */
export function attention(x_BTD: Tensor, p: AttnParams, ctx: AttentionContext): Tensor {
  const { config: c, runner, layer } = ctx;
  const [B, Tq] = x_BTD.shape as [number, number, number];
  const H = c.nHeads;
  const Hkv = c.nKvHeads;
  const dh = c.dHead;
  const group = H / Hkv;
  const pre = `blocks.${layer}.attn`;

  let q_BTHd = runner.point(`${pre}.hook_q`, T.reshape(linear(x_BTD, p.W_Q, p.b_Q), [B, Tq, H, dh]), layer);
  let k_BTKd = runner.point(`${pre}.hook_k`, T.reshape(linear(x_BTD, p.W_K, p.b_K), [B, Tq, Hkv, dh]), layer);
  const v_BTKd = runner.point(`${pre}.hook_v`, T.reshape(linear(x_BTD, p.W_V, p.b_V), [B, Tq, Hkv, dh]), layer);
  if (c.rope && ctx.ropeInvFreq) {
    const opts: T.RopeOptions = { layout: c.rope.layout, rotaryDim: c.rope.rotaryDim, invFreq: ctx.ropeInvFreq, positions: ropePositions(ctx.offset, B, Tq) };
    q_BTHd = runner.point(`${pre}.hook_rot_q`, T.rope(q_BTHd, opts), layer);
    k_BTKd = runner.point(`${pre}.hook_rot_k`, T.rope(k_BTKd, opts), layer);
  }

  // Keys and values as [batch, kvHeads, keyPos, d_head]: this call's, or the cache's (past + this call's).
  let k_BKSd: Tensor;
  let v_BKSd: Tensor;
  if (ctx.kvCache) {
    [k_BKSd, v_BKSd] = ctx.kvCache.append(layer, k_BTKd, v_BTKd, ctx.newLengths);
  } else {
    k_BKSd = T.permute(k_BTKd, [0, 2, 1, 3]);
    v_BKSd = T.permute(v_BTKd, [0, 2, 1, 3]);
  }
  const S = k_BKSd.shape[2]!;

  const q_BHTd = T.permute(q_BTHd, [0, 2, 1, 3]);
  const raw_BKGS = T.matmul(T.reshape(q_BHTd, [B, Hkv, group * Tq, dh]), k_BKSd, { transB: true });
  const scale = 1 / Math.sqrt(dh);
  let zh_BKGd: Tensor;
  if (!raw_BKGS.requiresGrad && !runner.wants(`${pre}.hook_attn_scores`) && !runner.wants(`${pre}.hook_pattern`)) {
    // Inference with nobody looking at the pattern: exponentiate in place, normalise z instead.
    const inv = expScoresInPlace(raw_BKGS.data, B, H, Tq, S, maskOffset(ctx), ctx.keyLimit, scale);
    zh_BKGd = T.matmul(raw_BKGS, v_BKSd);
    scaleRowsInPlace(zh_BKGd.data, dh, inv);
  } else {
    zh_BKGd = patternTimesValues(raw_BKGS, v_BKSd, scale, ctx, pre);
  }
  const z_BTHd = runner.point(`${pre}.hook_z`, T.permute(T.reshape(zh_BKGd, [B, H, Tq, dh]), [0, 2, 1, 3]), layer);

  if (!runner.wants(`${pre}.hook_result`)) return linear(T.reshape(z_BTHd, [B, Tq, H * dh]), p.W_O, p.b_O);
  return perHeadOutputs(z_BTHd, p, ctx);
}

/**
 * Key index of the first query: with a cache the keys start at position 0, so it is the query's
 * position; without one the keys are this call's own tokens (positionOffset moves positions, not keys).
 */
function maskOffset(ctx: AttentionContext): QueryOffset {
  return ctx.kvCache ? ctx.offset : 0;
}

/** A start offset, or with one offset per sequence the position of every (batch, pos) [batch * pos]. */
function ropePositions(offset: QueryOffset, B: number, Tq: number): number | Int32Array {
  if (typeof offset === 'number') return offset;
  const pos = new Int32Array(B * Tq);
  for (let b = 0; b < B; b++) for (let t = 0; t < Tq; t++) pos[b * Tq + t] = offset[b]! + t;
  return pos;
}

/** pattern @ v with the scores and pattern as tensors (hooks, gradients): [B, kvHeads, group*T, d_head]. */
function patternTimesValues(raw_BKGS: Tensor, v_BKSd: Tensor, scale: number, ctx: AttentionContext, pre: string): Tensor {
  const { config: c, runner, layer } = ctx;
  const [B, Hkv, GT, S] = raw_BKGS.shape as [number, number, number, number];
  const H = c.nHeads;
  const Tq = GT / (H / Hkv);
  const raw_BHTS = T.reshape(raw_BKGS, [B, H, Tq, S]);
  // The scaled, masked scores exist as a tensor only when someone hooks them; otherwise scaling,
  // masking and softmax fuse into one pass.
  const pattern = runner.wants(`${pre}.hook_attn_scores`)
    ? T.softmax(runner.point(`${pre}.hook_attn_scores`, maskScores(T.scale(raw_BHTS, scale), maskOffset(ctx), ctx.keyLimit), layer), -1)
    : maskedSoftmax(raw_BHTS, maskOffset(ctx), ctx.keyLimit, scale);
  const pattern_BHTS = runner.point(`${pre}.hook_pattern`, pattern, layer);
  return T.matmul(T.reshape(pattern_BHTS, [B, Hkv, GT, S]), v_BKSd);
}

/** Per-head outputs: result[b, t, h] = z[b, t, h] W_O[:, h*dh:(h+1)*dh]^T (hook_result), then attn_out = sum_h + b_O. */
function perHeadOutputs(z_BTHd: Tensor, p: AttnParams, ctx: AttentionContext): Tensor {
  const { config: c, runner, layer } = ctx;
  const [B, Tq, H, dh] = z_BTHd.shape as [number, number, number, number];
  const pre = `blocks.${layer}.attn`;
  const D = c.dModel;
  const zHead_HNd = T.reshape(T.permute(z_BTHd, [2, 0, 1, 3]), [H, B * Tq, dh]);
  const WO_HdD = T.permute(T.reshape(p.W_O, [D, H, dh]), [1, 2, 0]);
  const res_HND = T.matmul(zHead_HNd, WO_HdD);
  const result_BTHD = runner.point(`${pre}.hook_result`, T.permute(T.reshape(res_HND, [H, B, Tq, D]), [1, 2, 0, 3]), layer);
  const out = T.sum(result_BTHD, 2);
  return p.b_O ? T.add(out, p.b_O) : out;
}
