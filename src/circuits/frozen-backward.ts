// The backward pass of the frozen replacement model, batched over targets. With attention patterns and norm
// denominators frozen and the MLPs replaced by constants (feature and error contributions are sources, not
// functions of the residual stream), the map from the residual stream at one site to a target's
// pre-activation is linear, and its transpose is what this file applies: a vector-Jacobian product for S
// targets at once, restricted to the first P positions (causal attention: a target at position p depends
// only on positions <= p, and later positions get exact zeros).
//
// Gradients are laid out [P, S, D] (position-major), so the rows of one position are contiguous: the
// source dot products of a position are one small matmul. Per block, going down:
//   resid_post_l = resid_mid_l + mlp_out_l      mlp_out_l is a sum of sources (a callback reads the gradient
//                                               there), plus a skip term x_l @ W_skip when the transcoder has one
//   resid_mid_l  = resid_pre_l + attn_l(ln1(resid_pre_l))
//   attn with a frozen pattern A_h: z_h[q] = sum_k A_h[q,k] v_h[k], v = x W_V^T (+ b_V), out = z W_O^T (+ b_O)
// so d/d resid_pre = g + J_ln1^T (W_V^T (sum_q A_h[q,k] (W_O^T g)_h[q])). Biases are constants (no gradient).
// This is checked against autodiff through the real model with frozen hooks (frozen-backward.test.ts).
import { getBackend } from '../tensor/backend/index.js';
import type { Transformer } from '../model/index.js';
import type { ReplacementState } from './replacement.js';

export interface SweepCallbacks {
  /** g [P, S, D]: the gradient at layer l's MLP output (= resid_post_l). Read it; do not keep it. */
  onMlpOut(l: number, g: Float32Array): void;
  /** g [P, S, D]: the gradient at the embeddings (resid_pre_0). */
  onEmbed(g: Float32Array): void;
}

interface LayerWeights {
  W_Oh: Float32Array; // [H, D, dh]: W_O [D, H*dh] split by head
  W_V: Float32Array; // [Hkv*dh, D]
  ln1w: Float32Array; // [D]
}

export class FrozenBackward {
  private readonly D: number;
  private readonly H: number;
  private readonly Hkv: number;
  private readonly dh: number;
  private readonly layerNorm: boolean;
  private readonly w: LayerWeights[];
  private readonly lnfw: Float32Array;
  private readonly W_U: Float32Array;
  private readonly V: number;

  constructor(
    model: Transformer,
    private readonly st: ReplacementState,
  ) {
    const c = model.config;
    this.D = c.dModel;
    this.H = c.nHeads;
    this.Hkv = c.nKvHeads;
    this.dh = c.dHead;
    this.layerNorm = c.norm === 'layer';
    this.w = model.params.blocks.map((b) => ({ W_Oh: splitHeads(b.attn.W_O.data, this.D, this.H, this.dh), W_V: b.attn.W_V.data, ln1w: b.ln1.w.data }));
    this.lnfw = model.params.lnFinal.w.data;
    this.W_U = model.params.W_U.data;
    this.V = c.vocabSize;
  }

  /**
   * Seeds for feature targets of layer L: row s of the result [P, S, D] is zero except at its position,
   * where it is d pre_t / d resid_mid_L = J_ln2^T W_enc[f] (frozen denominator).
   */
  featureSeeds(L: number, targets: readonly { pos: number; row: Float32Array }[], P: number): Float32Array {
    const { D } = this;
    const S = targets.length;
    const g = new Float32Array(P * S * D);
    const scale = this.st.ln2Scale[L];
    targets.forEach((t, s) => {
      const o = (t.pos * S + s) * D;
      g.set(t.row, o);
      if (scale) this.normBackwardRow(g, o, null, scale[t.pos]!);
    });
    return g;
  }

