// Keys and values of past positions, per layer, so generation feeds only the new tokens. Storage is
// [batch, kvHeads, capacity, d_head] per layer: appending writes rows in place, and each (batch, head)
// block's first `length` rows are contiguous, so reading the live part back is one copy per block.
import { InputError } from '../errors.js';
import { Tensor } from '../tensor/index.js';
import type { ModelConfig } from './config.js';

export class KVCache {
  /** Positions already stored (and committed) in every layer. */
  length = 0;
  readonly batch: number;
  readonly capacity: number;
  private readonly kvHeads: number;
  private readonly dHead: number;
  private readonly keys: Float32Array[];
  private readonly values: Float32Array[];

  constructor(c: ModelConfig, batch = 1, capacity = c.nCtx) {
    if (!Number.isInteger(capacity) || capacity < 1 || capacity > c.nCtx) {
      throw new InputError(`KVCache: capacity must be in [1, ${c.nCtx}] (the model's context), got ${capacity}`);
    }
    this.batch = batch;
    this.capacity = capacity;
    this.kvHeads = c.nKvHeads;
    this.dHead = c.dHead;
    const size = batch * c.nKvHeads * capacity * c.dHead;
    this.keys = Array.from({ length: c.nLayers }, () => new Float32Array(size));
    this.values = Array.from({ length: c.nLayers }, () => new Float32Array(size));
  }

  /** Room left for new positions. */
  get remaining(): number {
    return this.capacity - this.length;
  }

  /**
   * Store this call's keys/values (k, v [batch, newPos, kvHeads, d_head]) after the committed ones and
   * return all of them as [batch, kvHeads, length + newPos, d_head]. Nothing is committed until
   * commit(): a forward pass that throws halfway leaves the cache as it was.
   */
  append(layer: number, k_BTKd: Tensor, v_BTKd: Tensor): [Tensor, Tensor] {
    const [B, Tn, Hk, dh] = k_BTKd.shape as [number, number, number, number];
    if (B !== this.batch || Hk !== this.kvHeads || dh !== this.dHead) {
      throw new InputError(`KVCache: got keys [${k_BTKd.shape.join(', ')}], cache holds batch ${this.batch}, ${this.kvHeads} kv heads of ${this.dHead}`);
    }
    const S = this.length + Tn;
    if (S > this.capacity) throw new InputError(`KVCache: ${S} positions exceed its capacity of ${this.capacity}`);
    const cap = this.capacity;
    const kOut = new Float32Array(B * Hk * S * dh);
    const vOut = new Float32Array(B * Hk * S * dh);
    for (const [src, store, out] of [[k_BTKd.data, this.keys[layer]!, kOut], [v_BTKd.data, this.values[layer]!, vOut]] as const) {
      for (let b = 0; b < B; b++)
        for (let h = 0; h < Hk; h++) {
          const block = (b * Hk + h) * cap * dh;
          for (let t = 0; t < Tn; t++) {
            const from = ((b * Tn + t) * Hk + h) * dh;
            store.set(src.subarray(from, from + dh), block + (this.length + t) * dh);
          }
          out.set(store.subarray(block, block + S * dh), (b * Hk + h) * S * dh);
        }
    }
    return [new Tensor(kOut, [B, Hk, S, dh]), new Tensor(vOut, [B, Hk, S, dh])];
  }

  /** Called once every layer has appended newPos positions. */
  commit(newPositions: number): void {
    this.length += newPositions;
  }

  /** Drop everything after `length` positions (e.g. to branch a generation from a shared prompt). */
  truncate(length: number): void {
    if (!Number.isInteger(length) || length < 0 || length > this.length) throw new InputError(`KVCache: cannot truncate ${this.length} positions to ${length}`);
    this.length = length;
  }
}
