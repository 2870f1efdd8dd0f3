// Training a TopK cross-layer transcoder, all layers jointly, in one pass over the harvested activations.
// Layer L's latents read layer L's MLP input x_L and write every later MLP output through their own
// decoders; the loss is the summed reconstruction error of every layer's MLP output,
//   loss = sum_l mean_b || b_dec_l + sum_{L <= l} W_dec[L -> l]^T a_L - y_l ||^2   (+ AuxK per source layer),
// in normalised units (each hook scaled so E||x|| = sqrt(d), folded into the weights at the end). It is the
// TopK step of the dictionary trainer (sae/train-step.ts) with several decoders per latent: the same sparse
// kernels, unit-norm decoders (a latent's decoders to all its layers together have norm 1), Adam with
// warmup and linear decay, AuxK on dead latents (coefficient 1/32, k_aux = d/2).
import { ShuffleBuffer } from '../activations/buffer.js';
import type { ActivationSource } from '../activations/source.js';
import { InputError, NonFiniteError } from '../errors.js';
import { normalizeRows, removeParallelComponent, sparseDecode, sparseDecodeBackward, sparseEncodeBackward, topkRows, type SparseLatents } from '../sae/kernels.js';
import { meanRows, normScalingFactor } from '../sae/init.js';
import { lrAt } from '../sae/optimizer.js';
import { gemm } from '../sae/train-step.js';
import { Rng } from '../tensor/index.js';
import { TranscoderSet, type InputSite } from './transcoder-set.js';

export interface CltTrainOptions {
  /** Hooks: the N inputs, then the N MLP outputs, row-aligned. */
  source: ActivationSource;
  nLayers: number;
  site: InputSite;
  latents: number;
  k: number;
  tokens: number;
  batchSize?: number;
  lr?: number;
  warmupSteps?: number;
  decaySteps?: number;
  bufferRows?: number;
  seed?: number;
  auxKCoefficient?: number;
  /** A latent is dead after this many tokens without firing (default min(10M, tokens/10)). */
  deadTokens?: number;
  modelName?: string;
  onStep?: (p: CltProgress) => void | Promise<void>;
}

export interface CltProgress {
  step: number;
  totalSteps: number;
  tokens: number;
  loss: number;
  /** Per output layer: batch fraction of variance unexplained. */
  fvu: number[];
  /** Per source layer: dead fraction. */
  dead: number[];
  lr: number;
}

export interface CltTrainResult {
  set: TranscoderSet;
  steps: number;
  tokens: number;
  seconds: number;
  final: CltProgress;
  /** Per source layer: mean active latents per token. */
  l0: number[];
}

interface Param {
  w: Float32Array;
  g: Float32Array;
  m: Float32Array;
  v: Float32Array;
}

const param = (w: Float32Array): Param => ({ w, g: new Float32Array(w.length), m: new Float32Array(w.length), v: new Float32Array(w.length) });

/** The CLT's default peak learning rate is this over sqrt(latents / 2^14). */
export const CLT_LR_PER_SQRT_LATENTS = 8e-4;

