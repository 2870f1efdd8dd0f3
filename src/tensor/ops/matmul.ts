// Matrix products on the active kernel backend.
//   matmul(a [..., m, k], b [..., k, n]) -> [..., m, n]; b may also be 2D [k, n] (shared weights).
//   Leading (batch) dims must match exactly, or one side is 2D.
// Backward: dA = dC @ B^T, dB = A^T @ dC (summed over the batch when B is shared).
import { ShapeError } from '../../errors.js';
import { result } from '../autograd.js';
import { getBackend, type KernelBackend } from '../backend/index.js';
import { Tensor, sizeOf } from '../tensor.js';

export interface MatmulOptions {
  transA?: boolean;
  transB?: boolean;
}

export function matmul(a: Tensor, b: Tensor, opts: MatmulOptions = {}): Tensor {
  const transA = opts.transA ?? false;
  const transB = opts.transB ?? false;
  if (a.ndim < 2 || b.ndim < 2) throw new ShapeError('matmul', 'both operands need at least 2 dimensions', [a.shape, b.shape]);
  const m = transA ? a.shape[a.ndim - 1]! : a.shape[a.ndim - 2]!;
  const ka = transA ? a.shape[a.ndim - 2]! : a.shape[a.ndim - 1]!;
  const kb = transB ? b.shape[b.ndim - 1]! : b.shape[b.ndim - 2]!;
  const n = transB ? b.shape[b.ndim - 2]! : b.shape[b.ndim - 1]!;
  if (ka !== kb) {
    throw new ShapeError('matmul', `inner dimensions differ: ${ka} vs ${kb}${transA || transB ? ` (transA=${transA}, transB=${transB})` : ''}`, [a.shape, b.shape]);
  }
  const aLead = a.shape.slice(0, -2);
  const bLead = b.shape.slice(0, -2);
  let lead: number[];
  if (bLead.length === 0) lead = aLead;
  else if (aLead.length === 0) lead = bLead;
  else if (aLead.length === bLead.length && aLead.every((d, i) => d === bLead[i])) lead = aLead;
  else throw new ShapeError('matmul', 'batch dimensions must match exactly (or one operand must be 2D)', [a.shape, b.shape]);
  const batch = sizeOf(lead);
  const aBatched = aLead.length > 0;
  const bBatched = bLead.length > 0;
  const out = new Float32Array(batch * m * n);
  const backend = getBackend();
  backend.matmul(a.data, b.data, out, { batch, m, k: ka, n, transA, transB, aBatched, bBatched });
  const shape = [...lead, m, n];
  return result(out, shape, 'matmul', [a, b], (g) => {
    let ga: Float32Array | null = null;
    let gb: Float32Array | null = null;
    if (a.requiresGrad) {
      // A stored [m,k]: dA = G @ op(B)^T ; A stored [k,m]: dA = op(B) @ G^T.
      const spec = transA
        ? { batch, m: ka, k: n, n: m, transA: transB, transB: true, aBatched: bBatched, bBatched: true }
        : { batch, m, k: n, n: ka, transA: false, transB: !transB, aBatched: true, bBatched };
      const [x, y] = transA ? [b.data, g] : [g, b.data];
      if (aBatched) {
        ga = new Float32Array(a.size);
        backend.matmul(x, y, ga, spec);
      } else {
        ga = reduceShared(backend, x, y, spec, a.size);
      }
    }
    if (b.requiresGrad) {
      // B stored [k,n]: dB = op(A)^T @ G ; B stored [n,k]: dB = G^T @ op(A).
      const spec = transB
        ? { batch, m: n, k: m, n: kb, transA: true, transB: transA, aBatched: true, bBatched: aBatched }
        : { batch, m: kb, k: m, n, transA: !transA, transB: false, aBatched, bBatched: true };
      if (bBatched) {
        gb = new Float32Array(b.size);
        if (transB) backend.matmul(g, a.data, gb, spec);
        else backend.matmul(a.data, g, gb, spec);
      } else {
        gb = reduceShared(backend, transB ? g : a.data, transB ? a.data : g, spec, b.size);
      }
    }
    return [ga, gb];
  });
}

/** A matmul problem, as handed to the backend. */
type Spec = Parameters<KernelBackend['matmul']>[3];

/**
 * Gradient of an operand shared across the batch: the sum over batch entries of one product each.
 * When both factors are batched and the contraction runs along their stored rows (the weight-gradient
 * case, X^T G), the batch folds into the contraction and it is one large product.
 */
function reduceShared(backend: KernelBackend, x: Float32Array, y: Float32Array, spec: Spec, size: number): Float32Array {
  const out = new Float32Array(size);
  const { batch } = spec;
  if (batch === 1 || (spec.transA && !spec.transB && spec.aBatched && spec.bBatched)) {
    backend.matmul(x, y, out, { ...spec, k: spec.k * batch, batch: 1, aBatched: false, bBatched: false });
    return out;
  }
  const tmp = new Float32Array(size);
  const xStride = spec.aBatched ? spec.m * spec.k : 0;
  const yStride = spec.bBatched ? spec.k * spec.n : 0;
  const one = { ...spec, batch: 1, aBatched: false, bBatched: false };
  for (let bi = 0; bi < batch; bi++) {
    backend.matmul(x.subarray(bi * xStride, bi * xStride + spec.m * spec.k), y.subarray(bi * yStride, bi * yStride + spec.k * spec.n), tmp, one);
    for (let i = 0; i < size; i++) out[i] += tmp[i]!;
  }
  return out;
}
