// Sparse statistics over (a, b) integer pairs, e.g. (feature, token): an open-addressing hash table in
// typed arrays (no per-entry objects), holding a count, a sum and a max per pair. It grows by doubling up
// to `maxEntries`; past that, pairs not seen before are dropped and `dropped` counts them (the table is a
// bounded sketch: pairs that matter arrive early and often).
export class PairTable {
  private keysA: Int32Array;
  private keysB: Int32Array;
  private counts: Uint32Array;
  private sums: Float64Array;
  private maxes: Float32Array;
  private mask: number;
  size = 0;
  dropped = 0;

  constructor(
    readonly maxEntries = 1 << 24,
    initialCapacity = 1 << 12,
  ) {
    const cap = 1 << Math.ceil(Math.log2(Math.max(16, initialCapacity)));
    this.keysA = new Int32Array(cap).fill(-1);
    this.keysB = new Int32Array(cap);
    this.counts = new Uint32Array(cap);
    this.sums = new Float64Array(cap);
    this.maxes = new Float32Array(cap);
    this.mask = cap - 1;
  }

  get capacity(): number {
    return this.mask + 1;
  }

  private slot(a: number, b: number): number {
    let h = (Math.imul(a, 0x9e3779b1) ^ Math.imul(b + 0x7f4a7c15, 0x85ebca77)) >>> 0;
    h ^= h >>> 15;
    let i = h & this.mask;
    for (;;) {
      const ka = this.keysA[i]!;
      if (ka === -1 || (ka === a && this.keysB[i] === b)) return i;
      i = (i + 1) & this.mask;
    }
  }

  /** Adds one observation of value v (a must be >= 0). */
  add(a: number, b: number, v: number): void {
    let i = this.slot(a, b);
    if (this.keysA[i] === -1) {
      if (this.size >= this.maxEntries) {
        this.dropped++;
        return;
      }
      if ((this.size + 1) * 2 > this.capacity) {
        this.grow();
        i = this.slot(a, b);
      }
      this.keysA[i] = a;
      this.keysB[i] = b;
      this.size++;
    }
    this.counts[i]!++;
    this.sums[i]! += v;
    if (v > this.maxes[i]!) this.maxes[i] = v;
  }

  private grow(): void {
    const { keysA, keysB, counts, sums, maxes } = this;
    const cap = this.capacity * 2;
    this.keysA = new Int32Array(cap).fill(-1);
    this.keysB = new Int32Array(cap);
    this.counts = new Uint32Array(cap);
    this.sums = new Float64Array(cap);
    this.maxes = new Float32Array(cap);
    this.mask = cap - 1;
    for (let j = 0; j < keysA.length; j++) {
      if (keysA[j] === -1) continue;
      const i = this.slot(keysA[j]!, keysB[j]!);
      this.keysA[i] = keysA[j]!;
      this.keysB[i] = keysB[j]!;
      this.counts[i] = counts[j]!;
      this.sums[i] = sums[j]!;
      this.maxes[i] = maxes[j]!;
    }
  }

  /** Visits every stored pair. */
  forEach(fn: (a: number, b: number, count: number, sum: number, max: number) => void): void {
    for (let i = 0; i <= this.mask; i++) {
      if (this.keysA[i] !== -1) fn(this.keysA[i]!, this.keysB[i]!, this.counts[i]!, this.sums[i]!, this.maxes[i]!);
    }
  }

  get(a: number, b: number): { count: number; sum: number; max: number } | null {
    const i = this.slot(a, b);
    return this.keysA[i] === -1 ? null : { count: this.counts[i]!, sum: this.sums[i]!, max: this.maxes[i]! };
  }

  toArrays(): Record<string, Int32Array | Uint32Array | Float64Array | Float32Array> {
    return { keysA: this.keysA, keysB: this.keysB, counts: this.counts, sums: this.sums, maxes: this.maxes };
  }

  static fromArrays(a: Record<string, unknown>, meta: { size: number; dropped: number; maxEntries: number }): PairTable {
    const t = new PairTable(meta.maxEntries, 16);
    t.keysA = a.keysA as Int32Array;
    t.keysB = a.keysB as Int32Array;
    t.counts = a.counts as Uint32Array;
    t.sums = a.sums as Float64Array;
    t.maxes = a.maxes as Float32Array;
    t.mask = t.keysA.length - 1;
    t.size = meta.size;
    t.dropped = meta.dropped;
    return t;
  }
}
