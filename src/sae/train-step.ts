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
import { ShapeError } from '../errors.js';
import { getBackend, type Tensor } from '../tensor/index.js';
import {
  addColumnSums, addRowVector, emptySparse, inputBiasGradient, sparseDecode, sparseDecodeBackward, sparseEncodeBackward,
  type SparseLatents,
} from './kernels.js';
import { encoderInput, type Sae } from './sae.js';

/** Architecture-specific training settings (the trainer fills defaults). */
export interface RuleOptions {
  /** ReLU: coefficient of the L1 penalty sum_f a_f ||W_dec[f]||. */
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
  /** After each optimizer update (e.g. threshold = exp(log threshold)). */
  afterUpdate?(): void;
  /** Rule state a checkpoint must keep (running thresholds ...), and its restore. */
  saveState?(): Record<string, Float32Array>;
  loadState?(state: Record<string, Float32Array>): void;
}

/** Rows per encoder chunk for sparse rules: keeps the [rows, F] pre-activation scratch near 32 MB. */
export function chunkRows(B: number, F: number, floats = 8 << 20): number {
  return Math.max(1, Math.min(B, Math.floor(floats / F)));
}

export function gemm(a: Float32Array, b: Float32Array, out: Float32Array, m: number, k: number, n: number, transA = false, transB = false): void {
  getBackend().matmul(a, b, out, { batch: 1, m, k, n, transA, transB, aBatched: false, bBatched: false });
}

/** Buffers of one step, reused across steps of the same batch size. */
export class StepContext {
  readonly sae: Sae;
  readonly D: number;
  readonly O: number;
  readonly F: number;
  B = 0;
  x_BD: Float32Array = new Float32Array(0);
  y_BO: Float32Array = new Float32Array(0);
  xin_BD: Float32Array = new Float32Array(0);
  private xinScratch: Float32Array = new Float32Array(0);
  /** Dense rules (and BatchTopK): full pre-activations, kept for the backward pass. */
  pre_BF: Float32Array | null = null;
  acts_BF: Float32Array | null = null;
  dActs_BF: Float32Array | null = null;
  sparse: SparseLatents | null = null;
  /** d loss / d value of each sparse entry, turned into d loss / d pre by activationBackward. */
  dVal: Float32Array = new Float32Array(0);
  extra: ExtraLatents[] = [];
  recon_BO: Float32Array = new Float32Array(0);
  err_BO: Float32Array = new Float32Array(0);
  dRecon_BO: Float32Array = new Float32Array(0);
  readonly grads: GradBuffers;
  /** Latents that have not fired for the trainer's dead window, as a mask and as a list. */
  deadMask: Uint8Array;
  deadList: Int32Array = new Int32Array(0);
  step = 0;
  totalSteps = 1;
  losses: Record<string, number> = {};
  /** Batch FVU: sum ||recon - y||^2 / sum ||y - mean(y)||^2. */
  fvu = 0;
  l0 = 0;
  private scratch = new Map<string, Float32Array>();
  /** When set, time spent per phase of the step accumulates here (ms), for benchmarks. */
  timings: Record<string, number> | null = null;
  private lastMark = 0;

  /** Close the phase that ran since the previous mark, charging it to `phase` (no-op unless timing). */
  mark(phase: string): void {
    if (!this.timings) return;
    const now = performance.now();
    if (phase !== '') this.timings[phase] = (this.timings[phase] ?? 0) + now - this.lastMark;
    this.lastMark = now;
  }

  constructor(sae: Sae) {
    this.sae = sae;
    this.D = sae.cfg.dIn;
    this.O = sae.cfg.dOut;
    this.F = sae.cfg.dSae;
    const p = sae.params;
    this.grads = {
      W_enc_FD: new Float32Array(p.W_enc_FD.size),
      b_enc_F: new Float32Array(p.b_enc_F.size),
      W_dec_FO: new Float32Array(p.W_dec_FO.size),
      b_dec_O: new Float32Array(p.b_dec_O.size),
      W_skip_DO: p.W_skip_DO ? new Float32Array(p.W_skip_DO.size) : null,
    };
    this.deadMask = new Uint8Array(this.F);
  }

  /** A scratch buffer of at least n floats, kept between steps (contents undefined). */
  buffer(name: string, n: number): Float32Array {
    let b = this.scratch.get(name);
    if (!b || b.length < n) {
      b = new Float32Array(n);
      this.scratch.set(name, b);
    }
    return b.length === n ? b : b.subarray(0, n);
  }

