// Synthetic activations with a known answer: each row is a sparse non-negative combination of fixed
// ground-truth directions, plus a constant offset and a little noise. A dictionary trained on them should
// recover the directions (a falsifiable test of the whole training stack, no model needed).
import { InputError } from '../errors.js';
import { Rng } from '../tensor/index.js';
import { mixSeed } from './buffer.js';
import type { ActivationChunk, ActivationSource } from './source.js';

export interface SyntheticOptions {
  dIn: number;
  /** Number of ground-truth directions. */
  features: number;
  /** Expected number of active directions per row (each fires independently). */
  activePerRow: number;
  /** Standard deviation of isotropic Gaussian noise added to every row (default 0.01). */
  noise?: number;
  /** Norm of the constant offset added to every row (default 1): b_dec should learn it. */
  offset?: number;
  seed: number;
  chunkRows?: number;
  /** Total rows (default: endless). */
  rows?: number;
  hook?: string;
}

export class SyntheticSource implements ActivationSource {
  readonly hooks: readonly string[];
  readonly widths: readonly number[];
  /** Ground truth, [features, dIn] unit rows. */
  readonly directions: Float32Array;
  readonly offset: Float32Array;
  private readonly p: number;

  constructor(private readonly opts: SyntheticOptions) {
    const { dIn, features, activePerRow } = opts;
    if (!(activePerRow > 0 && activePerRow <= features)) throw new InputError(`activePerRow must be in (0, features], got ${activePerRow}`);
    this.hooks = [opts.hook ?? 'synthetic'];
    this.widths = [dIn];
    this.p = activePerRow / features;
    const rng = new Rng(opts.seed);
    this.directions = new Float32Array(features * dIn);
    for (let f = 0; f < features; f++) {
      let s = 0;
      for (let j = 0; j < dIn; j++) {
        const v = rng.normal();
        this.directions[f * dIn + j] = v;
        s += v * v;
      }
      for (let j = 0; j < dIn; j++) this.directions[f * dIn + j] = this.directions[f * dIn + j]! / Math.sqrt(s);
    }
    this.offset = new Float32Array(dIn);
    let s = 0;
    for (let j = 0; j < dIn; j++) {
      this.offset[j] = rng.normal();
      s += this.offset[j]! ** 2;
    }
    const norm = opts.offset ?? 1;
    for (let j = 0; j < dIn; j++) this.offset[j] = (this.offset[j]! * norm) / Math.sqrt(s);
  }

  async *read(from?: unknown): AsyncIterable<ActivationChunk> {
    const { dIn, features } = this.opts;
    const chunkRows = this.opts.chunkRows ?? 1024;
    const noise = this.opts.noise ?? 0.01;
    let c = typeof from === 'number' ? from : 0;
    for (;;) {
      const start = c * chunkRows;
      const total = this.opts.rows ?? Infinity;
      if (start >= total) return;
      const n = Math.min(chunkRows, total - start);
      const rng = new Rng(mixSeed(this.opts.seed, c));
      const x = new Float32Array(n * dIn);
      for (let r = 0; r < n; r++) {
        const o = r * dIn;
        for (let j = 0; j < dIn; j++) x[o + j] = this.offset[j]! + noise * rng.normal();
        for (let f = 0; f < features; f++) {
          if (rng.uniform() >= this.p) continue;
          const a = 0.5 + rng.uniform();
          for (let j = 0; j < dIn; j++) x[o + j] = x[o + j]! + a * this.directions[f * dIn + j]!;
        }
      }
      c++;
      yield { rows: n, acts: [x], tokens: n, resume: c };
    }
  }
}