  /** Seeds for logit targets at the last position: d (logit_v - mean logits) / d resid_post_{N-1}. */
  logitSeeds(tokens: readonly number[], P: number): Float32Array {
    const { D, V, W_U } = this;
    const S = tokens.length;
    const mean = new Float64Array(D);
    for (let v = 0; v < V; v++) for (let j = 0; j < D; j++) mean[j] += W_U[v * D + j]!;
    for (let j = 0; j < D; j++) mean[j] /= V;
    const g = new Float32Array(P * S * D);
    const p = P - 1;
    tokens.forEach((v, s) => {
      const o = (p * S + s) * D;
      for (let j = 0; j < D; j++) g[o + j] = W_U[v * D + j]! - mean[j]!;
      this.normBackwardRow(g, o, this.lnfw, this.st.lnfScale[p]!);
    });
    return g;
  }

  /**
   * Walk down from `start`: a feature layer L (the seed is at resid_mid_L) or N for logits (the seed is at
   * resid_post_{N-1}), calling back at every MLP output below and at the embeddings.
   */
  sweep(start: number, seed: Float32Array, P: number, S: number, cb: SweepCallbacks): void {
    const N = this.w.length;
    let g = seed;
    let l: number;
    if (start < N) {
      g = this.attentionBackward(start, g, P, S);
      l = start - 1;
    } else l = N - 1;
    for (; l >= 0; l--) {
      cb.onMlpOut(l, g);
      const skip = this.st.set.skip[l];
      if (skip) g = this.skipBackward(l, skip, g, P, S);
      g = this.attentionBackward(l, g, P, S);
    }
    cb.onEmbed(g);
  }

  /** g at resid_mid_l -> g at resid_pre_l: identity plus the frozen attention path. */
  attentionBackward(l: number, g: Float32Array, P: number, S: number): Float32Array {
    const { D, H, Hkv, dh } = this;
    const be = getBackend();
    const { W_Oh, W_V, ln1w } = this.w[l]!;
    const PS = P * S;
    // gz per head [H, P*S, dh] = g @ W_O[:, head]: already the layout the pattern product wants ([H, P, S*dh]).
    const gzH = this.scratch(0, H * PS * dh);
    be.matmul(g, W_Oh, gzH, { batch: H, m: PS, k: D, n: dh, transA: false, transB: false, aBatched: false, bBatched: true });
    // gv_h [Pk, S*dh] = A_h[:P,:P]^T @ gz_h (the patterns are stored transposed: MLAS is faster untransposed)
    const At = this.patternPrefixT(l, P);
    const gvH = this.scratch(1, H * PS * dh);
    be.matmul(At, gzH, gvH, { batch: H, m: P, k: P, n: S * dh, transA: false, transB: false, aBatched: true, bBatched: true });
    // Sum query heads into their kv head: gv [P*S, Hkv*dh].
    const group = H / Hkv;
    const KD = Hkv * dh;
    const gv = this.scratch(2, PS * KD);
    gv.fill(0);
    for (let h = 0; h < H; h++) {
      const kvo = Math.floor(h / group) * dh;
      const hb = h * PS * dh;
      for (let r = 0; r < PS; r++) {
        const src = hb + r * dh;
        const dst = r * KD + kvo;
        for (let j = 0; j < dh; j++) gv[dst + j] += gvH[src + j]!;
      }
    }
    // gx1 [P*S, D] = gv @ W_V, then through ln1 (frozen denominator) and add the identity path.
    const gx = this.scratch(3, PS * D);
    be.matmul(gv, W_V, gx, { batch: 1, m: PS, k: KD, n: D, transA: false, transB: false, aBatched: false, bBatched: false });
    const out = new Float32Array(PS * D);
    const scale = this.st.ln1Scale[l]!;
    for (let p = 0; p < P; p++) {
      const inv = 1 / scale[p]!;
      for (let s = 0; s < S; s++) {
        const o = (p * S + s) * D;
        if (this.layerNorm) {
          let m = 0;
          for (let j = 0; j < D; j++) m += gx[o + j]! * ln1w[j]!;
          m /= D;
          for (let j = 0; j < D; j++) out[o + j] = g[o + j]! + (gx[o + j]! * ln1w[j]! - m) * inv;
        } else {
          for (let j = 0; j < D; j++) out[o + j] = g[o + j]! + gx[o + j]! * ln1w[j]! * inv;
        }
      }
    }
    return out;
  }

