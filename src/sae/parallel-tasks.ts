// The kernels the pool (parallel.ts) can split, as plain data, and the one function that runs a range of
// one: shared by the calling thread and the workers (kernel-worker.ts).
import { sparseDecode, sparseRowDots, sparseScatter, topkRows, type SparseLatents } from './kernels.js';
import { adamUpdate } from './optimizer.js';

export type KernelTask =
  /** Rows of pre [rows, F] -> top-k (range: rows). */
  | { kind: 'topk'; pre: Float32Array; bias: Float32Array | null; F: number; k: number; idx: Int32Array; val: Float32Array; at: number; candidates: Int32Array | null }
  /** out = lat @ W (+ bias) (range: rows). */
  | { kind: 'decode'; lat: SparseLatents; W: Float32Array; bias: Float32Array | null; out: Float32Array; O: number }
  /** dVal[e] = dOut_b . W[f] (range: rows). */
  | { kind: 'dots'; lat: SparseLatents; W: Float32Array; dOut: Float32Array; dVal: Float32Array; O: number }
  /** dW[f] += coef[e] src_b, db[f] += coef[e] (range: latents). */
  | { kind: 'scatter'; lat: SparseLatents; coef: Float32Array; src: Float32Array; N: number; dW: Float32Array; db: Float32Array | null }
  /** Adam over rows of N (range: rows; unitRows: renormalise each row). */
  | { kind: 'adam'; w: Float32Array; g: Float32Array; m: Float32Array; v: Float32Array; N: number; b1: number; b2: number; eps: number; stepSize: number; rc2: number; unitRows: boolean };

export function runKernel(t: KernelTask, start: number, end: number): void {
  switch (t.kind) {
    case 'topk':
      topkRows(t.pre.subarray(start * t.F, end * t.F), t.bias, end - start, t.F, t.k, t.idx, t.val, t.at + start * t.k, t.candidates);
      return;
    case 'decode':
      sparseDecode(t.lat, t.W, t.bias, t.out, t.O, start, end);
      return;
    case 'dots':
      sparseRowDots(t.lat, t.W, t.dOut, t.dVal, t.O, start, end);
      return;
    case 'scatter':
      sparseScatter(t.lat, t.coef, t.src, t.N, t.dW, t.db, start, end);
      return;
    case 'adam': {
      const a = start * t.N;
      const b = end * t.N;
      adamUpdate(t.w.subarray(a, b), t.g.subarray(a, b), t.m.subarray(a, b), t.v.subarray(a, b), t.b1, t.b2, t.eps, t.stepSize, t.rc2, t.unitRows ? end - start : 0);
      return;
    }
  }
}

/** Claim parts of [bounds[i], bounds[i+1]) from the shared counter until none are left. */
export function runParts(t: KernelTask, bounds: Int32Array, next: Int32Array): void {
  const parts = bounds.length - 1;
  for (let i = Atomics.add(next, 0, 1); i < parts; i = Atomics.add(next, 0, 1)) runKernel(t, bounds[i]!, bounds[i + 1]!);
}
