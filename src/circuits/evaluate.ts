// Quality of a transcoder set, per layer, on held-out text:
//   fvu       fraction of the variance of layer l's MLP output the transcoders do not explain (from the
//             clean run's inputs; for a CLT, every source layer <= l contributes)
//   l0        active latents per token of source layer l
//   ce_loss_recovered   (CE_ablated - CE_spliced) / (CE_ablated - CE_clean) with only layer l's MLP output
//             replaced (spliced) or zeroed (ablated)
// and for the whole set: the CE loss with every MLP replaced at once (the replacement model without error
// nodes; each layer's transcoders read the replaced run's own activations). BOS positions are left as the
// model computed them (dictionaries are trained without them), as in sae/evaluate.ts.
import { InputError } from '../errors.js';
import { tokenWindows, type TextDataOptions } from '../activations/token-windows.js';
import { TokenBatch, type ForwardHook, type HookContext, type Transformer } from '../model/index.js';
import type { Tokenizer } from '../model/tokenizers/tokenizer.js';
import { compareLogits } from '../sae/evaluate.js';
import type { SparseLatents } from '../sae/kernels.js';
import * as T from '../tensor/index.js';
import { Tensor } from '../tensor/index.js';
import { outputHook, type LayerQuality, type TranscoderSet } from './transcoder-set.js';

export interface TranscoderEvalOptions extends TextDataOptions {
  model: Transformer;
  tokenizer: Tokenizer;
  set: TranscoderSet;
  contextSize?: number;
  /** Stop after about this many tokens (default 8192). */
  maxTokens?: number;
  windowsPerBatch?: number;
  onProgress?: (tokens: number) => void;
}

export interface TranscoderEvalResult {
  layers: LayerQuality[];
  ce_loss_clean: number;
  /** Every MLP replaced by its transcoders at once. */
  ce_loss_replaced: number;
  /** Every MLP output zeroed. */
  ce_loss_ablated: number;
  ce_loss_recovered: number;
  predictions: number;
  tokens: number;
}

