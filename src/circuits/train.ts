// Transcoders for every layer of a model, from one pass of the model over a text corpus:
//   per-layer  one transcoder per layer (MLP input -> MLP output), each trained by the dictionary trainer
//              (sae/trainer.ts) on its own view of a shared harvest (fan-out.ts), all layers in step;
//   clt        a cross-layer transcoder trained jointly (clt-train.ts).
// Then each layer's quality on held-out text (evaluate.ts), recorded in DIR/transcoders.json.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ModelActivationSource } from '../activations/harvest.js';
import type { TextDataOptions } from '../activations/token-windows.js';
import { InputError } from '../errors.js';
import type { Transformer } from '../model/index.js';
import type { Tokenizer } from '../model/tokenizers/tokenizer.js';
import { textMetadata } from '../sae/text-training.js';
import { trainSae, type TrainResult } from '../sae/trainer.js';
import { trainClt } from './clt-train.js';
import { evaluateTranscoders, type TranscoderEvalResult } from './evaluate.js';
import { FanOut } from './fan-out.js';
import { inputHook, outputHook, TranscoderSet, type InputSite, type LayerQuality, type TranscoderKind } from './transcoder-set.js';

export interface TrainTranscodersOptions {
  model: Transformer;
  tokenizer: Tokenizer;
  data: TextDataOptions;
  kind: TranscoderKind;
  /** Per-layer: 'topk' or 'relu' (transcoder-topk / transcoder-relu); a CLT is TopK. */
  arch: 'topk' | 'relu';
  latents: number;
  k?: number | null;
  tokens: number;
  batchSize?: number;
  lr?: number;
  l1Coefficient?: number;
  seed?: number;
  site?: InputSite;
  skip?: boolean;
  contextSize?: number;
  bufferRows?: number;
  out: string;
  modelName?: string;
  /** Held-out tokens for the quality numbers (default 8192; 0 skips the evaluation). */
  evalTokens?: number;
  onProgress?: (p: { tokens: number; totalTokens: number; loss: number; fvu: number }) => void;
  onEval?: (tokens: number) => void;
}

export interface TrainTranscodersResult {
  set: TranscoderSet;
  quality: LayerQuality[];
  evaluation: TranscoderEvalResult | null;
  tokens: number;
  trainSeconds: number;
  seconds: number;
}

