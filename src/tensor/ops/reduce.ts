// Reductions over one dimension (or all): sum, mean, max (with argmax), logsumexp.
import { ShapeError } from '../../errors.js';
import { result } from '../autograd.js';
import { Tensor, normDim, splitAround } from '../tensor.js';
import { expFast } from './fastmath.js';

function reducedShape(shape: readonly number[], d: number, keepDim: boolean): number[] {
  const s = shape.slice();
  if (keepDim) s[d] = 1;
  else s.splice(d, 1);
  return s;
}

/** Sum over `dim` (or over everything when dim is undefined). */
export function sum(x: Tensor, dim?: number, keepDim = false): Tensor {
  if (dim === undefined) {
    let s = 0;
    for (let i = 0; i < x.data.length; i++) s += x.data[i]!;
    const shape = keepDim ? x.shape.map(() => 1) : [];
    return result(Float32Array.of(s), shape, 'sum', [x], (g) => [new Float32Array(x.size).fill(g[0]!)]);
  }
  const d = normDim(dim, x.ndim, 'sum');
  const [outer, n, inner] = splitAround(x.shape, d);
  const out = new Float32Array(outer * inner);
  const xd = x.data;
  // Accumulate in float64 (a float32 running sum drifts by ~n * 6e-8 relative over long dims).
  if (inner === 1) {
    for (let o = 0; o < outer; o++) {
      let s = 0;
      for (let j = o * n, end = j + n; j < end; j++) s += xd[j]!;
      out[o] = s;
    }
  } else {
    const acc = new Float64Array(inner);
    for (let o = 0; o < outer; o++) {
      acc.fill(0);
      const base = o * n * inner;
      for (let j = 0; j < n; j++) {
        const row = base + j * inner;
        for (let i = 0; i < inner; i++) acc[i] += xd[row + i]!;
      }
      out.set(acc, o * inner);
    }
  }
  return result(out, reducedShape(x.shape, d, keepDim), 'sum', [x], (g) => {
    const gx = new Float32Array(x.size);
    for (let o = 0; o < outer; o++)
      for (let j = 0; j < n; j++) for (let i = 0; i < inner; i++) gx[(o * n + j) * inner + i] = g[o * inner + i]!;
    return [gx];
  });
}

export function mean(x: Tensor, dim?: number, keepDim = false): Tensor {
  const count = dim === undefined ? x.size : x.dim(dim);
  const s = sum(x, dim, keepDim);
  const out = s.data.map((v) => v / count);
  return result(out, s.shape, 'mean', [s], (g) => [g.map((v) => v / count)]);
}

/** Max over `dim`: values (differentiable, gradient to the first maximal entry) and indices. */
export function max(x: Tensor, dim: number, keepDim = false): { values: Tensor; indices: Int32Array } {
  const d = normDim(dim, x.ndim, 'max');
  const [outer, n, inner] = splitAround(x.shape, d);
  if (n === 0) throw new ShapeError('max', 'cannot reduce an empty dimension', [x.shape]);
  const out = new Float32Array(outer * inner);
  const idx = new Int32Array(outer * inner);
  const xd = x.data;
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      let best = -Infinity;
      let bi = 0;
      for (let j = 0; j < n; j++) {
        const v = xd[(o * n + j) * inner + i]!;
        if (v > best || Number.isNaN(v)) {
          best = v;
          bi = j;
          if (Number.isNaN(v)) break;
        }
      }
      out[o * inner + i] = best;
      idx[o * inner + i] = bi;
    }
  }
  const values = result(out, reducedShape(x.shape, d, keepDim), 'max', [x], (g) => {
    const gx = new Float32Array(x.size);
    for (let o = 0; o < outer; o++) for (let i = 0; i < inner; i++) gx[(o * n + idx[o * inner + i]!) * inner + i] = g[o * inner + i]!;
    return [gx];
  });
  return { values, indices: idx };
}

export function argmax(x: Tensor, dim: number): Int32Array {
  return max(x, dim).indices;
}

/** log(sum(exp(x))) over `dim`, computed stably; gradient is softmax. */
export function logsumexp(x: Tensor, dim: number, keepDim = false): Tensor {
  const d = normDim(dim, x.ndim, 'logsumexp');
  const [outer, n, inner] = splitAround(x.shape, d);
  const out = new Float32Array(outer * inner);
  // Kept in float64 for the backward: exp(x - lse) with a float32-rounded lse is off by up to |lse| * 6e-8.
  const lse = new Float64Array(outer * inner);
  const xd = x.data;
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      let m = -Infinity;
      for (let j = 0; j < n; j++) m = Math.max(m, xd[(o * n + j) * inner + i]!);
      let s = 0;
      if (m === -Infinity) {
        out[o * inner + i] = lse[o * inner + i] = -Infinity;
        continue;
      }
      for (let j = 0; j < n; j++) s += expFast(xd[(o * n + j) * inner + i]! - m);
      out[o * inner + i] = lse[o * inner + i] = m + Math.log(s);
    }
  }
  return result(out, reducedShape(x.shape, d, keepDim), 'logsumexp', [x], (g) => {
    const gx = new Float32Array(x.size);
    for (let o = 0; o < outer; o++)
      for (let j = 0; j < n; j++)
        for (let i = 0; i < inner; i++) {
          const k = (o * n + j) * inner + i;
          const l = lse[o * inner + i]!;
          // A fully masked fibre (all -inf) has lse -inf: no entry contributes, gradient 0 (not NaN).
          gx[k] = l === -Infinity ? 0 : g[o * inner + i]! * expFast(xd[k]! - l);
        }
    return [gx];
  });
}
