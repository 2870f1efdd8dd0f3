import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ShapeError } from '../../errors.js';
import { grad } from '../autograd.js';
import { Rng } from '../random.js';
import { Tensor, sizeOf } from '../tensor.js';
import { SEEDS, assertClose, assertThrowsLoupe, flatIndex, randTensor, randomShape, unflatIndex } from '../testing/fixtures.js';
import { assertGradcheck } from '../testing/gradcheck.js';
import { logSoftmax, softmax } from './softmax.js';

/** float64 (log-)softmax of `x` (given as float64 data with `shape`) over dim d, with plain loops. */
function refSoftmax(data: ArrayLike<number>, shape: number[], d: number, log: boolean): Float64Array {
  const out = new Float64Array(sizeOf(shape));
  for (let k = 0; k < out.length; k++) {
    const idx = unflatIndex(shape, k);
    let m = -Infinity;
    for (let j = 0; j < shape[d]!; j++) m = Math.max(m, data[flatIndex(shape, [...idx.slice(0, d), j, ...idx.slice(d + 1)])]!);
    let s = 0;
    for (let j = 0; j < shape[d]!; j++) s += Math.exp(data[flatIndex(shape, [...idx.slice(0, d), j, ...idx.slice(d + 1)])]! - m);
    out[k] = log ? data[k]! - m - Math.log(s) : Math.exp(data[k]! - m) / s;
  }
  return out;
}

test('softmax/logSoftmax over every dim (negative and non-last) match a float64 reference', () => {
  const rng = new Rng(1);
  for (let trial = 0; trial < 25; trial++) {
    const shape = randomShape(rng, 1 + rng.int(4), 5);
    const x = randTensor(rng, shape, 3);
    for (let d = -shape.length; d < shape.length; d++) {
      const pd = d < 0 ? d + shape.length : d;
      assertClose(softmax(x, d).data, refSoftmax(x.data, shape, pd, false), { atol: 1e-7, rtol: 1e-6 }, `softmax [${shape}] dim ${d}`);
      assertClose(logSoftmax(x, d).data, refSoftmax(x.data, shape, pd, true), { atol: 1e-6, rtol: 1e-6 }, `logSoftmax [${shape}] dim ${d}`);
    }
  }
});

test('softmax gradients match finite differences for every dim (several seeds)', () => {
  for (const seed of SEEDS) {
    const rng = new Rng(seed);
    const shape = randomShape(rng, 1 + rng.int(3), 5);
    const x = randTensor(rng, shape, 2);
    for (let d = -shape.length; d < shape.length; d++) {
      assertGradcheck(`softmax [${shape}] dim ${d}`, (t) => softmax(t, d), [x], { seed });
      assertGradcheck(`logSoftmax [${shape}] dim ${d}`, (t) => logSoftmax(t, d), [x], { seed });
    }
  }
});

test('softmax gradient on long rows against a float64 reference (float32 differences are too noisy there)', () => {
  const rng = new Rng(5);
  const shape = [2, 96];
  const x = randTensor(rng, shape, 2);
  assertGradcheck('softmax [2,96]', (t) => softmax(t, -1), [x], { reference: ([d]) => refSoftmax(d!, shape, 1, false), maxPerInput: 60 });
  assertGradcheck('logSoftmax [2,96]', (t) => logSoftmax(t, -1), [x], { reference: ([d]) => refSoftmax(d!, shape, 1, true), maxPerInput: 60 });
  const shape0 = [40, 3];
  const x0 = randTensor(rng, shape0, 2);
  assertGradcheck('softmax [40,3] dim 0', (t) => softmax(t, 0), [x0], { reference: ([d]) => refSoftmax(d!, shape0, 0, false), maxPerInput: 40 });
});

test('softmax is stable for huge logits, handles -inf (masked) entries, and gives zeros for fully masked rows', () => {
  const x = new Tensor(Float32Array.of(1000, 1001, -Infinity, -Infinity, -Infinity, -Infinity, 3, -Infinity, 3), [3, 3], true);
  const y = softmax(x);
  const e = 1 / (1 + Math.E);
  assertClose(y.data, [e, 1 - e, 0, 0, 0, 0, 0.5, 0, 0.5], { atol: 1e-7, rtol: 1e-6 });
  const [g] = grad(y, [x], [Float32Array.of(1, 2, 3, 4, 5, 6, 7, 8, 9)]);
  for (const v of g!) assert.ok(Number.isFinite(v));
  assert.deepEqual(Array.from(g!.slice(3, 6)), [0, 0, 0]);
  // Rows sum to one.
  const z = softmax(randTensor(new Rng(2), [4, 50], 5));
  for (let r = 0; r < 4; r++) assert.ok(Math.abs(z.data.subarray(r * 50, r * 50 + 50).reduce((a, b) => a + b, 0) - 1) < 1e-6);
  const ls = logSoftmax(Tensor.from([[1000, 1001]]));
  assertClose(ls.data, [Math.log(e), Math.log(1 - e)], { atol: 1e-6, rtol: 1e-6 });
});

test('a NaN anywhere in a row makes that row NaN (never silently zeros); other rows are unaffected', () => {
  const y = softmax(Tensor.from([[1, NaN, 2], [NaN, NaN, NaN], [0, 0, 0]]));
  assert.ok(Array.from(y.data.subarray(0, 6)).every(Number.isNaN));
  assertClose(y.data.subarray(6), [1 / 3, 1 / 3, 1 / 3], { atol: 1e-7, rtol: 0 });
  const z = softmax(Tensor.from([[1, 2], [NaN, 0]]), 0);
  assert.ok(Number.isNaN(z.data[0]!) && Number.isNaN(z.data[2]!));
  assert.ok(Array.from(logSoftmax(Tensor.from([[1, NaN]])).data).every(Number.isNaN));
});

test('softmax errors name the op', () => {
  assertThrowsLoupe(() => softmax(Tensor.zeros([2, 3]), 2), ShapeError, /^softmax:/);
  assertThrowsLoupe(() => logSoftmax(Tensor.zeros([2, 3]), -3), ShapeError, /^logSoftmax:/);
});
