// Evaluating a dictionary: reconstruction metrics (metrics.ts) on its own activations, and downstream
// metrics from three runs of the model over the same token windows:
//   clean    the model as is
//   spliced  the activation at the dictionary's hook replaced by its reconstruction (no error term)
//   ablated  that activation set to zero
// ce_loss_recovered = (CE_ablated - CE_spliced) / (CE_ablated - CE_clean), and kl = mean over positions of
// KL(p_clean || p_spliced). BOS positions are left unspliced and unablated in both (see splice.ts), and
// every next-token prediction of every window counts.
import { InputError } from '../errors.js';
import { checkHarvestHooks } from '../activations/harvest.js';
import type { ActivationSource } from '../activations/source.js';
import { tokenWindows, type TextDataOptions } from '../activations/token-windows.js';
import { TokenBatch, type Transformer } from '../model/index.js';
import type { Tokenizer } from '../model/tokenizers/tokenizer.js';
import * as T from '../tensor/index.js';
import { MetricsAccumulator, type ReconstructionMetrics } from './metrics.js';
import type { Sae } from './sae.js';
import { reconstructRows, spliceHooks, zeroAblationHook } from './splice.js';

export interface EvaluateOptions extends TextDataOptions {
  model: Transformer;
  tokenizer: Tokenizer;
  sae: Sae;
  /** Tokens per window (default 128). */
  contextSize?: number;
  /** Windows per model call (default 16). */
  windowsPerBatch?: number;
  /** Stop after exactly this many tokens, BOS positions not counted (default: the whole split); the last window is cut short. */
  maxTokens?: number;
  /** Called after each model batch with the tokens evaluated so far (BOS positions not counted). */
  onProgress?: (tokens: number) => void;
}

export interface SaeEvalResult extends ReconstructionMetrics {
  ce_loss_clean: number;
  ce_loss_spliced: number;
  ce_loss_ablated: number;
  ce_loss_recovered: number;
  kl: number;
  /** Next-token predictions scored. */
  predictions: number;
  windows: number;
}

/** Check that a dictionary fits a model: its hooks exist and have its widths. */
export function checkSaeFitsModel(sae: Sae, model: Transformer): void {
  const hooks = sae.isTranscoder ? [sae.cfg.hookName, sae.cfg.hookNameOut!] : [sae.cfg.hookName];
  if (!hooks[0]) throw new InputError('the dictionary names no hook_name (cfg.json); cannot place it in the model');
  checkHarvestHooks(model, hooks);
  const probe = T.noGrad(() => model.run([0], { cache: hooks }));
  const widths = hooks.map((h) => {
    const t = probe.cache.get(h);
    return t.size / (t.shape[0]! * t.shape[1]!);
  });
  if (widths[0] !== sae.dIn) {
    throw new InputError(`the dictionary's d_in is ${sae.dIn}, but ${hooks[0]} in this model has width ${widths[0]} (a dictionary for another model or hook?)`, {
      dIn: sae.dIn,
      width: widths[0],
    });
  }
  if (sae.isTranscoder && widths[1] !== sae.dOut) {
    throw new InputError(`the transcoder's d_out is ${sae.dOut}, but ${hooks[1]} in this model has width ${widths[1]}`, { dOut: sae.dOut, width: widths[1] });
  }
}

export async function evaluateSae(o: EvaluateOptions): Promise<SaeEvalResult> {
  const { model, tokenizer, sae } = o;
  checkSaeFitsModel(sae, model);
  const ctx = o.contextSize ?? 128;
  const perBatch = o.windowsPerBatch ?? 16;
  const bosId = tokenizer.bosId;
  const metrics = new MetricsAccumulator(sae.dSae, sae.dOut);
  const splice = spliceHooks(sae, {
    bosId,
    onSplice: (e) => {
      const rows = e.skipped.length;
      const sparse = e.sparse ?? sae.encodeSparse(e.input.data, rows);
      metrics.add(e.original.data, e.reconstruction.data, sparse, e.skipped);
    },
  });
  const ablate = zeroAblationHook(sae.isTranscoder ? sae.cfg.hookNameOut! : sae.cfg.hookName, { bosId });
  let ceClean = 0, ceSpliced = 0, ceAblated = 0, kl = 0, predictions = 0, windows = 0;
  const maxTokens = o.maxTokens ?? Infinity;
  let tokens = 0; // non-BOS tokens taken into windows so far: the dictionary's rows, as metrics.tokens counts them
  let pending: Int32Array[] = [];
  const flush = (): void => {
    const batch = TokenBatch.from(pending);
    const clean = T.noGrad(() => model.run(batch).logits!);
    const spliced = T.noGrad(() => model.run(batch, { hooks: splice }).logits!);
    const ablated = T.noGrad(() => model.run(batch, { hooks: [ablate] }).logits!);
    const r = compareLogits(batch, clean.data, spliced.data, ablated.data, model.config.vocabSize);
    ceClean += r.ceClean;
    ceSpliced += r.ceSpliced;
    ceAblated += r.ceAblated;
    kl += r.kl;
    predictions += r.count;
    windows += pending.length;
    pending = [];
    o.onProgress?.(tokens);
  };
  for await (const window of tokenWindows(o, tokenizer, { contextSize: ctx })) {
    if (window.length < 2) continue;
    // Cut the window just after the token that reaches maxTokens (it starts with BOS, so it keeps two or more).
    let end = 0;
    while (end < window.length && tokens < maxTokens) if (window[end++] !== bosId) tokens++;
    pending.push(end < window.length ? window.subarray(0, end) : window);
    if (pending.length === perBatch || tokens >= maxTokens) flush();
    if (tokens >= maxTokens) break;
  }
  if (pending.length) flush();
  if (predictions === 0) throw new InputError(`no text to evaluate on: ${o.path} (split ${o.split ?? 'train'}) gives no window of two or more tokens`);
  const n = predictions;
  const clean = ceClean / n, spl = ceSpliced / n, abl = ceAblated / n;
  return {
    ...metrics.result(),
    ce_loss_clean: clean,
    ce_loss_spliced: spl,
    ce_loss_ablated: abl,
    ce_loss_recovered: abl - clean !== 0 ? (abl - spl) / (abl - clean) : NaN,
    kl: kl / n,
    predictions,
    windows,
  };
}

