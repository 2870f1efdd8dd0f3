// The k strongest examples per feature, kept with a min-heap per feature over slots 0..k-1 of a
// SampleSlots store. The heap orders slot indices, so a sample's stored row never moves; a new sample
// that beats the weakest overwrites the weakest's slot.
import type { SampleSlots } from './slots.js';

export class TopExamples {
  /** heap[f * k + i] = slot index (0..k-1) at heap position i; ordered by slots.act ascending. */
  readonly heap: Uint16Array;
  readonly size: Uint16Array;

  constructor(
    private readonly slots: SampleSlots,
    readonly k: number,
    arrays?: { heap: Uint16Array; size: Uint16Array },
  ) {
    this.heap = arrays?.heap ?? new Uint16Array(slots.nFeatures * k);
    this.size = arrays?.size ?? new Uint16Array(slots.nFeatures);
  }

  private actAt(f: number, i: number): number {
    return this.slots.act[f * this.slots.perFeature + this.heap[f * this.k + i]!]!;
  }

  /** Would a sample of value v be kept? (Cheap check before gathering its row.) */
  accepts(f: number, v: number): boolean {
    return this.size[f]! < this.k || v > this.actAt(f, 0);
  }

  offer(f: number, v: number, seq: number, pos: number, acts_TF: Float32Array, base: number, length: number): void {
    const k = this.k;
    const h = f * k;
    const n = this.size[f]!;
    if (n < k) {
      this.heap[h + n] = n;
      this.slots.write(f, n, v, seq, pos, acts_TF, base, length);
      this.size[f] = n + 1;
      // sift up
      let i = n;
      while (i > 0) {
        const p = (i - 1) >> 1;
        if (this.actAt(f, p) <= this.actAt(f, i)) break;
        this.swap(h, i, p);
        i = p;
      }
      return;
    }
    if (!(v > this.actAt(f, 0))) return;
    this.slots.write(f, this.heap[h]!, v, seq, pos, acts_TF, base, length);
    // sift down
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < k && this.actAt(f, l) < this.actAt(f, m)) m = l;
      if (r < k && this.actAt(f, r) < this.actAt(f, m)) m = r;
      if (m === i) break;
      this.swap(h, i, m);
      i = m;
    }
  }

  private swap(h: number, i: number, j: number): void {
    const t = this.heap[h + i]!;
    this.heap[h + i] = this.heap[h + j]!;
    this.heap[h + j] = t;
  }

  /** Slot indices of feature f, strongest first (ties: earlier sequence first). */
  sortedSlots(f: number): number[] {
    const n = this.size[f]!;
    const out = Array.from(this.heap.subarray(f * this.k, f * this.k + n));
    const P = this.slots.perFeature;
    out.sort((a, b) => this.slots.act[f * P + b]! - this.slots.act[f * P + a]! || this.slots.seq[f * P + a]! - this.slots.seq[f * P + b]!);
    return out;
  }
}
