// Activation functions used by transformers and dictionaries, each with its derivative beside it.
import { result } from '../autograd.js';
import { Tensor } from '../tensor.js';
import { erfScalar } from './unary.js';

export function relu(x: Tensor): Tensor {
  const xd = x.data;
  const out = new Float32Array(xd.length);
  for (let i = 0; i < out.length; i++) out[i] = xd[i]! > 0 ? xd[i]! : 0;
  return result(out, x.shape, 'relu', [x], (g) => {
    const gx = new Float32Array(g.length);
    for (let i = 0; i < g.length; i++) gx[i] = xd[i]! > 0 ? g[i]! : 0;
    return [gx];
  });
}

/** SiLU / swish: x * sigmoid(x). */
export function silu(x: Tensor): Tensor {
  const xd = x.data;
  const sig = new Float32Array(xd.length);
  const out = new Float32Array(xd.length);
  for (let i = 0; i < out.length; i++) {
    const s = 1 / (1 + Math.exp(-xd[i]!));
    sig[i] = s;
    out[i] = xd[i]! * s;
  }
  return result(out, x.shape, 'silu', [x], (g) => {
    const gx = new Float32Array(g.length);
    for (let i = 0; i < g.length; i++) {
      const s = sig[i]!;
      gx[i] = g[i]! * (s + xd[i]! * s * (1 - s));
    }
    return [gx];
  });
}

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

/**
 * GELU. 'tanh' is the approximation GPT-2 uses (gelu_new); 'erf' is the exact form (BERT, Pythia's gelu).
 */
export function gelu(x: Tensor, form: 'tanh' | 'erf' = 'tanh'): Tensor {
  const xd = x.data;
  const n = xd.length;
  const out = new Float32Array(n);
  if (form === 'tanh') {
    const th = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const v = xd[i]!;
      const t = Math.tanh(SQRT_2_OVER_PI * (v + 0.044715 * v * v * v));
      th[i] = t;
      out[i] = 0.5 * v * (1 + t);
    }
    return result(out, x.shape, 'gelu_tanh', [x], (g) => {
      const gx = new Float32Array(n);
      for (let i = 0; i < n; i++) {
        const v = xd[i]!;
        const t = th[i]!;
        const du = SQRT_2_OVER_PI * (1 + 3 * 0.044715 * v * v);
        gx[i] = g[i]! * (0.5 * (1 + t) + 0.5 * v * (1 - t * t) * du);
      }
      return [gx];
    });
  }
  for (let i = 0; i < n; i++) {
    const v = xd[i]!;
    out[i] = 0.5 * v * (1 + erfScalar(v / Math.SQRT2));
  }
  return result(out, x.shape, 'gelu_erf', [x], (g) => {
    const gx = new Float32Array(n);
    const c = 1 / Math.sqrt(2 * Math.PI);
    for (let i = 0; i < n; i++) {
      const v = xd[i]!;
      gx[i] = g[i]! * (0.5 * (1 + erfScalar(v / Math.SQRT2)) + v * c * Math.exp(-0.5 * v * v));
    }
    return [gx];
  });
}
