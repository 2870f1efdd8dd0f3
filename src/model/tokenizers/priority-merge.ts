// "Repeatedly merge the adjacent pair with the highest priority, leftmost on ties" in O(n log n).
// The naive loop rescans every pair after each merge (O(n^2) over a long text). Here the symbols form a
// linked list and every candidate pair sits in a max-heap keyed by (priority desc, position asc); entries
// made stale by a neighbouring merge are recognised and dropped when popped. Nodes keep their original
// index, and merging never reorders them, so "smallest index" is "leftmost" exactly as in the naive loop.

/** What the merge loop needs to know about the vocabulary. */
export interface MergeRule {
  /** The id two adjacent symbols merge into, or -1 when they do not merge. */
  mergedId(left: number, right: number): number;
  /** The priority of a merge result; the highest merges first. */
  priority(mergedId: number): number;
}

/** Applies the merges to `ids` (left untouched) and returns the merged sequence. */
export function mergeByPriority(ids: ArrayLike<number>, rule: MergeRule): number[] {
  const n = ids.length;
  if (n < 2) return Array.from(ids);
  const sym = Int32Array.from(ids); // current id at each surviving node
  const next = new Int32Array(n); // index of the next surviving node, -1 at the end
  const prev = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    next[i] = i + 1 < n ? i + 1 : -1;
    prev[i] = i - 1;
  }
  const heap = new MergeHeap(3 * n + 4); // n-1 initial pairs, at most 2 new pairs per merge

  const offer = (left: number): void => {
    const right = next[left]!;
    if (right < 0) return;
    const merged = rule.mergedId(sym[left]!, sym[right]!);
    if (merged >= 0) heap.push(rule.priority(merged), left, right, sym[left]!, sym[right]!, merged);
  };
  for (let i = 0; i + 1 < n; i++) offer(i);

  while (heap.size > 0) {
    const e = heap.pop();
    const left = heap.left[e]!;
    const right = heap.right[e]!;
    // Stale if a merge since then removed the right node, or changed either symbol.
    if (next[left] !== right || sym[left] !== heap.leftId[e] || sym[right] !== heap.rightId[e]) continue;
    sym[left] = heap.merged[e]!;
    const after = next[right]!;
    next[left] = after;
    if (after >= 0) prev[after] = left;
    next[right] = -2; // dead: no entry can match it again
    if (prev[left]! >= 0) offer(prev[left]!);
    offer(left);
  }

  const out: number[] = [];
  for (let i = 0; i >= 0; i = next[i]!) out.push(sym[i]!);
  return out;
}

/** A binary max-heap over pooled entries, ordered by priority then by smaller left position. */
class MergeHeap {
  readonly priority: Float64Array;
  readonly left: Int32Array;
  readonly right: Int32Array;
  readonly leftId: Int32Array;
  readonly rightId: Int32Array;
  readonly merged: Int32Array;
  private readonly order: Int32Array; // heap of entry indices
  private entries = 0;
  size = 0;

  constructor(capacity: number) {
    this.priority = new Float64Array(capacity);
    this.left = new Int32Array(capacity);
    this.right = new Int32Array(capacity);
    this.leftId = new Int32Array(capacity);
    this.rightId = new Int32Array(capacity);
    this.merged = new Int32Array(capacity);
    this.order = new Int32Array(capacity);
  }

  push(priority: number, left: number, right: number, leftId: number, rightId: number, merged: number): void {
    const e = this.entries++;
    this.priority[e] = priority;
    this.left[e] = left;
    this.right[e] = right;
    this.leftId[e] = leftId;
    this.rightId[e] = rightId;
    this.merged[e] = merged;
    let i = this.size++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = this.order[parent]!;
      if (!this.before(e, p)) break;
      this.order[i] = p;
      i = parent;
    }
    this.order[i] = e;
  }

  pop(): number {
    const top = this.order[0]!;
    const last = this.order[--this.size]!;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= this.size) break;
      const r = l + 1;
      const child = r < this.size && this.before(this.order[r]!, this.order[l]!) ? r : l;
      if (!this.before(this.order[child]!, last)) break;
      this.order[i] = this.order[child]!;
      i = child;
    }
    if (this.size > 0) this.order[i] = last;
    return top;
  }

  private before(a: number, b: number): boolean {
    const pa = this.priority[a]!;
    const pb = this.priority[b]!;
    return pa > pb || (pa === pb && this.left[a]! < this.left[b]!);
  }
}
