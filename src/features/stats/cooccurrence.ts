// How often two features fire on the same token. Exact counts in a dense upper-triangular matrix up to
// DENSE_LIMIT features (8192: 256 MiB), above that a bounded PairTable sketch (8M pairs, ~200 MiB). Only the `perToken`
// strongest features of a token form pairs: the cost is quadratic in the number of active latents, and
// for TopK dictionaries (k <= 32) nothing is left out.
import { PairTable } from './pair-table.js';

export const DENSE_LIMIT = 8192;

export class Cooccurrence {
  readonly dense: Uint32Array | null;
  readonly sparse: PairTable | null;

  constructor(
    readonly nFeatures: number,
    readonly perToken = 32,
    arrays?: { dense?: Uint32Array; sparse?: PairTable },
  ) {
    if (nFeatures <= DENSE_LIMIT) {
      this.dense = arrays?.dense ?? new Uint32Array(nFeatures * nFeatures);
      this.sparse = null;
    } else {
      this.dense = null;
      this.sparse = arrays?.sparse ?? new PairTable(1 << 23);
    }
  }

  /**
   * Counts the pairs among the active features of one token (idx/val hold n entries; reordered in place
   * so that the perToken strongest come first).
   */
  addToken(idx: Int32Array, val: Float32Array, n: number): void {
    if (n < 2) return;
    if (n > this.perToken) {
      selectTop(idx, val, n, this.perToken);
      n = this.perToken;
    }
    const F = this.nFeatures;
    const dense = this.dense;
    for (let a = 0; a < n; a++) {
      const i = idx[a]!;
      for (let b = a + 1; b < n; b++) {
        const j = idx[b]!;
        if (dense) dense[i < j ? i * F + j : j * F + i]!++;
        else this.sparse!.add(Math.min(i, j), Math.max(i, j), 1);
      }
    }
  }

  /** Number of tokens on which both i and j fired (among each token's strongest). */
  count(i: number, j: number): number {
    if (i === j) return 0;
    const [a, b] = i < j ? [i, j] : [j, i];
    if (this.dense) return this.dense[a * this.nFeatures + b]!;
    return this.sparse!.get(a, b)?.count ?? 0;
  }

  /** Every pair with a non-zero count (i < j). */
  forEachPair(fn: (i: number, j: number, count: number) => void): void {
    if (this.dense) {
      const F = this.nFeatures;
      for (let i = 0; i < F; i++) {
        const row = i * F;
        for (let j = i + 1; j < F; j++) {
          const c = this.dense[row + j]!;
          if (c) fn(i, j, c);
        }
      }
    } else {
      this.sparse!.forEach((i, j, c) => fn(i, j, c));
    }
  }
}

/** Partially reorders (idx, val)[0..n) so the k largest values come first (quickselect, O(n)). */
export function selectTop(idx: Int32Array, val: Float32Array, n: number, k: number): void {
  let lo = 0;
  let hi = n - 1;
  while (lo < hi) {
    const pivot = val[(lo + hi) >> 1]!;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (val[i]! > pivot) i++;
      while (val[j]! < pivot) j--;
      if (i <= j) {
        const tv = val[i]!;
        val[i] = val[j]!;
        val[j] = tv;
        const ti = idx[i]!;
        idx[i] = idx[j]!;
        idx[j] = ti;
        i++;
        j--;
      }
    }
    if (k - 1 <= j) hi = j;
    else if (k - 1 >= i) lo = i;
    else return;
  }
}
