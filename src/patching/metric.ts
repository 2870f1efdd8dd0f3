// What patching measures, at the last position of the prompt:
//   'logit_diff'  logit(answer) - logit(wrong)  (how much the model prefers the right answer)
//   'loss'        -log p(answer)                 (cross-entropy of the answer)
// Both are available as numbers from logits and as differentiable tensors (attribution patching).
import { InputError } from '../errors.js';
import type { Tokenizer } from '../model/tokenizers/index.js';
import * as T from '../tensor/index.js';
import type { Tensor } from '../tensor/index.js';

export type MetricKind = 'logit_diff' | 'loss';
export const METRIC_KINDS: readonly MetricKind[] = ['logit_diff', 'loss'];

export interface PatchMetric {
  kind: MetricKind;
  answer: number;
  /** Needed for logit_diff. */
  wrong: number | null;
}

export function checkMetric(m: PatchMetric, vocabSize: number): void {
  if (!METRIC_KINDS.includes(m.kind)) throw new InputError(`unknown metric "${m.kind}" (metrics: ${METRIC_KINDS.join(', ')})`);
  for (const [name, id] of [['answer', m.answer], ['wrong', m.wrong]] as const) {
    if (id === null) continue;
    if (!Number.isInteger(id) || id < 0 || id >= vocabSize) throw new InputError(`the ${name} token id ${id} is outside the vocabulary [0, ${vocabSize})`);
  }
  if (m.kind === 'logit_diff' && m.wrong === null) throw new InputError('the logit difference needs a wrong answer too (--wrong), or use --metric loss');
}

/**
 * The one token a string stands for, as it would follow other text: "Paris" and " Paris" both resolve to
 * the word-initial token where the tokenizer has one. Anything that is not exactly one token is an error
 * that names the pieces and the fix.
 */
export function answerToken(tokenizer: Tokenizer, text: string, role = 'answer'): number {
  if (text.length === 0) throw new InputError(`the ${role} is empty; give the token the model should predict`);
  const tries = [text];
  // llama2.c adds a dummy-prefix space itself, so "dog" already encodes as " dog"; byte-level BPEs need it written.
  if (!text.startsWith(' ')) tries.push(' ' + text);
  else tries.push(text.slice(1));
  for (const t of tries) {
    const ids = tokenizer.encode(t, { bos: false });
    if (ids.length === 1) return ids[0]!;
  }
  const ids = tokenizer.encode(text, { bos: false });
  const pieces = ids.map((id) => JSON.stringify(tokenizer.tokenString(id))).join(', ');
  throw new InputError(
    `the ${role} ${JSON.stringify(text)} is ${ids.length} tokens (${pieces}), but patching scores one next token; give a single-token ${role} (e.g. its first piece, ${pieces.split(', ')[0]}), or its id with --${role}-id`,
    { role, text, ids },
  );
}

/** The metric from one row of final-position logits [vocab]. */
export function metricOf(row: Float32Array, offset: number, V: number, m: PatchMetric): number {
  if (m.kind === 'logit_diff') return row[offset + m.answer]! - row[offset + m.wrong!]!;
  let mx = -Infinity;
  for (let v = 0; v < V; v++) mx = Math.max(mx, row[offset + v]!);
  let z = 0;
  for (let v = 0; v < V; v++) z += Math.exp(row[offset + v]! - mx);
  return mx + Math.log(z) - row[offset + m.answer]!;
}

/** Metric per batch row from last-position logits [batch, 1, vocab]. */
export function metricRows(logits_B1V: Tensor, m: PatchMetric): number[] {
  const [B, , V] = logits_B1V.shape as [number, number, number];
  return Array.from({ length: B }, (_, b) => metricOf(logits_B1V.data, b * V, V, m));
}

/** The metric as a scalar tensor of full logits [1, pos, vocab] at position `pos` (differentiable). */
export function metricTensor(logits_1TV: Tensor, pos: number, m: PatchMetric): Tensor {
  const V = logits_1TV.shape[2]!;
  const row = T.reshape(T.slice(logits_1TV, 1, pos, pos + 1), [V]);
  if (m.kind === 'logit_diff') {
    const pick = T.indexSelect(row, 0, [m.answer, m.wrong!]);
    const sign = new T.Tensor(Float32Array.of(1, -1), [2]);
    return T.sum(T.mul(pick, sign));
  }
  return T.neg(T.indexSelect(T.logSoftmax(row, -1), 0, [m.answer]));
}
