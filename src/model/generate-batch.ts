// Batched generation: several prompts of different lengths decode together, one forward pass per step
// for all of them. The prompts run once as a right-padded batch into a KV cache whose sequences keep
// their own lengths (each sequence gets its own positions and a key mask at its length), then every
// step feeds each live row its last token. Row i samples with its own generator, exactly as generate()
// does for its prompt alone, so each row gives generate()'s tokens (up to float rounding of the batched
// matmuls). A row that stops leaves the batch (its cache rows are dropped), so later steps cost less.
import { InputError } from '../errors.js';
import { Rng } from '../tensor/index.js';
import { TokenBatch, type TokenInput } from './batch.js';
import { defaultStopTokens, type GenerateResult, type StopReason } from './generate.js';
import type { ForwardHook } from './hooks.js';
import { KVCache } from './kv-cache.js';
import { checkSampling, sampleToken, type SamplingOptions } from './sampling.js';
import { TokenStream, type Tokenizer } from './tokenizers/index.js';
import type { Transformer } from './transformer.js';

export interface GenerateBatchOptions extends SamplingOptions {
  maxNewTokens: number;
  /** Row i's sampler seed is seed + i (default seed 0), unless seeds is given. */
  seed?: number;
  /** One sampler seed per prompt. */
  seeds?: readonly number[];
  /** Stop a row after it generates one of these ids (kept in its ids, not its text). Default: the model's EOS and BOS. */
  stopTokens?: readonly number[];
  /** Called for each new token of prompt `row` (step counts that row's tokens); return false to stop that row. */
  onToken?: (row: number, id: number, step: number) => boolean | void;
  /** Called with each complete piece of prompt `row`'s text (needs a tokenizer). */
  onText?: (row: number, text: string) => void;
  /**
   * Forward hooks at every step. A hook sees the live rows only (finished ones leave the batch), and
   * ctx.rowOffsets gives each row's positions when the rows differ in length.
   */
  hooks?: readonly ForwardHook[];
}

interface Row {
  all: number[];
  ids: number[];
  text: string;
  reason: StopReason;
  rng: Rng;
  stream: TokenStream | null;
}

/** One result per prompt, in order; row i equals generate(model, tokenizer, prompts[i], {seed: seeds[i], ...}). */
export function generateBatch(model: Transformer, tokenizer: Tokenizer | null, prompts: readonly (readonly number[])[], opts: GenerateBatchOptions): GenerateResult[] {
  checkSampling(opts);
  const maxNew = opts.maxNewTokens;
  if (!Number.isInteger(maxNew) || maxNew < 0) throw new InputError(`maxNewTokens must be a non-negative integer, got ${maxNew}`);
  const nCtx = model.config.nCtx;
  prompts.forEach((p, i) => {
    if (p.length === 0) throw new InputError(`prompt ${i} is empty: pass at least the BOS token (encode with {bos: true})`);
    if (p.length > nCtx) throw new InputError(`prompt ${i} has ${p.length} tokens, longer than the model's context of ${nCtx}`);
  });
  const B = prompts.length;
  if (opts.seeds && opts.seeds.length !== B) throw new InputError(`seeds has ${opts.seeds.length} entries for ${B} prompts`);
  const seeds = opts.seeds ?? prompts.map((_, i) => (opts.seed ?? 0) + i);
  const stop = new Set(opts.stopTokens ?? defaultStopTokens(model));
  const rows: Row[] = prompts.map((p, i) => ({
    all: p.slice(),
    ids: [],
    text: '',
    reason: 'max_new_tokens',
    rng: new Rng(seeds[i]!),
    stream: tokenizer ? new TokenStream(tokenizer, p[p.length - 1]) : null,
  }));
  const results = (): GenerateResult[] => rows.map((r) => ({ ids: r.ids, text: r.text, stopReason: r.reason }));
  if (B === 0 || maxNew === 0) return results();

  const longest = Math.max(...prompts.map((p) => p.length));
  const cache = new KVCache(model.config, B, Math.min(nCtx, longest + maxNew));
  const step = (input: TokenInput): Float32Array => model.run(input, { kvCache: cache, lastLogitsOnly: true, hooks: opts.hooks, withGrad: false }).logits!.data;
  const finish = (r: number, reason: StopReason): void => {
    const row = rows[r]!;
    row.reason = reason;
    const rest = row.stream?.flush() ?? '';
    if (rest) {
      row.text += rest;
      opts.onText?.(r, rest);
    }
  };
  const V = model.config.vocabSize;
  // live[k]: the prompt whose sequence sits in row k of the batch (and of the cache).
  let live = prompts.map((_, i) => i);
  let logits = step(TokenBatch.from(prompts));
  // Every live row has generated exactly i tokens at step i: the rows start together.
  for (let i = 0; ; i++) {
    const keep: number[] = [];
    live.forEach((r, k) => {
      const row = rows[r]!;
      const id = sampleToken(logits.subarray(k * V, (k + 1) * V), opts, row.rng);
      row.ids.push(id);
      row.all.push(id);
      if (stop.has(id)) return finish(r, 'stop_token');
      const piece = row.stream ? row.stream.push(id) : '';
      if (piece) {
        row.text += piece;
        opts.onText?.(r, piece);
      }
      if (opts.onToken?.(r, id, i) === false) return finish(r, 'callback');
      if (i === maxNew - 1) return finish(r, 'max_new_tokens');
      if (row.all.length >= nCtx) return finish(r, 'context');
      keep.push(k);
    });
    if (keep.length === 0) break;
    if (keep.length < live.length) {
      cache.keepRows(keep);
      live = keep.map((k) => live[k]!);
    }
    logits = step(live.map((r) => [rows[r]!.all[rows[r]!.all.length - 1]!]));
  }
  return results();
}
