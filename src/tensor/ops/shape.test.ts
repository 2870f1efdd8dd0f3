import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ShapeError } from '../../errors.js';
import { backward } from '../autograd.js';
import { Rng } from '../random.js';
import { Tensor, sizeOf } from '../tensor.js';
import { SEEDS, assertClose, assertThrowsLoupe, flatIndex, randTensor, randomShape, unflatIndex } from '../testing/fixtures.js';
import { assertGradcheck } from '../testing/gradcheck.js';
import { mul } from './binary.js';
import { sum } from './reduce.js';
import { broadcastTo, concat, permute, reshape, slice, split, squeeze, transpose, unsqueeze } from './shape.js';

/** out[idx] = x[idx permuted back], by multi-index. */
function refPermute(x: Tensor, perm: number[]): Float32Array {
  const outShape = perm.map((p) => x.shape[p]!);
  const out = new Float32Array(x.size);
  for (let k = 0; k < out.length; k++) {
    const oi = unflatIndex(outShape, k);
    const xi = new Array<number>(x.ndim);
    perm.forEach((p, i) => (xi[p] = oi[i]!));
    out[k] = x.data[flatIndex(x.shape, xi)]!;
  }
  return out;
}

function randomPerm(rng: Rng, n: number): number[] {
  return Array.from(rng.permutation(n));
}

test('permute matches a multi-index reference for 1-5 dims, and transposes with negative dims', () => {
  const rng = new Rng(1);
  for (let trial = 0; trial < 40; trial++) {
    const nd = 1 + rng.int(5);
    const shape = randomShape(rng, nd, 4);
    const x = randTensor(rng, shape);
    const perm = randomPerm(rng, nd);
    const y = permute(x, perm);
    assert.deepEqual(y.shape, perm.map((p) => shape[p]));
    assert.deepEqual(Array.from(y.data), Array.from(refPermute(x, perm)), `permute [${shape}] by [${perm}]`);
  }
  const x = randTensor(rng, [2, 3, 4, 5]);
  assert.deepEqual(Array.from(transpose(x, -1, 1).data), Array.from(refPermute(x, [0, 3, 2, 1])));
  assert.deepEqual(Array.from(transpose(x).data), Array.from(refPermute(x, [0, 1, 3, 2])));
  assert.deepEqual(permute(Tensor.scalar(3), []).item(), 3);
  assertThrowsLoupe(() => permute(x, [0, 1, 2]), ShapeError, /^permute:/, /not a permutation of 4 dimensions/, /\[2,3,4,5\]/);
  assertThrowsLoupe(() => permute(x, [0, 1, 1, 2]), ShapeError, /^permute:/);
});

test('shape op gradients match finite differences (several seeds, 4-5 dim permutes)', () => {
  for (const seed of SEEDS) {
    const rng = new Rng(seed);
    const nd = 4 + rng.int(2);
    const shape = randomShape(rng, nd, 3);
    const x = randTensor(rng, shape);
    const perm = randomPerm(rng, nd);
    assertGradcheck(`permute [${shape}] [${perm}]`, (t) => permute(t, perm), [x], { seed });
    assertGradcheck(`transpose [${shape}] 0,-1`, (t) => transpose(t, 0, -1), [x], { seed });
    assertGradcheck(`reshape [${shape}]`, (t) => reshape(t, [-1, shape[nd - 1]!]), [x], { seed });
    assertGradcheck(`unsqueeze/squeeze [${shape}]`, (t) => squeeze(unsqueeze(t, -2), -2), [x], { seed });
    for (let d = -nd; d < nd; d++) {
      const n = shape[(d + nd) % nd]!;
      const s0 = rng.int(n);
      const s1 = s0 + 1 + rng.int(n - s0);
      assertGradcheck(`slice [${shape}] dim ${d} [${s0},${s1})`, (t) => slice(t, d, s0, s1), [x], { seed });
      const other = randTensor(rng, shape.map((v, i) => (i === (d + nd) % nd ? 1 + rng.int(3) : v)));
      assertGradcheck(`concat [${shape}] dim ${d}`, (p, q) => concat([p, q, p], d), [x, other], { seed });
      if (n >= 2) {
        const cut = 1 + rng.int(n - 1);
        // Pieces reordered and one used twice: each piece's gradient must land in its own range.
        assertGradcheck(`split [${shape}] dim ${d} at ${cut}`, (t) => {
          const [lo, hi] = split(t, [cut, n - cut], d);
          return concat([hi!, lo!, hi!], d);
        }, [x], { seed });
      }
    }
    const b = randTensor(rng, [shape[nd - 1]!]);
    assertGradcheck(`broadcastTo [${b.shape}] -> [${shape}]`, (t) => broadcastTo(t, shape), [b], { seed });
    const mid = randTensor(rng, [shape[0]!, 1, shape[2]!]);
    assertGradcheck(`broadcastTo middle`, (t) => broadcastTo(t, [2, shape[0]!, 3, shape[2]!]), [mid], { seed });
  }
});

