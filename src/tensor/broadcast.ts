// NumPy broadcasting: shapes align from the right; a dimension of 1 stretches.
import { ShapeError } from '../errors.js';
import { sizeOf, type Shape } from './tensor.js';

export function broadcastShapes(op: string, a: Shape, b: Shape): number[] {
  const n = Math.max(a.length, b.length);
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const da = a[a.length - n + i] ?? 1;
    const db = b[b.length - n + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new ShapeError(op, `shapes cannot be broadcast together (dimension ${i - n} is ${da} vs ${db})`, [a, b]);
    }
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/** Strides of `shape` seen from the broadcast output shape (0 where it stretches). */
export function broadcastStrides(shape: Shape, out: Shape): number[] {
  const strides = new Array<number>(out.length).fill(0);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    const o = out.length - shape.length + i;
    strides[o] = shape[i] === 1 ? 0 : s;
    s *= shape[i]!;
  }
  return strides;
}

/** For every output element, the flat index into an input of `shape` broadcast to `out`. */
export function broadcastIndex(shape: Shape, out: Shape): Int32Array {
  const n = sizeOf(out);
  const idx = new Int32Array(n);
  const strides = broadcastStrides(shape, out);
  const counter = new Array<number>(out.length).fill(0);
  let flat = 0;
  for (let i = 0; i < n; i++) {
    idx[i] = flat;
    for (let d = out.length - 1; d >= 0; d--) {
      counter[d]!++;
      flat += strides[d]!;
      if (counter[d]! < out[d]!) break;
      flat -= strides[d]! * counter[d]!;
      counter[d] = 0;
    }
  }
  return idx;
}

export function sameShape(a: Shape, b: Shape): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** How `small` sits inside `big` when broadcast: 'same', 'scalar', 'suffix' (repeats every small.size), or 'general'. */
export function broadcastKind(small: Shape, big: Shape): 'same' | 'scalar' | 'suffix' | 'general' {
  if (sameShape(small, big)) return 'same';
  const n = sizeOf(small);
  if (n === 1) return 'scalar';
  // suffix: after dropping leading 1s, small equals the trailing dims of big
  let s = 0;
  while (s < small.length && small[s] === 1) s++;
  const tail = small.slice(s);
  if (tail.length <= big.length && sameShape(tail, big.slice(big.length - tail.length))) return 'suffix';
  return 'general';
}

/** Sum a gradient of the broadcast shape `out` back down to `shape`. */
export function reduceToShape(g: Float32Array, out: Shape, shape: Shape): Float32Array {
  const kind = broadcastKind(shape, out);
  if (kind === 'same') return g;
  // Sums run in float64: a bias gradient adds up one value per row (thousands of rows per batch).
  const r = new Float32Array(sizeOf(shape));
  if (kind === 'scalar') {
    let s = 0;
    for (let i = 0; i < g.length; i++) s += g[i]!;
    r[0] = s;
  } else if (kind === 'suffix') {
    const m = r.length;
    const acc = new Float64Array(m);
    for (let i = 0; i < g.length; i += m) for (let j = 0; j < m; j++) acc[j] += g[i + j]!;
    r.set(acc);
  } else {
    const acc = new Float64Array(r.length);
    const idx = broadcastIndex(shape, out);
    for (let i = 0; i < g.length; i++) acc[idx[i]!] += g[i]!;
    r.set(acc);
  }
  return r;
}
