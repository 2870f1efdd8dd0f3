import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../random.js';
import { Tensor } from '../tensor.js';
import { SEEDS, assertClose, awayFromKinks, randTensor, randomShape, uniformTensor } from '../testing/fixtures.js';
import { assertGradcheck } from '../testing/gradcheck.js';
import { abs, affine, clamp, erf, erfScalar, exp, log, neg, pow, rsqrt, scale, sigmoid, sqrt, square, tanh } from './unary.js';

// erf to 16 digits (CPython math.erf, glibc; the first four as given in the brief).
const ERF_KNOWN: [number, number][] = [
  [0.5, 0.5204998778130465],
  [1, 0.8427007929497149],
  [2, 0.9953222650189527],
  [3, 0.9999779095030014],
  [0.1, 0.1124629160182849],
  [1.5, 0.9661051464753108],
  [2.49, 0.9995707121322661], // either side of the switch from series to continued fraction
  [2.5, 0.999593047982555],
  [2.51, 0.9996142945182758],
  [3.5, 0.9999992569016276],
  [4, 0.9999999845827421],
  [5, 0.9999999999984626],
];

test('erfScalar matches high-precision erf to 1e-14, is odd, and handles 0, infinities and NaN', () => {
  for (const [x, e] of ERF_KNOWN) {
    assert.ok(Math.abs(erfScalar(x) - e) < 1e-14, `erf(${x}) = ${erfScalar(x)}, expected ${e}`);
    assert.ok(Math.abs(erfScalar(-x) + e) < 1e-14, `erf(${-x})`);
  }
  // Tails: erfc(4) = 1.541725790028002e-8 must survive as 1 - erf.
  assert.ok(Math.abs(1 - erfScalar(4) - 1.541725790028002e-8) < 1e-15);
  assert.equal(erfScalar(0), 0);
  assert.equal(erfScalar(Infinity), 1);
  assert.equal(erfScalar(-Infinity), -1);
  assert.ok(Number.isNaN(erfScalar(NaN)));
  // Monotone across the whole range (no seam between the two methods).
  let prev = -1;
  for (let x = -7; x <= 7; x += 0.001) {
    const v = erfScalar(x);
    assert.ok(v >= prev, `erf not monotone at ${x}`);
    prev = v;
  }
});

interface UnaryCase {
  name: string;
  op: (x: Tensor) => Tensor;
  f: (x: number) => number;
  /** Input generator: domain and distance from kinks. */
  input: (rng: Rng, shape: number[]) => Tensor;
}

const normal = (rng: Rng, s: number[]) => randTensor(rng, s);
const positive = (rng: Rng, s: number[]) => uniformTensor(rng, s, 0.5, 2);

const CASES: UnaryCase[] = [
  { name: 'neg', op: neg, f: (x) => -x, input: normal },
  { name: 'exp', op: exp, f: Math.exp, input: normal },
  { name: 'log', op: log, f: Math.log, input: positive },
  { name: 'sqrt', op: sqrt, f: Math.sqrt, input: positive },
  { name: 'rsqrt', op: rsqrt, f: (x) => 1 / Math.sqrt(x), input: positive },
  { name: 'tanh', op: tanh, f: Math.tanh, input: normal },
  { name: 'square', op: square, f: (x) => x * x, input: normal },
  { name: 'abs', op: abs, f: Math.abs, input: (rng, s) => awayFromKinks(rng, s, [0]) },
  { name: 'sigmoid', op: sigmoid, f: (x) => 1 / (1 + Math.exp(-x)), input: (rng, s) => randTensor(rng, s, 3) },
  { name: 'erf', op: erf, f: erfScalar, input: (rng, s) => randTensor(rng, s, 1.5) },
  { name: 'pow 3', op: (x) => pow(x, 3), f: (x) => x * x * x, input: normal },
  { name: 'pow 0.5', op: (x) => pow(x, 0.5), f: Math.sqrt, input: positive },
  { name: 'pow -1.5', op: (x) => pow(x, -1.5), f: (x) => Math.pow(x, -1.5), input: positive },
  { name: 'affine', op: (x) => affine(x, -1.5, 0.25), f: (x) => x * -1.5 + 0.25, input: normal },
  { name: 'scale', op: (x) => scale(x, 3), f: (x) => 3 * x, input: normal },
  { name: 'clamp', op: (x) => clamp(x, -0.5, 0.7), f: (x) => Math.min(0.7, Math.max(-0.5, x)), input: (rng, s) => awayFromKinks(rng, s, [-0.5, 0.7]) },
];

test('unary forward values match Math on random tensors', () => {
  const rng = new Rng(1);
  for (const c of CASES) {
    const x = c.input(rng, [5, 7]);
    const want = Array.from(x.data, c.f);
    assertClose(c.op(x).data, want, { atol: 1e-7, rtol: 2e-7 }, c.name);
    const y = c.op(x);
    assert.deepEqual(y.shape, [5, 7]);
  }
  // 0-d tensors keep their shape.
  assert.deepEqual(exp(Tensor.scalar(0)).shape, []);
});

test('unary gradients match finite differences on random shapes (several seeds)', () => {
  for (const seed of SEEDS) {
    const rng = new Rng(seed);
    for (const c of CASES) {
      const shape = randomShape(rng, rng.int(4), 5);
      assertGradcheck(`${c.name} [${shape}] seed ${seed}`, c.op, [c.input(rng, shape)], { seed });
    }
  }
});

test('clamp passes no gradient outside the range; abs has zero gradient at 0', () => {
  const x = new Tensor(Float32Array.of(-1, 0, 0.5, 2), [4], true);
  const y = clamp(x, 0, 1);
  assert.deepEqual(Array.from(y.data), [0, 0, 0.5, 1]);
  assert.deepEqual(Array.from(y.gradFn!.backward(Float32Array.of(1, 1, 1, 1))[0]!), [0, 1, 1, 0]);
  const z = abs(new Tensor(Float32Array.of(-2, 0, 3), [3], true));
  assert.deepEqual(Array.from(z.gradFn!.backward(Float32Array.of(1, 1, 1))[0]!), [-1, 0, 1]);
});

test('sigmoid stays finite and exact in the tails', () => {
  const y = sigmoid(Tensor.from([-100, -20, 0, 20, 100]));
  assertClose(y.data, [Math.fround(1 / (1 + Math.exp(100))), Math.fround(1 / (1 + Math.exp(20))), 0.5, 1, 1], { atol: 0, rtol: 1e-7 });
});
