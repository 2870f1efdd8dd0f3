// Keys and values of past positions, per layer, so generation feeds only the new tokens. Storage is
// [batch, kvHeads, capacity, d_head] per layer: appending writes rows in place, and each (batch, head)
// block's first `length` rows are contiguous, so reading the live part back is one copy per block.
// Sequences may hold different numbers of positions (batched generation of prompts of different
// lengths): each keeps its own length, and the forward pass masks keys past it.
import { InputError } from '../errors.js';
import { Tensor } from '../tensor/index.js';
import type { ModelConfig } from './config.js';

export class KVCache {
  readonly capacity: number;
  private rows: number;
  /** Positions stored (and committed) per sequence, in every layer: [batch]. */
  private readonly rowLengths: Int32Array;
  private readonly kvHeads: number;
  private readonly dHead: number;
  private readonly keys: Float32Array[];
  private readonly values: Float32Array[];

  constructor(c: ModelConfig, batch = 1, capacity = c.nCtx) {
    if (!Number.isInteger(capacity) || capacity < 1 || capacity > c.nCtx) {
      throw new InputError(`KVCache: capacity must be in [1, ${c.nCtx}] (the model's context), got ${capacity}`);
    }
    if (!Number.isInteger(batch) || batch < 1) throw new InputError(`KVCache: batch must be a positive integer, got ${batch}`);
    this.rows = batch;
    this.capacity = capacity;
    this.rowLengths = new Int32Array(batch);
    this.kvHeads = c.nKvHeads;
    this.dHead = c.dHead;
    const size = batch * c.nKvHeads * capacity * c.dHead;
    this.keys = Array.from({ length: c.nLayers }, () => new Float32Array(size));
    this.values = Array.from({ length: c.nLayers }, () => new Float32Array(size));
  }

  /** Sequences held (fewer after keepRows). */
  get batch(): number {
    return this.rows;
  }

  /** Positions stored: the longest sequence's (every sequence's unless they differ, see ragged). */
  get length(): number {
    let n = 0;
    for (let b = 0; b < this.rows; b++) n = Math.max(n, this.rowLengths[b]!);
    return n;
  }

  /** Positions stored for sequence b. */
  lengthOf(b: number): number {
    if (!Number.isInteger(b) || b < 0 || b >= this.batch) throw new InputError(`KVCache: sequence ${b} is outside [0, ${this.batch})`);
    return this.rowLengths[b]!;
  }

  /** Each sequence's stored positions, [batch] (a copy). */
  lengths(): Int32Array {
    return this.rowLengths.slice(0, this.rows);
  }

  /** True when the sequences hold different numbers of positions. */
  get ragged(): boolean {
    for (let b = 1; b < this.rows; b++) if (this.rowLengths[b] !== this.rowLengths[0]) return true;
    return false;
  }

  /** Room left for new positions (in the longest sequence). */
  get remaining(): number {
    return this.capacity - this.length;
  }

  /**
   * Store this call's keys/values (k, v [batch, newPos, kvHeads, d_head]) after the committed ones and
   * return all of them as [batch, kvHeads, keyPos, d_head]. newLengths[b] (optional): only the first
   * newLengths[b] new positions of sequence b are real (right padding); keyPos is then the longest
   * sequence's new length, and sequence b's keys past its own length are stale (the caller masks them).
   * Nothing is committed until commit(): a forward pass that throws halfway leaves the cache as it was.
   */
  append(layer: number, k_BTKd: Tensor, v_BTKd: Tensor, newLengths: Int32Array | null = null): [Tensor, Tensor] {
    const [B, Tn, Hk, dh] = k_BTKd.shape as [number, number, number, number];
    if (B !== this.rows || Hk !== this.kvHeads || dh !== this.dHead) {
      throw new InputError(`KVCache: got keys [${k_BTKd.shape.join(', ')}], cache holds batch ${this.rows}, ${this.kvHeads} kv heads of ${this.dHead}`);
    }
    let S = 0;
    for (let b = 0; b < B; b++) {
      const end = this.rowLengths[b]! + (newLengths ? newLengths[b]! : Tn);
      if (end > this.capacity) throw new InputError(`KVCache: ${end} positions${B > 1 ? ` in sequence ${b}` : ''} exceed its capacity of ${this.capacity}`);
      S = Math.max(S, end);
    }
    const cap = this.capacity;
    const kOut = new Float32Array(B * Hk * S * dh);
    const vOut = new Float32Array(B * Hk * S * dh);
    for (const [src, store, out] of [[k_BTKd.data, this.keys[layer]!, kOut], [v_BTKd.data, this.values[layer]!, vOut]] as const) {
      for (let b = 0; b < B; b++) {
        const start = this.rowLengths[b]!;
        const n = newLengths ? newLengths[b]! : Tn;
        for (let h = 0; h < Hk; h++) {
          const block = (b * Hk + h) * cap * dh;
          for (let t = 0; t < n; t++) {
            const from = ((b * Tn + t) * Hk + h) * dh;
            store.set(src.subarray(from, from + dh), block + (start + t) * dh);
          }
          out.set(store.subarray(block, block + S * dh), (b * Hk + h) * S * dh);
        }
      }
    }
    return [new Tensor(kOut, [B, Hk, S, dh]), new Tensor(vOut, [B, Hk, S, dh])];
  }

  /** Called once every layer has appended: newPos positions in every sequence, or newLengths[b] in sequence b. */
  commit(newPositions: number | Int32Array): void {
    for (let b = 0; b < this.rows; b++) this.rowLengths[b]! += typeof newPositions === 'number' ? newPositions : newPositions[b]!;
  }

  /** Drop everything after `length` positions in every sequence (e.g. to branch a generation from a shared prompt). */
  truncate(length: number): void {
    const longest = this.length;
    if (!Number.isInteger(length) || length < 0 || length > longest) throw new InputError(`KVCache: cannot truncate ${longest} positions to ${length}`);
    for (let b = 0; b < this.rows; b++) this.rowLengths[b] = Math.min(this.rowLengths[b]!, length);
  }

  /**
   * Keep only sequences `rows` (strictly increasing indices), renumbered 0..rows.length-1: e.g. drop
   * the finished sequences of a batched generation so later steps compute only the live ones.
   */
  keepRows(rows: readonly number[]): void {
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i]!;
      if (!Number.isInteger(r) || r < 0 || r >= this.rows || (i > 0 && r <= rows[i - 1]!)) {
        throw new InputError(`KVCache.keepRows: rows must be strictly increasing indices in [0, ${this.rows}), got [${rows.join(', ')}]`);
      }
    }
    if (rows.length === 0) throw new InputError('KVCache.keepRows: keep at least one sequence');
    const blockSize = this.capacity * this.dHead;
    rows.forEach((r, i) => {
      if (r === i) return;
      const live = this.rowLengths[r]! * this.dHead;
      for (const store of [...this.keys, ...this.values])
        for (let h = 0; h < this.kvHeads; h++) {
          const from = (r * this.kvHeads + h) * blockSize;
          store.copyWithin((i * this.kvHeads + h) * blockSize, from, from + live);
        }
      this.rowLengths[i] = this.rowLengths[r]!;
    });
    this.rows = rows.length;
  }
}
