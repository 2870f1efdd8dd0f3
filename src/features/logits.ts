// Direct logit effects: each feature's decoder direction read out through the final norm's weight and
// the unembedding, W_dec[f] (* gamma) @ W_U, as feature dashboards show them (the norm's per-token scale
// is a positive factor common to all tokens, so it changes no ranking). LayerNorm also centres the
// direction: the mean component is what its centring removes from any input.
import * as T from '../tensor/index.js';
import type { LogitReadout } from './source.js';
import { topKRow, type Ranked } from './topk-rows.js';

export interface LogitEffects {
  top: Ranked[][];
  bottom: Ranked[][];
}

const ROWS_PER_BLOCK = 256;

/** Top and bottom k logit effects of every feature (index = token id). */
export function logitEffects(W_dec: Float32Array, dOut: number, readout: LogitReadout, k = 10): LogitEffects {
  const F = W_dec.length / dOut;
  const V = readout.vocabSize;
  const d = readout.dModel;
  const U = new T.Tensor(readout.unembed, readout.transposed ? [V, d] : [d, V]);
  const top: Ranked[][] = [];
  const bottom: Ranked[][] = [];
  for (let start = 0; start < F; start += ROWS_PER_BLOCK) {
    const rows = Math.min(ROWS_PER_BLOCK, F - start);
    const dirs = readoutDirections(W_dec.subarray(start * d, (start + rows) * d), rows, d, readout);
    const logits = T.matmul(new T.Tensor(dirs, [rows, d]), U, { transB: readout.transposed }).data; // [rows, V]
    for (let r = 0; r < rows; r++) {
      top.push(topKRow(logits, r * V, V, k, true));
      bottom.push(topKRow(logits, r * V, V, k, false));
    }
  }
  return { top, bottom };
}

/** Directions [rows, d] as the unembedding sees them: centred for LayerNorm, times the norm's weight. */
export function readoutDirections(dirs_RD: Float32Array, rows: number, d: number, readout: LogitReadout): Float32Array {
  const out = new Float32Array(rows * d);
  const w = readout.norm.weight;
  for (let r = 0; r < rows; r++) {
    let mean = 0;
    if (readout.norm.kind === 'layer') {
      for (let j = 0; j < d; j++) mean += dirs_RD[r * d + j]!;
      mean /= d;
    }
    for (let j = 0; j < d; j++) out[r * d + j] = (dirs_RD[r * d + j]! - mean) * (w ? w[j]! : 1);
  }
  return out;
}
