// Attention building blocks: causal masking and rotary position embeddings.
import { ShapeError } from '../../errors.js';
import { result } from '../autograd.js';
import { Tensor } from '../tensor.js';

/**
 * Set scores[..., q, k] to -Infinity where key k lies in the future of query q. Queries sit at
 * absolute positions offset..offset+Tq-1 (offset = cached length when decoding with a KV cache).
 */
export function causalMask(scores: Tensor, offset?: number): Tensor {
  const tq = scores.shape[scores.ndim - 2]!;
  const tk = scores.shape[scores.ndim - 1]!;
  const off = offset ?? tk - tq;
  const out = scores.data.slice();
  const blocks = scores.size / (tq * tk);
  for (let b = 0; b < blocks; b++)
    for (let q = 0; q < tq; q++) {
      const row = (b * tq + q) * tk;
      for (let k = q + off + 1; k < tk; k++) out[row + k] = -Infinity;
    }
  return result(out, scores.shape, 'causalMask', [scores], (g) => {
    const gx = g.slice();
    for (let b = 0; b < blocks; b++)
      for (let q = 0; q < tq; q++) {
        const row = (b * tq + q) * tk;
        for (let k = q + off + 1; k < tk; k++) gx[row + k] = 0;
      }
    return [gx];
  });
}

export interface RopeOptions {
  /** 'interleaved' rotates pairs (2i, 2i+1) (llama2.c, Meta); 'half' rotates (i, i + r/2) (HF Llama, NeoX). */
  layout: 'interleaved' | 'half';
  /** Rotate only the first `rotaryDim` features of each head (NeoX partial rotary); default all. */
  rotaryDim?: number;
  /** Base of the frequencies (theta), default 10000. */
  base?: number;
  /** Explicit inverse frequencies [rotaryDim/2] (for scaled variants); overrides base. */
  invFreq?: Float32Array;
  /**
   * Absolute position of each of the T positions (default 0..T-1), or a start offset; or one per
   * (batch, pos) [batch * T] when the rows sit at different positions (batched KV-cached decoding).
   */
  positions?: Int32Array | number;
}

export function ropeInvFreq(rotaryDim: number, base = 10000): Float32Array {
  const f = new Float32Array(rotaryDim / 2);
  for (let i = 0; i < f.length; i++) f[i] = 1 / Math.pow(base, (2 * i) / rotaryDim);
  return f;
}

/**
 * Rotary embedding of x [batch, T, heads, headDim] (TransformerLens' hook_q / hook_k layout).
 * Angles are computed in float64 from the float32 inverse frequencies.
 */
export function rope(x: Tensor, opts: RopeOptions): Tensor {
  if (x.ndim !== 4) throw new ShapeError('rope', 'expects [batch, pos, heads, headDim]', [x.shape]);
  const [B, T, H, D] = x.shape as [number, number, number, number];
  const R = opts.rotaryDim ?? D;
  if (R % 2 !== 0 || R > D) throw new ShapeError('rope', `rotaryDim ${R} must be even and at most headDim ${D}`, [x.shape]);
  const half = R / 2;
  const inv = opts.invFreq ?? ropeInvFreq(R, opts.base ?? 10000);
  if (inv.length !== half) throw new ShapeError('rope', `invFreq needs ${half} entries, got ${inv.length}`);
  const pos = opts.positions;
  if (pos !== undefined && typeof pos !== 'number' && pos.length !== T && pos.length !== B * T) {
    throw new ShapeError('rope', `positions has ${pos.length} entries for ${T} positions (or ${B * T}, one per row and position)`, [x.shape]);
  }
  // Angle tables per position, or per (row, position) when each row has its own positions.
  const perRow = pos !== undefined && typeof pos !== 'number' && pos.length !== T;
  const P = perRow ? B * T : T;
  const cos = new Float32Array(P * half);
  const sin = new Float32Array(P * half);
  for (let r = 0; r < P; r++) {
    const p = pos === undefined ? r : typeof pos === 'number' ? pos + r : pos[r]!;
    for (let i = 0; i < half; i++) {
      const a = p * inv[i]!;
      cos[r * half + i] = Math.cos(a);
      sin[r * half + i] = Math.sin(a);
    }
  }
  const interleaved = opts.layout === 'interleaved';
  const apply = (src: Float32Array, sign: number): Float32Array => {
    const out = src.slice();
    for (let b = 0; b < B; b++)
      for (let t = 0; t < T; t++) {
        const tab = (perRow ? b * T + t : t) * half;
        for (let h = 0; h < H; h++) {
          const o = ((b * T + t) * H + h) * D;
          for (let i = 0; i < half; i++) {
            const c = cos[tab + i]!;
            const s = sign * sin[tab + i]!;
            const ia = interleaved ? o + 2 * i : o + i;
            const ib = interleaved ? ia + 1 : o + i + half;
            const a = src[ia]!;
            const v = src[ib]!;
            out[ia] = a * c - v * s;
            out[ib] = a * s + v * c;
          }
        }
      }
    return out;
  };
  // The rotation is orthogonal: its backward is the rotation by the opposite angle.
  return result(apply(x.data, 1), x.shape, 'rope', [x], (g) => [apply(g, -1)]);
}
