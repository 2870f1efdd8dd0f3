// A sparse dictionary (SAE or transcoder): its config, its architecture and its weights, with encode and
// decode as tensor functions (differentiable in their input, so attribution can run through them) and a
// raw sparse encoder for bulk work (feature harvesting, evaluation).
//
// Weight layout: both matrices hold one row per latent, W_enc_FD [d_sae, d_in] (row f reads latent f; the
// transpose of SAELens' W_enc [d_in, d_sae]) and W_dec_FO [d_sae, d_out] (row f is latent f's direction).
// Row-per-latent keeps every sparse read and gradient write contiguous; format.ts transposes W_enc on
// the way to and from disk.
import { InputError, ShapeError } from '../errors.js';
import * as T from '../tensor/index.js';
import { Tensor } from '../tensor/index.js';
import { getArchitecture, type Architecture } from './architectures/index.js';
import { checkConfig, type SaeConfig } from './config.js';
import { addRowVector, denseToSparse, sharedFloat32, type SparseLatents } from './kernels.js';
import { gemm } from './step-context.js';

export interface SaeParams {
  W_enc_FD: Tensor;
  b_enc_F: Tensor;
  W_dec_FO: Tensor;
  b_dec_O: Tensor;
  /** JumpReLU (learned, per latent) and BatchTopK (one value estimated in training, repeated). */
  threshold_F: Tensor | null;
  /** Transcoders with a linear skip: output += x @ W_skip. */
  W_skip_DO: Tensor | null;
  /**
   * Gated: the magnitude path's per-latent log scale and bias, pi_mag = exp(r_mag) * (W_enc xin) + b_mag
   * (b_enc_F is then the gate's bias, b_gate on disk).
   */
  r_mag_F: Tensor | null;
  b_mag_F: Tensor | null;
}

export type ParamName = keyof SaeParams;
export const PARAM_NAMES: readonly ParamName[] = ['W_enc_FD', 'b_enc_F', 'W_dec_FO', 'b_dec_O', 'threshold_F', 'W_skip_DO', 'r_mag_F', 'b_mag_F'];

/** The shape each parameter must have under a config (null: the architecture has no such tensor). */
export function paramShapes(cfg: SaeConfig, arch: Architecture): Record<ParamName, number[] | null> {
  return {
    W_enc_FD: [cfg.dSae, cfg.dIn],
    b_enc_F: [cfg.dSae],
    W_dec_FO: [cfg.dSae, cfg.dOut],
    b_dec_O: [cfg.dOut],
    threshold_F: arch.hasThreshold ? [cfg.dSae] : null,
    W_skip_DO: cfg.skip ? [cfg.dIn, cfg.dOut] : null,
    r_mag_F: arch.gated ? [cfg.dSae] : null,
    b_mag_F: arch.gated ? [cfg.dSae] : null,
  };
}

export class Sae {
  readonly cfg: SaeConfig;
  readonly arch: Architecture;
  readonly params: SaeParams;

  /** Zero weights of the right shapes (initialise with init.ts, or load with format.ts). */
  static zeros(cfg: SaeConfig): Sae {
    const arch = getArchitecture(cfg.architecture);
    const shapes = paramShapes(cfg, arch);
    const make = (s: number[] | null): Tensor | null => (s ? Tensor.zeros(s) : null);
    return new Sae(cfg, {
      W_enc_FD: make(shapes.W_enc_FD)!,
      b_enc_F: make(shapes.b_enc_F)!,
      W_dec_FO: make(shapes.W_dec_FO)!,
      b_dec_O: make(shapes.b_dec_O)!,
      threshold_F: make(shapes.threshold_F),
      W_skip_DO: make(shapes.W_skip_DO),
      r_mag_F: make(shapes.r_mag_F),
      b_mag_F: make(shapes.b_mag_F),
    });
  }

  constructor(cfg: SaeConfig, params: SaeParams) {
    checkConfig(cfg);
    this.arch = getArchitecture(cfg.architecture);
    this.arch.check(cfg, 'SAE config');
    const shapes = paramShapes(cfg, this.arch);
    for (const name of PARAM_NAMES) {
      const want = shapes[name];
      const got = params[name];
      if (!want && got) throw new ShapeError('Sae', `architecture "${cfg.architecture}" has no ${name}${name === 'W_skip_DO' ? ' (skip is off)' : ''}`);
      if (want && !got) throw new ShapeError('Sae', `architecture "${cfg.architecture}" needs ${name} of shape [${want.join(', ')}]`);
      if (want && got && (got.ndim !== want.length || got.shape.some((d, i) => d !== want[i]))) {
        throw new ShapeError('Sae', `${name} must be [${want.join(', ')}] for d_in ${cfg.dIn}, d_sae ${cfg.dSae}, d_out ${cfg.dOut}`, [got.shape]);
      }
    }
    this.cfg = cfg;
    this.params = params;
  }