  /** Sparse latents with a fixed number of entries per row (TopK), reused between steps. */
  fixedSparse(name: string, rows: number, perRow: number): SparseLatents {
    const cached = this.fixed.get(name);
    if (cached && cached.rows === rows && cached.idx.length === rows * perRow) return cached;
    const lat = emptySparse(rows, rows * perRow);
    for (let r = 0; r <= rows; r++) lat.rowPtr[r] = r * perRow;
    this.fixed.set(name, lat);
    return lat;
  }
  private readonly fixed = new Map<string, SparseLatents>();

  setDead(mask: Uint8Array): void {
    this.deadMask = mask;
    let n = 0;
    for (let f = 0; f < mask.length; f++) if (mask[f]) n++;
    const list = new Int32Array(n);
    n = 0;
    for (let f = 0; f < mask.length; f++) if (mask[f]) list[n++] = f;
    this.deadList = list;
  }

  begin(x_BD: Float32Array, y_BO: Float32Array, B: number): void {
    if (x_BD.length !== B * this.D) throw new ShapeError('train step', `input has ${x_BD.length} values, expected ${B} x ${this.D}`);
    if (y_BO.length !== B * this.O) throw new ShapeError('train step', `target has ${y_BO.length} values, expected ${B} x ${this.O}`);
    this.B = B;
    this.x_BD = x_BD;
    this.y_BO = y_BO;
    if (this.xinScratch.length !== B * this.D) this.xinScratch = new Float32Array(B * this.D);
    this.xin_BD = encoderInput(this.sae, x_BD, B, this.xinScratch);
    if (this.recon_BO.length !== B * this.O) {
      this.recon_BO = new Float32Array(B * this.O);
      this.err_BO = new Float32Array(B * this.O);
      this.dRecon_BO = new Float32Array(B * this.O);
    }
    const g = this.grads;
    g.W_enc_FD.fill(0);
    g.b_enc_F.fill(0);
    g.W_dec_FO.fill(0);
    g.b_dec_O.fill(0);
    g.W_skip_DO?.fill(0);
    this.extra = [];
    this.losses = {};
    this.sparse = null;
    this.acts_BF = null;
    this.dActs_BF = null;
    this.pre_BF = null;
  }

  /** Dense pre-activations of the whole batch into a reused buffer (dense rules, BatchTopK). */
  densePre(): Float32Array {
    const { B, D, F } = this;
    const pre = this.buffer('pre_BF', B * F);
    gemm(this.xin_BD, this.sae.params.W_enc_FD.data, pre, B, D, F, false, true);
    addRowVector(pre, this.sae.params.b_enc_F.data, B, F);
    this.pre_BF = pre;
    return pre;
  }

  get totalLoss(): number {
    let s = 0;
    for (const v of Object.values(this.losses)) s += v;
    return s;
  }

  /** Latents that fired in this step, OR-ed into `fired` (for dead-latent tracking and density). */
  markFired(fired: Uint8Array): void {
    if (this.sparse) {
      const { idx, val, rowPtr, rows } = this.sparse;
      for (let e = 0; e < rowPtr[rows]!; e++) if (val[e]! > 0) fired[idx[e]!] = 1;
    } else if (this.acts_BF) {
      const a = this.acts_BF;
      const F = this.F;
      for (let b = 0; b < this.B; b++) for (let f = 0; f < F; f++) if (a[b * F + f] !== 0) fired[f] = 1;
    }
  }
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
  if (rule.latents === 'sparse') {
    sparseDecode(ctx.sparse!, p.W_dec_FO.data, p.b_dec_O.data, recon, O);
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
    sparseDecodeBackward(lat, p.W_dec_FO.data, dRecon, ctx.dVal, g.W_dec_FO, O);
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
    sparseEncodeBackward(ctx.sparse!, ctx.dVal, ctx.xin_BD, g.W_enc_FD, g.b_enc_F, D);
  } else {
    const dPre = ctx.dActs_BF!;
    gemm(dPre, ctx.xin_BD, g.W_enc_FD, F, B, D, true, false);
    addColumnSums(dPre, g.b_enc_F, B, F);
  }
  for (const ex of ctx.extra) sparseEncodeBackward(ex.lat, ex.dPre, ctx.xin_BD, g.W_enc_FD, g.b_enc_F, D);
  // b_enc's gradient is exactly sum_b dPre[b, :], which is what b_dec's input path needs.
  if (ctx.sae.cfg.applyBDecToInput) inputBiasGradient(g.b_enc_F, p.W_enc_FD.data, g.b_dec_O, F, D);
  if (p.W_skip_DO) gemm(x_BD, dRecon, g.W_skip_DO!, D, B, O, true, false);
  ctx.mark('encoder backward');
}

/** Coefficient of a sparsity penalty at this step: a linear ramp over the warmup, then constant. */
export function warmedCoefficient(coefficient: number, step: number, warmupSteps: number): number {
  return warmupSteps > 0 && step < warmupSteps ? (coefficient * (step + 1)) / warmupSteps : coefficient;
}
