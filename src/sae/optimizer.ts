// The parameter update of SAE training: Adam over the SAE's tensors (and a rule's extras), with the
// decoder constraint around it. For unit-norm decoders the gradient's component along each decoder row
// is removed first (it would only change the row's length) and rows are renormalised after the step.
import type { Tensor } from '../tensor/index.js';
import { sharedFloat32 } from './kernels.js';
import { kernelPool } from './parallel.js';
import type { Sae } from './sae.js';
import type { StepContext, TrainingRule } from './train-step.js';

export interface ScheduleOptions {
  lr: number;
  totalSteps: number;
  /** Linear warmup from ~0 over these first steps. */
  warmupSteps: number;
  /** Linear decay to 0 over these last steps (Anthropic and SAELens decay over the final ~20%). */
  decaySteps: number;
}

/** Learning rate for a 0-based step: warmup, constant, then linear decay to zero. */
export function lrAt(step: number, o: ScheduleOptions): number {
  if (o.warmupSteps > 0 && step < o.warmupSteps) return (o.lr * (step + 1)) / o.warmupSteps;
  const decayStart = o.totalSteps - o.decaySteps;
  if (o.decaySteps > 0 && step >= decayStart) return (o.lr * Math.max(0, o.totalSteps - step)) / o.decaySteps;
  return o.lr;
}

export interface NamedParam {
  name: string;
  tensor: Tensor;
  grad: Float32Array;
  /** Multiplier of the learning rate for this tensor (default 1). */
  lrScale?: number;
}

export interface SaeOptimizerOptions {
  beta1?: number;
  beta2?: number;
  eps?: number;
  decoderNorm: 'unit' | 'weighted';
}

/**
 * Adam (Kingma & Ba, bias-corrected) over named parameters. Its own loop rather than tensor/optim's Adam:
 * for a unit-norm decoder the projection, the update and the renormalisation of each row are fused into
 * one pass over the row, which matters when W_dec holds tens of millions of floats.
 */
export class SaeOptimizer {
  readonly params: NamedParam[];
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  private stepCount = 0;
  private readonly m: Float32Array[];
  private readonly v: Float32Array[];
  private readonly unitDecoder: boolean;

  constructor(
    private readonly sae: Sae,
    ctx: StepContext,
    private readonly rule: TrainingRule,
    opts: SaeOptimizerOptions,
  ) {
    const p = sae.params;
    const g = ctx.grads;
    this.params = [
      { name: 'W_enc_FD', tensor: p.W_enc_FD, grad: g.W_enc_FD },
      { name: 'b_enc_F', tensor: p.b_enc_F, grad: g.b_enc_F },
      { name: 'W_dec_FO', tensor: p.W_dec_FO, grad: g.W_dec_FO },
      { name: 'b_dec_O', tensor: p.b_dec_O, grad: g.b_dec_O },
    ];
    if (p.W_skip_DO && g.W_skip_DO) this.params.push({ name: 'W_skip_DO', tensor: p.W_skip_DO, grad: g.W_skip_DO });
    for (const e of rule.extraParams) this.params.push(e);
    this.m = this.params.map((q) => sharedFloat32(q.tensor.size));
    this.v = this.params.map((q) => sharedFloat32(q.tensor.size));
    this.beta1 = opts.beta1 ?? 0.9;
    this.beta2 = opts.beta2 ?? 0.999;
    this.eps = opts.eps ?? 1e-8;
    this.unitDecoder = opts.decoderNorm === 'unit';
  }

  get steps(): number {
    return this.stepCount;
  }

  step(lr: number): void {
    this.stepCount++;
    const t = this.stepCount;
    const c1 = 1 - Math.pow(this.beta1, t);
    const c2 = 1 - Math.pow(this.beta2, t);
    const stepSize = lr / c1;
    const rc2 = 1 / Math.sqrt(c2);
    const pool = kernelPool();
    this.params.forEach((q, i) => {
      const unitRows = q.name === 'W_dec_FO' && this.unitDecoder;
      // Rows of a weight matrix (one per latent), or single elements for vectors: split across threads.
      const N = q.tensor.ndim === 2 ? q.tensor.shape[1]! : 1;
      const task = { kind: 'adam' as const, w: q.tensor.data, g: q.grad, m: this.m[i]!, v: this.v[i]!, N, b1: this.beta1, b2: this.beta2, eps: this.eps, stepSize: stepSize * (q.lrScale ?? 1), rc2, unitRows };
      if (q.tensor.size >= 1 << 16) pool.run(task, q.tensor.size / N);
      else adamUpdate(task.w, task.g, task.m, task.v, task.b1, task.b2, task.eps, task.stepSize, task.rc2, unitRows ? q.tensor.size / N : 0);
    });
    this.rule.afterUpdate?.();
  }

  /** Adam's moments by parameter name, and its step count (for checkpoints). */
  state(): { step: number; moments: Record<string, { m: Float32Array; v: Float32Array }> } {
    const moments: Record<string, { m: Float32Array; v: Float32Array }> = {};
    this.params.forEach((q, i) => (moments[q.name] = { m: this.m[i]!, v: this.v[i]! }));
    return { step: this.stepCount, moments };
  }

  loadState(step: number, moments: Record<string, { m: Float32Array; v: Float32Array }>): void {
    this.stepCount = step;
    this.params.forEach((q, i) => {
      const s = moments[q.name];
      if (!s) return;
      this.m[i]!.set(s.m);
      this.v[i]!.set(s.v);
    });
  }
}

/**
 * One Adam update in place. With unitRows > 0 the parameter is a matrix of unit-norm rows: each row's
 * gradient loses its component along the row first (it would only change the length), and the row is
 * rescaled to unit norm after its update, in the same pass.
 */
export function adamUpdate(
  w: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array,
  b1: number, b2: number, eps: number, stepSize: number, rc2: number, unitRows: number,
): void {
  const a1 = 1 - b1;
  const a2 = 1 - b2;
  if (unitRows === 0) {
    for (let j = 0; j < w.length; j++) {
      const gj = g[j]!;
      const mj = (m[j] = b1 * m[j]! + a1 * gj);
      const vj = (v[j] = b2 * v[j]! + a2 * gj * gj);
      w[j] = w[j]! - (stepSize * mj) / (Math.sqrt(vj) * rc2 + eps);
    }
    return;
  }
  const N = w.length / unitRows;
  for (let r = 0; r < unitRows; r++) {
    const o = r * N;
    let dot = 0;
    let ww = 0;
    for (let j = o; j < o + N; j++) {
      dot += g[j]! * w[j]!;
      ww += w[j]! * w[j]!;
    }
    const c = ww > 0 ? dot / ww : 0;
    let norm = 0;
    for (let j = o; j < o + N; j++) {
      const gj = g[j]! - c * w[j]!;
      const mj = (m[j] = b1 * m[j]! + a1 * gj);
      const vj = (v[j] = b2 * v[j]! + a2 * gj * gj);
      const nw = w[j]! - (stepSize * mj) / (Math.sqrt(vj) * rc2 + eps);
      w[j] = nw;
      norm += nw * nw;
    }
    if (norm > 0) {
      const s = 1 / Math.sqrt(norm);
      for (let j = o; j < o + N; j++) w[j] = w[j]! * s;
    }
  }
}
