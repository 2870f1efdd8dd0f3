// Fluency cost of steering: how surprised the unsteered model is by a continuation. The per-token loss
// of generated ids given the prompt, -log p(id_t | prompt, id_<t), under the plain model (no hooks).
import { InputError } from '../errors.js';
import { TokenBatch, type Transformer } from '../model/index.js';
import * as T from '../tensor/index.js';

export interface ContinuationLoss {
  /** Per continuation: mean loss over its tokens (NaN for an empty continuation). */
  perSample: number[];
  /** Token counts per continuation. */
  tokens: number[];
  /** Sum of all token losses / number of tokens (NaN when nothing was generated). */
  mean: number;
}

/** Losses of continuations of one prompt under the model as it is (pass no steering hooks here). */
export function continuationLoss(model: Transformer, promptIds: readonly number[], continuations: readonly (readonly number[])[], batchSize = 16): ContinuationLoss {
  if (promptIds.length === 0) throw new InputError('continuationLoss: the prompt is empty (it needs at least the BOS token)');
  const P = promptIds.length;
  const perSample: number[] = [];
  const tokens: number[] = [];
  let total = 0;
  let count = 0;
  for (let s = 0; s < continuations.length; s += batchSize) {
    const group = continuations.slice(s, s + batchSize);
    const seqs = group.map((c) => [...promptIds, ...c].slice(0, model.config.nCtx));
    const batch = TokenBatch.from(seqs);
    const logits = T.noGrad(() => model.run(batch, { withGrad: false }).logits!);
    const V = logits.shape[2]!;
    const Tn = batch.maxLen;
    const ld = logits.data;
    group.forEach((c, b) => {
      let sum = 0;
      let n = 0;
      // position t predicts token t + 1; the continuation's tokens sit at P .. len-1
      for (let t = P - 1; t < batch.lengths[b]! - 1; t++) {
        const o = (b * Tn + t) * V;
        let m = -Infinity;
        for (let v = 0; v < V; v++) if (ld[o + v]! > m) m = ld[o + v]!;
        let z = 0;
        for (let v = 0; v < V; v++) z += Math.exp(ld[o + v]! - m);
        sum += m + Math.log(z) - ld[o + seqs[b]![t + 1]!]!;
        n++;
      }
      perSample.push(n ? sum / n : NaN);
      tokens.push(n);
      total += sum;
      count += n;
    });
  }
  return { perSample, tokens, mean: count ? total / count : NaN };
}
