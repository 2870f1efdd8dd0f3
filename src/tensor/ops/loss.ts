// Cross-entropy from logits, fused with log-softmax for stability.
import { InputError, ShapeError } from '../../errors.js';
import { result } from '../autograd.js';
import { Tensor } from '../tensor.js';
import { expFast } from './fastmath.js';

export interface CrossEntropyOptions {
  /** Targets equal to this are skipped (padding). */
  ignoreIndex?: number;
  /** 'mean' over non-ignored targets (a scalar), or 'none' (one loss per row, 0 where ignored). */
  reduction?: 'mean' | 'none';
}

/** logits [N, V] (or [..., V]), targets one per row. */
export function crossEntropy(logits: Tensor, targets: ArrayLike<number>, opts: CrossEntropyOptions = {}): Tensor {
  const V = logits.shape[logits.ndim - 1]!;
  const N = logits.size / V;
  if (targets.length !== N) throw new ShapeError('crossEntropy', `got ${targets.length} targets for ${N} rows of logits`, [logits.shape]);
  const ignore = opts.ignoreIndex ?? -100;
  const reduction = opts.reduction ?? 'mean';
  const ld = logits.data;
  const lse = new Float64Array(N);
  const losses = new Float32Array(N);
  let count = 0;
  let total = 0;
  for (let r = 0; r < N; r++) {
    const t = targets[r]!;
    if (t === ignore) continue;
    if (!Number.isInteger(t) || t < 0 || t >= V) throw new InputError(`crossEntropy: target ${t} at row ${r} is outside the vocabulary [0, ${V})`);
    const o = r * V;
    let m = -Infinity;
    for (let j = 0; j < V; j++) if (ld[o + j]! > m) m = ld[o + j]!;
    let s = 0;
    for (let j = 0; j < V; j++) s += expFast(ld[o + j]! - m);
    lse[r] = m + Math.log(s);
    losses[r] = lse[r]! - ld[o + t]!;
    total += losses[r]!;
    count++;
  }
  const mean = reduction === 'mean';
  const out = mean ? Float32Array.of(count ? total / count : 0) : losses;
  const shape = mean ? [] : logits.shape.slice(0, -1);
  return result(out, shape, 'crossEntropy', [logits], (g) => {
    const gl = new Float32Array(logits.size);
    for (let r = 0; r < N; r++) {
      const t = targets[r]!;
      if (t === ignore) continue;
      const w = mean ? g[0]! / count : g[r]!;
      const o = r * V;
      for (let j = 0; j < V; j++) gl[o + j] = w * expFast(ld[o + j]! - lse[r]!);
      gl[o + t] -= w;
    }
    return [gl];
  });
}