export async function trainClt(o: CltTrainOptions): Promise<CltTrainResult> {
  const N = o.nLayers;
  const src = o.source;
  if (src.hooks.length !== 2 * N) throw new InputError(`CLT training reads ${2 * N} hooks (inputs, then outputs), the source gives ${src.hooks.length}`);
  const D = src.widths[0]!;
  const F = o.latents;
  const k = o.k;
  if (!Number.isInteger(k) || k < 1 || k > F) throw new InputError(`k must be an integer in [1, ${F}], got ${k}`);
  const B = o.batchSize ?? 4096;
  const totalSteps = Math.max(1, Math.ceil(o.tokens / B));
  // 4x the per-layer TopK default: on stories260K (512 latents, k 16, 1M tokens) the per-layer rate left
  // the CLT at CE loss recovered 0.895 and this one reaches 0.934 (per-layer transcoders: 0.896-0.900 at
  // either rate); see docs/circuits.md.
  const lr = o.lr ?? CLT_LR_PER_SQRT_LATENTS / Math.sqrt(F / 2 ** 14);
  const warmup = o.warmupSteps ?? Math.floor(totalSteps * 0.05);
  const decay = o.decaySteps ?? Math.floor(totalSteps * 0.2);
  const auxCoef = o.auxKCoefficient ?? 1 / 32;
  const kAux = Math.max(1, Math.floor(D / 2));
  const deadSteps = Math.max(1, Math.ceil((o.deadTokens ?? Math.max(B, Math.min(10_000_000, Math.floor(o.tokens / 10)))) / B));
  const buffer = new ShuffleBuffer(src, { capacity: o.bufferRows ?? Math.max(B, Math.min(16 * B, 65536)), seed: o.seed ?? 0 });

  // Normalisation and b_dec from a sample.
  const sample = await buffer.sample(Math.max(B, 8192), new Rng((o.seed ?? 0) ^ 0x5eed));
  if (sample.rows === 0) throw new InputError('the activation source is empty: no activations to train on');
  const sIn = Array.from({ length: N }, (_, L) => normScalingFactor(sample.acts[L]!, sample.rows, D));
  const sOut = Array.from({ length: N }, (_, l) => normScalingFactor(sample.acts[N + l]!, sample.rows, D));

  const rng = new Rng(o.seed ?? 0);
  const outs = (L: number): number => N - L;
  const W_enc = Array.from({ length: N }, () => param(randomRows(rng, F, D)));
  const b_enc = Array.from({ length: N }, () => param(new Float32Array(F)));
  const W_dec = Array.from({ length: N }, (_, L) => param(randomRows(rng, F, outs(L) * D)));
  const b_dec = Array.from({ length: N }, (_, l) => {
    const m = meanRows(sample.acts[N + l]!, sample.rows, D);
    return param(Float32Array.from(m, (v) => v * sOut[l]!));
  });
  const params = [...W_enc, ...b_enc, ...W_dec, ...b_dec];

  const stepsSinceFired = Array.from({ length: N }, () => new Float32Array(F));
  const firedCount = Array.from({ length: N }, () => new Float64Array(F));
  const pre = new Float32Array(B * F);
  const lat: SparseLatents[] = Array.from({ length: N }, () => ({ rows: B, rowPtr: Int32Array.from({ length: B + 1 }, (_, r) => r * k), idx: new Int32Array(B * k), val: new Float32Array(B * k) }));
  const aux: SparseLatents[] = Array.from({ length: N }, () => ({ rows: B, rowPtr: Int32Array.from({ length: B + 1 }, (_, r) => r * kAux), idx: new Int32Array(B * kAux), val: new Float32Array(B * kAux) }));
  const recon = Array.from({ length: N }, () => new Float32Array(B * D));
  const wide = Array.from({ length: N }, (_, L) => new Float32Array(B * outs(L) * D));
  const dVal = new Float32Array(B * Math.max(k, kAux));
  const t0 = performance.now();
  let tokens = 0;
  let progress: CltProgress | null = null;
  let step = 0;
  for (; step < totalSteps; step++) {
    const batch = await buffer.next(B);
    if (!batch || batch.rows < B) {
      if (step === 0) throw new InputError('the activation source is empty: no batch of activations to train on');
      break;
    }
    const x = batch.acts.slice(0, N);
    const y = batch.acts.slice(N);
    x.forEach((a, L) => scaleInPlace(a, sIn[L]!));
    y.forEach((a, l) => scaleInPlace(a, sOut[l]!));
    for (const p of params) p.g.fill(0);

    // Encode: dense GEMM, top-k per row; dead latents' top k_aux for AuxK.
    const deadLists = stepsSinceFired.map((s) => Int32Array.from(Array.from(s.keys()).filter((f) => s[f]! >= deadSteps)));
    for (let L = 0; L < N; L++) {
      gemm(x[L]!, W_enc[L]!.w, pre, B, D, F, false, true);
      topkRows(pre, b_enc[L]!.w, B, F, k, lat[L]!.idx, lat[L]!.val, 0);
      if (deadLists[L]!.length) topkRows(pre, b_enc[L]!.w, B, F, Math.min(kAux, deadLists[L]!.length), aux[L]!.idx, aux[L]!.val, 0, deadLists[L]!);
    }
    // Decode: each source layer once into its [B, outs*D] block, then summed per output layer.
    for (let l = 0; l < N; l++) for (let r = 0; r < B; r++) recon[l]!.set(b_dec[l]!.w, r * D);
    for (let L = 0; L < N; L++) {
      sparseDecode(lat[L]!, W_dec[L]!.w, null, wide[L]!, outs(L) * D);
      addBlocks(wide[L]!, recon, L, N, B, D);
    }
    // Loss and d loss / d recon (reusing recon as the gradient).
    let loss = 0;
    const fvu: number[] = [];
    for (let l = 0; l < N; l++) {
      const r = recon[l]!;
      const t = y[l]!;
      let se = 0;
      for (let i = 0; i < r.length; i++) {
        const e = r[i]! - t[i]!;
        se += e * e;
        r[i] = (2 * e) / B;
      }
      loss += se / B;
      fvu.push(se / Math.max(totalVariance(t, B, D), 1e-12));
      const gb = b_dec[l]!.g;
      for (let b = 0; b < B; b++) for (let j = 0; j < D; j++) gb[j] += r[b * D + j]!;
    }
    if (!Number.isFinite(loss)) throw new NonFiniteError('clt train', `training diverged: the loss is ${loss} at step ${step + 1} of ${totalSteps}; lower --lr`);
    // Backward per source layer: gather d recon of the layers it writes, through decode, top-k, encode.
    for (let L = 0; L < N; L++) {
      const dWide = wide[L]!;
      gatherBlocks(recon, dWide, L, N, B, D);
      const dv = dVal.subarray(0, B * k);
      sparseDecodeBackward(lat[L]!, W_dec[L]!.w, dWide, dv, W_dec[L]!.g, outs(L) * D);
      for (let e = 0; e < dv.length; e++) if (!(lat[L]!.val[e]! > 0)) dv[e] = 0;
      sparseEncodeBackward(lat[L]!, dv, x[L]!, W_enc[L]!.g, b_enc[L]!.g, D);
    }
    // AuxK: dead latents of each source layer try to reconstruct what the live ones missed (residual = -err).
    for (let L = 0; L < N; L++) {
      const dead = deadLists[L]!.length;
      if (!dead) continue;
      const ka = Math.min(kAux, dead);
      const a = ka === kAux ? aux[L]! : { rows: B, rowPtr: Int32Array.from({ length: B + 1 }, (_, r) => r * ka), idx: aux[L]!.idx.subarray(0, B * ka), val: aux[L]!.val.subarray(0, B * ka) };
      const O = outs(L) * D;
      const auxOut = new Float32Array(B * O);
      sparseDecode(a, W_dec[L]!.w, null, auxOut, O);
      const residualGrad = wide[L]!; // = 2 err / B, gathered above
      const scale = auxCoef * Math.min(dead / kAux, 1);
      let se = 0;
      for (let i = 0; i < auxOut.length; i++) {
        const e = auxOut[i]! + (residualGrad[i]! * B) / 2; // aux - (y - recon) = aux + err
        se += e * e;
        auxOut[i] = ((2 * scale) / B) * e;
      }
      loss += (scale * se) / B;
      const dv = dVal.subarray(0, B * ka);
      sparseDecodeBackward(a, W_dec[L]!.w, auxOut, dv, W_dec[L]!.g, O);
      for (let e = 0; e < dv.length; e++) if (!(a.val[e]! > 0)) dv[e] = 0;
      sparseEncodeBackward(a, dv, x[L]!, W_enc[L]!.g, b_enc[L]!.g, D);
    }
    // Adam step with unit-norm decoders.
    const rate = lrAt(step, { lr, totalSteps, warmupSteps: warmup, decaySteps: decay });
    for (let L = 0; L < N; L++) removeParallelComponent(W_dec[L]!.w, W_dec[L]!.g, F, outs(L) * D);
    adam(params, rate, step + 1);
    for (let L = 0; L < N; L++) normalizeRows(W_dec[L]!.w, F, outs(L) * D);
    // Dead-latent bookkeeping.
    const dead: number[] = [];
    for (let L = 0; L < N; L++) {
      const s = stepsSinceFired[L]!;
      const fired = new Uint8Array(F);
      const { idx, val } = lat[L]!;
      for (let e = 0; e < idx.length; e++) if (val[e]! > 0) fired[idx[e]!] = 1;
      let d = 0;
      for (let f = 0; f < F; f++) {
        s[f] = fired[f] ? 0 : s[f]! + 1;
        if (s[f]! >= deadSteps) d++;
      }
      for (let e = 0; e < idx.length; e++) if (val[e]! > 0) firedCount[L]![idx[e]!]!++;
      dead.push(d / F);
    }
    tokens += B;
    progress = { step: step + 1, totalSteps, tokens, loss, fvu, dead, lr: rate };
    await o.onStep?.(progress);
  }
  if (!progress) throw new InputError('nothing to train');
  const l0 = firedCount.map((c) => c.reduce((s, v) => s + v, 0) / Math.max(tokens, 1));
  // Fold the normalisation into raw-unit weights.
  const set = TranscoderSet.clt({
    dModel: D,
    k,
    site: o.site,
    W_enc: W_enc.map((p, L) => p.w.map((v) => v * sIn[L]!)),
    b_enc: b_enc.map((p) => p.w.slice()),
    W_dec: W_dec.map((p, L) => {
      const out = p.w.slice();
      const O = outs(L);
      for (let f = 0; f < F; f++) for (let j = 0; j < O; j++) for (let d = 0; d < D; d++) out[(f * O + j) * D + d] = out[(f * O + j) * D + d]! / sOut[L + j]!;
      return out;
    }),
    b_dec: b_dec.map((p, l) => p.w.map((v) => v / sOut[l]!)),
    info: { modelName: o.modelName ?? '' },
  });
  await buffer.close();
  return { set, steps: progress.step, tokens, seconds: (performance.now() - t0) / 1000, final: progress, l0 };
}

