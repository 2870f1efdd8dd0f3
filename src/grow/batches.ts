// Training batches as a pure function of (seed, step): a resumed run draws exactly the batches the
// uninterrupted run would have, with no sampler state to save. Rows are random windows of the token
// stream, or (with repeatFraction > 0) synthetic sequences of a random segment repeated to fill the
// context: after the first copy every token is predictable only by looking back for the previous
// occurrence of the current token and copying what followed it, which is what induction heads do.
import { InputError } from '../errors.js';
import { Rng } from '../tensor/index.js';

export interface Batch {
  /** [batch, ctx] token ids. */
  inputs: Int32Array;
  /** [batch * ctx] next-token targets. */
  targets: Int32Array;
  batch: number;
  ctx: number;
}

export interface RepeatOptions {
  /** Share of rows that are synthetic (0..1). */
  fraction: number;
  minLen: number;
  maxLen: number;
  /** Ids drawn for segments: [firstId, vocab). Lower ids (special tokens) never appear inside a segment. */
  firstId: number;
  vocab: number;
  /** Token that starts each synthetic row (the document separator), as text rows start with it too. */
  separatorId: number;
}

export interface BatchSpec {
  batch: number;
  ctx: number;
  seed: number;
  repeat?: RepeatOptions;
}

/** A generator seeded by (seed, step, stream): independent across steps, identical on every run. */
export function stepRng(seed: number, step: number, stream = 0): Rng {
  // Mix with odd constants so nearby (seed, step) pairs land far apart; Rng's splitmix expands the rest.
  const mixed = (Math.imul(seed + 1, 0x9e3779b1) ^ Math.imul(step + 1, 0x85ebca77) ^ Math.imul(stream + 1, 0xc2b2ae3d)) >>> 0;
  return new Rng(mixed);
}

/** The training batch for one step. */
export function trainingBatch(stream: Int32Array, step: number, spec: BatchSpec): Batch {
  const { batch: B, ctx } = spec;
  if (stream.length < ctx + 1) {
    throw new InputError(`the training text has ${stream.length} tokens; a context of ${ctx} needs at least ${ctx + 1}: use more text or a shorter --ctx`);
  }
  const rng = stepRng(spec.seed, step);
  const row = new Int32Array(ctx + 1);
  const inputs = new Int32Array(B * ctx);
  const targets = new Int32Array(B * ctx);
  for (let b = 0; b < B; b++) {
    if (spec.repeat && spec.repeat.fraction > 0 && rng.uniform() < spec.repeat.fraction) {
      repeatedSegmentRow(rng, row, spec.repeat);
    } else {
      const start = rng.int(stream.length - ctx);
      row.set(stream.subarray(start, start + ctx + 1));
    }
    inputs.set(row.subarray(0, ctx), b * ctx);
    targets.set(row.subarray(1), b * ctx);
  }
  return { inputs, targets, batch: B, ctx };
}

/** Fill `row` with [separator, s, s, s, ...] for a random segment s (cut at the row's end). */
export function repeatedSegmentRow(rng: Rng, row: Int32Array, o: RepeatOptions): void {
  const span = o.vocab - o.firstId;
  if (span < 2) throw new InputError(`repeated-segment data needs at least 2 ordinary tokens, the vocabulary has ${span}`);
  const maxLen = Math.min(o.maxLen, Math.floor((row.length - 1) / 2));
  const minLen = Math.min(o.minLen, maxLen);
  const len = minLen + rng.int(maxLen - minLen + 1);
  row[0] = o.separatorId;
  for (let i = 0; i < len; i++) row[1 + i] = o.firstId + rng.int(span);
  for (let i = 1 + len; i < row.length; i++) row[i] = row[i - len]!;
}

/**
 * Fixed evaluation windows over a held-out stream: `count` windows of ctx + 1 tokens at evenly spaced
 * offsets (deterministic, the same at every checkpoint), grouped into batches of `batch`.
 */
export function evalBatches(stream: Int32Array, ctx: number, batch: number, count: number): Batch[] {
  if (count === 0 || stream.length < 2) return [];
  const len = Math.min(ctx, stream.length - 1);
  const room = stream.length - len - 1;
  return windowBatches(count, len, batch, (i) => {
    const start = count === 1 ? 0 : Math.round((i * room) / (count - 1));
    return stream.subarray(start, start + len + 1);
  });
}

/**
 * `count` windows of len + 1 tokens, window i from `window(i)` (called in order), grouped into batches of
 * `batch`: a window's first len tokens are the inputs, its last len the next-token targets.
 */
export function windowBatches(count: number, len: number, batch: number, window: (i: number) => Int32Array): Batch[] {
  const out: Batch[] = [];
  for (let first = 0; first < count; first += batch) {
    const B = Math.min(batch, count - first);
    const inputs = new Int32Array(B * len);
    const targets = new Int32Array(B * len);
    for (let b = 0; b < B; b++) {
      const w = window(first + b);
      inputs.set(w.subarray(0, len), b * len);
      targets.set(w.subarray(1, len + 1), b * len);
    }
    out.push({ inputs, targets, batch: B, ctx: len });
  }
  return out;
}
