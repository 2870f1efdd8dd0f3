// A shuffling buffer between a source and a trainer. Consecutive activations come from the same
// sequence and are strongly correlated; training on them in order biases every step. The buffer holds
// `capacity` rows; each batch takes rows from random slots, and the slots are refilled from the source.
// Memory is the buffer plus at most one pending chunk, whatever the number of tokens trained on.
// Deterministic for a seed, and its whole state (rows, pending chunk, source position, draw count) can be
// saved and restored, so a resumed run sees exactly the batches an uninterrupted run would have.
import { InputError } from '../errors.js';
import { Rng } from '../tensor/index.js';
import { checkChunk, type ActivationChunk, type ActivationSource } from './source.js';

export interface ShuffleBufferOptions {
  /** Rows held (the memory bound); batches are drawn once it is full (or the source has ended). */
  capacity: number;
  seed: number;
}

export interface Batch {
  rows: number;
  /** One [rows, width] buffer per hook. */
  acts: Float32Array[];
}

/** Everything needed to continue a buffer exactly (see ShuffleBuffer.restore). */
export interface ShuffleBufferState {
  filled: number;
  data: Float32Array[];
  pending: { rows: number; offset: number; acts: Float32Array[]; tokens: number } | null;
  resume: unknown;
  draws: number;
  exhausted: boolean;
  tokensRead: number;
}

export class ShuffleBuffer {
  readonly capacity: number;
  private readonly widths: readonly number[];
  private readonly data: Float32Array[];
  private filled = 0;
  private pending: { rows: number; offset: number; acts: Float32Array[]; tokens: number } | null = null;
  private iterator: AsyncIterator<ActivationChunk> | null = null;
  private resume: unknown = undefined;
  private exhausted = false;
  private draws = 0;
  /** Text tokens behind the rows pulled from the source so far. */
  tokensRead = 0;

  constructor(
    private readonly source: ActivationSource,
    private readonly opts: ShuffleBufferOptions,
  ) {
    if (!Number.isInteger(opts.capacity) || opts.capacity < 1) throw new InputError(`buffer capacity must be a positive integer, got ${opts.capacity}`);
    this.capacity = opts.capacity;
    this.widths = source.widths;
    this.data = source.widths.map((w) => new Float32Array(opts.capacity * w));
  }

  get hooks(): readonly string[] {
    return this.source.hooks;
  }

  /** Rows currently held. */
  get size(): number {
    return this.filled;
  }

  /** The next batch of `rows` rows (fewer only at the very end of a finite source), or null when empty. */
  async next(rows: number): Promise<Batch | null> {
    await this.fill();
    if (this.filled === 0) return null;
    const n = Math.min(rows, this.filled);
    const rng = new Rng(mixSeed(this.opts.seed, this.draws++));
    // n distinct random slots: a Fisher-Yates shuffle over [0, filled) that only materialises n entries.
    const swapped = new Map<number, number>();
    const picked = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const j = i + rng.int(this.filled - i);
      const vi = swapped.get(i) ?? i;
      picked[i] = swapped.get(j) ?? j;
      swapped.set(j, vi);
    }
    const acts = this.widths.map((w, h) => {
      const out = new Float32Array(n * w);
      const src = this.data[h]!;
      for (let i = 0; i < n; i++) out.set(src.subarray(picked[i]! * w, (picked[i]! + 1) * w), i * w);
      return out;
    });
    // Free the taken slots by moving the last rows into them (highest slot first keeps this valid).
    const order = Array.from(picked).sort((a, b) => b - a);
    for (const s of order) {
      const last = --this.filled;
      if (s !== last) this.widths.forEach((w, h) => this.data[h]!.copyWithin(s * w, last * w, (last + 1) * w));
    }
    return { rows: n, acts };
  }

  /** Up to `rows` rows picked at random from the (filled) buffer without consuming them: init samples. */
  async sample(rows: number, rng: Rng): Promise<Batch> {
    await this.fill();
    const n = Math.min(rows, this.filled);
    const picked = rng.permutation(this.filled).subarray(0, n);
    const acts = this.widths.map((w, h) => {
      const out = new Float32Array(n * w);
      for (let i = 0; i < n; i++) out.set(this.data[h]!.subarray(picked[i]! * w, (picked[i]! + 1) * w), i * w);
      return out;
    });
    return { rows: n, acts };
  }

  /** Close the source (its open files) early; a later fill reopens it at the saved position. */
  async close(): Promise<void> {
    const it = this.iterator;
    this.iterator = null;
    await it?.return?.();
  }

  private async fill(): Promise<void> {
    while (this.filled < this.capacity) {
      if (!this.pending) {
        if (this.exhausted) return;
        this.iterator ??= this.source.read(this.resume)[Symbol.asyncIterator]();
        const r = await this.iterator.next();
        if (r.done) {
          this.exhausted = true;
          return;
        }
        checkChunk(this.source, r.value, 'activation source');
        this.resume = r.value.resume;
        this.tokensRead += r.value.tokens ?? 0;
        if (r.value.rows === 0) continue;
        this.pending = { rows: r.value.rows, offset: 0, acts: r.value.acts, tokens: r.value.tokens ?? 0 };
      }
      const p = this.pending;
      const take = Math.min(p.rows - p.offset, this.capacity - this.filled);
      this.widths.forEach((w, h) => this.data[h]!.set(p.acts[h]!.subarray(p.offset * w, (p.offset + take) * w), this.filled * w));
      this.filled += take;
      p.offset += take;
      if (p.offset === p.rows) this.pending = null;
    }
  }

  /** A copy of the state (see ShuffleBufferState). */
  state(): ShuffleBufferState {
    return {
      filled: this.filled,
      data: this.data.map((d, h) => d.slice(0, this.filled * this.widths[h]!)),
      pending: this.pending && { ...this.pending, acts: this.pending.acts.map((a) => a.slice()) },
      resume: this.resume,
      draws: this.draws,
      exhausted: this.exhausted,
      tokensRead: this.tokensRead,
    };
  }

  /** Continue from a saved state; the source is re-opened at the saved position on the next fill. */
  restore(s: ShuffleBufferState): void {
    if (s.data.length !== this.data.length || s.filled > this.capacity) {
      throw new InputError(`cannot restore the activation buffer: saved ${s.filled} rows of ${s.data.length} hooks, buffer holds ${this.capacity} rows of ${this.data.length}`);
    }
    s.data.forEach((d, h) => {
      if (d.length !== s.filled * this.widths[h]!) throw new InputError(`cannot restore the activation buffer: hook ${h} width differs from the saved state`);
      this.data[h]!.set(d);
    });
    this.filled = s.filled;
    this.pending = s.pending && { ...s.pending, acts: s.pending.acts.map((a) => a.slice()) };
    this.resume = s.resume;
    this.draws = s.draws;
    this.exhausted = s.exhausted;
    this.tokensRead = s.tokensRead;
    void this.iterator?.return?.();
    this.iterator = null;
  }
}

/** A seed for draw number i of a run seeded with `seed` (splitmix-style mixing: nearby inputs diverge). */
export function mixSeed(seed: number, i: number): number {
  let z = (Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(i + 1, 0x85ebca6b)) >>> 0;
  z = Math.imul(z ^ (z >>> 16), 0x7feb352d) >>> 0;
  z = Math.imul(z ^ (z >>> 15), 0x846ca68b) >>> 0;
  return (z ^ (z >>> 16)) >>> 0;
}
