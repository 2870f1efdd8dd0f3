import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ShapeError } from '../../errors.js';
import { grad } from '../autograd.js';
import { Rng } from '../random.js';
import { Tensor, sizeOf } from '../tensor.js';
import { SEEDS, assertClose, assertThrowsLoupe, distinctValues, flatIndex, randTensor, randomShape, unflatIndex } from '../testing/fixtures.js';
import { assertGradcheck } from '../testing/gradcheck.js';
import { argmax, logsumexp, max, mean, sum } from './reduce.js';

/** Reduce `x` over dimension d with a float64 fold over the entries of each fibre. */
function refReduce(x: Tensor, d: number, keepDim: boolean, fold: (vals: number[]) => number): { shape: number[]; data: Float64Array } {
  const outShape = x.shape.slice();
  outShape[d] = 1;
  const data = new Float64Array(sizeOf(outShape));
  for (let k = 0; k < data.length; k++) {
    const idx = unflatIndex(outShape, k);
    const vals: number[] = [];
    for (let j = 0; j < x.shape[d]!; j++) {
      idx[d] = j;
      vals.push(x.data[flatIndex(x.shape, idx)]!);
    }
    data[k] = fold(vals);
  }
  const shape = x.shape.slice();
  if (keepDim) shape[d] = 1;
  else shape.splice(d, 1);
  return { shape, data };
}

const sum64 = (v: number[]) => v.reduce((a, b) => a + b, 0);
const lse64 = (v: number[]) => {
  const m = Math.max(...v);
  return m + Math.log(v.reduce((a, b) => a + Math.exp(b - m), 0));
};

test('sum/mean/max/logsumexp over every dim (negative too, keepDim both) match nested loops', () => {
  const rng = new Rng(1);
  for (let trial = 0; trial < 30; trial++) {
    const shape = randomShape(rng, 1 + rng.int(4), 5);
    const x = randTensor(rng, shape);
    for (let d = -shape.length; d < shape.length; d++) {
      const pd = d < 0 ? d + shape.length : d;
      for (const keep of [false, true]) {
        const tag = `[${shape}] dim ${d} keep ${keep}`;
        const s = refReduce(x, pd, keep, sum64);
        const ys = sum(x, d, keep);
        assert.deepEqual(ys.shape, s.shape, tag);
        assertClose(ys.data, s.data, { atol: 1e-6, rtol: 1e-6 }, `sum ${tag}`);
        assertClose(mean(x, d, keep).data, s.data.map((v) => v / shape[pd]!), { atol: 1e-6, rtol: 1e-6 }, `mean ${tag}`);
        const m = max(x, d, keep);
        assertClose(m.values.data, refReduce(x, pd, keep, (v) => Math.max(...v)).data, { atol: 0, rtol: 0 }, `max ${tag}`);
        assert.deepEqual(Array.from(m.indices), Array.from(refReduce(x, pd, keep, (v) => v.indexOf(Math.max(...v))).data), `argmax ${tag}`);
        assert.deepEqual(m.values.shape, s.shape);
        assert.deepEqual(Array.from(argmax(x, d)), Array.from(m.indices));
        assertClose(logsumexp(x, d, keep).data, refReduce(x, pd, keep, lse64).data, { atol: 1e-6, rtol: 1e-6 }, `logsumexp ${tag}`);
      }
    }
  }
});

test('full reductions: sum/mean over everything, keepDim gives all-1 shape', () => {
  const x = Tensor.from([[1, 2, 3], [4, 5, 6]]);
  assert.equal(sum(x).item(), 21);
  assert.deepEqual(sum(x).shape, []);
  assert.deepEqual(sum(x, undefined, true).shape, [1, 1]);
  assert.equal(mean(x).item(), 3.5);
  assert.deepEqual(mean(x, undefined, true).shape, [1, 1]);
  assert.equal(sum(Tensor.scalar(4)).item(), 4);
});

test('reduction gradients match finite differences for every dim (several seeds)', () => {
  for (const seed of SEEDS) {
    const rng = new Rng(seed);
    const shape = randomShape(rng, 1 + rng.int(3), 4);
    const x = randTensor(rng, shape);
    const xd = distinctValues(rng, shape, 0.05);
    assertGradcheck(`sum all [${shape}]`, (t) => sum(t), [x], { seed });
    assertGradcheck(`mean all [${shape}]`, (t) => mean(t), [x], { seed });
    for (let d = -shape.length; d < shape.length; d++) {
      const keep = (d & 1) === 0;
      assertGradcheck(`sum [${shape}] dim ${d}`, (t) => sum(t, d, keep), [x], { seed });
      assertGradcheck(`mean [${shape}] dim ${d}`, (t) => mean(t, d, keep), [x], { seed });
      assertGradcheck(`max [${shape}] dim ${d}`, (t) => max(t, d, keep).values, [xd], { seed, step: 1e-4 });
      assertGradcheck(`logsumexp [${shape}] dim ${d}`, (t) => logsumexp(t, d, keep), [x], { seed });
    }
  }
});

test('sum over a long non-last dim is accurate (float64 accumulation)', () => {
  // 0.1f summed 200000 times per column: float32 accumulation would drift by ~1e-3 relative.
  const n = 200000;
  const x = Tensor.full([n, 2], 0.1);
  const want = n * Math.fround(0.1);
  const got = sum(x, 0).data;
  assertClose(got, [want, want], { atol: 0, rtol: 1e-6 });
  assertClose(mean(x, 0).data, [want / n, want / n], { atol: 0, rtol: 1e-6 });
});

test('max: ties go to the first index (values and gradient), NaN wins, empty dims are refused', () => {
  const x = new Tensor(Float32Array.of(3, 1, 3, 2, 2, 2), [2, 3], true);
  const m = max(x, 1);
  assert.deepEqual(Array.from(m.indices), [0, 0]);
  const [g] = grad(m.values, [x], [Float32Array.of(1, 1)]);
  assert.deepEqual(Array.from(g!), [1, 0, 0, 1, 0, 0]);
  const withNaN = max(Tensor.from([1, NaN, 5]), 0);
  assert.equal(withNaN.indices[0], 1);
  assert.ok(Number.isNaN(withNaN.values.item()));
  const allNegInf = max(Tensor.from([-Infinity, -Infinity]), 0);
  assert.equal(allNegInf.values.item(), -Infinity);
  assert.equal(allNegInf.indices[0], 0);
  assertThrowsLoupe(() => max(Tensor.zeros([2, 0]), 1), ShapeError, /^max:/, /empty/);
  assertThrowsLoupe(() => sum(Tensor.zeros([2, 3]), 2), ShapeError, /^sum:/, /dimension 2 is out of range/);
});

test('logsumexp is stable for large inputs and gives -inf (zero gradient) for a fully masked row', () => {
  const x = new Tensor(Float32Array.of(1000, 1000, -Infinity, -Infinity), [2, 2], true);
  const y = logsumexp(x, 1);
  assertClose(y.data, [1000 + Math.log(2), -Infinity], { atol: 0, rtol: 1e-7 });
  const [g] = grad(y, [x], [Float32Array.of(1, 1)]);
  assert.deepEqual(Array.from(g!), [0.5, 0.5, 0, 0]);
});

