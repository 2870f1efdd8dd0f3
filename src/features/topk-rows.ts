// The k largest (or smallest) entries of each row of a row-major block, with a small insertion-sorted
// buffer per row: O(n) for typical rows, no sort of the whole row.
export interface Ranked {
  index: number;
  value: number;
}

export function topKRow(data: Float32Array, offset: number, n: number, k: number, largest: boolean, skip = -1): Ranked[] {
  const idx: number[] = [];
  const val: number[] = [];
  const sign = largest ? 1 : -1;
  for (let i = 0; i < n; i++) {
    if (i === skip) continue;
    const v = sign * data[offset + i]!;
    if (Number.isNaN(v)) continue;
    if (idx.length === k && v <= val[k - 1]!) continue;
    let p = idx.length < k ? idx.length : k - 1;
    if (idx.length < k) {
      idx.push(i);
      val.push(v);
    }
    while (p > 0 && val[p - 1]! < v) {
      idx[p] = idx[p - 1]!;
      val[p] = val[p - 1]!;
      p--;
    }
    idx[p] = i;
    val[p] = v;
  }
  return idx.map((index, j) => ({ index, value: sign * val[j]! }));
}
