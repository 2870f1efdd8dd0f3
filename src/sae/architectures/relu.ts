// ReLU SAE with an L1 penalty weighted by decoder norms (Anthropic, "Towards Monosemanticity" and the
// April 2024 update; SAELens' "standard" architecture with scale_sparsity_penalty_by_decoder_norm):
//   latents = relu(pre),  loss = mse + lambda * sum_f a_f ||W_dec[f]||  (mean over tokens).
// Weighting by the decoder norm stops the optimiser from shrinking latents and growing decoder rows to
// dodge the penalty, so decoder rows are left unconstrained.
import * as T from '../../tensor/index.js';
import type { Tensor } from '../../tensor/index.js';
import type { SaeConfig } from '../config.js';
import { rowNorms, thresholdSparse } from '../kernels.js';
import type { Sae } from '../sae.js';
import { warmedCoefficient, type RuleOptions, type StepContext, type TrainingRule } from '../train-step.js';
import { checkHooks, registerArchitecture, type Architecture } from './registry.js';

class ReluRule implements TrainingRule {
  readonly latents = 'dense' as const;
  readonly extraParams = [];
  constructor(private readonly opts: RuleOptions) {}

  encode(ctx: StepContext): void {
    const pre = ctx.densePre();
    const acts = ctx.buffer('acts_BF', pre.length);
    for (let i = 0; i < pre.length; i++) acts[i] = pre[i]! > 0 ? pre[i]! : 0;
    ctx.acts_BF = acts;
  }

  auxiliaryLoss(ctx: StepContext): void {
    const { B, F, O } = ctx;
    const lambda = warmedCoefficient(this.opts.l1Coefficient, ctx.step, this.opts.sparsityWarmupSteps);
    if (lambda === 0) {
      ctx.losses.l1 = 0;
      return;
    }
    const W = ctx.sae.params.W_dec_FO.data;
    const norms = rowNorms(W, F, O, ctx.buffer('decNorm_F', F));
    const acts = ctx.acts_BF!;
    const dActs = ctx.dActs_BF!;
    const actSum = ctx.buffer('actSum_F', F).fill(0);
    let l1 = 0;
    for (let b = 0; b < B; b++) {
      const o = b * F;
      for (let f = 0; f < F; f++) {
        const a = acts[o + f]!;
        // d/da of a * ||w||: where a = 0 the relu backward zeroes it anyway.
        dActs[o + f] = dActs[o + f]! + (lambda / B) * norms[f]!;
        if (a === 0) continue;
        l1 += a * norms[f]!;
        actSum[f] = actSum[f]! + a;
      }
    }
    ctx.losses.l1 = (lambda * l1) / B;
    // d/dW[f] of lambda/B sum_b a_bf ||W[f]|| = lambda/B (sum_b a_bf) W[f] / ||W[f]||.
    const dW = ctx.grads.W_dec_FO;
    for (let f = 0; f < F; f++) {
      if (actSum[f] === 0 || norms[f] === 0) continue;
      const c = ((lambda / B) * actSum[f]!) / norms[f]!;
      const o = f * O;
      for (let j = 0; j < O; j++) dW[o + j] = dW[o + j]! + c * W[o + j]!;
    }
  }

  activationBackward(ctx: StepContext): void {
    const pre = ctx.pre_BF!;
    const d = ctx.dActs_BF!;
    for (let i = 0; i < d.length; i++) if (!(pre[i]! > 0)) d[i] = 0;
  }
}

export function reluFamily(name: string, transcoder: boolean, summary: string): Architecture {
  return {
    name,
    summary,
    transcoder,
    hasThreshold: false,
    usesK: false,
    penalty: 'l1',
    decoderNorm: 'weighted',
    check(cfg: SaeConfig, where: string): void {
      checkHooks(cfg, transcoder, where);
    },
    activate: (pre: Tensor) => T.relu(pre),
    activateSparse: (pre_NF: Float32Array, n: number, sae: Sae) => thresholdSparse(pre_NF, n, sae.cfg.dSae, null),
    trainingRule: (_sae: Sae, opts: RuleOptions) => new ReluRule(opts),
  };
}

registerArchitecture(reluFamily('relu', false, 'ReLU SAE with an L1 penalty weighted by decoder norms'));
