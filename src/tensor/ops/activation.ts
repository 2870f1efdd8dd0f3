// Activation functions used by transformers and dictionaries, each with its derivative beside it.
import { isGradEnabled, result } from '../autograd.js';
import { Tensor } from '../tensor.js';
import { expFast, normalCdf } from './fastmath.js';

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

/** True when the op's result will record a backward (so forward-only work can skip its caches). */
function recording(x: Tensor): boolean {
  return x.requiresGrad && isGradEnabled();
}

/** SiLU / swish: x * sigmoid(x). */
export function silu(x: Tensor): Tensor {
  const xd = x.data;
  const n = xd.length;
  const out = new Float32Array(n);
  const sig = recording(x) ? new Float32Array(n) : null; // sigmoid(x), kept for the backward
  if (sig) {
    for (let i = 0; i < n; i++) {
      const v = xd[i]!;
      const s = 1 / (1 + expFast(-v));
      sig[i] = s;
      out[i] = v * s;
    }
  } else {
    for (let i = 0; i < n; i++) {
      const v = xd[i]!;
      out[i] = v * (1 / (1 + expFast(-v)));
    }
  }
  return result(out, x.shape, 'silu', [x], (g) => {
    const gx = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const s = sig![i]!;
      gx[i] = g[i]! * (s + xd[i]! * s * (1 - s));
    }
    return [gx];
  });
}

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

/**
 * GELU. 'tanh' is the approximation GPT-2 uses (gelu_new); 'erf' is the exact form (BERT, Pythia's gelu).
 * tanh form: 0.5 x (1 + tanh(u)) = x * sigmoid(2u), u = sqrt(2/pi) (x + 0.044715 x^3): one exp, no tanh.
 * erf form: x * Phi(x) with Phi from a rational erfc (fastmath.ts, relative error < 2e-9).
 */
export function gelu(x: Tensor, form: 'tanh' | 'erf' = 'tanh'): Tensor {
  const xd = x.data;
  const n = xd.length;
  const out = new Float32Array(n);
  // sigmoid(2u) (tanh form) or Phi(x) (erf form), kept for the backward.
  const gate = recording(x) ? new Float32Array(n) : null;
  if (form === 'tanh') {
    for (let i = 0; i < n; i++) {
      const v = xd[i]!;
      const s = 1 / (1 + expFast(-2 * SQRT_2_OVER_PI * (v + 0.044715 * v * v * v)));
      if (gate) gate[i] = s;
      out[i] = v * s;
    }
    return result(out, x.shape, 'gelu_tanh', [x], (g) => {
      // d/dx [x s(2u)] = s + 2 x u' s (1 - s),  u' = sqrt(2/pi) (1 + 3 * 0.044715 x^2)
      const gx = new Float32Array(n);
      for (let i = 0; i < n; i++) {
        const v = xd[i]!;
        const s = gate![i]!;
        const du = SQRT_2_OVER_PI * (1 + 3 * 0.044715 * v * v);
        gx[i] = g[i]! * (s + 2 * v * du * s * (1 - s));
      }
      return [gx];
    });
  }
  for (let i = 0; i < n; i++) {
    const v = xd[i]!;
    const cdf = normalCdf(v);
    if (gate) gate[i] = cdf;
    out[i] = v * cdf;
  }
  return result(out, x.shape, 'gelu_erf', [x], (g) => {
    // d/dx [x Phi(x)] = Phi(x) + x phi(x)
    const gx = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const v = xd[i]!;
      gx[i] = g[i]! * (gate![i]! + v * INV_SQRT_2PI * expFast(-0.5 * v * v));
    }
    return [gx];
  });
}
