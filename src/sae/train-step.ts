// The shared training step (forward, loss, hand-derived backward) for every architecture. An architecture
// supplies a TrainingRule: how pre-activations become latents, which loss terms it adds to the MSE (L1,
// L0, AuxK) and how gradients pass back through its nonlinearity. Everything else is here, once.
//
// Forward, for a batch of B rows (normalised space):
//   xin_BD  = x_BD - b_dec                         (SAEs; transcoders read x as is)
//   pre_BF  = xin_BD @ W_enc_FD^T + b_enc_F       (the one dense GEMM every architecture pays)
//   latents = rule(pre)                            (sparse rows for the TopK family, dense [B, F] else)
//   recon   = latents @ W_dec_FO + b_dec_O (+ x @ W_skip_DO)
//   loss    = sum_b ||recon_b - y_b||^2 / B + rule's extra terms
// Sparse rules never materialise pre_BF for the whole batch: the GEMM runs in row chunks and each chunk
// is reduced to its top latents at once, so decode and backward touch only k latents per row.
import type { Tensor } from '../tensor/index.js';
import { addColumnSums, addRowVector, inputBiasGradient, type SparseLatents } from './kernels.js';
import { kernelPool } from './parallel.js';
import { gemm, type StepContext } from './step-context.js';

export { StepContext, chunkRows, gemm } from './step-context.js';

/** Architecture-specific training settings (the trainer fills defaults). */
export interface RuleOptions {
  /** ReLU: coefficient of the L1 penalty sum_f a_f ||W_dec[f]||; Gated: of sum_f relu(pi_gate_f) ||W_dec[f]||. */
  l1Coefficient: number;
  /** JumpReLU: coefficient of the L0 penalty (straight-through threshold gradients). */
  l0Coefficient: number;
  /** Steps over which the L1/L0 coefficient ramps up linearly from 0. */
  sparsityWarmupSteps: number;
  /** JumpReLU: width of the rectangle kernel of the straight-through estimator. */
  bandwidth: number;
  /** JumpReLU: initial threshold (normalised units). */
  initThreshold: number;
  /** JumpReLU: learning-rate multiplier of the thresholds. */
  thresholdLrScale: number;
  /** TopK family: AuxK coefficient (1/32) and k_aux (d_in/2). */
  auxKCoefficient: number;
  kAux: number;
  /** BatchTopK: momentum of the running estimate of the inference threshold. */
  thresholdMomentum: number;
}

export interface GradBuffers {
  W_enc_FD: Float32Array;
  b_enc_F: Float32Array;
  W_dec_FO: Float32Array;
  b_dec_O: Float32Array;
  W_skip_DO: Float32Array | null;
}

/** An extra set of active latents whose gradient flows into the encoder (AuxK's dead latents). */
export interface ExtraLatents {
  lat: SparseLatents;
  dPre: Float32Array;
}

export interface TrainingRule {
  readonly latents: 'sparse' | 'dense';
  /**
   * Trainable tensors besides the SAE's weight matrices and biases (JumpReLU's thresholds), with gradient
   * buffers and an optional learning-rate multiplier.
   */
  readonly extraParams: { name: string; tensor: Tensor; grad: Float32Array; lrScale?: number }[];
  /** Fill ctx.sparse (sparse rules) or ctx.acts_BF (dense rules, keeping ctx.pre_BF) from ctx.xin_BD. */
  encode(ctx: StepContext): void;
  /**
   * Loss terms besides the MSE: add them to ctx.losses and their gradients to ctx (dLatents, grads,
   * extra latents). Runs after the decoder backward, so ctx.dVal / ctx.dActs_BF hold d mse / d latents.
   */
  auxiliaryLoss(ctx: StepContext): void;
  /** d loss / d latents -> d loss / d pre-activations, in place (ctx.dVal or ctx.dActs_BF). */
  activationBackward(ctx: StepContext): void;
  /**
   * After the encoder backward, for a rule whose b_enc does not feed every path that d pre covers
   * (Gated: the magnitude path shares W_enc but has its own bias), to correct ctx.grads.b_enc_F.
   */
  afterBackward?(ctx: StepContext): void;
  /** After each optimizer update (e.g. threshold = exp(log threshold)). */
  afterUpdate?(): void;
  /** Rule state a checkpoint must keep (running thresholds ...), and its restore. */
  saveState?(): Record<string, Float32Array>;
  loadState?(state: Record<string, Float32Array>): void;
}

/**
 * One forward + backward pass: fills ctx.grads (and the rule's extra gradients) and ctx.losses.
 * x_BD is the input batch, y_BO the target (x itself for an SAE), both already normalised.
 */