  private readonly buffers: Float32Array[] = [];

  /** Reused scratch buffer `slot` of at least n floats (callers overwrite what they read). */
  private scratch(slot: number, n: number): Float32Array {
    const b = this.buffers[slot];
    if (b && b.length >= n) return b.subarray(0, n);
    const fresh = new Float32Array(Math.max(n, Math.floor((b?.length ?? 0) * 1.5)));
    this.buffers[slot] = fresh;
    return fresh.subarray(0, n);
  }

  /** g at resid_post_l -> plus the skip path: x_l @ W_skip feeds mlp_out_l, x_l = ln2(resid_mid_l) (or resid_mid_l). */
  private skipBackward(l: number, W_skip_DD: Float32Array, g: Float32Array, P: number, S: number): Float32Array {
    const { D } = this;
    const gx = new Float32Array(P * S * D);
    getBackend().matmul(g, W_skip_DD, gx, { batch: 1, m: P * S, k: D, n: D, transA: false, transB: true, aBatched: false, bBatched: false });
    const out = g.slice();
    const scale = this.st.ln2Scale[l];
    for (let p = 0; p < P; p++)
      for (let s = 0; s < S; s++) {
        const o = (p * S + s) * D;
        if (scale) this.normBackwardRow(gx, o, null, scale[p]!);
        for (let j = 0; j < D; j++) out[o + j] += gx[o + j]!;
      }
    return out;
  }

  /**
   * In place on g[o .. o+D): the transpose of y = (x - mean?) / s * w with s frozen:
   * RMSNorm g * w / s; LayerNorm (gw - mean(gw)) / s. w null: the normalised value before the weight.
   */
  private normBackwardRow(g: Float32Array, o: number, w: Float32Array | null, s: number): void {
    const D = this.D;
    const inv = 1 / s;
    if (w) for (let j = 0; j < D; j++) g[o + j] = g[o + j]! * w[j]!;
    if (this.layerNorm) {
      let m = 0;
      for (let j = 0; j < D; j++) m += g[o + j]!;
      m /= D;
      for (let j = 0; j < D; j++) g[o + j] = (g[o + j]! - m) * inv;
    } else {
      for (let j = 0; j < D; j++) g[o + j] = g[o + j]! * inv;
    }
  }

  private readonly transposed: Float32Array[] = [];
  private readonly prefixCache = new Map<string, Float32Array>();

  /** Layer l's patterns transposed (key-major) and cut to the first P keys and queries, [H, P, P]. */
  private patternPrefixT(l: number, P: number): Float32Array {
    const Tn = this.st.T;
    const H = this.H;
    let full = this.transposed[l];
    if (!full) {
      const A = this.st.patterns[l]!;
      full = new Float32Array(H * Tn * Tn);
      for (let h = 0; h < H; h++) for (let q = 0; q < Tn; q++) for (let k = 0; k < Tn; k++) full[(h * Tn + k) * Tn + q] = A[(h * Tn + q) * Tn + k]!;
      this.transposed[l] = full;
    }
    if (P === Tn) return full;
    const key = `${l}:${P}`;
    const hit = this.prefixCache.get(key);
    if (hit) return hit;
    const out = new Float32Array(H * P * P);
    for (let h = 0; h < H; h++) for (let k = 0; k < P; k++) out.set(full.subarray((h * Tn + k) * Tn, (h * Tn + k) * Tn + P), (h * P + k) * P);
    if (this.prefixCache.size > 2 * this.w.length) this.prefixCache.clear();
    this.prefixCache.set(key, out);
    return out;
  }
}

/** W_O [D, H*dh] -> [H, D, dh], so one batched product gives every head's gradient in head-major layout. */
function splitHeads(W_O: Float32Array, D: number, H: number, dh: number): Float32Array {
  const out = new Float32Array(H * D * dh);
  for (let h = 0; h < H; h++) for (let d = 0; d < D; d++) for (let j = 0; j < dh; j++) out[(h * D + d) * dh + j] = W_O[d * H * dh + h * dh + j]!;
  return out;
}
