import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InputError, ShapeError } from '../../errors.js';
import { grad } from '../autograd.js';
import { Rng } from '../random.js';
import { Tensor, sizeOf } from '../tensor.js';
import { SEEDS, assertThrowsLoupe, distinctValues, flatIndex, randTensor, randomShape, unflatIndex } from '../testing/fixtures.js';
import { assertGradcheck } from '../testing/gradcheck.js';
import { embedding, gather, indexSelect, maskedFill, scatterAdd, topk, topkIndices } from './indexing.js';

function randIndices(rng: Rng, count: number, n: number): Int32Array {
  const idx = new Int32Array(count);
  for (let i = 0; i < count; i++) idx[i] = rng.int(n);
  return idx;
}

test('embedding: rows by id (repeated ids accumulate gradient), any ids shape', () => {
  const rng = new Rng(1);
  const w = randTensor(rng, [5, 3]);
  const ids = Int32Array.of(4, 0, 4, 4, 2, 0);
  const y = embedding(w, ids, [2, 3]);
  assert.deepEqual(y.shape, [2, 3, 3]);
  for (let i = 0; i < 6; i++) for (let j = 0; j < 3; j++) assert.equal(y.data[i * 3 + j], w.data[ids[i]! * 3 + j]);
  for (const seed of SEEDS) assertGradcheck(`embedding seed ${seed}`, (t) => embedding(t, ids, [2, 3]), [randTensor(new Rng(seed), [5, 3])], { seed });
  // Repeated id 4 appears three times: its gradient row is the sum of three output-gradient rows.
  const wg = new Tensor(w.data.slice(), w.shape, true);
  const [g] = grad(embedding(wg, ids), [wg], [new Float32Array(18).fill(1)]);
  assert.deepEqual(Array.from(g!), [2, 2, 2, 0, 0, 0, 1, 1, 1, 0, 0, 0, 3, 3, 3]);
  assertThrowsLoupe(() => embedding(w, [5]), InputError, /embedding: index 5 at position 0 is outside \[0, 5\)/);
  assertThrowsLoupe(() => embedding(w, [1.5]), InputError, /embedding/);
  assertThrowsLoupe(() => embedding(w, [1, 2, 3], [2, 2]), ShapeError, /^embedding:/);
  assertThrowsLoupe(() => embedding(Tensor.zeros([5]), [1]), ShapeError, /^embedding:/);
});

test('indexSelect/gather/scatterAdd match multi-index references on random shapes, every dim, repeated indices', () => {
  for (const seed of SEEDS) {
    const rng = new Rng(seed);
    for (let trial = 0; trial < 6; trial++) {
      const nd = 1 + rng.int(3);
      const shape = randomShape(rng, nd, 4);
      const x = randTensor(rng, shape);
      for (let d = -nd; d < nd; d++) {
        const pd = (d + nd) % nd;
        const n = shape[pd]!;
        const m = 1 + rng.int(5); // usually > n somewhere: repeats guaranteed
        const tag = `[${shape}] dim ${d} seed ${seed}`;

        const sel = randIndices(rng, m, n);
        const ys = indexSelect(x, d, sel);
        const selShape = shape.slice();
        selShape[pd] = m;
        assert.deepEqual(ys.shape, selShape);
        for (let k = 0; k < ys.size; k++) {
          const idx = unflatIndex(selShape, k);
          idx[pd] = sel[idx[pd]!]!;
          assert.equal(ys.data[k], x.data[flatIndex(shape, idx)], `indexSelect ${tag}`);
        }
        assertGradcheck(`indexSelect ${tag}`, (t) => indexSelect(t, d, sel), [x], { seed });

        const gi = randIndices(rng, sizeOf(selShape), n);
        const yg = gather(x, d, gi, m);
        for (let k = 0; k < yg.size; k++) {
          const idx = unflatIndex(selShape, k);
          idx[pd] = gi[k]!;
          assert.equal(yg.data[k], x.data[flatIndex(shape, idx)], `gather ${tag}`);
        }
        assertGradcheck(`gather ${tag}`, (t) => gather(t, d, gi, m), [x], { seed });

        const src = randTensor(rng, selShape);
        const ya = scatterAdd(x, d, gi, src);
        const want = Float64Array.from(x.data);
        for (let k = 0; k < src.size; k++) {
          const idx = unflatIndex(selShape, k);
          idx[pd] = gi[k]!;
          want[flatIndex(shape, idx)] += src.data[k]!;
        }
        for (let k = 0; k < want.length; k++) assert.ok(Math.abs(ya.data[k]! - want[k]!) < 1e-5, `scatterAdd ${tag} [${k}]`);
        assertGradcheck(`scatterAdd ${tag}`, (t, s) => scatterAdd(t, d, gi, s!), [x, src], { seed });
      }
    }
  }
});

