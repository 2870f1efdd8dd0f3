// Many samples of one prompt at once: the samples share the prompt, so they stay the same length at every
// step and run as one KV-cached batch (one forward per step instead of one per sample). Row i samples
// with its own generator seeded seeds[i], exactly as model/generate.ts does for one sequence, so a row
// gives generate()'s text with that seed (up to float rounding of batched matmuls). A row that hit a stop
// token keeps being fed (its later tokens are dropped) so the batch stays rectangular.
import { InputError } from '../errors.js';
import { defaultStopTokens, KVCache, sampleToken, type ForwardHook, type SamplingOptions, type Transformer } from '../model/index.js';
import { TokenStream, type Tokenizer } from '../model/tokenizers/index.js';
import { Rng } from '../tensor/index.js';

export interface BatchSampleOptions extends SamplingOptions {
  maxNewTokens: number;
  stopTokens?: readonly number[];
  hooks?: readonly ForwardHook[];
}

export interface BatchSample {
  /** Generated ids per row (a stop token, when hit, is the last). */
  ids: number[][];
  /** Text of each row's generated ids, without the stop token. */
  texts: string[];
}

export function sampleBatch(model: Transformer, tokenizer: Tokenizer, promptIds: readonly number[], seeds: readonly number[], opts: BatchSampleOptions): BatchSample {
  const maxNew = opts.maxNewTokens;
  if (!Number.isInteger(maxNew) || maxNew < 0) throw new InputError(`maxNewTokens must be a non-negative integer, got ${maxNew}`);
  if (promptIds.length === 0) throw new InputError('the prompt is empty: pass at least the BOS token');
  const nCtx = model.config.nCtx;
  if (promptIds.length > nCtx) throw new InputError(`the prompt has ${promptIds.length} tokens, longer than the model's context of ${nCtx}`);
  const B = seeds.length;
  const ids: number[][] = seeds.map(() => []);
  if (B === 0 || maxNew === 0) return { ids, texts: seeds.map(() => '') };
  const stop = new Set(opts.stopTokens ?? defaultStopTokens(model));
  const rngs = seeds.map((s) => new Rng(s));
  const done = new Array<boolean>(B).fill(false);
  const cache = new KVCache(model.config, B, Math.min(nCtx, promptIds.length + maxNew));
  const step = (rows: number[][]): Float32Array => model.run(rows, { kvCache: cache, lastLogitsOnly: true, hooks: opts.hooks, withGrad: false }).logits!.data;
  const V = model.config.vocabSize;
  let logits = step(seeds.map(() => promptIds.slice()));
  let length = promptIds.length;
  for (let i = 0; i < maxNew; i++) {
    const next: number[] = [];
    for (let b = 0; b < B; b++) {
      if (done[b]) {
        next.push(ids[b]!.at(-1)!);
        continue;
      }
      const id = sampleToken(logits.subarray(b * V, (b + 1) * V), opts, rngs[b]!);
      ids[b]!.push(id);
      next.push(id);
      if (stop.has(id)) done[b] = true;
    }
    length++;
    if (i === maxNew - 1 || done.every(Boolean) || length >= nCtx) break;
    logits = step(next.map((id) => [id]));
  }
  const texts = ids.map((row) => {
    const stream = new TokenStream(tokenizer, promptIds[promptIds.length - 1]);
    let text = '';
    for (const id of row) if (!stop.has(id)) text += stream.push(id);
    return text + stream.flush();
  });
  return { ids, texts };
}