  get dIn(): number {
    return this.cfg.dIn;
  }
  get dSae(): number {
    return this.cfg.dSae;
  }
  get dOut(): number {
    return this.cfg.dOut;
  }
  get isTranscoder(): boolean {
    return this.arch.transcoder;
  }

  /** Latent activations [..., d_sae] of inputs [..., d_in] (raw activations, as the hook produces them). */
  encode(x: Tensor): Tensor {
    this.checkWidth(x, this.cfg.dIn, 'encode');
    return this.arch.activate(this.preActivations(x), this);
  }

  /** The encoder's pre-activations [..., d_sae] (b_enc included; Gated: the gate's), before the architecture's nonlinearity. */
  preActivations(x: Tensor): Tensor {
    this.checkWidth(x, this.cfg.dIn, 'preActivations');
    const p = this.params;
    let xin = this.cfg.normalizeActivations === 'expected_average_only_in' ? T.scale(x, this.cfg.scalingFactor) : x;
    if (this.cfg.applyBDecToInput) xin = T.sub(xin, p.b_dec_O);
    return T.add(T.matmul(xin, p.W_enc_FD, { transB: true }), p.b_enc_F);
  }

  /** Reconstruction [..., d_out] from latents [..., d_sae] (without a transcoder's skip term: see forward). */
  decode(latents: Tensor): Tensor {
    this.checkWidth(latents, this.cfg.dSae, 'decode');
    const p = this.params;
    const out = T.add(T.matmul(latents, p.W_dec_FO), p.b_dec_O);
    return this.cfg.normalizeActivations === 'expected_average_only_in' ? T.scale(out, 1 / this.cfg.scalingFactorOut) : out;
  }

  /** decode(encode(x)), plus the linear skip of a transcoder. */
  forward(x: Tensor): { latents: Tensor; output: Tensor } {
    const latents = this.encode(x);
    let output = this.decode(latents);
    if (this.params.W_skip_DO) output = T.add(output, this.skipTerm(x));
    return { latents, output };
  }

  /** x @ W_skip (in output units), or null without a skip connection. */
  skipTerm(x: Tensor): Tensor {
    const W = this.params.W_skip_DO;
    if (!W) throw new InputError(`this ${this.cfg.architecture} has no skip connection`);
    const norm = this.cfg.normalizeActivations === 'expected_average_only_in';
    const out = T.matmul(norm ? T.scale(x, this.cfg.scalingFactor) : x, W);
    return norm ? T.scale(out, 1 / this.cfg.scalingFactorOut) : out;
  }

  /**
   * Active latents of rows x_ND [n, d_in] (a raw buffer), without the tape: what feature harvesting and
   * evaluation need. Row b's entries are rowPtr[b] .. rowPtr[b+1] (latent ids ascending for dense
   * architectures, by decreasing activation for TopK).
   */
  encodeSparse(x_ND: Float32Array, n: number): SparseLatents {
    const { dIn: D, dSae: F } = this.cfg;
    if (x_ND.length !== n * D) throw new ShapeError('encodeSparse', `expected ${n} rows of ${D}, got ${x_ND.length} values`);
    // Raw loops rather than tensor ops: this is the bulk path (evaluation, feature harvesting).
    let xin = x_ND;
    const s = this.cfg.normalizeActivations === 'expected_average_only_in' ? this.cfg.scalingFactor : 1;
    if (s !== 1 || this.cfg.applyBDecToInput) {
      xin = new Float32Array(x_ND.length);
      const b = this.params.b_dec_O.data;
      const sub = this.cfg.applyBDecToInput;
      for (let r = 0; r < n; r++) for (let j = 0; j < D; j++) xin[r * D + j] = s * x_ND[r * D + j]! - (sub ? b[j]! : 0);
    }
    const pre = new Float32Array(n * F);
    gemm(xin, this.params.W_enc_FD.data, pre, n, D, F, false, true);
    addRowVector(pre, this.params.b_enc_F.data, n, F);
    const sparse = this.arch.activateSparse?.(pre, n, this);
    if (sparse) return sparse;
    const acts = T.noGrad(() => this.arch.activate(new Tensor(pre, [n, F]), this));
    return denseToSparse(acts.data, n, F);
  }