test('indexing errors: out-of-range indices are InputErrors naming the op; bad index shapes are ShapeErrors', () => {
  const x = Tensor.zeros([2, 3]);
  assertThrowsLoupe(() => indexSelect(x, 1, [3]), InputError, /^indexSelect: index 3/);
  assertThrowsLoupe(() => gather(x, 1, Int32Array.of(0, 1, 2, -1), 2), InputError, /^gather: index -1/);
  assertThrowsLoupe(() => gather(x, 1, Int32Array.of(0, 1, 2), 2), ShapeError, /^gather:/, /index has 3 entries, expected 4/);
  assertThrowsLoupe(() => scatterAdd(x, 0, Int32Array.of(0, 1, 2), Tensor.zeros([1, 3])), InputError, /^scatterAdd: index 2/);
  assertThrowsLoupe(() => scatterAdd(x, 0, Int32Array.of(0, 1), Tensor.zeros([1, 2])), ShapeError, /^scatterAdd:/);
});

/** Reference top-k: stable sort by value descending (NaN first), ties by index. */
function refTopk(row: ArrayLike<number>, k: number): number[] {
  const key = (v: number) => (Number.isNaN(v) ? Infinity : v);
  return Array.from({ length: row.length }, (_, i) => i)
    .sort((a, b) => key(row[b]!) - key(row[a]!) || a - b)
    .slice(0, k);
}

test('topkIndices matches a sort reference with many ties, NaNs and infinities', () => {
  const rng = new Rng(2);
  for (let trial = 0; trial < 200; trial++) {
    const n = 1 + rng.int(40);
    const k = 1 + rng.int(n);
    const rows = 1 + rng.int(3);
    const data = new Float32Array(rows * n);
    for (let i = 0; i < data.length; i++) {
      const u = rng.uniform();
      data[i] = u < 0.05 ? NaN : u < 0.1 ? Infinity : u < 0.15 ? -Infinity : rng.int(5); // small ints: ties everywhere
    }
    const got = topkIndices(data, rows, n, k);
    for (let r = 0; r < rows; r++) {
      assert.deepEqual(Array.from(got.subarray(r * k, r * k + k)), refTopk(data.subarray(r * n, r * n + n), k), `n ${n} k ${k}`);
    }
  }
});

test('topk: values descending, ties to the lower index, NaN ranks first, gradient to the picked entries', () => {
  const x = Tensor.from([[1, 3, 3, 2], [NaN, 0, 5, 5]]);
  const { values, indices } = topk(x, 2);
  assert.deepEqual(Array.from(indices), [1, 2, 0, 2]);
  assert.deepEqual(Array.from(values.data).map((v) => (Number.isNaN(v) ? 'NaN' : v)), [3, 3, 'NaN', 5]);
  assert.deepEqual(values.shape, [2, 2]);
  for (const seed of SEEDS) {
    const rng = new Rng(seed);
    const shape = [...randomShape(rng, rng.int(2), 3), 3 + rng.int(6)];
    const k = 1 + rng.int(shape[shape.length - 1]!);
    assertGradcheck(`topk [${shape}] k ${k}`, (t) => topk(t, k).values, [distinctValues(rng, shape, 0.05)], { seed, step: 1e-4 });
  }
  assertThrowsLoupe(() => topk(x, 5), ShapeError, /^topk:/, /k must be in \[1, 4\], got 5/);
  assertThrowsLoupe(() => topk(x, 0), ShapeError, /^topk:/);
});

test('maskedFill fills and blocks the gradient where the mask is set', () => {
  const rng = new Rng(3);
  const x = randTensor(rng, [2, 3]);
  const mask = Uint8Array.of(1, 0, 0, 1, 1, 0);
  const y = maskedFill(x, mask, -Infinity);
  for (let i = 0; i < 6; i++) assert.equal(y.data[i], mask[i] ? -Infinity : x.data[i]);
  assertGradcheck('maskedFill', (t) => maskedFill(t, mask, 7), [x]);
  assertThrowsLoupe(() => maskedFill(x, new Uint8Array(5), 0), ShapeError, /^maskedFill:/);
});
