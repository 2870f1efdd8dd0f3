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

/** Activations a fused linear kernel may apply after the bias. */
export type LinearActivation = 'none' | 'gelu_tanh';

/** out[m, n] = act(A[m, k] @ W[n, k]^T + bias[n]): a linear layer with W in the checkpoint layout [out, in]. */
export interface LinearSpec {
  m: number;
  k: number;
  n: number;
  activation: LinearActivation;
}

export interface KernelBackend {
  readonly name: string;
  matmul(a: Float32Array, b: Float32Array, out: Float32Array, spec: MatmulSpec): void;
  /**
   * Optional fused inference kernel for a linear layer (no tape: it keeps nothing for a backward).
   * Returns false to decline (too small, unsupported); the caller then composes matmul and elementwise ops.
   */
  linear?(a: Float32Array, w: Float32Array, bias: Float32Array | null, out: Float32Array, spec: LinearSpec): boolean;
}
