// Buffers of one training step, reused across steps (train-step.ts runs the step), and the GEMM helper
// that lets shared-memory buffers (needed by the kernel pool, parallel.ts) meet the native backend
// (which reads ordinary ArrayBuffers only).
import { ShapeError } from '../errors.js';
import { getBackend } from '../tensor/index.js';
import { addRowVector, emptySparse, sharedFloat32, sharedInt32, subRowVector, type SparseLatents } from './kernels.js';
import type { Sae } from './sae.js';
import type { ExtraLatents, GradBuffers } from './train-step.js';

/** Rows per encoder chunk for sparse rules: keeps the [rows, F] pre-activation scratch near 32 MB. */
export function chunkRows(B: number, F: number, floats = 8 << 20): number {
  return Math.max(1, Math.min(B, Math.floor(floats / F)));
}

/**
 * out = op(a) @ op(b) on the kernel backend. The native backend reads and writes ordinary ArrayBuffers
 * only, and training buffers live in shared memory (for the kernel pool), so shared operands are staged
 * through reused ordinary buffers: a memcpy each, small next to the product. Hot paths that would copy a
 * large matrix many times per step pass an ordinary mirror instead (see StepContext.mirror).
 */
export function gemm(a: Float32Array, b: Float32Array, out: Float32Array, m: number, k: number, n: number, transA = false, transB = false): void {
  const A = unshared(a, 0);
  const B = unshared(b, 1);
  const sharedOut = out.buffer instanceof SharedArrayBuffer;
  const O = sharedOut ? staging(2, m * n) : out;
  getBackend().matmul(A, B, O, { batch: 1, m, k, n, transA, transB, aBatched: false, bBatched: false });
  if (sharedOut) out.set(O.length === m * n ? O : O.subarray(0, m * n));
}

const stages: Float32Array[] = [new Float32Array(0), new Float32Array(0), new Float32Array(0)];

function staging(slot: number, n: number): Float32Array {
  if (stages[slot]!.length < n) stages[slot] = new Float32Array(n);
  const s = stages[slot]!;
  return s.length === n ? s : s.subarray(0, n);
}

function unshared(x: Float32Array, slot: number): Float32Array {
  if (!(x.buffer instanceof SharedArrayBuffer)) return x;
  const s = staging(slot, x.length);
  s.set(x);
  return s;
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
    // Shared memory throughout, so the kernel pool's workers can take part (parallel.ts).
    this.grads = {
      W_enc_FD: sharedFloat32(p.W_enc_FD.size),
      b_enc_F: sharedFloat32(p.b_enc_F.size),
      W_dec_FO: sharedFloat32(p.W_dec_FO.size),
      b_dec_O: sharedFloat32(p.b_dec_O.size),
      W_skip_DO: p.W_skip_DO ? sharedFloat32(p.W_skip_DO.size) : null,
    };
    this.deadMask = new Uint8Array(this.F);
  }

  /** Like buffer(), in ordinary (non-shared) memory: outputs of native GEMMs. */
  plainBuffer(name: string, n: number): Float32Array {
    let b = this.plain.get(name);
    if (!b || b.length < n) {
      b = new Float32Array(n);
      this.plain.set(name, b);
    }
    return b.length === n ? b : b.subarray(0, n);
  }
  private readonly plain = new Map<string, Float32Array>();

  /**
   * An ordinary-memory copy of a shared array, refreshed at most once per step: what a large GEMM
   * operand (W_enc in the TopK encoder) should be, so it is copied once per step rather than per call.
   */
  mirror(name: string, src: Float32Array): Float32Array {
    let m = this.mirrors.get(name);
    if (!m || m.data.length !== src.length) {
      m = { data: new Float32Array(src.length), step: -1 };
      this.mirrors.set(name, m);
    }
    if (m.step !== this.stepSerial) {
      m.data.set(src);
      m.step = this.stepSerial;
    }
    return m.data;
  }
  private readonly mirrors = new Map<string, { data: Float32Array; step: number }>();
  private stepSerial = 0;

  /** A scratch buffer of at least n floats, kept between steps (contents undefined). */
  buffer(name: string, n: number): Float32Array {
    let b = this.scratch.get(name);
    if (!b || b.length < n) {
      b = sharedFloat32(n);
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
    const list = sharedInt32(n);
    n = 0;
    for (let f = 0; f < mask.length; f++) if (mask[f]) list[n++] = f;
    this.deadList = list;
  }

  begin(x_BD: Float32Array, y_BO: Float32Array, B: number): void {
    if (x_BD.length !== B * this.D) throw new ShapeError('train step', `input has ${x_BD.length} values, expected ${B} x ${this.D}`);
    if (y_BO.length !== B * this.O) throw new ShapeError('train step', `target has ${y_BO.length} values, expected ${B} x ${this.O}`);
    this.B = B;
    this.stepSerial++;
    this.x_BD = x_BD;
    this.y_BO = y_BO;
    if (this.xinScratch.length !== B * this.D) this.xinScratch = sharedFloat32(B * this.D);
    this.xin_BD = encoderInput(this.sae, x_BD, B, this.xinScratch);
    if (this.xin_BD === x_BD) {
      this.xinScratch.set(x_BD); // keep the encoder input in shared memory
      this.xin_BD = this.xinScratch;
    }
    if (this.recon_BO.length !== B * this.O) {
      this.recon_BO = sharedFloat32(B * this.O);
      this.err_BO = new Float32Array(B * this.O);
      this.dRecon_BO = sharedFloat32(B * this.O);
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

/** xin_BD = x_BD - b_dec when the config applies b_dec to the input, else x itself (raw buffers). */
export function encoderInput(sae: Sae, x_BD: Float32Array, B: number, out: Float32Array): Float32Array {
  if (!sae.cfg.applyBDecToInput) return x_BD;
  subRowVector(x_BD, sae.params.b_dec_O.data, out, B, sae.cfg.dIn);
  return out;
}
