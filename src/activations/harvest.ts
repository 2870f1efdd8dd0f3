// Activations harvested from a model running over text: token windows (token-windows.ts) go through the
// model in batches, the requested hook points are cached, and each real token position becomes one row.
// BOS positions are left out by default: their activations are identical across windows and often of a
// very different norm, and a dictionary should spend no capacity on them (the splice leaves them alone too).
import { InputError } from '../errors.js';
import { hookLayer, hookShape, TokenBatch, type Transformer } from '../model/index.js';
import { unknownHookError } from '../model/hooks.js';
import type { Tokenizer } from '../model/tokenizers/tokenizer.js';
import * as T from '../tensor/index.js';
import type { ActivationChunk, ActivationSource } from './source.js';
import { tokenWindows, type TextDataOptions } from './token-windows.js';

export interface HarvestOptions extends TextDataOptions {
  model: Transformer;
  tokenizer: Tokenizer;
  /** Hook points to record, row-aligned (transcoders: input hook, output hook). */
  hooks: readonly string[];
  /** Tokens per window, BOS included (default 128, SAELens' default). */
  contextSize?: number;
  /** Windows per model call (default: about 4096 tokens' worth). */
  windowsPerBatch?: number;
  /** Repeat the corpus forever (training on more tokens than it holds). */
  loop?: boolean;
  /** Keep rows of BOS positions (default false). */
  includeBos?: boolean;
}

/** Every hook must exist and be a per-token activation ([batch, pos, ...]). */
export function checkHarvestHooks(model: Transformer, hooks: readonly string[]): void {
  const names = model.hookNames();
  for (const h of hooks) {
    if (!names.includes(h)) throw unknownHookError(h, names);
    const dims = hookShape(h, model.config);
    if (dims[1] !== 'pos') {
      throw new InputError(`hook "${h}" has shape [${dims.join(', ')}]; dictionaries train on per-token activations ([batch, pos, ...])`, { hook: h });
    }
  }
}

export class ModelActivationSource implements ActivationSource {
  readonly hooks: readonly string[];
  readonly widths: readonly number[];
  private readonly stopAtLayer: number | undefined;

  constructor(private readonly opts: HarvestOptions) {
    if (opts.hooks.length === 0) throw new InputError('harvesting needs at least one hook point');
    checkHarvestHooks(opts.model, opts.hooks);
    this.hooks = opts.hooks.slice();
    // Blocks past the last hooked one are never needed.
    const layers = opts.hooks.map((h) => hookLayer(h));
    this.stopAtLayer = layers.every((l) => l !== null) ? Math.max(...(layers as number[])) + 1 : undefined;
    const probe = T.noGrad(() => opts.model.run([opts.tokenizer.bosId ?? 0], { cache: this.hooks, stopAtLayer: this.stopAtLayer }));
    this.widths = this.hooks.map((h) => {
      const t = probe.cache.get(h);
      return t.size / (t.shape[0]! * t.shape[1]!);
    });
  }

  async *read(from?: unknown): AsyncIterable<ActivationChunk> {
    const o = this.opts;
    const ctx = o.contextSize ?? 128;
    const perBatch = o.windowsPerBatch ?? Math.max(1, Math.floor(4096 / ctx));
    let consumed = typeof from === 'object' && from !== null && typeof (from as { windows?: unknown }).windows === 'number' ? (from as { windows: number }).windows : 0;
    const bos = o.tokenizer.bosId;
    let pending: Int32Array[] = [];
    const flush = (): ActivationChunk => {
      const batch = TokenBatch.from(pending);
      const result = T.noGrad(() => o.model.run(batch, { cache: this.hooks, stopAtLayer: this.stopAtLayer }));
      let rows = 0;
      for (let b = 0; b < batch.batch; b++)
        for (let t = 0; t < batch.lengths[b]!; t++) if (o.includeBos || batch.ids[b * batch.maxLen + t] !== bos) rows++;
      const acts = this.hooks.map((h, i) => {
        const w = this.widths[i]!;
        const src = result.cache.get(h).data; // [batch, maxLen, w]
        const out = new Float32Array(rows * w);
        let r = 0;
        for (let b = 0; b < batch.batch; b++)
          for (let t = 0; t < batch.lengths[b]!; t++) {
            if (!o.includeBos && batch.ids[b * batch.maxLen + t] === bos) continue;
            const at = (b * batch.maxLen + t) * w;
            out.set(src.subarray(at, at + w), r++ * w);
          }
        return out;
      });
      consumed += pending.length;
      const tokens = batch.tokenCount;
      pending = [];
      return { rows, acts, tokens, resume: { windows: consumed } };
    };
    for await (const w of tokenWindows(o, o.tokenizer, { contextSize: ctx, loop: o.loop, skipWindows: consumed })) {
      pending.push(w);
      if (pending.length === perBatch) yield flush();
    }
    if (pending.length) yield flush();
  }
}
