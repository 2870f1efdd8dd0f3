// y = x W^T + b with W stored [out, in] (the checkpoint layout), as one GEMM over all batch rows.
import * as T from '../../tensor/index.js';
import type { LinearActivation, Tensor } from '../../tensor/index.js';

/** x [..., in] -> [..., out]. */
export function linear(x: Tensor, W_OI: Tensor, b?: Tensor): Tensor {
  if (b) {
    const fused = fusedLinear(x, W_OI, b, 'none');
    if (fused) return fused;
  }
  const inDim = x.shape[x.ndim - 1]!;
  const outDim = W_OI.shape[0]!;
  const lead = x.shape.slice(0, -1);
  // Flatten the leading dims so the backend sees one [rows, in] x [in, out] product.
  const x2 = x.ndim === 2 ? x : T.reshape(x, [-1, inDim]);
  let y = T.matmul(x2, W_OI, { transB: true });
  if (b) y = addBiasInPlace(y, b);
  return x.ndim === 2 ? y : T.reshape(y, [...lead, outDim]);
}

/**
 * y + b for a fresh matmul output y [rows, n], written into y's storage: saves a [rows, n] allocation
 * and a pass per projection. Safe because nothing else holds y and matmul's backward never reads its
 * own output.
 */
function addBiasInPlace(y: Tensor, b: Tensor): Tensor {
  const yd = y.data;
  const bd = b.data;
  const n = bd.length;
  for (let r = 0; r < yd.length; r += n) for (let j = 0; j < n; j++) yd[r + j] += bd[j]!;
  return T.result(yd, y.shape, 'addBias', [y, b], (g) => {
    let gb: Float32Array | null = null;
    if (b.requiresGrad) {
      gb = new Float32Array(n);
      for (let r = 0; r < g.length; r += n) for (let j = 0; j < n; j++) gb[j] += g[r + j]!;
    }
    return [g, gb];
  });
}

/**
 * Inference fast path: act(x W^T + b) in one backend call (bias and activation inside the native GEMM
 * call instead of extra passes in TypeScript). Null when something needs a gradient, a shape does not
 * fit, or the backend has no fused kernel or declines (small products).
 */
export function fusedLinear(x: Tensor, W_OI: Tensor, b: Tensor | undefined, activation: LinearActivation): Tensor | null {
  if (x.requiresGrad || W_OI.requiresGrad || b?.requiresGrad || W_OI.ndim !== 2 || x.ndim < 1) return null;
  const backend = T.getBackend();
  if (!backend.linear) return null;
  const inDim = x.shape[x.ndim - 1]!;
  const [outDim, wIn] = W_OI.shape as [number, number];
  if (wIn !== inDim || (b && (b.ndim !== 1 || b.shape[0] !== outDim))) return null; // the composed path reports it
  const rows = x.size / Math.max(inDim, 1);
  const out = new Float32Array(rows * outDim);
  if (!backend.linear(x.data, W_OI.data, b ? b.data : null, out, { m: rows, k: inDim, n: outDim, activation })) return null;
  return T.result(out, [...x.shape.slice(0, -1), outDim], 'linear', [], () => []);
}
