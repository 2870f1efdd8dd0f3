// Contrastive steering vectors: the mean activation difference at a hook between prompts that show a
// behaviour and prompts that do not (ActAdd, Turner et al. 2023; CAA, Rimsky et al. 2024).
//   'mean'    each prompt's activation averaged over its positions (BOS left out), then positive - negative,
//             averaged over pairs: lengths may differ;
//   'last'    the last position of each prompt (CAA);
//   'aligned' position by position ([T, d], ActAdd): a pair must have the same number of tokens.
import { InputError } from '../errors.js';
import { TokenBatch, type Transformer } from '../model/index.js';
import type { Tokenizer } from '../model/tokenizers/index.js';
import * as T from '../tensor/index.js';
import { vectorDirection, type SteeringDirection } from './direction.js';

export type ContrastAggregate = 'mean' | 'last' | 'aligned';
export const CONTRAST_AGGREGATES: readonly ContrastAggregate[] = ['mean', 'last', 'aligned'];

export interface ContrastiveOptions {
  hook: string;
  /** Pairs of [positive, negative] prompts (text, encoded with BOS unless bos is false). */
  pairs: readonly (readonly [string, string])[];
  aggregate?: ContrastAggregate;
  bos?: boolean;
}

export interface ContrastiveVector {
  hook: string;
  aggregate: ContrastAggregate;
  /** One row [d] ('mean', 'last') or one per position [T][d] ('aligned'). */
  rows: Float32Array[];
  /** Norm of the (mean) vector, for choosing strengths. */
  norm: number;
  /** Mean norm of the hook's activations over the prompts' positions (BOS left out), for scale. */
  activationNorm: number;
}

export function contrastiveVector(model: Transformer, tokenizer: Tokenizer, opts: ContrastiveOptions): ContrastiveVector {
  const aggregate = opts.aggregate ?? 'mean';
  if (!CONTRAST_AGGREGATES.includes(aggregate)) throw new InputError(`aggregate must be one of ${CONTRAST_AGGREGATES.join(', ')}, got "${aggregate}"`);
  if (opts.pairs.length === 0) throw new InputError('a contrastive vector needs at least one pair of prompts (positive, negative)');
  if (!model.hookNames().includes(opts.hook)) throw new InputError(`hook "${opts.hook}" is not a hook point of this model (see \`loupe hooks\`)`);
  const bos = opts.bos ?? true;
  const enc = opts.pairs.map(([p, n], i) => {
    const pos = tokenizer.encode(p, { bos });
    const neg = tokenizer.encode(n, { bos });
    if (pos.length === 0 || neg.length === 0) throw new InputError(`pair ${i + 1}: a prompt is empty`);
    if (aggregate === 'aligned' && pos.length !== neg.length) {
      throw new InputError(
        `pair ${i + 1}: the positive prompt has ${pos.length} tokens and the negative ${neg.length}, but aligned vectors subtract position by position; reword one so both have the same token count (\`loupe tokenize\` shows them), or use aggregate "mean"`,
        { pair: i, positiveTokens: pos.length, negativeTokens: neg.length },
      );
    }
    return { pos, neg };
  });
  if (aggregate === 'aligned' && new Set(enc.map((e) => e.pos.length)).size > 1) {
    throw new InputError(`aligned vectors need every pair to have the same token count (got ${[...new Set(enc.map((e) => e.pos.length))].join(', ')}); reword the pairs, or use aggregate "mean"`);
  }
  const seqs = enc.flatMap((e) => [e.pos, e.neg]);
  const batch = TokenBatch.from(seqs);
  const act = T.noGrad(() => model.run(batch, { cache: [opts.hook], withGrad: false })).cache.get(opts.hook);
  const Tn = batch.maxLen;
  const d = act.size / (batch.batch * Tn);
  const a = act.data;
  const bosId = tokenizer.bosId;
  const summarise = (b: number): Float64Array[] => {
    const len = batch.lengths[b]!;
    const row = (t: number): Float64Array => Float64Array.from(a.subarray((b * Tn + t) * d, (b * Tn + t + 1) * d));
    if (aggregate === 'aligned') return Array.from({ length: len }, (_, t) => row(t));
    if (aggregate === 'last') return [row(len - 1)];
    const m = new Float64Array(d);
    let n = 0;
    for (let t = 0; t < len; t++) {
      if (len > 1 && batch.ids[b * Tn + t] === bosId) continue;
      const r = row(t);
      for (let j = 0; j < d; j++) m[j] = m[j]! + r[j]!;
      n++;
    }
    return [m.map((v) => v / n)];
  };
  let rows: Float64Array[] | null = null;
  for (let i = 0; i < enc.length; i++) {
    const p = summarise(2 * i);
    const n = summarise(2 * i + 1);
    rows ??= p.map(() => new Float64Array(d));
    p.forEach((r, t) => {
      for (let j = 0; j < d; j++) rows![t]![j] = rows![t]![j]! + (r[j]! - n[t]![j]!) / enc.length;
    });
  }
  let normSum = 0;
  let normCount = 0;
  for (let b = 0; b < batch.batch; b++)
    for (let t = 0; t < batch.lengths[b]!; t++) {
      if (batch.ids[b * Tn + t] === bosId) continue;
      let s = 0;
      for (let j = 0; j < d; j++) s += a[(b * Tn + t) * d + j]! ** 2;
      normSum += Math.sqrt(s);
      normCount++;
    }
  const out = rows!.map((r) => Float32Array.from(r));
  const mean = new Float64Array(d);
  for (const r of out) for (let j = 0; j < d; j++) mean[j] = mean[j]! + r[j]! / out.length;
  return { hook: opts.hook, aggregate, rows: out, norm: Math.hypot(...mean), activationNorm: normCount ? normSum / normCount : 0 };
}

/** The vector as a steering direction (add mode adds strength * vector; clamp/cap/ablate use its unit direction). */
export function contrastiveDirection(v: ContrastiveVector, label = 'contrastive vector'): SteeringDirection {
  return vectorDirection(v.hook, v.aggregate === 'aligned' ? v.rows : v.rows[0]!, label);
}
