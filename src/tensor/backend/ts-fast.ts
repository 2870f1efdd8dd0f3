// A plain-TypeScript matmul tuned for the small products where a native call's fixed cost (9-15 us)
// dominates: single-token decoding and tiny models. Same contract as ReferenceBackend (float64
// accumulation), without its per-element branches, and blocked so each loaded value feeds several
// multiply-adds.
import type { KernelBackend, MatmulSpec } from './backend.js';

export class FastTsBackend implements KernelBackend {
  readonly name = 'ts-fast';
  private scratch = new Float64Array(0);

  matmul(a: Float32Array, b: Float32Array, out: Float32Array, s: MatmulSpec): void {
    const { batch, m, k, n } = s;
    // 2 accumulator rows of n, or one gathered row of A (k) for the transB path.
    const need = Math.max(2 * n, k);
    if (this.scratch.length < need) this.scratch = new Float64Array(need);
    const aStride = s.aBatched ? m * k : 0;
    const bStride = s.bBatched ? k * n : 0;
    for (let bi = 0; bi < batch; bi++) {
      gemmTs(a, bi * aStride, b, bi * bStride, out, bi * m * n, m, k, n, s.transA, s.transB, this.scratch);
    }
  }
}

/** out[oOff..] = op(A) @ op(B) for one [m, k] x [k, n] product. `acc` holds at least max(2n, k). */
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

// B stored [k, n]: out row i = sum_p A(i,p) * B row p, with a contiguous inner loop over n. Two rows of A
// and four rows of B per pass: each accumulator load/store then carries eight multiply-adds.
function rowUpdates(
  a: Float32Array, aOff: number, aRow: number, aCol: number, b: Float32Array, bOff: number,
  out: Float32Array, oOff: number, m: number, k: number, n: number, acc: Float64Array,
): void {
  const k4 = k - (k % 4);
  let i = 0;
  for (; i + 2 <= m; i += 2) {
    acc.fill(0, 0, 2 * n);
    const r0 = aOff + i * aRow;
    const r1 = r0 + aRow;
    let p = 0;
    for (; p < k4; p += 4) {
      const x0 = a[r0 + p * aCol]!, x1 = a[r0 + (p + 1) * aCol]!, x2 = a[r0 + (p + 2) * aCol]!, x3 = a[r0 + (p + 3) * aCol]!;
      const y0 = a[r1 + p * aCol]!, y1 = a[r1 + (p + 1) * aCol]!, y2 = a[r1 + (p + 2) * aCol]!, y3 = a[r1 + (p + 3) * aCol]!;
      const b0 = bOff + p * n, b1 = b0 + n, b2 = b1 + n, b3 = b2 + n;
      for (let j = 0; j < n; j++) {
        const v0 = b[b0 + j]!, v1 = b[b1 + j]!, v2 = b[b2 + j]!, v3 = b[b3 + j]!;
        acc[j] += x0 * v0 + x1 * v1 + x2 * v2 + x3 * v3;
        acc[n + j] += y0 * v0 + y1 * v1 + y2 * v2 + y3 * v3;
      }
    }
    for (; p < k; p++) {
      const x = a[r0 + p * aCol]!, y = a[r1 + p * aCol]!;
      const br = bOff + p * n;
      for (let j = 0; j < n; j++) {
        const v = b[br + j]!;
        acc[j] += x * v;
        acc[n + j] += y * v;
      }
    }
    const o = oOff + i * n;
    for (let j = 0; j < 2 * n; j++) out[o + j] = acc[j]!;
  }
  if (i < m) {
    // The last odd row (or the only one: single-token decoding).
    acc.fill(0, 0, n);
    const r0 = aOff + i * aRow;
    let p = 0;
    for (; p < k4; p += 4) {
      const x0 = a[r0 + p * aCol]!, x1 = a[r0 + (p + 1) * aCol]!, x2 = a[r0 + (p + 2) * aCol]!, x3 = a[r0 + (p + 3) * aCol]!;
      const b0 = bOff + p * n, b1 = b0 + n, b2 = b1 + n, b3 = b2 + n;
      for (let j = 0; j < n; j++) acc[j] += x0 * b[b0 + j]! + x1 * b[b1 + j]! + x2 * b[b2 + j]! + x3 * b[b3 + j]!;
    }
    for (; p < k; p++) {
      const x = a[r0 + p * aCol]!;
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
