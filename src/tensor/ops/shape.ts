// Shape ops: reshape (a view), permute/transpose, concat, split, slice, broadcastTo.
import { ShapeError } from '../../errors.js';
import { result } from '../autograd.js';
import { broadcastIndex, broadcastShapes, reduceToShape, sameShape } from '../broadcast.js';
import { Tensor, normDim, sizeOf, splitAround, type Shape } from '../tensor.js';

/** Same storage, new shape; one dimension may be -1 (inferred). */
export function reshape(x: Tensor, shape: Shape): Tensor {
  const s = shape.slice();
  const free = s.indexOf(-1);
  if (free >= 0) {
    const known = sizeOf(s.filter((_, i) => i !== free));
    if (known === 0 || x.size % known !== 0) throw new ShapeError('reshape', `cannot infer -1 for ${x.size} elements`, [x.shape, shape]);
    s[free] = x.size / known;
  }
  if (sizeOf(s) !== x.size) throw new ShapeError('reshape', `element counts differ (${x.size} vs ${sizeOf(s)})`, [x.shape, shape]);
  return result(x.data, s, 'reshape', [x], (g) => [g]);
}

/** Insert a dimension of size 1 at `dim` (in [-ndim-1, ndim]; negative counts from the end of the result). */
export function unsqueeze(x: Tensor, dim: number): Tensor {
  const d = normDim(dim, x.ndim + 1, 'unsqueeze');
  const s = x.shape.slice();
  s.splice(d, 0, 1);
  return reshape(x, s);
}

export function squeeze(x: Tensor, dim: number): Tensor {
  const d = normDim(dim, x.ndim, 'squeeze');
  if (x.shape[d] !== 1) throw new ShapeError('squeeze', `dimension ${dim} has size ${x.shape[d]}, not 1`, [x.shape]);
  const s = x.shape.slice();
  s.splice(d, 1);
  return reshape(x, s);
}

function permuteData(data: Float32Array, shape: Shape, perm: readonly number[]): Float32Array {
  const nd = shape.length;
  const out = new Float32Array(data.length);
  const inStrides = new Array<number>(nd);
  let st = 1;
  for (let i = nd - 1; i >= 0; i--) {
    inStrides[i] = st;
    st *= shape[i]!;
  }
  const outShape = perm.map((p) => shape[p]!);
  const strides = perm.map((p) => inStrides[p]!); // input stride for each output dim
  // Iterate output in order; the innermost output dim is walked with a plain loop.
  const last = nd - 1;
  const innerN = outShape[last] ?? 1;
  const innerS = strides[last] ?? 1;
  const outer = data.length / Math.max(1, innerN);
  const counter = new Array<number>(nd).fill(0);
  let src = 0;
  let dst = 0;
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < innerN; j++) out[dst++] = data[src + j * innerS]!;
    for (let d = last - 1; d >= 0; d--) {
      counter[d]!++;
      src += strides[d]!;
      if (counter[d]! < outShape[d]!) break;
      src -= strides[d]! * counter[d]!;
      counter[d] = 0;
    }
  }
  return out;
}

/** Reorder dimensions (materialises). */
export function permute(x: Tensor, perm: readonly number[]): Tensor {
  if (perm.length !== x.ndim || [...perm].sort((a, b) => a - b).some((p, i) => p !== i)) {
    throw new ShapeError('permute', `[${perm.join(',')}] is not a permutation of ${x.ndim} dimensions`, [x.shape]);
  }
  const outShape = perm.map((p) => x.shape[p]!);
  const inverse = new Array<number>(perm.length);
  perm.forEach((p, i) => (inverse[p] = i));
  return result(permuteData(x.data, x.shape, perm), outShape, 'permute', [x], (g) => [permuteData(g, outShape, inverse)]);
}

export function transpose(x: Tensor, d0 = -2, d1 = -1): Tensor {
  const a = normDim(d0, x.ndim, 'transpose');
  const b = normDim(d1, x.ndim, 'transpose');
  const perm = x.shape.map((_, i) => i);
  perm[a] = b;
  perm[b] = a;
  return permute(x, perm);
}