function randomRows(rng: Rng, F: number, N: number): Float32Array {
  const w = new Float32Array(F * N);
  for (let i = 0; i < w.length; i++) w[i] = rng.normal();
  normalizeRows(w, F, N);
  return w;
}

function scaleInPlace(a: Float32Array, s: number): void {
  for (let i = 0; i < a.length; i++) a[i] = a[i]! * s;
}

/** recon[L + j] += wide[:, j*D:(j+1)*D] for every output layer j of source L. */
function addBlocks(wide: Float32Array, recon: Float32Array[], L: number, N: number, B: number, D: number): void {
  const O = (N - L) * D;
  for (let j = 0; j < N - L; j++) {
    const r = recon[L + j]!;
    for (let b = 0; b < B; b++) for (let d = 0; d < D; d++) r[b * D + d] += wide[b * O + j * D + d]!;
  }
}

/** wide[:, j*D:(j+1)*D] = grads[L + j] (the inverse of addBlocks' layout). */
function gatherBlocks(grads: Float32Array[], wide: Float32Array, L: number, N: number, B: number, D: number): void {
  const O = (N - L) * D;
  for (let j = 0; j < N - L; j++) {
    const g = grads[L + j]!;
    for (let b = 0; b < B; b++) wide.set(g.subarray(b * D, (b + 1) * D), b * O + j * D);
  }
}

function totalVariance(y: Float32Array, B: number, D: number): number {
  const m = meanRows(y, B, D);
  let s = 0;
  for (let b = 0; b < B; b++) for (let j = 0; j < D; j++) s += (y[b * D + j]! - m[j]!) ** 2;
  return s;
}

function adam(params: Param[], lr: number, t: number, beta1 = 0.9, beta2 = 0.999, eps = 1e-8): void {
  const c1 = 1 - beta1 ** t;
  const c2 = 1 - beta2 ** t;
  for (const p of params) {
    const { w, g, m, v } = p;
    for (let i = 0; i < w.length; i++) {
      const gi = g[i]!;
      m[i] = beta1 * m[i]! + (1 - beta1) * gi;
      v[i] = beta2 * v[i]! + (1 - beta2) * gi * gi;
      w[i] = w[i]! - (lr * (m[i]! / c1)) / (Math.sqrt(v[i]! / c2) + eps);
    }
  }
}
