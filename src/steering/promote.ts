// A residual direction that makes the model say a word: the direction whose direct effect on the logits
// (through the final norm's weight and the unembedding, centred over the vocabulary, as feature logit
// effects are read) best matches "raise the word's tokens, leave every other token where it is", in the
// least-squares sense:
//   A = W_U diag(gamma) - mean over tokens,   t = weights on the word's tokens (centred),
//   d = argmin ||A d - t||^2 = (A^T A)^-1 A^T t,   scaled to unit length.
// With d_model much smaller than the vocabulary no direction moves one token alone; this one moves the
// others least for what it gives the word. On stories260K it steers concepts far better than dictionary
// features or contrastive vectors at the same fluency cost (docs/steering.md): most of the fluency lost to
// steering comes from what a direction does to every other token, not from the concept itself.
import { InputError } from '../errors.js';
import type { Transformer } from '../model/index.js';
import type { Tokenizer } from '../model/tokenizers/index.js';
import { vectorDirection, type SteeringDirection } from './direction.js';
import { solve } from './intervene.js';

export interface PromoteOptions {
  /** Hook to steer at (default: the last block's hook_resid_post, where the readout is direct). */
  hook?: string;
  /** Weight of the word's later pieces relative to its first (0: first piece only; default 0.5, measured best in docs/steering.md). */
  restWeight?: number;
}

export interface PromoteVector {
  hook: string;
  /** The word's tokens as it appears after a space, mid-text. */
  tokens: number[];
  /** Unit direction [d_model]. */
  vector: Float32Array;
  /** Its direct logit effect (centred) on each of the word's tokens, and the largest on any other token. */
  targetEffects: number[];
  largestOtherEffect: number;
}

/** The word's tokens as they appear mid-text (after a space). */
export function wordTokens(tokenizer: Tokenizer, word: string): number[] {
  const w = word.trim();
  if (!w) throw new InputError('the word to promote is empty');
  // llama2.c's tokenizer adds a dummy-prefix space itself; byte-level BPEs need it written.
  const ids = tokenizer.kind === 'llama2c' ? tokenizer.encode(w, { bos: false }) : tokenizer.encode(' ' + w, { bos: false });
  if (ids.length === 0) throw new InputError(`"${word}" encodes to no tokens`);
  return ids;
}

export function promoteVector(model: Transformer, tokenizer: Tokenizer, word: string, opts: PromoteOptions = {}): PromoteVector {
  const c = model.config;
  const hook = opts.hook ?? `blocks.${c.nLayers - 1}.hook_resid_post`;
  if (!model.hookNames().includes(hook)) throw new InputError(`hook "${hook}" is not a hook point of this model (see \`loupe hooks\`)`);
  const rest = opts.restWeight ?? 0.5;
  if (!(rest >= 0)) throw new InputError(`restWeight must be >= 0, got ${rest}`);
  const tokens = wordTokens(tokenizer, word);
  const D = c.dModel;
  const V = c.vocabSize;
  const W = model.params.W_U.data; // [vocab, d_model]
  const gamma = model.params.lnFinal.w.data;
  // A[t] = W_U[t] * gamma, centred over tokens (softmax ignores a shift shared by every token).
  const A = new Float64Array(V * D);
  const mean = new Float64Array(D);
  for (let t = 0; t < V; t++) for (let j = 0; j < D; j++) mean[j] = mean[j]! + (A[t * D + j] = W[t * D + j]! * gamma[j]!) / V;
  for (let t = 0; t < V; t++) for (let j = 0; j < D; j++) A[t * D + j] = A[t * D + j]! - mean[j]!;
  const target = new Float64Array(V);
  tokens.forEach((id, i) => (target[id] = Math.max(target[id]!, i === 0 ? 1 : rest)));
  const M = Array.from({ length: D }, () => new Array<number>(D).fill(0));
  const rhs = new Array<number>(D).fill(0);
  for (let t = 0; t < V; t++) {
    const o = t * D;
    for (let i = 0; i < D; i++) {
      const a = A[o + i]!;
      if (target[t]) rhs[i] = rhs[i]! + a * target[t]!;
      const row = M[i]!;
      for (let j = i; j < D; j++) row[j] = row[j]! + a * A[o + j]!;
    }
  }
  let trace = 0;
  for (let i = 0; i < D; i++) {
    for (let j = 0; j < i; j++) M[i]![j] = M[j]![i]!;
    trace += M[i]![i]!;
  }
  for (let i = 0; i < D; i++) M[i]![i] = M[i]![i]! + 1e-6 * (trace / D); // a whisper of ridge for stability
  let d = solve(M, rhs, () => ['the unembedding']);
  // LayerNorm removes the mean over d_model from any input, so a mean component would do nothing.
  if (c.norm === 'layer') {
    const m = d.reduce((s, x) => s + x, 0) / D;
    d = d.map((x) => x - m);
  }
  const norm = Math.hypot(...d);
  if (!(norm > 0)) throw new InputError(`no direction promotes "${word}" (its tokens' unembedding rows are the vocabulary mean)`);
  const vector = Float32Array.from(d, (x) => x / norm);
  const effect = (t: number): number => {
    let s = 0;
    for (let j = 0; j < D; j++) s += A[t * D + j]! * vector[j]!;
    return s;
  };
  let largestOther = -Infinity;
  const set = new Set(tokens);
  for (let t = 0; t < V; t++) if (!set.has(t)) largestOther = Math.max(largestOther, effect(t));
  return { hook, tokens, vector, targetEffects: tokens.map(effect), largestOtherEffect: largestOther };
}

/** The promote vector as a steering direction (add it with a strength in activation units). */
export function promoteDirection(model: Transformer, tokenizer: Tokenizer, word: string, opts: PromoteOptions = {}): SteeringDirection {
  const p = promoteVector(model, tokenizer, word, opts);
  return vectorDirection(p.hook, p.vector, `promote "${word.trim()}"`);
}