  /** Unit-length decoder direction of latent f in output space (what steering adds). */
  decoderDirection(f: number): Float32Array {
    this.checkLatent(f);
    const O = this.cfg.dOut;
    const row = this.params.W_dec_FO.data.slice(f * O, (f + 1) * O);
    let s = 0;
    for (const v of row) s += v * v;
    const c = s > 0 ? 1 / Math.sqrt(s) : 0;
    for (let j = 0; j < O; j++) row[j] = row[j]! * c;
    return row;
  }

  /** Latent f's decoder row in output units (the contribution of activation 1 to the reconstruction). */
  decoderRow(f: number): Float32Array {
    this.checkLatent(f);
    const O = this.cfg.dOut;
    const row = this.params.W_dec_FO.data.slice(f * O, (f + 1) * O);
    if (this.cfg.normalizeActivations === 'expected_average_only_in') for (let j = 0; j < O; j++) row[j] = row[j]! / this.cfg.scalingFactorOut;
    return row;
  }

  /** Latent f's encoder row in input units (pre-activation = x . row + bias terms). */
  encoderRow(f: number): Float32Array {
    this.checkLatent(f);
    const D = this.cfg.dIn;
    const row = this.params.W_enc_FD.data.slice(f * D, (f + 1) * D);
    if (this.cfg.normalizeActivations === 'expected_average_only_in') for (let j = 0; j < D; j++) row[j] = row[j]! * this.cfg.scalingFactor;
    return row;
  }

  /**
   * An equivalent SAE that reads raw activations with normalize_activations 'none': the scale factors move
   * into the weights (SAELens folds them the same way before saving). Latent values are unchanged.
   */
  folded(): Sae {
    if (this.cfg.normalizeActivations === 'none') return this;
    const s = this.cfg.scalingFactor;
    const so = this.cfg.scalingFactorOut;
    const p = this.params;
    const scaled = (t: Tensor, c: number): Tensor => new Tensor(t.data.map((v) => v * c), t.shape);
    return new Sae(
      { ...this.cfg, normalizeActivations: 'none', scalingFactor: 1, scalingFactorOut: 1 },
      {
        W_enc_FD: scaled(p.W_enc_FD, s),
        b_enc_F: p.b_enc_F.clone(),
        W_dec_FO: scaled(p.W_dec_FO, 1 / so),
        // With b_dec applied to the input: (s x - b) W = (x - b/s)(s W), and the output bias is b/s too (s = so).
        b_dec_O: scaled(p.b_dec_O, 1 / so),
        threshold_F: p.threshold_F?.clone() ?? null,
        W_skip_DO: p.W_skip_DO ? scaled(p.W_skip_DO, s / so) : null,
        // Gated: the magnitude path reads the same W_enc xin, which the fold leaves unchanged.
        r_mag_F: p.r_mag_F?.clone() ?? null,
        b_mag_F: p.b_mag_F?.clone() ?? null,
      },
    );
  }

  /** The same dictionary with its weights copied into shared memory (for the multi-threaded trainer). */
  shared(): Sae {
    const copy = (t: Tensor | null): Tensor | null => {
      if (!t) return null;
      if (t.data.buffer instanceof SharedArrayBuffer) return t;
      const d = sharedFloat32(t.size);
      d.set(t.data);
      return new Tensor(d, t.shape);
    };
    const p = this.params;
    return new Sae(this.cfg, {
      W_enc_FD: copy(p.W_enc_FD)!,
      b_enc_F: copy(p.b_enc_F)!,
      W_dec_FO: copy(p.W_dec_FO)!,
      b_dec_O: copy(p.b_dec_O)!,
      threshold_F: copy(p.threshold_F),
      W_skip_DO: copy(p.W_skip_DO),
      r_mag_F: copy(p.r_mag_F),
      b_mag_F: copy(p.b_mag_F),
    });
  }

  private checkWidth(x: Tensor, d: number, op: string): void {
    if (x.ndim < 1 || x.shape[x.ndim - 1] !== d) {
      throw new ShapeError(`Sae.${op}`, `expected a last dimension of ${d} (${op === 'decode' ? 'd_sae' : 'd_in'} of this ${this.cfg.architecture} dictionary)`, [x.shape]);
    }
  }

  private checkLatent(f: number): void {
    if (!Number.isInteger(f) || f < 0 || f >= this.cfg.dSae) throw new InputError(`latent ${f} is outside [0, ${this.cfg.dSae})`, { latent: f });
  }
}