test('reshape is a view with -1 inference; errors name the op and shapes', () => {
  const x = Tensor.arange(24);
  const y = reshape(x, [2, -1, 4]);
  assert.deepEqual(y.shape, [2, 3, 4]);
  assert.equal(y.data, x.data, 'same storage');
  assert.deepEqual(reshape(Tensor.scalar(5), [1, 1]).shape, [1, 1]);
  assert.deepEqual(reshape(Tensor.zeros([0, 3]), [3, 0]).shape, [3, 0]);
  assertThrowsLoupe(() => reshape(x, [5, -1]), ShapeError, /^reshape:/, /cannot infer -1 for 24 elements/);
  assertThrowsLoupe(() => reshape(x, [5, 5]), ShapeError, /^reshape:/, /element counts differ \(24 vs 25\)/, /\[24\] and \[5,5\]/);
});

test('unsqueeze/squeeze with negative dims, and out-of-range dims refused', () => {
  const x = Tensor.zeros([2, 3]);
  assert.deepEqual(unsqueeze(x, 0).shape, [1, 2, 3]);
  assert.deepEqual(unsqueeze(x, 2).shape, [2, 3, 1]);
  assert.deepEqual(unsqueeze(x, -1).shape, [2, 3, 1]);
  assert.deepEqual(unsqueeze(x, -3).shape, [1, 2, 3]);
  assert.deepEqual(squeeze(Tensor.zeros([2, 1, 3]), -2).shape, [2, 3]);
  assertThrowsLoupe(() => unsqueeze(x, 3), ShapeError, /^unsqueeze:/);
  assertThrowsLoupe(() => unsqueeze(x, -4), ShapeError, /^unsqueeze:/);
  assertThrowsLoupe(() => squeeze(x, 0), ShapeError, /^squeeze:/, /size 2, not 1/);
});

test('slice: a leading-dim slice is a view, others are copies; values and ranges', () => {
  const x = Tensor.from(Array.from({ length: 24 }, (_, i) => i), [2, 3, 4]);
  const lead = slice(x, 0, 1, 2);
  assert.equal(lead.data.buffer, x.data.buffer, 'leading slice shares storage');
  assert.deepEqual(Array.from(lead.data), Array.from({ length: 12 }, (_, i) => 12 + i));
  // A slice after size-1 leading dims is also contiguous, hence a view.
  const one = reshape(x, [1, 2, 12]);
  assert.equal(slice(one, 1, 1, 2).data.buffer, x.data.buffer);
  const mid = slice(x, 1, 1, 3);
  assert.notEqual(mid.data.buffer, x.data.buffer, 'inner slice is a copy');
  assert.deepEqual(mid.shape, [2, 2, 4]);
  assert.deepEqual(Array.from(mid.data), [4, 5, 6, 7, 8, 9, 10, 11, 16, 17, 18, 19, 20, 21, 22, 23]);
  const last = slice(x, -1, 2, 4);
  assert.deepEqual(Array.from(last.data), [2, 3, 6, 7, 10, 11, 14, 15, 18, 19, 22, 23]);
  assert.deepEqual(slice(x, 2, 1, 1).shape, [2, 3, 0]);
  assertThrowsLoupe(() => slice(x, 1, 2, 4), ShapeError, /^slice:/, /range \[2, 4\) is outside dimension 1 of size 3/);
  assertThrowsLoupe(() => slice(x, 0, 1, 0), ShapeError, /^slice:/);
});

