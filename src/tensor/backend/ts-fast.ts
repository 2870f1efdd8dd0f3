// A plain-TypeScript matmul tuned for the small products where a native call's fixed cost (~20 us)
// dominates: single-token decoding and tiny models. Same contract as ReferenceBackend, but accumulates
// in registers/scratch without the per-element branches, and blocks 4 output rows (or columns) so each
// loaded B value is used 4 times.
import type { KernelBackend, MatmulSpec } from './backend.js';

export class FastTsBackend implements KernelBackend {
  readonly name = 'ts-fast';
  private scratch = new Float64Array(0);

  matmul(a: Float32Array, b: Float32Array, out: Float32Array, s: MatmulSpec): void {
    const { batch, m, k, n } = s;
    // 4 accumulator rows of n, or one gathered row of A (k) for the transB path.
    const need = Math.max(4 * n, k);
    if (this.scratch.length < need) this.scratch = new Float64Array(need);
    const aStride = s.aBatched ? m * k : 0;
    const bStride = s.bBatched ? k * n : 0;
    for (let bi = 0; bi < batch; bi++) {
      gemmTs(a, bi * aStride, b, bi * bStride, out, bi * m * n, m, k, n, s.transA, s.transB, this.scratch);
    }
  }
}

/** out[oOff..] = op(A) @ op(B) for one [m, k] x [k, n] product. `acc` holds at least max(4n, k). */
export function gemmTs(
  a: Float32Array, aOff: number, b: Float32Array, bOff: number, out: Float32Array, oOff: number,
  m: number, k: number, n: number, transA: boolean, transB: boolean, acc: Float64Array,
): void {
  // A(i, p) lives at aOff + i*aRow + p*aCol.
  const aRow = transA ? 1 : k;
  const aCol = transA ? m : 1;
  if (transB) dotProducts(a, aOff, aRow, aCol, b, bOff, out, oOff, m, k, n, acc);
  else rowUpdates(a, aOff, aRow, aCol, b, bOff, out, oOff, m, k, n, acc);
}

// B stored [k, n]: out row i = sum_p A(i,p) * B row p, four rows of out at a time (contiguous inner loop over n).
function rowUpdates(
  a: Float32Array, aOff: number, aRow: number, aCol: number, b: Float32Array, bOff: number,
  out: Float32Array, oOff: number, m: number, k: number, n: number, acc: Float64Array,
): void {
  let i = 0;
  for (; i + 4 <= m; i += 4) {
    acc.fill(0, 0, 4 * n);
    const r0 = aOff + i * aRow;
    for (let p = 0; p < k; p++) {
      const ap = r0 + p * aCol;
      const x0 = a[ap]!, x1 = a[ap + aRow]!, x2 = a[ap + 2 * aRow]!, x3 = a[ap + 3 * aRow]!;
      const br = bOff + p * n;
      for (let j = 0; j < n; j++) {
        const y = b[br + j]!;
        acc[j] += x0 * y;
        acc[n + j] += x1 * y;
        acc[2 * n + j] += x2 * y;
        acc[3 * n + j] += x3 * y;
      }
    }
    const o = oOff + i * n;
    for (let j = 0; j < 4 * n; j++) out[o + j] = acc[j]!;
  }
  for (; i < m; i++) {
    acc.fill(0, 0, n);
    const r = aOff + i * aRow;
    for (let p = 0; p < k; p++) {
      const x = a[r + p * aCol]!;
      const br = bOff + p * n;
      for (let j = 0; j < n; j++) acc[j] += x * b[br + j]!;
    }
    const o = oOff + i * n;
    for (let j = 0; j < n; j++) out[o + j] = acc[j]!;
  }
}

// B stored [n, k]: out(i, j) = dot(A row i, B row j), four columns at a time; a strided A row is
// gathered first so the inner loop is contiguous.
function dotProducts(
  a: Float32Array, aOff: number, aRow: number, aCol: number, b: Float32Array, bOff: number,
  out: Float32Array, oOff: number, m: number, k: number, n: number, row: Float64Array,
): void {
  for (let i = 0; i < m; i++) {
    const r = aOff + i * aRow;
    for (let p = 0; p < k; p++) row[p] = a[r + p * aCol]!;
    const o = oOff + i * n;
    let j = 0;
    for (; j + 4 <= n; j += 4) {
      const b0 = bOff + j * k, b1 = b0 + k, b2 = b1 + k, b3 = b2 + k;
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      for (let p = 0; p < k; p++) {
        const x = row[p]!;
        s0 += x * b[b0 + p]!;
        s1 += x * b[b1 + p]!;
        s2 += x * b[b2 + p]!;
        s3 += x * b[b3 + p]!;
      }
      out[o + j] = s0;
      out[o + j + 1] = s1;
      out[o + j + 2] = s2;
      out[o + j + 3] = s3;
    }
    for (; j < n; j++) {
      const bj = bOff + j * k;
      let s0 = 0;
      for (let p = 0; p < k; p++) s0 += row[p]! * b[bj + p]!;
      out[o + j] = s0;
    }
  }
}
