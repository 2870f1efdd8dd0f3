// LayerNorm and RMSNorm over the last dimension, fused (one pass forward, one backward).
// Models that need the TransformerLens hooks ln.hook_scale / hook_normalized, or a frozen scale for
// attribution, compose normScale + div instead (see model/).
import { ShapeError } from '../../errors.js';
import { result } from '../autograd.js';
import { Tensor } from '../tensor.js';

function checkAffine(op: string, x: Tensor, p: Tensor | null | undefined, name: string): void {
  const d = x.shape[x.ndim - 1]!;
  if (p && (p.ndim !== 1 || p.shape[0] !== d)) throw new ShapeError(op, `${name} must have shape [${d}] to match the last dimension`, [x.shape, p.shape]);
}

/** y = (x - mean) / sqrt(var + eps) * weight + bias, over the last dimension (biased variance). */
export function layerNorm(x: Tensor, weight: Tensor | null, bias: Tensor | null, eps = 1e-5): Tensor {
  checkAffine('layerNorm', x, weight, 'weight');
  checkAffine('layerNorm', x, bias, 'bias');
  const d = x.shape[x.ndim - 1]!;
  const rows = x.size / d;
  const xd = x.data;
  const xhat = new Float32Array(x.size);
  const rstd = new Float32Array(rows);
  const y = new Float32Array(x.size);
  const w = weight?.data;
  const b = bias?.data;
  for (let r = 0; r < rows; r++) {
    const o = r * d;
    let m = 0;
    for (let j = 0; j < d; j++) m += xd[o + j]!;
    m /= d;
    let v = 0;
    for (let j = 0; j < d; j++) {
      const c = xd[o + j]! - m;
      v += c * c;
    }
    const rs = 1 / Math.sqrt(v / d + eps);
    rstd[r] = rs;
    for (let j = 0; j < d; j++) {
      const h = (xd[o + j]! - m) * rs;
      xhat[o + j] = h;
      y[o + j] = h * (w ? w[j]! : 1) + (b ? b[j]! : 0);
    }
  }
  const inputs = [x, ...(weight ? [weight] : []), ...(bias ? [bias] : [])];
  return result(y, x.shape, 'layerNorm', inputs, (g) => {
    const gx = new Float32Array(x.size);
    const gw = weight ? new Float32Array(d) : null;
    const gb = bias ? new Float32Array(d) : null;
    for (let r = 0; r < rows; r++) {
      const o = r * d;
      let sumG = 0;
      let sumGH = 0;
      for (let j = 0; j < d; j++) {
        const gh = g[o + j]! * (w ? w[j]! : 1);
        sumG += gh;
        sumGH += gh * xhat[o + j]!;
        if (gw) gw[j] += g[o + j]! * xhat[o + j]!;
        if (gb) gb[j] += g[o + j]!;
      }
      const rs = rstd[r]!;
      for (let j = 0; j < d; j++) {
        const gh = g[o + j]! * (w ? w[j]! : 1);
        gx[o + j] = rs * (gh - sumG / d - (xhat[o + j]! * sumGH) / d);
      }
    }
    return [gx, ...(weight ? [gw] : []), ...(bias ? [gb] : [])];
  });
}

/** y = x / sqrt(mean(x^2) + eps) * weight, over the last dimension (Llama). */
export function rmsNorm(x: Tensor, weight: Tensor | null, eps = 1e-5): Tensor {
  checkAffine('rmsNorm', x, weight, 'weight');
  const d = x.shape[x.ndim - 1]!;
  const rows = x.size / d;
  const xd = x.data;
  const rstd = new Float32Array(rows);
  const y = new Float32Array(x.size);
  const w = weight?.data;
  for (let r = 0; r < rows; r++) {
    const o = r * d;
    let ss = 0;
    for (let j = 0; j < d; j++) ss += xd[o + j]! * xd[o + j]!;
    const rs = 1 / Math.sqrt(ss / d + eps);
    rstd[r] = rs;
    for (let j = 0; j < d; j++) y[o + j] = xd[o + j]! * rs * (w ? w[j]! : 1);
  }
  const inputs = weight ? [x, weight] : [x];
  return result(y, x.shape, 'rmsNorm', inputs, (g) => {
    const gx = new Float32Array(x.size);
    const gw = weight ? new Float32Array(d) : null;
    for (let r = 0; r < rows; r++) {
      const o = r * d;
      const rs = rstd[r]!;
      let dot = 0;
      for (let j = 0; j < d; j++) {
        const gh = g[o + j]! * (w ? w[j]! : 1);
        dot += gh * xd[o + j]!;
        if (gw) gw[j] += g[o + j]! * xd[o + j]! * rs;
      }
      const c = (rs * rs * rs * dot) / d;
      for (let j = 0; j < d; j++) gx[o + j] = (g[o + j]! * (w ? w[j]! : 1)) * rs - xd[o + j]! * c;
    }
    return weight ? [gx, gw] : [gx];
  });
}

/**
 * The normalisation denominator alone, per row of the last dimension, shape [..., 1]:
 * 'rms' -> sqrt(mean(x^2) + eps); 'layer' -> sqrt(var(x) + eps). Differentiable.
 */
export function normScale(x: Tensor, kind: 'rms' | 'layer', eps = 1e-5): Tensor {
  const d = x.shape[x.ndim - 1]!;
  const rows = x.size / d;
  const xd = x.data;
  const s = new Float32Array(rows);
  const means = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    const o = r * d;
    let m = 0;
    if (kind === 'layer') {
      for (let j = 0; j < d; j++) m += xd[o + j]!;
      m /= d;
    }
    means[r] = m;
    let v = 0;
    for (let j = 0; j < d; j++) v += (xd[o + j]! - m) * (xd[o + j]! - m);
    s[r] = Math.sqrt(v / d + eps);
  }
  const shape = [...x.shape.slice(0, -1), 1];
  return result(s, shape, 'normScale', [x], (g) => {
    // d s / d x_j = (x_j - mean) / (d * s)   (the mean term's own derivative sums to zero)
    const gx = new Float32Array(x.size);
    for (let r = 0; r < rows; r++) {
      const o = r * d;
      const c = g[r]! / (d * s[r]!);
      for (let j = 0; j < d; j++) gx[o + j] = c * (xd[o + j]! - means[r]!);
    }
    return [gx];
  });
}
