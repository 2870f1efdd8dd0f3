// BatchTopK SAE (Bussmann et al. 2024): in training, keep the k*B largest relu'd pre-activations of the
// whole batch, so tokens share a budget of k latents on average (hard tokens take more). Inference cannot
// depend on the batch, so a running estimate of the smallest selected activation serves as one global
// threshold: latents = pre * (pre > threshold), JumpReLU-style. The weights file stores that threshold
// (repeated per latent) and cfg.json says "batchtopk", so it never loads as a TopK.
import * as T from '../../tensor/index.js';
import type { Tensor } from '../../tensor/index.js';
import type { SaeConfig } from '../config.js';
import { emptySparse, thresholdSparse, type SparseLatents } from '../kernels.js';
import type { Sae } from '../sae.js';
import type { RuleOptions, StepContext, TrainingRule } from '../train-step.js';
import { jumpReluActivate } from './jumprelu.js';
import { checkHooks, checkK, registerArchitecture } from './registry.js';
import { addAuxKLoss, selectAux } from './topk.js';

class BatchTopKRule implements TrainingRule {
  readonly latents = 'sparse' as const;
  readonly extraParams = [];
  private aux: SparseLatents | null = null;
  /** Running mean of the smallest selected activation (bias-corrected EMA). */
  private thresholdSum = 0;
  private thresholdWeight = 0;

  constructor(
    private readonly sae: Sae,
    private readonly opts: RuleOptions,
  ) {
    const t = sae.params.threshold_F!.data[0]!;
    if (t > 0) {
      this.thresholdSum = t;
      this.thresholdWeight = 1;
    }
  }

  encode(ctx: StepContext): void {
    const { B, F } = ctx;
    const k = this.sae.cfg.k!;
    const pre = ctx.densePre();
    const budget = Math.min(k * B, B * F);
    const flat = T.topkIndices(pre, 1, B * F, budget);
    // Sort the selection by position so it becomes compressed rows.
    flat.sort();
    const lat = emptySparse(B, budget);
    let e = 0;
    let minSelected = Infinity;
    for (let b = 0, s = 0; b < B; b++) {
      lat.rowPtr[b] = e;
      const end = (b + 1) * F;
      while (s < budget && flat[s]! < end) {
        const i = flat[s++]!;
        const v = pre[i]!;
        lat.idx[e] = i - b * F;
        lat.val[e++] = v > 0 ? v : v !== v ? NaN : 0;
        if (v > 0 && v < minSelected) minSelected = v;
      }
    }
    lat.rowPtr[B] = e;
    ctx.sparse = lat;
    if (minSelected < Infinity) this.updateThreshold(minSelected);
    const kAux = Math.min(this.opts.kAux, ctx.deadList.length);
    this.aux = kAux > 0 ? ctx.fixedSparse('auxk', B, kAux) : null;
    if (this.aux) selectAux(ctx, pre, null, B, 0, this.aux, kAux);
  }

  private updateThreshold(minSelected: number): void {
    const m = this.opts.thresholdMomentum;
    this.thresholdSum = m * this.thresholdSum + (1 - m) * minSelected;
    this.thresholdWeight = m * this.thresholdWeight + (1 - m);
    this.sae.params.threshold_F!.data.fill(this.thresholdSum / this.thresholdWeight);
  }

  auxiliaryLoss(ctx: StepContext): void {
    if (this.aux) addAuxKLoss(ctx, this.aux, this.opts.kAux, this.opts.auxKCoefficient);
  }

  activationBackward(ctx: StepContext): void {
    const { val, rowPtr, rows } = ctx.sparse!;
    const d = ctx.dVal;
    for (let e = 0; e < rowPtr[rows]!; e++) if (!(val[e]! > 0)) d[e] = 0;
  }

  saveState(): Record<string, Float32Array> {
    return { threshold_ema: Float32Array.of(this.thresholdSum, this.thresholdWeight) };
  }

  loadState(state: Record<string, Float32Array>): void {
    const s = state.threshold_ema;
    if (s && s.length === 2) {
      this.thresholdSum = s[0]!;
      this.thresholdWeight = s[1]!;
    }
  }
}

registerArchitecture({
  name: 'batchtopk',
  summary: 'BatchTopK SAE: the k*B largest latents per batch in training, a global threshold at inference',
  transcoder: false,
  hasThreshold: true,
  usesK: true,
  decoderNorm: 'unit',
  check(cfg: SaeConfig, where: string): void {
    checkK(cfg, where);
    checkHooks(cfg, false, where);
  },
  activate: (pre: Tensor, sae: Sae) => jumpReluActivate(pre, sae.params.threshold_F!.data),
  activateSparse: (pre_NF: Float32Array, n: number, sae: Sae) => thresholdSparse(pre_NF, n, sae.cfg.dSae, sae.params.threshold_F!.data),
  trainingRule: (sae: Sae, opts: RuleOptions) => new BatchTopKRule(sae, opts),
});
