// Mean next-token loss over a text. Windowing (docs/model.md): the whole text is tokenised once with no
// BOS, into one stream of tokens, then cut into consecutive non-overlapping windows of `ctx` tokens (the
// last one may be shorter). With BOS (the default for models that have one) each window w is fed as
// [BOS, w0 .. w(n-2)] and all n of its tokens are predicted, so every token of the stream is predicted
// exactly once, each with BOS at position 0 as in training. Without BOS the window itself is fed and
// tokens w1 .. w(n-1) are predicted. Loss = mean negative log-likelihood in nats over predicted tokens.
import { InputError } from '../../errors.js';
import type { Tokenizer } from '../../model/tokenizers/index.js';
import { expFast } from '../../tensor/ops/fastmath.js';
import type { Transformer } from '../../model/index.js';

export interface TextLossOptions {
  ctx: number;
  /** Prepend BOS to every window (default: when the model has a BOS token). */
  bos?: boolean;
  /** Windows per forward pass (default: as many as keep the logits and one layer's attention pattern to ~1M values each). */
  batchSize?: number;
  /** Stop after this many windows. */
  maxWindows?: number;
  onProgress?: (windowsDone: number, windowsTotal: number) => void;
}

export interface LossResult {
  /** Mean NLL in nats per predicted token. */
  loss: number;
  /** Number of predicted tokens. */
  tokens: number;
  windows: number;
  ctx: number;
  bos: boolean;
}

export function textLoss(model: Transformer, tokenizer: Tokenizer, text: string, opts: TextLossOptions): LossResult {
  return streamLoss(model, tokenizer.encode(text, { bos: false }), opts);
}

export function streamLoss(model: Transformer, stream: readonly number[], opts: TextLossOptions): LossResult {
  const c = model.config;
  const ctx = opts.ctx;
  if (!Number.isInteger(ctx) || ctx < 1) throw new InputError(`ctx must be a positive integer, got ${ctx}`);
  if (ctx > c.nCtx) throw new InputError(`ctx ${ctx} is longer than the model's context of ${c.nCtx} tokens`);
  const bos = opts.bos ?? c.bosTokenId !== null;
  if (bos && c.bosTokenId === null) throw new InputError('this model has no BOS token; compute the loss without BOS');
  if (!bos && ctx < 2) throw new InputError('without BOS, ctx must be at least 2 (one token of context, one predicted)');
  let nWindows = Math.ceil(stream.length / ctx);
  if (opts.maxWindows !== undefined) nWindows = Math.min(nWindows, opts.maxWindows);
  if (nWindows === 0) throw new InputError('the text has no tokens');
  const V = c.vocabSize;
  // Large batches buy nothing once the matmuls are big enough; they only make temporaries that fall
  // out of cache (measured: 1-2 windows of 256 beat 8-16 for stories260K).
  const batchSize = opts.batchSize ?? Math.max(1, Math.min(64, Math.floor(1_000_000 / (ctx * Math.max(V, c.nHeads * ctx)))));
  let total = 0;
  let tokens = 0;
  for (let w0 = 0; w0 < nWindows; w0 += batchSize) {
    const inputs: number[][] = [];
    const targets: number[][] = [];
    for (let w = w0; w < Math.min(nWindows, w0 + batchSize); w++) {
      const win = stream.slice(w * ctx, (w + 1) * ctx);
      if (bos) {
        inputs.push([c.bosTokenId!, ...win.slice(0, -1)]);
        targets.push(win);
      } else if (win.length >= 2) {
        inputs.push(win);
        targets.push(win.slice(1));
      }
    }
    if (inputs.length) {
      const { logits, batch } = model.run(inputs, { withGrad: false });
      const Tn = batch.maxLen;
      const ld = logits!.data;
      targets.forEach((tg, b) => {
        for (let t = 0; t < tg.length; t++) {
          const o = (b * Tn + t) * V;
          let m = -Infinity;
          for (let j = 0; j < V; j++) if (ld[o + j]! > m) m = ld[o + j]!;
          let s = 0;
          for (let j = 0; j < V; j++) s += expFast(ld[o + j]! - m);
          total += m + Math.log(s) - ld[o + tg[t]!]!;
        }
        tokens += tg.length;
      });
    }
    opts.onProgress?.(Math.min(nWindows, w0 + batchSize), nWindows);
  }
  if (tokens === 0) throw new InputError('no token was predicted (the text is too short for the windowing)');
  return { loss: total / tokens, tokens, windows: nWindows, ctx, bos };
}