/** Summed next-token cross-entropies of three runs and KL(clean || spliced), over real positions. */
export function compareLogits(batch: TokenBatch, clean: Float32Array, spliced: Float32Array, ablated: Float32Array, V: number) {
  let ceClean = 0, ceSpliced = 0, ceAblated = 0, kl = 0, count = 0;
  const lpClean = new Float64Array(V);
  const lpSpliced = new Float64Array(V);
  for (let b = 0; b < batch.batch; b++) {
    for (let t = 0; t + 1 < batch.lengths[b]!; t++) {
      const target = batch.ids[b * batch.maxLen + t + 1]!;
      const o = (b * batch.maxLen + t) * V;
      logSoftmax(clean, o, V, lpClean);
      logSoftmax(spliced, o, V, lpSpliced);
      ceClean -= lpClean[target]!;
      ceSpliced -= lpSpliced[target]!;
      ceAblated -= logProb(ablated, o, V, target);
      let k = 0;
      for (let j = 0; j < V; j++) k += Math.exp(lpClean[j]!) * (lpClean[j]! - lpSpliced[j]!);
      kl += k;
      count++;
    }
  }
  return { ceClean, ceSpliced, ceAblated, kl, count };
}

function logSoftmax(x: Float32Array, o: number, V: number, out: Float64Array): void {
  let m = -Infinity;
  for (let j = 0; j < V; j++) if (x[o + j]! > m) m = x[o + j]!;
  let s = 0;
  for (let j = 0; j < V; j++) s += Math.exp(x[o + j]! - m);
  const lse = m + Math.log(s);
  for (let j = 0; j < V; j++) out[j] = x[o + j]! - lse;
}

function logProb(x: Float32Array, o: number, V: number, target: number): number {
  let m = -Infinity;
  for (let j = 0; j < V; j++) if (x[o + j]! > m) m = x[o + j]!;
  let s = 0;
  for (let j = 0; j < V; j++) s += Math.exp(x[o + j]! - m);
  return x[o + target]! - m - Math.log(s);
}

/** Reconstruction metrics on stored activations (a cache, synthetic data): no model needed. */
export async function evaluateReconstruction(sae: Sae, source: ActivationSource, opts: { maxRows?: number } = {}): Promise<ReconstructionMetrics> {
  const expect = sae.isTranscoder ? 2 : 1;
  if (source.hooks.length < expect) throw new InputError(`a ${sae.cfg.architecture} needs ${expect} hook(s) of activations, the source has ${source.hooks.length}`);
  if (source.widths[0] !== sae.dIn) throw new InputError(`the dictionary's d_in is ${sae.dIn}, the activations have width ${source.widths[0]}`);
  const metrics = new MetricsAccumulator(sae.dSae, sae.dOut);
  let rows = 0;
  for await (const chunk of source.read()) {
    const n = Math.min(chunk.rows, (opts.maxRows ?? Infinity) - rows);
    const x = chunk.acts[0]!.subarray(0, n * sae.dIn);
    const y = sae.isTranscoder ? chunk.acts[1]!.subarray(0, n * sae.dOut) : x;
    const r = reconstructRows(sae, x, n);
    metrics.add(y, r.recon, r.sparse);
    rows += n;
    if (rows >= (opts.maxRows ?? Infinity)) break;
  }
  if (rows === 0) throw new InputError('no activations to evaluate on');
  return metrics.result();
}
