// In-context learning score (Olsson et al. 2022, "In-context learning and induction heads"): the loss on
// a token late in the context minus the loss on a token early in it, averaged over documents. Negative
// means later tokens are predicted better thanks to the context; it drops sharply when induction heads
// form. The paper uses tokens 500 and 50 of contexts of 512+; a small model's context is shorter, so the
// late position is min(500, ctx - 1) and the early one min(50, late / 10), each averaged over a few
// neighbouring positions (2 * halfWidth + 1) and over every window of held-out text, to steady the estimate.
import { InputError } from '../errors.js';
import type { Transformer } from '../model/index.js';
import { repeatedSegmentRow, stepRng, windowBatches, type Batch, type RepeatOptions } from './batches.js';
import { positionLosses } from './step.js';

export interface IclOptions {
  /** Position of the "late" token (default min(500, ctx - 1)). */
  late?: number;
  /** Position of the "early" token (default min(50, round(late / 10))). */
  early?: number;
  /** Positions averaged: [early - halfWidth, early + halfWidth] and [late - 2 halfWidth, late] (default 2). */
  halfWidth?: number;
  /** Windows averaged over (default 2048: all of a small held-out set). */
  maxWindows?: number;
  /** Windows per forward pass (default 16). */
  batch?: number;
}

export interface IclResult {
  /** loss(late) - loss(early), nats. */
  score: number;
  lateLoss: number;
  earlyLoss: number;
  late: number;
  early: number;
  windows: number;
}

/** The positions the score compares for a context of `ctx` tokens. */
export function iclPositions(ctx: number, o: IclOptions = {}): { early: number; late: number; halfWidth: number } {
  const late = o.late ?? Math.min(500, ctx - 1);
  const early = o.early ?? Math.min(50, Math.max(1, Math.round(late / 10)));
  const halfWidth = o.halfWidth ?? 2;
  if (!Number.isInteger(late) || late < 1 || late > ctx - 1) throw new InputError(`ICL late position ${late} must lie in [1, ${ctx - 1}]`);
  if (!Number.isInteger(early) || early < 0 || early >= late) throw new InputError(`ICL early position ${early} must lie in [0, ${late})`);
  if (!Number.isInteger(halfWidth) || halfWidth < 0) throw new InputError(`ICL halfWidth must be a non-negative integer, got ${halfWidth}`);
  return { early, late, halfWidth };
}

/**
 * Non-overlapping windows of `len` tokens over the stream, at most `maxWindows` of them spread evenly; each
 * is fed on its own, so position p of a window has exactly p tokens of context. Windows start anywhere in
 * a document, not at its start: story openings ("Once upon a time") are formulaic and would make early
 * positions look easy for reasons that have nothing to do with context.
 */
export function contextWindows(stream: Int32Array, len: number, maxWindows: number, batch: number): Batch[] {
  const fit = Math.floor((stream.length - 1) / len);
  const count = Math.min(fit, maxWindows);
  return windowBatches(count, len, batch, (i) => {
    const s = Math.floor((i * fit) / count) * len;
    return stream.subarray(s, s + len + 1);
  });
}

/** Mean loss at each position over the windows, [len]. */
export function lossByPosition(model: Transformer, windows: readonly Batch[]): Float64Array {
  const len = windows[0]?.ctx ?? 0;
  const sum = new Float64Array(len);
  let n = 0;
  for (const w of windows) {
    const l = positionLosses(model, w);
    for (let b = 0; b < w.batch; b++) for (let t = 0; t < len; t++) sum[t] += l[b * len + t]!;
    n += w.batch;
  }
  for (let t = 0; t < len; t++) sum[t] /= Math.max(1, n);
  return sum;
}

/**
 * ICL score on held-out text; with `repeat`, on the training distribution of a run that mixed in
 * repeated-segment sequences: that share of the windows is synthetic (seeded, the same at every
 * checkpoint), as in training.
 */
export function iclScore(model: Transformer, stream: Int32Array, opts: IclOptions & { repeat?: RepeatOptions; seed?: number } = {}): IclResult {
  const ctx = model.config.nCtx;
  const { early, late, halfWidth } = iclPositions(ctx, opts);
  const batch = opts.batch ?? 32;
  const windows = contextWindows(stream, late + 1, opts.maxWindows ?? 2048, batch);
  if (windows.length === 0) throw new InputError(`the held-out text has fewer than ${late + 2} tokens: too little for the ICL score`);
  const textCount = windows.reduce((a, w) => a + w.batch, 0);
  if (opts.repeat && opts.repeat.fraction > 0) {
    const f = Math.min(opts.repeat.fraction, 0.99);
    windows.push(...syntheticWindows(Math.round((textCount * f) / (1 - f)), late + 1, opts.repeat, batch, opts.seed ?? 0));
  }
  const byPos = lossByPosition(model, windows);
  // The same number of positions on both sides: [early - w, early + w] and [late - 2w, late].
  const mean = (from: number, to: number): number => {
    let s = 0;
    for (let t = from; t <= to; t++) s += byPos[t]!;
    return s / (to - from + 1);
  };
  const earlyFrom = Math.max(0, early - halfWidth);
  const earlyTo = Math.min(late - 1, early + halfWidth);
  const lateLoss = mean(Math.max(earlyTo + 1, late - 2 * halfWidth), late);
  const earlyLoss = mean(earlyFrom, earlyTo);
  return { score: lateLoss - earlyLoss, lateLoss, earlyLoss, late, early, windows: windows.reduce((a, w) => a + w.batch, 0) };
}

/** `count` repeated-segment windows of `len` tokens (an evaluation stream of its own, never a training one). */
export function syntheticWindows(count: number, len: number, repeat: RepeatOptions, batch: number, seed: number): Batch[] {
  const rng = stepRng(seed, 0, 0x1c1);
  const row = new Int32Array(len + 1);
  return windowBatches(count, len, batch, () => {
    repeatedSegmentRow(rng, row, repeat);
    return row;
  });
}
