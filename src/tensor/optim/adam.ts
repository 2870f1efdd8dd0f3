// Adam and AdamW (decoupled weight decay, Loshchilov & Hutter). Updates parameters in place.
import { NonFiniteError } from '../../errors.js';
import type { Tensor } from '../tensor.js';

export interface AdamOptions {
  lr: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
  /** Decoupled weight decay (AdamW); 0 gives plain Adam. */
  weightDecay?: number;
}

export interface AdamState {
  step: number;
  m: Float32Array[];
  v: Float32Array[];
}

export class Adam {
  readonly params: Tensor[];
  lr: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  /** Parameters exempt from weight decay (biases, norms). */
  readonly noDecay = new Set<Tensor>();
  state: AdamState;

  constructor(params: Tensor[], opts: AdamOptions) {
    this.params = params;
    this.lr = opts.lr;
    this.beta1 = opts.beta1 ?? 0.9;
    this.beta2 = opts.beta2 ?? 0.999;
    this.eps = opts.eps ?? 1e-8;
    this.weightDecay = opts.weightDecay ?? 0;
    this.state = { step: 0, m: params.map((p) => new Float32Array(p.size)), v: params.map((p) => new Float32Array(p.size)) };
  }

  /** One update from each parameter's .grad (parameters without a gradient are skipped). */
  step(): void {
    const s = this.state;
    s.step++;
    const { beta1: b1, beta2: b2, eps, lr } = this;
    const c1 = 1 - Math.pow(b1, s.step);
    const c2 = 1 - Math.pow(b2, s.step);
    const stepSize = lr / c1;
    const c2sqrt = Math.sqrt(c2);
    this.params.forEach((p, i) => {
      if (!p.grad) return;
      const g = p.grad.data;
      const w = p.data;
      const m = s.m[i]!;
      const v = s.v[i]!;
      const decay = this.noDecay.has(p) ? 0 : lr * this.weightDecay;
      for (let j = 0; j < w.length; j++) {
        const gj = g[j]!;
        const mj = (m[j] = b1 * m[j]! + (1 - b1) * gj);
        const vj = (v[j] = b2 * v[j]! + (1 - b2) * gj * gj);
        w[j] = w[j]! - decay * w[j]! - (stepSize * mj) / (Math.sqrt(vj) / c2sqrt + eps);
      }
    });
  }

  zeroGrad(): void {
    for (const p of this.params) p.grad = null;
  }
}

/** Scale all gradients so their global L2 norm is at most maxNorm; returns the norm before clipping. */
export function clipGradNorm(params: readonly Tensor[], maxNorm: number): number {
  let ss = 0;
  for (const p of params) if (p.grad) for (const g of p.grad.data) ss += g * g;
  const norm = Math.sqrt(ss);
  if (!Number.isFinite(norm)) throw new NonFiniteError('clipGradNorm', 'the gradient norm is NaN or infinite');
  if (norm > maxNorm) {
    const c = maxNorm / (norm + 1e-6);
    for (const p of params) if (p.grad) for (let i = 0; i < p.grad.data.length; i++) p.grad.data[i] *= c;
  }
  return norm;
}
