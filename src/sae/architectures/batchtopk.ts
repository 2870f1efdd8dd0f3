// BatchTopK SAE (Bussmann et al. 2024): in training, keep the k*B largest relu'd pre-activations of the
// whole batch, so tokens share a budget of k latents on average (hard tokens take more). Inference cannot
// depend on the batch, so a running estimate of the smallest selected activation serves as one global
// threshold: latents = pre * (pre > threshold), JumpReLU-style. The weights file stores that threshold
// (repeated per latent) and cfg.json says "batchtopk", so it never loads as a TopK.
import type { Tensor } from '../../tensor/index.js';
import type { SaeConfig } from '../config.js';
import { emptySparse, thresholdSparse, type SparseLatents } from '../kernels.js';
import type { Sae } from '../sae.js';
import type { RuleOptions, StepContext, TrainingRule } from '../train-step.js';
import { jumpReluActivate } from './jumprelu.js';
import { checkHooks, checkK, registerArchitecture } from './registry.js';
import { addAuxKLoss, selectAux, selectedReluBackward } from './topk.js';

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
    const lat = batchTopkSelect(pre, B, F, budget);
    let minSelected = Infinity;
    for (let e = 0; e < lat.rowPtr[B]!; e++) if (lat.val[e]! > 0 && lat.val[e]! < minSelected) minSelected = lat.val[e]!;
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
    selectedReluBackward(ctx);
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
  penalty: null,
  decoderNorm: 'unit',
  check(cfg: SaeConfig, where: string): void {
    checkK(cfg, where);
    checkHooks(cfg, false, where);
  },
  activate: (pre: Tensor, sae: Sae) => jumpReluActivate(pre, sae.params.threshold_F!.data),
  activateSparse: (pre_NF: Float32Array, n: number, sae: Sae) => thresholdSparse(pre_NF, n, sae.cfg.dSae, sae.params.threshold_F!.data),
  trainingRule: (sae: Sae, opts: RuleOptions) => new BatchTopKRule(sae, opts),
});

/**
 * The `budget` largest entries of pre [B, F] as compressed rows (values relu'd; ties to the lower flat
 * index, as a sort would pick them). Linear time: a quickselect finds the budget-th largest value, then one
 * pass keeps everything above it and enough of the entries equal to it.
 */
export function batchTopkSelect(pre: Float32Array, B: number, F: number, budget: number): SparseLatents {
  const n = B * F;
  let threshold = -Infinity;
  let equalQuota = budget;
  if (budget < n) {
    const scratch = pre.slice(0, n);
    for (let i = 0; i < n; i++) if (scratch[i] !== scratch[i]) scratch[i] = Infinity; // NaN ranks first
    threshold = kthLargest(scratch, budget);
    let above = 0;
    for (let i = 0; i < n; i++) if (scratch[i]! > threshold) above++;
    equalQuota = budget - above;
  }
  const lat = emptySparse(B, budget);
  let e = 0;
  for (let b = 0; b < B; b++) {
    lat.rowPtr[b] = e;
    for (let f = 0, i = b * F; f < F; f++, i++) {
      const v = pre[i]!;
      const rank = v !== v ? Infinity : v;
      if (rank < threshold) continue;
      if (rank === threshold) {
        if (equalQuota === 0) continue;
        equalQuota--;
      }
      lat.idx[e] = f;
      lat.val[e++] = v > 0 ? v : v !== v ? NaN : 0;
    }
  }
  lat.rowPtr[B] = e;
  return lat;
}

/** The k-th largest value of a (reordered in place) array: iterative quickselect, median-of-three pivots. */
function kthLargest(a: Float32Array, k: number): number {
  let lo = 0;
  let hi = a.length - 1;
  const target = k - 1; // index in descending order
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    const x = a[lo]!, y = a[mid]!, z = a[hi]!;
    const pivot = x > y ? (y > z ? y : x > z ? z : x) : x > z ? x : y > z ? z : y;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i]! > pivot) i++;
      while (a[j]! < pivot) j--;
      if (i <= j) {
        const t = a[i]!;
        a[i] = a[j]!;
        a[j] = t;
        i++;
        j--;
      }
    }
    if (target <= j) hi = j;
    else if (target >= i) lo = i;
    else return a[target]!;
  }
  return a[target]!;
}
