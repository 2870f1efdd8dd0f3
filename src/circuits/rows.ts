// Rows of the adjacency matrix, a batch of targets at a time: A[t, s] = the contribution of source s to
// target t's pre-activation (or demeaned logit) through the frozen model. One batched backward sweep per
// batch (frozen-backward.ts) gives the gradient at every MLP output and at the embeddings; dotting it with
// each source's vector (activation x decoder row, error vector, embedding) fills the rows.
//
// A batch holds targets of one layer (or the logits) whose positions are < P; its rows span only the
// sources that can reach them: features and errors of lower layers and token embeddings, at positions < P.
// That set is a few contiguous ranges of global node indices, so a row is a dense [nLocal] slice plus a
// range table, never a row over all N nodes.
import { getBackend } from '../tensor/backend/index.js';
import { FrozenBackward } from './frozen-backward.js';
import type { NodeIndex } from './node-index.js';
import type { ReplacementState } from './replacement.js';

export interface ColumnRange {
  kind: 'feature' | 'error' | 'token';
  /** Global node index of the range's first column, and its local column. */
  global: number;
  local: number;
  length: number;
}

export interface RowBatch {
  /** Target layer (nLayers for logits). */
  layer: number;
  /** Global node indices of the targets, one row each. */
  targets: Int32Array;
  P: number;
  nLocal: number;
  /** [S, nLocal] */
  rows: Float32Array;
  ranges: ColumnRange[];
}

/** Padded per-position source vectors [T, nmax, D] (zeros where a position has fewer sources). */
interface SourceVectors {
  nmax: number;
  data: Float32Array;
}

export class RowComputer {
  readonly fb: FrozenBackward;
  private readonly D: number;
  private readonly N: number;
  private readonly sv = new Map<string, SourceVectors>();

  constructor(
    private readonly st: ReplacementState,
    private readonly idx: NodeIndex,
    private readonly logitTokens: readonly number[],
  ) {
    this.fb = new FrozenBackward(st.model, st);
    this.D = st.model.config.dModel;
    this.N = st.model.config.nLayers;
  }

  /**
   * Rows for `targets` (global node indices): all features of layer `layer`, or all logits (layer = N),
   * restricted to positions < P.
   */
  compute(layer: number, targets: Int32Array, P: number): RowBatch {
    const { st, idx, D, N } = this;
    const S = targets.length;
    let seed: Float32Array;
    if (layer < N) {
      const enc = st.set.layers[layer]!;
      seed = this.fb.featureSeeds(
        layer,
        Array.from(targets, (t) => {
          const f = idx.featLatent[t]!;
          return { pos: idx.featPos[t]!, row: enc.W_enc_FD.subarray(f * D, (f + 1) * D) };
        }),
        P,
      );
    } else {
      seed = this.fb.logitSeeds(Array.from(targets, (t) => this.logitTokens[t - idx.logitStart]!), P);
    }
    const ranges: ColumnRange[] = [];
    let nLocal = 0;
    const featRange: ColumnRange[] = [];
    const errRange: ColumnRange[] = [];
    for (let l = 0; l < Math.min(layer, N); l++) {
      const r: ColumnRange = { kind: 'feature', global: idx.featStart[l]![0]!, local: nLocal, length: idx.featStart[l]![P]! - idx.featStart[l]![0]! };
      nLocal += r.length;
      ranges.push(r);
      featRange[l] = r;
    }
    for (let l = 0; l < Math.min(layer, N); l++) {
      const r: ColumnRange = { kind: 'error', global: idx.errorIndex(l, 0), local: nLocal, length: P };
      nLocal += P;
      ranges.push(r);
      errRange[l] = r;
    }
    const tokRange: ColumnRange = { kind: 'token', global: idx.tokenIndex(0), local: nLocal, length: P };
    nLocal += P;
    ranges.push(tokRange);
    const rows = new Float32Array(S * nLocal);

    this.fb.sweep(layer, seed, P, S, {
      onMlpOut: (l, g) => {
        for (const L of this.sourcesOf(l)) {
          const v = this.sourceVectors(L, l);
          const lat = st.latents[L]!;
          const out = this.dots(v.data, v.nmax, g, P, S);
          const r = featRange[L]!;
          for (let p = 0; p < P; p++) {
            const e0 = lat.rowPtr[p]!;
            const n = lat.rowPtr[p + 1]! - e0;
            for (let j = 0; j < n; j++) {
              const col = r.local + e0 + j - lat.rowPtr[0]!;
              const o = (p * v.nmax + j) * S;
              for (let s = 0; s < S; s++) rows[s * nLocal + col] += out[o + s]!;
            }
          }
        }
        const out = this.dots(st.errors[l]!, 1, g, P, S);
        const r = errRange[l]!;
        for (let p = 0; p < P; p++) for (let s = 0; s < S; s++) rows[s * nLocal + r.local + p] = out[p * S + s]!;
      },
      onEmbed: (g) => {
        const out = this.dots(st.embed, 1, g, P, S);
        for (let p = 0; p < P; p++) for (let s = 0; s < S; s++) rows[s * nLocal + tokRange.local + p] = out[p * S + s]!;
      },
    });
    return { layer, targets, P, nLocal, rows, ranges };
  }

  /** Source layers whose features write output layer l. */
  private sourcesOf(l: number): number[] {
    return this.st.set.kind === 'clt' ? Array.from({ length: l + 1 }, (_, L) => L) : [l];
  }

  /** out[p, j, s] = vec[p, j, :] . g[p, s, :] for p < P: one batched product. */
  private dots(vec: Float32Array, nmax: number, g: Float32Array, P: number, S: number): Float32Array {
    const out = new Float32Array(P * nmax * S);
    getBackend().matmul(vec.subarray(0, P * nmax * this.D), g, out, { batch: P, m: nmax, k: this.D, n: S, transA: false, transB: true, aBatched: true, bBatched: true });
    return out;
  }

  /** activation x decoder row (source layer L -> output layer l) of every active feature, padded per position. */
  private sourceVectors(L: number, l: number): SourceVectors {
    const key = `${L}:${l}`;
    const hit = this.sv.get(key);
    if (hit) return hit;
    const { D, st } = this;
    const lat = st.latents[L]!;
    const W = st.set.decoder(L, l)!;
    const Tn = st.T;
    let nmax = 1;
    for (let p = 0; p < Tn; p++) nmax = Math.max(nmax, lat.rowPtr[p + 1]! - lat.rowPtr[p]!);
    const data = new Float32Array(Tn * nmax * D);
    for (let p = 0; p < Tn; p++) {
      for (let e = lat.rowPtr[p]!; e < lat.rowPtr[p + 1]!; e++) {
        const a = lat.val[e]!;
        const f = lat.idx[e]!;
        const o = (p * nmax + (e - lat.rowPtr[p]!)) * D;
        for (let j = 0; j < D; j++) data[o + j] = a * W[f * D + j]!;
      }
    }
    const v = { nmax, data };
    this.sv.set(key, v);
    return v;
  }
}

/** Split the sorted targets of one layer into batches of at most maxS rows; each batch's P is its last position + 1. */
export function targetBatches(targets: Int32Array, posOf: (t: number) => number, maxS: number): { targets: Int32Array; P: number }[] {
  const out: { targets: Int32Array; P: number }[] = [];
  for (let a = 0; a < targets.length; a += maxS) {
    const b = Math.min(targets.length, a + maxS);
    const batch = targets.slice(a, b);
    out.push({ targets: batch, P: posOf(batch[batch.length - 1]!) + 1 });
  }
  return out;
}
