// Which dictionary feature to steer for a word, by output evidence: how its decoder direction acts on the
// logits (through the final norm's weight and the unembedding, centred over tokens).
//   logitScore    its direct logit effect on the word's first token / its largest effect on any token
//                 (1: the word is what it promotes most; features search's output evidence);
//   specificity   cosine between its decoder row and the word's promote direction (promote.ts): how much
//                 of what it writes is "say this word" rather than a push on many tokens at once.
// Ranked by their product (both must be high: a feature can align with the promote direction and still
// push other tokens harder, or promote the word only as one of many). Both read the decoder row as a
// residual-stream direction: exact for a dictionary at the last block's output, a guide elsewhere. Input evidence (fires on the word) needs a corpus: see
// `loupe features search`.
import { InputError } from '../errors.js';
import type { Transformer } from '../model/index.js';
import type { Tokenizer } from '../model/tokenizers/index.js';
import type { Sae } from '../sae/sae.js';
import { promoteVector } from './promote.js';

export interface FeatureChoice {
  feature: number;
  logitScore: number;
  specificity: number;
  /** logitScore x specificity (negative parts count as 0): the ranking. */
  score: number;
}

export function featuresForWord(model: Transformer, tokenizer: Tokenizer, sae: Sae, word: string, limit = 10): FeatureChoice[] {
  if (sae.dOut !== model.config.dModel) throw new InputError(`the dictionary writes width ${sae.dOut}, not the residual stream's ${model.config.dModel}: output evidence needs a residual-stream dictionary`);
  const p = promoteVector(model, tokenizer, word, { hook: sae.cfg.hookName || undefined });
  const D = model.config.dModel;
  const V = model.config.vocabSize;
  const W = model.params.W_U.data;
  const gamma = model.params.lnFinal.w.data;
  const first = p.tokens[0]!;
  const out: FeatureChoice[] = [];
  const row = new Float64Array(D);
  for (let f = 0; f < sae.dSae; f++) {
    const dec = sae.decoderRow(f);
    let n = 0;
    let cos = 0;
    for (let j = 0; j < D; j++) {
      row[j] = dec[j]! * gamma[j]!;
      n += dec[j]! ** 2;
      cos += dec[j]! * p.vector[j]!;
    }
    let mean = 0;
    let best = -Infinity;
    let target = 0;
    for (let t = 0; t < V; t++) {
      let s = 0;
      for (let j = 0; j < D; j++) s += row[j]! * W[t * D + j]!;
      mean += s / V;
      if (s > best) best = s;
      if (t === first) target = s;
    }
    const logitScore = best > mean ? (target - mean) / (best - mean) : 0;
    const specificity = n > 0 ? cos / Math.sqrt(n) : 0;
    out.push({ feature: f, logitScore, specificity, score: Math.max(0, logitScore) * Math.max(0, specificity) });
  }
  return out.sort((a, b) => b.score - a.score || b.logitScore - a.logitScore).slice(0, limit);
}
