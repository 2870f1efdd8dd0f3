// softmax and log-softmax over one dimension, computed stably (max subtracted). The last dimension
// (attention patterns, logits) is the hot case and gets contiguous loops; other dims stride.
import { result } from '../autograd.js';
import { Tensor, normDim, splitAround } from '../tensor.js';
import { expFast } from './fastmath.js';

/** Max of the n entries base, base+stride, ...: NaN if any is NaN (so a NaN row stays NaN, not zeros). */
function fibreMax(xd: Float32Array, base: number, n: number, stride: number): number {
  let m = -Infinity;
  for (let j = 0, k = base; j < n; j++, k += stride) {
    const v = xd[k]!;
    if (v > m) m = v;
    else if (v !== v) return NaN;
  }
  return m;
}

export function softmax(x: Tensor, dim = -1): Tensor {
  const d = normDim(dim, x.ndim, 'softmax');
  const [outer, n, inner] = splitAround(x.shape, d);
  const xd = x.data;
  const y = new Float32Array(x.size);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const base = o * n * inner + i;
      const m = fibreMax(xd, base, n, inner);
      if (m === -Infinity) continue; // a fully masked row: all zeros rather than NaN
      let s = 0;
      if (inner === 1) {
        for (let k = base, end = base + n; k < end; k++) {
          const e = expFast(xd[k]! - m);
          y[k] = e;
          s += e;
        }
        const inv = 1 / s;
        for (let k = base, end = base + n; k < end; k++) y[k] *= inv;
      } else {
        for (let j = 0; j < n; j++) {
          const e = expFast(xd[base + j * inner]! - m);
          y[base + j * inner] = e;
          s += e;
        }
        const inv = 1 / s;
        for (let j = 0; j < n; j++) y[base + j * inner] *= inv;
      }
    }
  }
  return result(y, x.shape, 'softmax', [x], (g) => {
    // dx = y * (g - sum(g * y))
    const gx = new Float32Array(x.size);
    for (let o = 0; o < outer; o++) {
      for (let i = 0; i < inner; i++) {
        const base = o * n * inner + i;
        const end = base + n * inner;
        let dot = 0;
        for (let k = base; k < end; k += inner) dot += g[k]! * y[k]!;
        for (let k = base; k < end; k += inner) gx[k] = y[k]! * (g[k]! - dot);
      }
    }
    return [gx];
  });
}

export function logSoftmax(x: Tensor, dim = -1): Tensor {
  const d = normDim(dim, x.ndim, 'logSoftmax');
  const [outer, n, inner] = splitAround(x.shape, d);
  const xd = x.data;
  const y = new Float32Array(x.size);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const base = o * n * inner + i;
      const end = base + n * inner;
      const m = fibreMax(xd, base, n, inner);
      let s = 0;
      for (let k = base; k < end; k += inner) s += expFast(xd[k]! - m);
      const lse = m + Math.log(s);
      for (let k = base; k < end; k += inner) y[k] = xd[k]! - lse;
    }
  }
  return result(y, x.shape, 'logSoftmax', [x], (g) => {
    // dx = g - softmax * sum(g)
    const gx = new Float32Array(x.size);
    for (let o = 0; o < outer; o++) {
      for (let i = 0; i < inner; i++) {
        const base = o * n * inner + i;
        const end = base + n * inner;
        let s = 0;
        for (let k = base; k < end; k += inner) s += g[k]!;
        for (let k = base; k < end; k += inner) gx[k] = g[k]! - expFast(y[k]!) * s;
      }
    }
    return [gx];
  });
}
