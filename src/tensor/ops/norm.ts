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

/** An affine parameter's values, or a constant stand-in (so the hot loops have no branches). */
function paramOr(p: Tensor | null | undefined, d: number, fill: number): Float32Array {
  return p ? p.data : new Float32Array(d).fill(fill);
}

/** y = (x - mean) / sqrt(var + eps) * weight + bias, over the last dimension (biased variance). */
export function layerNorm(x: Tensor, weight: Tensor | null, bias: Tensor | null, eps = 1e-5): Tensor {
  checkAffine('layerNorm', x, weight, 'weight');
  checkAffine('layerNorm', x, bias, 'bias');
  const d = x.shape[x.ndim - 1]!;
  const rows = d === 0 ? 0 : x.size / d;
  const xd = x.data;
  const w = paramOr(weight, d, 1);
  const b = paramOr(bias, d, 0);
  // Per-row statistics in float64, kept for the backward (which recomputes xhat instead of storing it).
  const mean = new Float64Array(rows);
  const rstd = new Float64Array(rows);
  const y = new Float32Array(x.size);
  for (let r = 0; r < rows; r++) {
    const o = r * d;
    let s = 0;
    for (let j = o; j < o + d; j++) s += xd[j]!;
    const m = s / d;
    let v = 0;
    for (let j = o; j < o + d; j++) {
      const c = xd[j]! - m;
      v += c * c;
    }
    const rs = 1 / Math.sqrt(v / d + eps);
    mean[r] = m;
    rstd[r] = rs;
    for (let j = 0; j < d; j++) y[o + j] = (xd[o + j]! - m) * rs * w[j]! + b[j]!;
  }
  const inputs = [x, ...(weight ? [weight] : []), ...(bias ? [bias] : [])];
  return result(y, x.shape, 'layerNorm', inputs, (g) => {
    // dx = rstd * (gh - mean(gh) - xhat * mean(gh * xhat)),  gh = g * weight
    const gx = new Float32Array(x.size);
    const gw = new Float64Array(d);
    const gb = new Float64Array(d);
    for (let r = 0; r < rows; r++) {
      const o = r * d;
      const m = mean[r]!;
      const rs = rstd[r]!;
      let sumG = 0;
      let sumGH = 0;
      for (let j = 0; j < d; j++) {
        const gj = g[o + j]!;
        const xh = (xd[o + j]! - m) * rs;
        const gh = gj * w[j]!;
        sumG += gh;
        sumGH += gh * xh;
        gw[j] += gj * xh;
        gb[j] += gj;
      }
      const cG = sumG / d;
      const cGH = sumGH / d;
      for (let j = 0; j < d; j++) {
        const xh = (xd[o + j]! - m) * rs;
        gx[o + j] = rs * (g[o + j]! * w[j]! - cG - xh * cGH);
      }
    }
    return [gx, ...(weight ? [Float32Array.from(gw)] : []), ...(bias ? [Float32Array.from(gb)] : [])];
  });
}

/** y = x / sqrt(mean(x^2) + eps) * weight, over the last dimension (Llama). */
export function rmsNorm(x: Tensor, weight: Tensor | null, eps = 1e-5): Tensor {
  checkAffine('rmsNorm', x, weight, 'weight');
  const d = x.shape[x.ndim - 1]!;
  const rows = d === 0 ? 0 : x.size / d;
  const xd = x.data;
  const w = paramOr(weight, d, 1);
  const rstd = new Float64Array(rows);
  const y = new Float32Array(x.size);
  for (let r = 0; r < rows; r++) {
    const o = r * d;
    let ss = 0;
    for (let j = o; j < o + d; j++) ss += xd[j]! * xd[j]!;
    const rs = 1 / Math.sqrt(ss / d + eps);
    rstd[r] = rs;
    for (let j = 0; j < d; j++) y[o + j] = xd[o + j]! * rs * w[j]!;
  }
  const inputs = weight ? [x, weight] : [x];
  return result(y, x.shape, 'rmsNorm', inputs, (g) => {
    // dx = rstd * gh - x * rstd^3 * mean(gh * x),  gh = g * weight
    const gx = new Float32Array(x.size);
    const gw = new Float64Array(d);
    for (let r = 0; r < rows; r++) {
      const o = r * d;
      const rs = rstd[r]!;
      let dot = 0;
      for (let j = 0; j < d; j++) {
        const gj = g[o + j]!;
        const xj = xd[o + j]!;
        dot += gj * w[j]! * xj;
        gw[j] += gj * xj * rs;
      }
      const c = (rs * rs * rs * dot) / d;
      for (let j = 0; j < d; j++) gx[o + j] = g[o + j]! * w[j]! * rs - xd[o + j]! * c;
    }
    return weight ? [gx, Float32Array.from(gw)] : [gx];
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
