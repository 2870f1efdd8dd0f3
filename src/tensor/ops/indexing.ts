// Indexing ops: embedding, indexSelect, gather, scatterAdd, topk, maskedFill. Indices are Int32Array
// (they are never differentiated).
import { InputError, ShapeError } from '../../errors.js';
import { result } from '../autograd.js';
import { Tensor, normDim, sizeOf, splitAround, type Shape } from '../tensor.js';

function checkIndices(op: string, idx: ArrayLike<number>, n: number): void {
  for (let i = 0; i < idx.length; i++) {
    const v = idx[i]!;
    if (!Number.isInteger(v) || v < 0 || v >= n) throw new InputError(`${op}: index ${v} at position ${i} is outside [0, ${n})`, { op, index: v, size: n });
  }
}

/** Rows of `weight` [V, d] picked by `ids` (any shape `idsShape`) -> [...idsShape, d]. */
export function embedding(weight: Tensor, ids: ArrayLike<number>, idsShape: Shape = [ids.length]): Tensor {
  if (weight.ndim !== 2) throw new ShapeError('embedding', 'weight must be [vocab, d]', [weight.shape]);
  const [V, d] = weight.shape as [number, number];
  if (sizeOf(idsShape) !== ids.length) throw new ShapeError('embedding', `ids shape [${idsShape.join(',')}] does not hold ${ids.length} ids`, [weight.shape, idsShape]);
  checkIndices('embedding', ids, V);
  const n = ids.length;
  const out = new Float32Array(n * d);
  for (let i = 0; i < n; i++) out.set(weight.data.subarray(ids[i]! * d, ids[i]! * d + d), i * d);
  return result(out, [...idsShape, d], 'embedding', [weight], (g) => {
    const gw = new Float32Array(weight.size);
    for (let i = 0; i < n; i++) {
      const o = ids[i]! * d;
      for (let j = 0; j < d; j++) gw[o + j] += g[i * d + j]!;
    }
    return [gw];
  });
}

/** Entries of `x` along `dim` at `indices` (like torch.index_select). */
export function indexSelect(x: Tensor, dim: number, indices: ArrayLike<number>): Tensor {
  const d = normDim(dim, x.ndim, 'indexSelect');
  const [outer, n, inner] = splitAround(x.shape, d);
  checkIndices('indexSelect', indices, n);
  const m = indices.length;
  const out = new Float32Array(outer * m * inner);
  for (let o = 0; o < outer; o++)
    for (let j = 0; j < m; j++) out.set(x.data.subarray((o * n + indices[j]!) * inner, (o * n + indices[j]! + 1) * inner), (o * m + j) * inner);
  const shape = x.shape.slice();
  shape[d] = m;
  return result(out, shape, 'indexSelect', [x], (g) => {
    const gx = new Float32Array(x.size);
    for (let o = 0; o < outer; o++)
      for (let j = 0; j < m; j++) {
        const src = (o * m + j) * inner;
        const dst = (o * n + indices[j]!) * inner;
        for (let i = 0; i < inner; i++) gx[dst + i] += g[src + i]!;
      }
    return [gx];
  });
}

/**
 * out[..., j, ...] = x[..., index[..., j, ...], ...] along `dim` (torch.gather): `index` has x's shape
 * except along `dim`, where it has `m` entries.
 */
export function gather(x: Tensor, dim: number, index: Int32Array, m: number): Tensor {
  const d = normDim(dim, x.ndim, 'gather');
  const [outer, n, inner] = splitAround(x.shape, d);
  if (index.length !== outer * m * inner) throw new ShapeError('gather', `index has ${index.length} entries, expected ${outer * m * inner}`, [x.shape]);
  checkIndices('gather', index, n);
  const out = new Float32Array(index.length);
  for (let o = 0; o < outer; o++)
    for (let j = 0; j < m; j++)
      for (let i = 0; i < inner; i++) {
        const k = (o * m + j) * inner + i;
        out[k] = x.data[(o * n + index[k]!) * inner + i]!;
      }
  const shape = x.shape.slice();
  shape[d] = m;
  return result(out, shape, 'gather', [x], (g) => [scatterAddData(x.size, outer, n, inner, m, index, g)]);
}

function scatterAddData(size: number, outer: number, n: number, inner: number, m: number, index: Int32Array, src: Float32Array): Float32Array {
  const out = new Float32Array(size);
  for (let o = 0; o < outer; o++)
    for (let j = 0; j < m; j++)
      for (let i = 0; i < inner; i++) {
        const k = (o * m + j) * inner + i;
        out[(o * n + index[k]!) * inner + i] += src[k]!;
      }
  return out;
}