export async function trainTranscoders(o: TrainTranscodersOptions): Promise<TrainTranscodersResult> {
  const t0 = performance.now();
  const c = o.model.config;
  if (c.attnOnly) throw new InputError('the model has no MLPs (attention-only): there is nothing for transcoders to replace');
  if (c.parallelAttnMlp) throw new InputError('parallel attention/MLP blocks are not supported by the replacement model yet');
  if (o.kind === 'clt' && o.arch !== 'topk') throw new InputError('a CLT is trained with TopK latents: use --arch topk (or --kind per-layer for ReLU transcoders)');
  if ((o.arch === 'topk') !== (o.k !== undefined && o.k !== null)) throw new InputError(o.arch === 'topk' ? 'TopK transcoders need --k' : 'ReLU transcoders take no --k');
  if (fs.existsSync(path.join(o.out, 'transcoders.json'))) throw new InputError(`${o.out} already holds a transcoder set; choose another --out`);
  const N = c.nLayers;
  const site = o.site ?? 'ln2.hook_normalized';
  const contextSize = o.contextSize ?? 128;
  const batchSize = o.batchSize ?? 1024;
  const hooks = [...Array.from({ length: N }, (_, l) => inputHook(l, site)), ...Array.from({ length: N }, (_, l) => outputHook(l))];
  const source = new ModelActivationSource({ ...o.data, model: o.model, tokenizer: o.tokenizer, hooks, contextSize, loop: true });
  const modelName = o.modelName ?? c.name ?? '';
  const metadata = textMetadata(o.data, contextSize);
  const bufferRows = o.bufferRows ?? Math.min(o.tokens, Math.max(batchSize, 16 * batchSize, 32768));
  fs.mkdirSync(o.out, { recursive: true });

  let set: TranscoderSet;
  let trainQuality: LayerQuality[];
  let tokens: number;
  if (o.kind === 'per-layer') {
    const fan = new FanOut(source, Array.from({ length: N }, (_, l) => [l, N + l]));
    const seen = new Array<number>(N).fill(0);
    const losses = new Array<number>(N).fill(0);
    const fvus = new Array<number>(N).fill(0);
    const results: TrainResult[] = await Promise.all(
      Array.from({ length: N }, (_, l) =>
        trainSae({
          architecture: `transcoder-${o.arch}`,
          latents: o.latents,
          k: o.k ?? null,
          tokens: o.tokens,
          batchSize,
          lr: o.lr,
          l1Coefficient: o.l1Coefficient,
          seed: o.seed,
          skip: o.skip,
          source: fan.view(l),
          bufferRows,
          out: path.join(o.out, `layer-${l}`),
          checkpointEvery: 0,
          keepCheckpoints: 1,
          hookName: inputHook(l, site),
          hookNameOut: outputHook(l),
          modelName,
          metadata,
          onStep: (p) => {
            seen[l] = p.tokens;
            losses[l] = p.loss;
            fvus[l] = p.fvu;
            if (l === N - 1) o.onProgress?.({ tokens: Math.min(...seen), totalTokens: p.totalTokens, loss: mean(losses), fvu: mean(fvus) });
          },
        }),
      ),
    );
    for (const r of results) for (const dir of r.checkpoints) fs.rmSync(path.dirname(dir), { recursive: true, force: true });
    set = TranscoderSet.fromSaes(results.map((r) => r.sae), { modelName });
    trainQuality = results.map((r, l) => ({ layer: l, train_fvu: r.final.fvu, train_l0: r.final.l0, dead_fraction: r.final.deadFraction, train_loss: r.final.loss }));
    tokens = results[0]!.tokens;
  } else {
    const r = await trainClt({
      source,
      nLayers: N,
      site,
      latents: o.latents,
      k: o.k!,
      tokens: o.tokens,
      batchSize,
      lr: o.lr,
      bufferRows,
      seed: o.seed,
      modelName,
      onStep: (p) => o.onProgress?.({ tokens: p.tokens, totalTokens: p.totalSteps * batchSize, loss: p.loss, fvu: mean(p.fvu) }),
    });
    set = r.set;
    trainQuality = Array.from({ length: N }, (_, l) => ({ layer: l, train_fvu: r.final.fvu[l]!, train_l0: r.l0[l]!, dead_fraction: r.final.dead[l]! }));
    tokens = r.tokens;
  }
  const trainSeconds = (performance.now() - t0) / 1000;
  let evaluation: TranscoderEvalResult | null = null;
  if ((o.evalTokens ?? 8192) > 0) {
    evaluation = await evaluateTranscoders({ ...o.data, split: 'test', model: o.model, tokenizer: o.tokenizer, set, contextSize, maxTokens: o.evalTokens ?? 8192, onProgress: o.onEval });
  }
  const quality = trainQuality.map((q, l) => ({ ...q, ...(evaluation?.layers[l] ?? {}), layer: l }));
  set.info = {
    modelName,
    training: {
      kind: o.kind,
      architecture: o.kind === 'clt' ? 'clt-topk' : `transcoder-${o.arch}`,
      latents: o.latents,
      k: o.k ?? null,
      tokens,
      batch_size: batchSize,
      seconds: trainSeconds,
      site,
      ...metadata,
      ...(evaluation ? { eval: { tokens: evaluation.tokens, ce_loss_clean: evaluation.ce_loss_clean, ce_loss_replaced: evaluation.ce_loss_replaced, ce_loss_ablated: evaluation.ce_loss_ablated, ce_loss_recovered: evaluation.ce_loss_recovered } } : {}),
    },
    quality,
  };
  set.save(o.out, { weights: o.kind === 'clt' });
  return { set, quality, evaluation, tokens, trainSeconds, seconds: (performance.now() - t0) / 1000 };
}

function mean(a: readonly number[]): number {
  return a.reduce((s, v) => s + v, 0) / Math.max(a.length, 1);
}