test('the gradient through a view slice lands in the right rows; a view reflects later writes', () => {
  const x = new Tensor(Float32Array.from({ length: 6 }, (_, i) => i), [3, 2], true);
  const v = slice(x, 0, 1, 3);
  const w = Tensor.from([[1, 2], [3, 4]]);
  backward(sum(mul(v, w)));
  assert.deepEqual(Array.from(x.grad!.data), [0, 0, 1, 2, 3, 4]);
  x.data[2] = 100;
  assert.equal(v.data[0], 100);
});

test('concat and split are inverse; concat errors name the op and shapes', () => {
  const rng = new Rng(3);
  for (let trial = 0; trial < 20; trial++) {
    const nd = 1 + rng.int(4);
    const shape = randomShape(rng, nd, 4);
    const d = rng.int(nd) - (rng.uniform() < 0.5 ? nd : 0);
    const pd = (d + nd) % nd;
    const parts = [1 + rng.int(3), 1 + rng.int(3), 1 + rng.int(3)];
    const xs = parts.map((p) => randTensor(rng, shape.map((v, i) => (i === pd ? p : v))));
    const c = concat(xs, d);
    assert.equal(c.shape[pd], parts[0]! + parts[1]! + parts[2]!);
    // Reference: every output element by multi-index.
    for (let k = 0; k < c.size; k++) {
      const idx = unflatIndex(c.shape, k);
      let part = 0;
      while (idx[pd]! >= parts[part]!) idx[pd] -= parts[part++]!;
      assert.equal(c.data[k], xs[part]!.data[flatIndex(xs[part]!.shape, idx)]);
    }
    const back = split(c, parts, d);
    back.forEach((t, i) => assert.deepEqual(Array.from(t.data), Array.from(xs[i]!.data)));
  }
  assert.deepEqual(split(Tensor.arange(6), 3).map((t) => Array.from(t.data)), [[0, 1], [2, 3], [4, 5]]);
  assertThrowsLoupe(() => concat([Tensor.zeros([2, 3]), Tensor.zeros([3, 3])], 1), ShapeError, /^concat:/, /all dimensions except 1 must match/, /\[2,3\] and \[3,3\]/);
  assertThrowsLoupe(() => concat([]), ShapeError, /^concat:/);
  assertThrowsLoupe(() => split(Tensor.arange(5), 2), ShapeError, /^split:/);
  assertThrowsLoupe(() => split(Tensor.arange(5), [2, 2]), ShapeError, /^split:/, /do not add up to 5/);
});

test('broadcastTo materialises and refuses shrinking', () => {
  const x = Tensor.from([[1], [2]]);
  const y = broadcastTo(x, [3, 2, 2]);
  assert.deepEqual(Array.from(y.data), [1, 1, 2, 2, 1, 1, 2, 2, 1, 1, 2, 2]);
  assertClose(broadcastTo(Tensor.scalar(7), [2]).data, [7, 7]);
  assertThrowsLoupe(() => broadcastTo(Tensor.zeros([2, 3]), [3]), ShapeError, /^broadcastTo:/);
  assertThrowsLoupe(() => broadcastTo(Tensor.zeros([2, 3]), [4, 3]), ShapeError, /^broadcastTo:/);
  assert.equal(sizeOf(y.shape), 12);
});