/** Join tensors along `dim`; all other dimensions must agree. */
export function concat(xs: readonly Tensor[], dim = 0): Tensor {
  if (xs.length === 0) throw new ShapeError('concat', 'needs at least one tensor');
  const ref = xs[0]!;
  const d = normDim(dim, ref.ndim, 'concat');
  for (const x of xs) {
    if (x.ndim !== ref.ndim || x.shape.some((s, i) => i !== d && s !== ref.shape[i])) {
      throw new ShapeError('concat', `all dimensions except ${dim} must match`, xs.map((t) => t.shape));
    }
  }
  const [outer, , inner] = splitAround(ref.shape, d);
  const sizes = xs.map((x) => x.shape[d]!);
  const total = sizes.reduce((a, b) => a + b, 0);
  const out = new Float32Array(outer * total * inner);
  let off = 0;
  xs.forEach((x, k) => {
    const block = sizes[k]! * inner;
    for (let o = 0; o < outer; o++) out.set(x.data.subarray(o * block, (o + 1) * block), o * total * inner + off);
    off += block;
  });
  const shape = ref.shape.slice();
  shape[d] = total;
  return result(out, shape, 'concat', xs, (g) => {
    let start = 0;
    return xs.map((x, k) => {
      const block = sizes[k]! * inner;
      const gx = new Float32Array(x.size);
      for (let o = 0; o < outer; o++) gx.set(g.subarray(o * total * inner + start, o * total * inner + start + block), o * block);
      start += block;
      return gx;
    });
  });
}

/** Elements [start, end) along `dim`. A slice of the leading dimension is a view. */
export function slice(x: Tensor, dim: number, start: number, end: number): Tensor {
  const d = normDim(dim, x.ndim, 'slice');
  const n = x.shape[d]!;
  if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end > n || start > end) {
    throw new ShapeError('slice', `range [${start}, ${end}) is outside dimension ${dim} of size ${n}`, [x.shape]);
  }
  const [outer, , inner] = splitAround(x.shape, d);
  const len = end - start;
  const shape = x.shape.slice();
  shape[d] = len;
  const data = outer === 1 ? x.data.subarray(start * inner, end * inner) : new Float32Array(outer * len * inner);
  if (outer !== 1) for (let o = 0; o < outer; o++) data.set(x.data.subarray((o * n + start) * inner, (o * n + end) * inner), o * len * inner);
  return result(data, shape, 'slice', [x], (g) => {
    const gx = new Float32Array(x.size);
    for (let o = 0; o < outer; o++) gx.set(g.subarray(o * len * inner, (o + 1) * len * inner), (o * n + start) * inner);
    return [gx];
  });
}

/** Split along `dim` into pieces of the given sizes (or `sizes` equal pieces when a number). */
export function split(x: Tensor, sizes: number | readonly number[], dim = 0): Tensor[] {
  const d = normDim(dim, x.ndim, 'split');
  const n = x.shape[d]!;
  let parts: number[];
  if (typeof sizes === 'number') {
    if (n % sizes !== 0) throw new ShapeError('split', `dimension of size ${n} does not split into ${sizes} equal parts`, [x.shape]);
    parts = new Array<number>(sizes).fill(n / sizes);
  } else parts = sizes.slice();
  if (parts.reduce((a, b) => a + b, 0) !== n) throw new ShapeError('split', `sizes [${parts.join(',')}] do not add up to ${n}`, [x.shape]);
  const out: Tensor[] = [];
  let s = 0;
  for (const p of parts) {
    out.push(slice(x, d, s, s + p));
    s += p;
  }
  return out;
}

/** Materialise x broadcast to `shape`. */
export function broadcastTo(x: Tensor, shape: Shape): Tensor {
  const target = broadcastShapes('broadcastTo', x.shape, shape);
  if (!sameShape(target, shape)) throw new ShapeError('broadcastTo', 'cannot broadcast to the requested shape', [x.shape, shape]);
  const idx = broadcastIndex(x.shape, shape);
  const out = new Float32Array(idx.length);
  for (let i = 0; i < idx.length; i++) out[i] = x.data[idx[i]!]!;
  return result(out, shape, 'broadcastTo', [x], (g) => [reduceToShape(g, shape, x.shape)]);
}