export async function evaluateTranscoders(o: TranscoderEvalOptions): Promise<TranscoderEvalResult> {
  const { model, tokenizer, set } = o;
  set.checkFits(model);
  const N = set.nLayers;
  const D = set.dModel;
  const V = model.config.vocabSize;
  const bos = tokenizer.bosId;
  const maxTokens = o.maxTokens ?? 8192;
  const per = o.windowsPerBatch ?? 16;
  const err = new Float64Array(N);
  const sumY = Array.from({ length: N }, () => new Float64Array(D));
  const sumY2 = new Float64Array(N);
  const nnz = new Float64Array(N);
  let rowsCounted = 0;
  const ce = { clean: 0, replaced: 0, ablated: 0, spliced: new Float64Array(N), ablatedL: new Float64Array(N) };
  let predictions = 0;
  let tokens = 0;
  let pending: Int32Array[] = [];

  const flush = (): void => {
    const batch = TokenBatch.from(pending);
    pending = [];
    const n = batch.batch * batch.maxLen;
    const keep = new Uint8Array(n); // real, non-BOS positions
    for (let b = 0; b < batch.batch; b++) for (let t = 0; t < batch.lengths[b]!; t++) keep[b * batch.maxLen + t] = batch.ids[b * batch.maxLen + t] === bos ? 0 : 1;
    const names = Array.from({ length: N }, (_, l) => [set.inputHook(l), outputHook(l)]).flat();
    const clean = T.noGrad(() => model.run(batch, { cache: names }));
    const inputs = Array.from({ length: N }, (_, l) => clean.cache.get(set.inputHook(l)).data);
    const outputs = Array.from({ length: N }, (_, l) => clean.cache.get(outputHook(l)).data);
    const latents = set.layers.map((s, L) => s.encode(inputs[L]!, n));
    const recon = Array.from({ length: N }, (_, l) => set.reconstruct(l, latents, inputs[l]!, n));
    for (let l = 0; l < N; l++) {
      const y = outputs[l]!;
      const r = recon[l]!;
      for (let i = 0; i < n; i++) {
        if (!keep[i]) continue;
        for (let j = 0; j < D; j++) {
          const v = y[i * D + j]!;
          err[l] += (v - r[i * D + j]!) ** 2;
          sumY[l]![j] += v;
          sumY2[l] += v * v;
        }
      }
      const lat = latents[l]!;
      for (let i = 0; i < n; i++) if (keep[i]) nnz[l] += lat.rowPtr[i + 1]! - lat.rowPtr[i]!;
    }
    for (let i = 0; i < n; i++) rowsCounted += keep[i]!;

    const logits = (hooks: ForwardHook[]): Float32Array => T.noGrad(() => model.run(batch, { hooks }).logits!.data);
    const cleanLogits = clean.logits!.data;
    const replace = (l: number, data: Float32Array): ForwardHook => ({ name: outputHook(l), fn: (y) => mixed(y, data, keep) });
    const zeros = new Float32Array(n * D);
    for (let l = 0; l < N; l++) {
      const s = compareLogits(batch, cleanLogits, logits([replace(l, recon[l]!)]), logits([replace(l, zeros)]), V);
      ce.spliced[l] += s.ceSpliced;
      ce.ablatedL[l] += s.ceAblated;
    }
    const all = compareLogits(batch, cleanLogits, logits(replaceAllHooks(set, n, keep)), logits(Array.from({ length: N }, (_, l) => replace(l, zeros))), V);
    ce.clean += all.ceClean;
    ce.replaced += all.ceSpliced;
    ce.ablated += all.ceAblated;
    predictions += all.count;
    tokens += batch.tokenCount;
    o.onProgress?.(tokens);
  };

  // Windows are cut so that no more than maxTokens tokens are evaluated.
  let queued = 0;
  for await (const full of tokenWindows(o, tokenizer, { contextSize: o.contextSize ?? 128 })) {
    const w = full.subarray(0, Math.max(0, maxTokens - queued));
    if (w.length < 2) {
      if (queued + 2 > maxTokens) break;
      continue;
    }
    pending.push(w);
    queued += w.length;
    if (pending.length === per) flush();
    if (queued >= maxTokens) break;
  }
  if (pending.length) flush();
  if (predictions === 0) throw new InputError(`no text to evaluate on: ${o.path} (split ${o.split ?? 'test'}) gives no window of two or more tokens`);
  const recovered = (abl: number, spl: number): number => (abl - ce.clean !== 0 ? (abl - spl) / (abl - ce.clean) : NaN);
  const layers: LayerQuality[] = [];
  for (let l = 0; l < N; l++) {
    let mean2 = 0;
    for (let j = 0; j < D; j++) mean2 += sumY[l]![j]! ** 2;
    const variance = sumY2[l]! - mean2 / Math.max(rowsCounted, 1);
    layers.push({
      layer: l,
      fvu: err[l]! / Math.max(variance, 1e-30),
      l0: nnz[l]! / Math.max(rowsCounted, 1),
      ce_loss_spliced: ce.spliced[l]! / predictions,
      ce_loss_ablated: ce.ablatedL[l]! / predictions,
      ce_loss_recovered: recovered(ce.ablatedL[l]!, ce.spliced[l]!),
    });
  }
  return {
    layers,
    ce_loss_clean: ce.clean / predictions,
    ce_loss_replaced: ce.replaced / predictions,
    ce_loss_ablated: ce.ablated / predictions,
    ce_loss_recovered: recovered(ce.ablated, ce.replaced),
    predictions,
    tokens,
  };
}

/** y with the rows where keep = 1 taken from `data` (BOS and padding rows stay as the model computed them). */
function mixed(y: Tensor, data: Float32Array, keep: Uint8Array): Tensor {
  const D = y.shape[y.ndim - 1]!;
  const out = y.data.slice();
  for (let i = 0; i < keep.length; i++) if (keep[i]) out.set(data.subarray(i * D, (i + 1) * D), i * D);
  return new Tensor(out, y.shape);
}

/** Every MLP replaced by the transcoders, each layer encoding the replaced run's own input. */
export function replaceAllHooks(set: TranscoderSet, n: number, keep: Uint8Array): ForwardHook[] {
  const live: SparseLatents[] = [];
  const inputs: Float32Array[] = [];
  const hooks: ForwardHook[] = [];
  for (let l = 0; l < set.nLayers; l++) {
    hooks.push({
      name: set.inputHook(l),
      fn: (x: Tensor) => {
        inputs[l] = x.data;
        live[l] = set.layers[l]!.encode(x.data, n);
      },
    });
    hooks.push({ name: outputHook(l), fn: (y: Tensor, _ctx: HookContext) => mixed(y, set.reconstruct(l, live, inputs[l]!, n), keep) });
  }
  return hooks;
}
