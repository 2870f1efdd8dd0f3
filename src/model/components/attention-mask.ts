// Causal + padding mask on attention scores in one pass: -Infinity where a key lies in a query's future
// or beyond its sequence's real length (right padding). Masked entries get no gradient.
import * as T from '../../tensor/index.js';
import type { Tensor } from '../../tensor/index.js';
import { expFast } from '../../tensor/ops/fastmath.js';

/**
 * Absolute position of each sequence's first query: one for the whole batch, or one per sequence
 * [batch] (batched decoding, where the sequences of a KV cache have different lengths).
 */
export type QueryOffset = number | Int32Array;

const offsetOf = (offset: QueryOffset, b: number): number => (typeof offset === 'number' ? offset : offset[b]!);

/**
 * scores [batch, heads, q, k]; query i of sequence b sits at absolute position offset(b) + i, key j at j.
 * keyLimit[b] (optional): keys j >= keyLimit[b] are padding of sequence b.
 */
export function maskScores(scores_BHQK: Tensor, offset: QueryOffset, keyLimit: Int32Array | null): Tensor {
  const [B, H, Q, K] = scores_BHQK.shape as [number, number, number, number];
  const src = scores_BHQK.data;
  const out = new Float32Array(src.length);
  // For each (b, q): keys [0, limit) are kept, where limit = min(q + offset + 1, keyLimit[b], K).
  const limitOf = (b: number, q: number): number => Math.min(q + offsetOf(offset, b) + 1, keyLimit ? keyLimit[b]! : K, K);
  for (let b = 0; b < B; b++)
    for (let h = 0; h < H; h++)
      for (let q = 0; q < Q; q++) {
        const row = ((b * H + h) * Q + q) * K;
        const lim = limitOf(b, q);
        for (let k = 0; k < lim; k++) out[row + k] = src[row + k]!;
        for (let k = Math.max(lim, 0); k < K; k++) out[row + k] = -Infinity;
      }
  return T.result(out, scores_BHQK.shape, 'maskScores', [scores_BHQK], (g) => {
    const gx = new Float32Array(g.length);
    for (let b = 0; b < B; b++)
      for (let h = 0; h < H; h++)
        for (let q = 0; q < Q; q++) {
          const row = ((b * H + h) * Q + q) * K;
          const lim = limitOf(b, q);
          for (let k = 0; k < lim; k++) gx[row + k] = g[row + k]!;
        }
    return [gx];
  });
}

/**
 * softmax(maskScores(raw * scale)) in one pass, touching only the unmasked keys (about half of a causal
 * pattern). Used when nobody asked for hook_attn_scores; the result equals the two-step form. The
 * 1/sqrt(d_head) scale folds into the exponent for free.
 */
export function maskedSoftmax(scores_BHQK: Tensor, offset: QueryOffset, keyLimit: Int32Array | null, scale = 1): Tensor {
  const [B, H, Q, K] = scores_BHQK.shape as [number, number, number, number];
  const src = scores_BHQK.data;
  const y = new Float32Array(src.length);
  const limits = new Int32Array(B * Q);
  for (let b = 0; b < B; b++) for (let q = 0; q < Q; q++) limits[b * Q + q] = Math.max(0, Math.min(q + offsetOf(offset, b) + 1, keyLimit ? keyLimit[b]! : K, K));
  for (let b = 0; b < B; b++)
    for (let h = 0; h < H; h++)
      for (let q = 0; q < Q; q++) {
        const row = ((b * H + h) * Q + q) * K;
        const end = row + limits[b * Q + q]!;
        if (end === row) continue; // nothing visible: a zero row, as softmax gives for all -inf
        let m = -Infinity;
        for (let k = row; k < end; k++) if (src[k]! > m) m = src[k]!;
        let s = 0;
        for (let k = row; k < end; k++) s += y[k] = expFast((src[k]! - m) * scale);
        const inv = 1 / s;
        for (let k = row; k < end; k++) y[k]! *= inv;
      }
  return T.result(y, scores_BHQK.shape, 'maskedSoftmax', [scores_BHQK], (g) => {
    // dx = y * (g - sum(g * y)) on the visible keys; masked keys get nothing.
    const gx = new Float32Array(g.length);
    for (let b = 0; b < B; b++)
      for (let h = 0; h < H; h++)
        for (let q = 0; q < Q; q++) {
          const row = ((b * H + h) * Q + q) * K;
          const end = row + limits[b * Q + q]!;
          let dot = 0;
          for (let k = row; k < end; k++) dot += g[k]! * y[k]!;
          for (let k = row; k < end; k++) gx[k] = scale * y[k]! * (g[k]! - dot);
        }
    return [gx];
  });
}

/**
 * Inference fast path (no tape, nobody hooking scores or pattern): turns raw scores into unnormalised
 * exp((s - rowmax) * scale) in place (masked entries 0) and returns 1 / rowsum per (b, h, q) row, so the
 * caller normalises z = E V afterwards ([rows, d_head] instead of [rows, keys] values): one allocation and
 * one pass over the pattern fewer than mask + softmax.
 */
export function expScoresInPlace(raw: Float32Array, B: number, H: number, Q: number, K: number, offset: QueryOffset, keyLimit: Int32Array | null, scale: number): Float32Array {
  const inv = new Float32Array(B * H * Q);
  for (let b = 0; b < B; b++) {
    const kl = keyLimit ? Math.min(keyLimit[b]!, K) : K;
    const off = offsetOf(offset, b);
    for (let h = 0; h < H; h++)
      for (let q = 0; q < Q; q++) {
        const r = (b * H + h) * Q + q;
        const row = r * K;
        const lim = Math.max(0, Math.min(q + off + 1, kl));
        const end = row + lim;
        let m = -Infinity;
        for (let k = row; k < end; k++) {
          const v = raw[k]!;
          if (v > m) m = v;
        }
        let s = 0;
        for (let k = row; k < end; k++) {
          const e = expFast((raw[k]! - m) * scale);
          raw[k] = e;
          s += e;
        }
        raw.fill(0, end, row + K);
        inv[r] = s > 0 ? 1 / s : 0;
      }
  }
  return inv;
}

/** rows of x [rows, n] scaled in place by f[row]. */
export function scaleRowsInPlace(x: Float32Array, n: number, f: Float32Array): void {
  for (let r = 0; r < f.length; r++) {
    const c = f[r]!;
    for (let j = r * n, end = j + n; j < end; j++) x[j]! *= c;
  }
}
