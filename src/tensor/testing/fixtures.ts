// Small helpers shared by the tensor tests: seeded random shapes and tensors, closeness assertions,
// and data kept away from the kinks of non-smooth ops (finite differences across a kink are meaningless).
import assert from 'node:assert/strict';
import { LoupeError } from '../../errors.js';
import { Rng } from '../random.js';
import { Tensor, sizeOf, type Shape } from '../tensor.js';

/** Seeds the gradient tests loop over. */
export const SEEDS = [1, 2, 3] as const;

/** A random shape with `ndim` dimensions of size 1..maxDim (size 1 appears often: it is the edge case). */
export function randomShape(rng: Rng, ndim: number, maxDim = 4): number[] {
  return Array.from({ length: ndim }, () => (rng.uniform() < 0.25 ? 1 : 1 + rng.int(maxDim)));
}

/** Standard normal values times `std`, plus `shift`. */
export function randTensor(rng: Rng, shape: Shape, std = 1, shift = 0): Tensor {
  const d = new Float32Array(sizeOf(shape));
  for (let i = 0; i < d.length; i++) d[i] = shift + std * rng.normal();
  return new Tensor(d, shape);
}

/** Uniform in [lo, hi). */
export function uniformTensor(rng: Rng, shape: Shape, lo: number, hi: number): Tensor {
  const d = new Float32Array(sizeOf(shape));
  for (let i = 0; i < d.length; i++) d[i] = lo + (hi - lo) * rng.uniform();
  return new Tensor(d, shape);
}

/** Normal values, none within `gap` of any kink (for relu, abs, clamp). */
export function awayFromKinks(rng: Rng, shape: Shape, kinks: readonly number[], gap = 0.1, std = 1): Tensor {
  const d = new Float32Array(sizeOf(shape));
  for (let i = 0; i < d.length; i++) {
    let v: number;
    do v = std * rng.normal();
    while (kinks.some((k) => Math.abs(v - k) < gap));
    d[i] = v;
  }
  return new Tensor(d, shape);
}

/** Distinct values with pairwise gaps of at least `gap` within the whole tensor (for max, topk, maximum). */
export function distinctValues(rng: Rng, shape: Shape, gap = 0.1): Tensor {
  const n = sizeOf(shape);
  const p = rng.permutation(n);
  const d = new Float32Array(n);
  for (let i = 0; i < n; i++) d[i] = (p[i]! - n / 2) * gap + 0.3 * gap * rng.uniform();
  return new Tensor(d, shape);
}

export interface CloseOptions {
  atol?: number;
  rtol?: number;
}

/** Elementwise |a - e| <= atol + rtol * |e| (NaN matches NaN, infinities must match exactly). */
export function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, opts: CloseOptions = {}, what = 'values'): void {
  const atol = opts.atol ?? 1e-6;
  const rtol = opts.rtol ?? 1e-5;
  assert.equal(actual.length, expected.length, `${what}: length ${actual.length}, expected ${expected.length}`);
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    if (Number.isNaN(e) && Number.isNaN(a)) continue;
    if (!Number.isFinite(e) && a === e) continue;
    if (!(Math.abs(a - e) <= atol + rtol * Math.abs(e))) {
      assert.fail(`${what}: [${i}] is ${a}, expected ${e} (atol ${atol}, rtol ${rtol})`);
    }
  }
}

/** fn throws a LoupeError of class `cls` whose message matches every pattern. */
export function assertThrowsLoupe(fn: () => unknown, cls: new (...args: never[]) => LoupeError, ...patterns: RegExp[]): LoupeError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof cls, `expected ${cls.name}, got ${caught instanceof Error ? `${caught.name}: ${caught.message}` : String(caught)}`);
  for (const p of patterns) assert.match((caught as Error).message, p);
  return caught as LoupeError;
}

/** Flat row-major index of a multi-index. */
export function flatIndex(shape: Shape, idx: readonly number[]): number {
  let f = 0;
  for (let d = 0; d < shape.length; d++) f = f * shape[d]! + idx[d]!;
  return f;
}

/** Multi-index of a flat row-major index. */
export function unflatIndex(shape: Shape, flat: number): number[] {
  const idx = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    idx[d] = flat % shape[d]!;
    flat = Math.floor(flat / shape[d]!);
  }
  return idx;
}