/** x with `src` added at `index` along `dim` (the adjoint of gather). */
export function scatterAdd(x: Tensor, dim: number, index: Int32Array, src: Tensor): Tensor {
  const d = normDim(dim, x.ndim, 'scatterAdd');
  const [outer, n, inner] = splitAround(x.shape, d);
  const m = src.shape[d]!;
  if (index.length !== src.size || src.size !== outer * m * inner) throw new ShapeError('scatterAdd', 'index and src must have the same shape, matching x outside dim', [x.shape, src.shape]);
  checkIndices('scatterAdd', index, n);
  const added = scatterAddData(x.size, outer, n, inner, m, index, src.data);
  for (let i = 0; i < added.length; i++) added[i] += x.data[i]!;
  return result(added, x.shape, 'scatterAdd', [x, src], (g) => {
    const gs = new Float32Array(src.size);
    for (let o = 0; o < outer; o++)
      for (let j = 0; j < m; j++)
        for (let i = 0; i < inner; i++) {
          const k = (o * m + j) * inner + i;
          gs[k] = g[(o * n + index[k]!) * inner + i]!;
        }
    return [g, gs];
  });
}

/**
 * The k largest entries along the last dimension, in descending order: values (differentiable) and
 * indices. Ties go to the lower index, so results are deterministic.
 */
export function topk(x: Tensor, k: number): { values: Tensor; indices: Int32Array } {
  const n = x.shape[x.ndim - 1]!;
  if (!Number.isInteger(k) || k < 1 || k > n) throw new ShapeError('topk', `k must be in [1, ${n}], got ${k}`, [x.shape]);
  const rows = x.size / n;
  const indices = topkIndices(x.data, rows, n, k);
  const values = new Float32Array(rows * k);
  for (let r = 0; r < rows; r++) for (let j = 0; j < k; j++) values[r * k + j] = x.data[r * n + indices[r * k + j]!]!;
  const shape = [...x.shape.slice(0, -1), k];
  const v = result(values, shape, 'topk', [x], (g) => {
    const gx = new Float32Array(x.size);
    for (let r = 0; r < rows; r++) for (let j = 0; j < k; j++) gx[r * n + indices[r * k + j]!] = g[r * k + j]!;
    return [gx];
  });
  return { values: v, indices };
}

/**
 * Row-wise top-k indices, descending, ties to the lower index. A size-k min-heap per row: O(n log k),
 * and the common case (value below the heap's minimum) is one comparison.
 */
export function topkIndices(data: Float32Array, rows: number, n: number, k: number): Int32Array {
  const out = new Int32Array(rows * k);
  const hv = new Float32Array(k);
  const hi = new Int32Array(k);
  // "a ranks below b" in the heap order: smaller value, or equal value and larger index.
  const below = (va: number, ia: number, vb: number, ib: number): boolean => va < vb || (va === vb && ia > ib);
  for (let r = 0; r < rows; r++) {
    const base = r * n;
    let size = 0;
    for (let j = 0; j < n; j++) {
      let v = data[base + j]!;
      if (v !== v) v = Infinity; // NaN ranks first, as a max would report it
      if (size === k) {
        if (!below(hv[0]!, hi[0]!, v, j)) continue;
        // replace the root and sift down
        let p = 0;
        for (;;) {
          const l = 2 * p + 1;
          if (l >= k) break;
          const rr = l + 1;
          const c = rr < k && below(hv[rr]!, hi[rr]!, hv[l]!, hi[l]!) ? rr : l;
          if (!below(hv[c]!, hi[c]!, v, j)) break;
          hv[p] = hv[c]!;
          hi[p] = hi[c]!;
          p = c;
        }
        hv[p] = v;
        hi[p] = j;
      } else {
        // push and sift up
        let p = size++;
        while (p > 0) {
          const parent = (p - 1) >> 1;
          if (!below(v, j, hv[parent]!, hi[parent]!)) break;
          hv[p] = hv[parent]!;
          hi[p] = hi[parent]!;
          p = parent;
        }
        hv[p] = v;
        hi[p] = j;
      }
    }
    // sort the heap contents descending
    const order = Array.from({ length: k }, (_, i) => i).sort((a, b) => (below(hv[a]!, hi[a]!, hv[b]!, hi[b]!) ? 1 : -1));
    for (let j = 0; j < k; j++) out[r * k + j] = hi[order[j]!]!;
  }
  return out;
}

/** x with `value` where mask is non-zero (no gradient flows to filled entries). */
export function maskedFill(x: Tensor, mask: Uint8Array, value: number): Tensor {
  if (mask.length !== x.size) throw new ShapeError('maskedFill', `mask has ${mask.length} entries for ${x.size}`, [x.shape]);
  const out = x.data.slice();
  for (let i = 0; i < out.length; i++) if (mask[i]) out[i] = value;
  return result(out, x.shape, 'maskedFill', [x], (g) => {
    const gx = g.slice();
    for (let i = 0; i < gx.length; i++) if (mask[i]) gx[i] = 0;
    return [gx];
  });
}