export function trainStep(ctx: StepContext, rule: TrainingRule, x_BD: Float32Array, y_BO: Float32Array, B: number): void {
  ctx.mark('');
  ctx.begin(x_BD, y_BO, B);
  const { D, O, F } = ctx;
  const p = ctx.sae.params;
  const g = ctx.grads;
  ctx.mark('setup');
  rule.encode(ctx);
  ctx.mark('encode');

  // ---- decode
  const recon = ctx.recon_BO;
  const pool = kernelPool();
  if (rule.latents === 'sparse') {
    pool.run({ kind: 'decode', lat: ctx.sparse!, W: p.W_dec_FO.data, bias: p.b_dec_O.data, out: recon, O }, B);
  } else {
    gemm(ctx.acts_BF!, p.W_dec_FO.data, recon, B, F, O);
    addRowVector(recon, p.b_dec_O.data, B, O);
  }
  if (p.W_skip_DO) {
    const skip = ctx.buffer('skip_BO', B * O);
    gemm(x_BD, p.W_skip_DO.data, skip, B, D, O);
    for (let i = 0; i < recon.length; i++) recon[i] = recon[i]! + skip[i]!;
  }

  // ---- MSE (sum over features, mean over tokens) and its gradient
  const err = ctx.err_BO;
  const dRecon = ctx.dRecon_BO;
  let se = 0;
  const mean = new Float64Array(O);
  for (let b = 0; b < B; b++) for (let j = 0; j < O; j++) mean[j] = mean[j]! + y_BO[b * O + j]!;
  for (let j = 0; j < O; j++) mean[j] = mean[j]! / B;
  let variance = 0;
  const scale = 2 / B;
  for (let b = 0; b < B; b++) {
    const o = b * O;
    for (let j = 0; j < O; j++) {
      const i = o + j;
      const e = recon[i]! - y_BO[i]!;
      err[i] = e;
      se += e * e;
      dRecon[i] = scale * e;
      const c = y_BO[i]! - mean[j]!;
      variance += c * c;
    }
  }
  ctx.losses.mse = se / B;
  ctx.fvu = variance > 0 ? se / variance : 0;
  addColumnSums(dRecon, g.b_dec_O, B, O);
  ctx.mark('decode');

  // ---- decoder backward: d mse / d latents and d mse / d W_dec
  if (rule.latents === 'sparse') {
    const lat = ctx.sparse!;
    const nnz = lat.rowPtr[B]!;
    ctx.dVal = ctx.buffer('dVal', nnz);
    pool.run({ kind: 'dots', lat, W: p.W_dec_FO.data, dOut: dRecon, dVal: ctx.dVal, O }, B);
    pool.run({ kind: 'scatter', lat, coef: lat.val, src: dRecon, N: O, dW: g.W_dec_FO, db: null }, F);
    let active = 0;
    for (let e = 0; e < nnz; e++) if (lat.val[e]! > 0) active++;
    ctx.l0 = active / B;
  } else {
    const acts = ctx.acts_BF!;
    const dActs = ctx.buffer('dActs_BF', B * F);
    gemm(dRecon, p.W_dec_FO.data, dActs, B, O, F, false, true);
    gemm(acts, dRecon, g.W_dec_FO, F, B, O, true, false);
    ctx.dActs_BF = dActs;
    let active = 0;
    for (let i = 0; i < acts.length; i++) if (acts[i] !== 0) active++;
    ctx.l0 = active / B;
  }

  ctx.mark('decoder backward');
  rule.auxiliaryLoss(ctx);
  ctx.mark('auxiliary loss');
  rule.activationBackward(ctx);

  // ---- encoder backward
  if (rule.latents === 'sparse') {
    pool.run({ kind: 'scatter', lat: ctx.sparse!, coef: ctx.dVal, src: ctx.xin_BD, N: D, dW: g.W_enc_FD, db: g.b_enc_F }, F);
  } else {
    const dPre = ctx.dActs_BF!;
    gemm(dPre, ctx.xin_BD, g.W_enc_FD, F, B, D, true, false);
    addColumnSums(dPre, g.b_enc_F, B, F);
  }
  for (const ex of ctx.extra) pool.run({ kind: 'scatter', lat: ex.lat, coef: ex.dPre, src: ctx.xin_BD, N: D, dW: g.W_enc_FD, db: g.b_enc_F }, F);
  // b_enc's gradient is exactly sum_b dPre[b, :], which is what b_dec's input path needs.
  if (ctx.sae.cfg.applyBDecToInput) inputBiasGradient(g.b_enc_F, p.W_enc_FD.data, g.b_dec_O, F, D);
  if (p.W_skip_DO) gemm(x_BD, dRecon, g.W_skip_DO!, D, B, O, true, false);
  rule.afterBackward?.(ctx);
  ctx.mark('encoder backward');
}

/** Coefficient of a sparsity penalty at this step: a linear ramp over the warmup, then constant. */
export function warmedCoefficient(coefficient: number, step: number, warmupSteps: number): number {
  return warmupSteps > 0 && step < warmupSteps ? (coefficient * (step + 1)) / warmupSteps : coefficient;
}
