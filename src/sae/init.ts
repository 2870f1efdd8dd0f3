// Initialisation as the field does it (OpenAI TopK, Anthropic's April 2024 update, SAELens):
// decoder rows in random directions (unit norm, or 0.1 when the sparsity penalty is weighted by decoder
// norms), the encoder as the decoder's transpose (each latent starts reading the direction it writes),
// b_enc = 0, and b_dec at the data's geometric median or mean so the first reconstructions are centred.
import { InputError } from '../errors.js';
import { Rng } from '../tensor/index.js';
import { normalizeRows } from './kernels.js';
import type { Sae } from './sae.js';

export interface InitOptions {
  seed: number;
  /** Decoder row norm at init (default 1 for unit-norm decoders, 0.1 for norm-weighted penalties). */
  decoderInitNorm?: number;
  /** JumpReLU's initial threshold. */
  initThreshold?: number;
  /**
   * W_enc = encoderScale * W_dec^T. Default 1 for the TopK family (k caps how many latents add up) and
   * min(1, 2 d_in / d_sae) for the others, where about half the latents pass at init and the sum of
   * d_sae/2 random unit directions would overshoot the input by d_sae / (2 d_in).
   */
  encoderScale?: number;
}

export function initializeSae(sae: Sae, opts: InitOptions): void {
  const rng = new Rng(opts.seed);
  const { dIn: D, dOut: O, dSae: F } = sae.cfg;
  const p = sae.params;
  const norm = opts.decoderInitNorm ?? (sae.arch.decoderNorm === 'unit' ? 1 : 0.1);
  const Wd = p.W_dec_FO.data;
  for (let i = 0; i < Wd.length; i++) Wd[i] = rng.normal();
  normalizeRows(Wd, F, O);
  for (let i = 0; i < Wd.length; i++) Wd[i] = Wd[i]! * norm;
  const We = p.W_enc_FD.data;
  const c = opts.encoderScale ?? (sae.arch.usesK ? 1 : Math.min(1, (2 * D) / F));
  if (!sae.isTranscoder) {
    for (let i = 0; i < We.length; i++) We[i] = c * Wd[i]!;
  } else {
    // A transcoder reads one space and writes another (even at equal widths): the transpose means
    // nothing there, so independent random rows of the same norm.
    for (let i = 0; i < We.length; i++) We[i] = rng.normal();
    normalizeRows(We, F, D);
    for (let i = 0; i < We.length; i++) We[i] = We[i]! * norm * c;
  }
  p.b_enc_F.data.fill(0);
  p.b_dec_O.data.fill(0);
  if (p.threshold_F) p.threshold_F.data.fill(sae.cfg.architecture === 'jumprelu' ? (opts.initThreshold ?? 0.001) : 0);
  if (p.W_skip_DO) p.W_skip_DO.data.fill(0);
  // Gated: W_mag = W_enc and b_mag = b_gate = 0, so training starts from a ReLU SAE (as SAELens does).
  p.r_mag_F?.data.fill(0);
  p.b_mag_F?.data.fill(0);
}

/**
 * Geometric median of rows x_ND (Weiszfeld's iteration from the mean): the point minimising the summed
 * Euclidean distance, robust to the few huge-norm tokens residual streams have.
 */
export function geometricMedian(x: Float32Array, n: number, d: number, opts: { iterations?: number; tolerance?: number } = {}): Float32Array {
  if (n === 0) throw new InputError('geometricMedian: no rows');
  const iters = opts.iterations ?? 100;
  const tol = opts.tolerance ?? 1e-6;
  let m = meanRows(x, n, d);
  const next = new Float64Array(d);
  for (let it = 0; it < iters; it++) {
    next.fill(0);
    let wsum = 0;
    for (let r = 0; r < n; r++) {
      let dist = 0;
      for (let j = 0; j < d; j++) {
        const v = x[r * d + j]! - m[j]!;
        dist += v * v;
      }
      const w = 1 / Math.max(Math.sqrt(dist), 1e-8);
      wsum += w;
      for (let j = 0; j < d; j++) next[j] = next[j]! + w * x[r * d + j]!;
    }
    let move = 0;
    let size = 0;
    for (let j = 0; j < d; j++) {
      const v = next[j]! / wsum;
      move += (v - m[j]!) ** 2;
      size += v * v;
      m[j] = v;
    }
    if (Math.sqrt(move) <= tol * Math.max(1, Math.sqrt(size))) break;
  }
  return Float32Array.from(m);
}

export function meanRows(x: Float32Array, n: number, d: number): Float64Array {
  const m = new Float64Array(d);
  for (let r = 0; r < n; r++) for (let j = 0; j < d; j++) m[j] = m[j]! + x[r * d + j]!;
  for (let j = 0; j < d; j++) m[j] = m[j]! / Math.max(n, 1);
  return m;
}

/** Scale factor s with E||s x|| = sqrt(d) over the rows (SAELens' expected_average_only_in). */
export function normScalingFactor(x: Float32Array, n: number, d: number): number {
  let total = 0;
  for (let r = 0; r < n; r++) {
    let s = 0;
    for (let j = 0; j < d; j++) s += x[r * d + j]! * x[r * d + j]!;
    total += Math.sqrt(s);
  }
  const meanNorm = total / Math.max(n, 1);
  if (!(meanNorm > 0) || !Number.isFinite(meanNorm)) {
    throw new InputError(`cannot normalise activations: their mean norm is ${meanNorm} (all zero, or not finite)`);
  }
  return Math.sqrt(d) / meanNorm;
}
