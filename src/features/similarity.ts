// Decoder cosine similarity: the features whose output directions point the same way, computed in row
// blocks (normalised W_dec block @ normalised W_dec^T) so memory stays at block x n_features.
import * as T from '../tensor/index.js';
import { topKRow, type Ranked } from './topk-rows.js';

const ROWS_PER_BLOCK = 512;

export function similarFeatures(W_dec: Float32Array, dOut: number, k = 5): Ranked[][] {
  const F = W_dec.length / dOut;
  const unit = new Float32Array(W_dec.length);
  for (let f = 0; f < F; f++) {
    let n = 0;
    for (let j = 0; j < dOut; j++) n += W_dec[f * dOut + j]! ** 2;
    const inv = n > 0 ? 1 / Math.sqrt(n) : 0;
    for (let j = 0; j < dOut; j++) unit[f * dOut + j] = W_dec[f * dOut + j]! * inv;
  }
  const all = new T.Tensor(unit, [F, dOut]);
  const out: Ranked[][] = [];
  for (let start = 0; start < F; start += ROWS_PER_BLOCK) {
    const rows = Math.min(ROWS_PER_BLOCK, F - start);
    const block = new T.Tensor(unit.subarray(start * dOut, (start + rows) * dOut), [rows, dOut]);
    const cos = T.matmul(block, all, { transB: true }).data; // [rows, F]
    for (let r = 0; r < rows; r++) out.push(topKRow(cos, r * F, F, k, true, start + r));
  }
  return out;
}
