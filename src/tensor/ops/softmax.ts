// softmax and log-softmax over one dimension, computed stably (max subtracted).
import { result } from '../autograd.js';
import { Tensor, normDim, splitAround } from '../tensor.js';

export function softmax(x: Tensor, dim = -1): Tensor {
  const d = normDim(dim, x.ndim, 'softmax');
  const [outer, n, inner] = splitAround(x.shape, d);
  const xd = x.data;
  const y = new Float32Array(x.size);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const base = o * n * inner + i;
      let m = -Infinity;
      for (let j = 0; j < n; j++) m = Math.max(m, xd[base + j * inner]!);
      if (m === -Infinity) continue; // a fully masked row: all zeros rather than NaN
      let s = 0;
      for (let j = 0; j < n; j++) {
        const e = Math.exp(xd[base + j * inner]! - m);
        y[base + j * inner] = e;
        s += e;
      }
      const inv = 1 / s;
      for (let j = 0; j < n; j++) y[base + j * inner] *= inv;
    }
  }
  return result(y, x.shape, 'softmax', [x], (g) => {
    // dx = y * (g - sum(g * y))
    const gx = new Float32Array(x.size);
    for (let o = 0; o < outer; o++) {
      for (let i = 0; i < inner; i++) {
        const base = o * n * inner + i;
        let dot = 0;
        for (let j = 0; j < n; j++) dot += g[base + j * inner]! * y[base + j * inner]!;
        for (let j = 0; j < n; j++) gx[base + j * inner] = y[base + j * inner]! * (g[base + j * inner]! - dot);
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
      let m = -Infinity;
      for (let j = 0; j < n; j++) m = Math.max(m, xd[base + j * inner]!);
      let s = 0;
      for (let j = 0; j < n; j++) s += Math.exp(xd[base + j * inner]! - m);
      const lse = m + Math.log(s);
      for (let j = 0; j < n; j++) y[base + j * inner] = xd[base + j * inner]! - lse;
    }
  }
  return result(y, x.shape, 'logSoftmax', [x], (g) => {
    // dx = g - softmax * sum(g)
    const gx = new Float32Array(x.size);
    for (let o = 0; o < outer; o++) {
      for (let i = 0; i < inner; i++) {
        const base = o * n * inner + i;
        let s = 0;
        for (let j = 0; j < n; j++) s += g[base + j * inner]!;
        for (let j = 0; j < n; j++) gx[base + j * inner] = g[base + j * inner]! - Math.exp(y[base + j * inner]!) * s;
      }
    }
    return [gx];
  });
}
