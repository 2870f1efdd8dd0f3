// JumpReLU SAE (Rajamanoharan et al. 2024, "Jumping Ahead"; Gemma Scope): a latent passes its
// pre-activation z only above a learned per-latent threshold theta:  a = z * H(z - theta).
// Loss = mse + lambda * L0, where L0 = sum_f H(z_f - theta_f). H has no useful derivative, so theta gets a
// straight-through estimate with a rectangle kernel of width epsilon (the bandwidth):
//   d a / d theta  ~ -(theta / eps) * K((z - theta) / eps),   d H / d theta ~ -(1 / eps) * K((z - theta) / eps),
// K(u) = 1 for |u| < 1/2. z gets gradient only through a (where it passes). theta is trained directly
// and kept positive after each update. (SAELens trains log(theta); with Adam that moves theta by a factor
// of about e^lr per step, far too slowly for runs of a few hundred steps to leave a small initial value.)
// Adam moves every parameter by about lr per step whatever its scale; thresholds live on the scale of
// pre-activations (~1), weights on ~1/sqrt(d_in), so thresholds get their own multiplier (default 10).
import * as T from '../../tensor/index.js';
import { Tensor } from '../../tensor/index.js';
import type { SaeConfig } from '../config.js';
import { thresholdSparse } from '../kernels.js';
import type { Sae } from '../sae.js';
import { warmedCoefficient, type RuleOptions, type StepContext, type TrainingRule } from '../train-step.js';
import { checkHooks, registerArchitecture } from './registry.js';

/** pre * (pre > threshold), threshold broadcast over the last dimension. Differentiable in pre. */
export function jumpReluActivate(pre: Tensor, threshold: Float32Array): Tensor {
  const F = threshold.length;
  const mask = new Float32Array(pre.size);
  const d = pre.data;
  for (let i = 0; i < d.length; i++) mask[i] = d[i]! > threshold[i % F]! ? 1 : 0;
  return T.mul(pre, new Tensor(mask, pre.shape));
}

/** Thresholds stay positive, so a latent never passes a negative pre-activation. */
const MIN_THRESHOLD = 1e-6;

class JumpReluRule implements TrainingRule {
  readonly latents = 'dense' as const;
  readonly extraParams: { name: string; tensor: Tensor; grad: Float32Array; lrScale: number }[];
  private readonly dTheta: Float32Array;

  constructor(
    private readonly sae: Sae,
    private readonly opts: RuleOptions,
  ) {
    const theta = sae.params.threshold_F!;
    this.dTheta = new Float32Array(theta.size);
    this.extraParams = [{ name: 'threshold', tensor: theta, grad: this.dTheta, lrScale: opts.thresholdLrScale }];
  }

  encode(ctx: StepContext): void {
    const pre = ctx.densePre();
    const theta = this.sae.params.threshold_F!.data;
    const F = ctx.F;
    const acts = ctx.buffer('acts_BF', pre.length);
    for (let b = 0; b < ctx.B; b++)
      for (let f = 0, i = b * F; f < F; f++, i++) acts[i] = pre[i]! > theta[f]! ? pre[i]! : 0;
    ctx.acts_BF = acts;
    this.dTheta.fill(0);
  }

  auxiliaryLoss(ctx: StepContext): void {
    const { B, F } = ctx;
    const lambda = warmedCoefficient(this.opts.l0Coefficient, ctx.step, this.opts.sparsityWarmupSteps);
    const eps = this.opts.bandwidth;
    const theta = this.sae.params.threshold_F!.data;
    const pre = ctx.pre_BF!;
    let l0 = 0;
    for (let b = 0; b < B; b++) {
      const o = b * F;
      for (let f = 0; f < F; f++) {
        const z = pre[o + f]!;
        const t = theta[f]!;
        if (z > t) l0++;
        if (z - t < eps / 2 && t - z < eps / 2) this.dTheta[f] = this.dTheta[f]! - lambda / (B * eps);
      }
    }
    ctx.losses.l0 = (lambda * l0) / B;
  }

  activationBackward(ctx: StepContext): void {
    const { F } = ctx;
    const eps = this.opts.bandwidth;
    const theta = this.sae.params.threshold_F!.data;
    const pre = ctx.pre_BF!;
    const d = ctx.dActs_BF!;
    const dTheta = this.dTheta;
    const half = eps / 2;
    for (let b = 0; b < ctx.B; b++)
      for (let f = 0, i = b * F; f < F; f++, i++) {
        const z = pre[i]!;
        const t = theta[f]!;
        if (z - t < half && t - z < half) dTheta[f] = dTheta[f]! - (d[i]! * t) / eps;
        if (!(z > t)) d[i] = 0;
      }
  }

  afterUpdate(): void {
    const theta = this.sae.params.threshold_F!.data;
    for (let f = 0; f < theta.length; f++) if (!(theta[f]! >= MIN_THRESHOLD)) theta[f] = MIN_THRESHOLD;
  }
}

registerArchitecture({
  name: 'jumprelu',
  summary: 'JumpReLU SAE: learned per-latent thresholds, L0 penalty via straight-through estimates',
  transcoder: false,
  hasThreshold: true,
  usesK: false,
  penalty: 'l0',
  decoderNorm: 'unit',
  check(cfg: SaeConfig, where: string): void {
    checkHooks(cfg, false, where);
  },
  activate: (pre: Tensor, sae: Sae) => jumpReluActivate(pre, sae.params.threshold_F!.data),
  activateSparse: (pre_NF: Float32Array, n: number, sae: Sae) => thresholdSparse(pre_NF, n, sae.cfg.dSae, sae.params.threshold_F!.data),
  trainingRule: (sae: Sae, opts: RuleOptions) => new JumpReluRule(sae, opts),
});
