// Choosing the next token from logits: greedy (temperature 0), or sampling at a temperature from the
// top-k and/or top-p (nucleus) set, with a seeded generator so runs repeat exactly.
import { InputError } from '../errors.js';
import type { Rng } from '../tensor/index.js';

export interface SamplingOptions {
  /** 0 = greedy (argmax, ties to the lowest id); default 1. */
  temperature?: number;
  /** Keep only the k most likely tokens (0 or undefined: all). */
  topK?: number;
  /** Keep the smallest set of most likely tokens whose probability reaches p (1 or undefined: all). */
  topP?: number;
}

export function checkSampling(o: SamplingOptions): void {
  const t = o.temperature ?? 1;
  if (!Number.isFinite(t) || t < 0) throw new InputError(`temperature must be >= 0, got ${t}`);
  if (o.topK !== undefined && (!Number.isInteger(o.topK) || o.topK < 0)) throw new InputError(`topK must be a non-negative integer, got ${o.topK}`);
  if (o.topP !== undefined && !(o.topP > 0 && o.topP <= 1)) throw new InputError(`topP must be in (0, 1], got ${o.topP}`);
}

export function argmax(row: ArrayLike<number>): number {
  let best = 0;
  for (let j = 1; j < row.length; j++) if (row[j]! > row[best]!) best = j;
  return best;
}

/** One token id from one row of logits [vocab]. */
export function sampleToken(logits: Float32Array, o: SamplingOptions, rng: Rng): number {
  const temperature = o.temperature ?? 1;
  if (temperature === 0) return argmax(logits);
  const V = logits.length;
  // Candidates sorted by logit (descending, ties to the lower id), cut to top-k.
  let order = Array.from({ length: V }, (_, i) => i);
  order.sort((a, b) => logits[b]! - logits[a]! || a - b);
  if (o.topK && o.topK < V) order = order.slice(0, o.topK);
  const m = logits[order[0]!]!;
  const probs = new Float64Array(order.length);
  let total = 0;
  for (let i = 0; i < order.length; i++) total += probs[i] = Math.exp((logits[order[i]!]! - m) / temperature);
  let keep = order.length;
  if (o.topP !== undefined && o.topP < 1) {
    let cum = 0;
    for (let i = 0; i < order.length; i++) {
      cum += probs[i]! / total;
      if (cum >= o.topP) {
        keep = i + 1;
        break;
      }
    }
  }
  let kept = 0;
  for (let i = 0; i < keep; i++) kept += probs[i]!;
  let r = rng.uniform() * kept;
  for (let i = 0; i < keep; i++) {
    r -= probs[i]!;
    if (r < 0) return order[i]!;
  }
  return order[keep - 1]!;
}
