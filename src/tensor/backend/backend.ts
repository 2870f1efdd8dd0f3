// The kernel seam: model and dictionary code never call a kernel directly; tensor ops do, through the
// active backend. A GPU backend later implements the same interface.

/**
 * A (batched) matrix product on contiguous row-major float32 buffers:
 *   out[b] = op(A[b]) @ op(B[b]),  op(A[b]) is [m, k], op(B[b]) is [k, n], out[b] is [m, n].
 * A[b] is stored as [m, k] (or [k, m] when transA); B[b] as [k, n] (or [n, k] when transB).
 * aBatched / bBatched false means that operand is a single matrix shared by every batch entry
 * (the usual case for weights). `out` is fully overwritten (never accumulated into).
 */
export interface MatmulSpec {
  batch: number;
  m: number;
  k: number;
  n: number;
  transA: boolean;
  transB: boolean;
  aBatched: boolean;
  bBatched: boolean;
}

export interface KernelBackend {
  readonly name: string;
  matmul(a: Float32Array, b: Float32Array, out: Float32Array, spec: MatmulSpec): void;
}
