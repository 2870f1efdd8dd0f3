// Autoregressive generation with a KV cache: the prompt runs once, then each step feeds one token.
// Hooks given here (or attached with model.withHooks) apply at every step; with the cache a step's
// activations cover only its new position (ctx.offset says which).
import { InputError } from '../errors.js';
import { Rng } from '../tensor/index.js';
import type { ForwardHook } from './hooks.js';
import { KVCache } from './kv-cache.js';
import { checkSampling, sampleToken, type SamplingOptions } from './sampling.js';
import { TokenStream, type Tokenizer } from './tokenizers/index.js';
import type { Transformer } from './transformer.js';

export interface GenerateOptions extends SamplingOptions {
  maxNewTokens: number;
  /** Seed of the sampler (default 0): the same seed gives the same text. */
  seed?: number;
  /** Stop after generating one of these ids (it is kept in ids, not in text). Default: the model's EOS and BOS. */
  stopTokens?: readonly number[];
  /** Called for each new token (streaming); return false to stop. */
  onToken?: (id: number, step: number) => boolean | void;
  /** Called with each piece of text as it becomes complete (needs a tokenizer; multi-byte characters are held back until whole). */
  onText?: (text: string) => void;
  hooks?: readonly ForwardHook[];
  /** false: recompute the whole sequence each step (slow; the cache's reference). Default true. */
  useKvCache?: boolean;
}

export type StopReason = 'max_new_tokens' | 'stop_token' | 'context' | 'callback';

export interface GenerateResult {
  /** Generated ids (a stop token, when hit, is the last one). */
  ids: number[];
  /** Text of the generated ids (without the stop token). */
  text: string;
  stopReason: StopReason;
}

export function defaultStopTokens(model: Transformer): number[] {
  const c = model.config;
  return [...new Set([c.eosTokenId, c.bosTokenId].filter((x): x is number => x !== null))];
}

export function generate(model: Transformer, tokenizer: Tokenizer | null, promptIds: readonly number[], opts: GenerateOptions): GenerateResult {
  checkSampling(opts);
  const maxNew = opts.maxNewTokens;
  if (!Number.isInteger(maxNew) || maxNew < 0) throw new InputError(`maxNewTokens must be a non-negative integer, got ${maxNew}`);
  if (promptIds.length === 0) throw new InputError('the prompt is empty: pass at least the BOS token (encode with {bos: true})');
  const nCtx = model.config.nCtx;
  if (promptIds.length > nCtx) throw new InputError(`the prompt has ${promptIds.length} tokens, longer than the model's context of ${nCtx}`);
  const stop = new Set(opts.stopTokens ?? defaultStopTokens(model));
  const rng = new Rng(opts.seed ?? 0);
  const stream = tokenizer ? new TokenStream(tokenizer, promptIds[promptIds.length - 1]) : null;
  const useCache = opts.useKvCache ?? true;
  const cache = useCache ? new KVCache(model.config, 1, Math.min(nCtx, promptIds.length + maxNew)) : null;
  const all = promptIds.slice();
  const ids: number[] = [];
  let text = '';
  let reason: StopReason = 'max_new_tokens';
  const step = (input: readonly number[]): Float32Array =>
    model.run([input], { kvCache: cache ?? undefined, lastLogitsOnly: true, hooks: opts.hooks, withGrad: false }).logits!.data;

  let logits = maxNew > 0 ? step(all) : null;
  for (let i = 0; i < maxNew && logits; i++) {
    const id = sampleToken(logits, opts, rng);
    ids.push(id);
    all.push(id);
    if (stop.has(id)) {
      reason = 'stop_token';
      break;
    }
    const piece = stream ? stream.push(id) : '';
    if (piece) {
      text += piece;
      opts.onText?.(piece);
    }
    if (opts.onToken?.(id, i) === false) {
      reason = 'callback';
      break;
    }
    if (i === maxNew - 1) break;
    if (all.length >= nCtx) {
      reason = 'context';
      break;
    }
    logits = step(cache ? [id] : all);
  }
  if (stream) {
    const rest = stream.flush();
    if (rest) {
      text += rest;
      opts.onText?.(rest);
    }
  }
  return { ids, text, stopReason: reason };
}
