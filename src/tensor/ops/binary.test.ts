import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ShapeError } from '../../errors.js';
import { grad } from '../autograd.js';
import { broadcastIndex, broadcastKind, broadcastShapes, reduceToShape } from '../broadcast.js';
import { Rng } from '../random.js';
import { Tensor, sizeOf, type Shape } from '../tensor.js';
import { SEEDS, assertClose, assertThrowsLoupe, randTensor, randomShape, unflatIndex, flatIndex } from '../testing/fixtures.js';
import { assertGradcheck } from '../testing/gradcheck.js';
import { add, div, maximum, minimum, mul, sub } from './binary.js';

// Independent broadcasting reference: walk the output multi-index, clamp stretched dims to 0.
function refBroadcast(a: Tensor, b: Tensor, f: (x: number, y: number) => number): { shape: number[]; data: Float64Array } {
  const nd = Math.max(a.ndim, b.ndim);
  const pad = (s: Shape) => [...new Array<number>(nd - s.length).fill(1), ...s];
  const pa = pad(a.shape);
  const pb = pad(b.shape);
  const shape = pa.map((d, i) => Math.max(d, pb[i]!));
  const data = new Float64Array(sizeOf(shape));
  for (let k = 0; k < data.length; k++) {
    const idx = unflatIndex(shape, k);
    const ia = flatIndex(pa, idx.map((v, i) => (pa[i] === 1 ? 0 : v)));
    const ib = flatIndex(pb, idx.map((v, i) => (pb[i] === 1 ? 0 : v)));
    data[k] = f(a.data[ia]!, b.data[ib]!);
  }
  return { shape, data };
}

/** Hand-picked broadcast layouts: every fast path and the general one, from both sides. */
const LAYOUTS: [Shape, Shape][] = [
  [[2, 3], [2, 3]], // same
  [[2, 3], []], // 0-d
  [[], [2, 3]],
  [[2, 3], [1]], // size-1 scalar-like
  [[2, 3, 4], [4]], // bias (suffix)
  [[4], [2, 3, 4]],
  [[2, 3, 4], [3, 1]], // size-1 in the middle / last
  [[2, 1, 4], [2, 3, 4]],
  [[1, 1, 4], [2, 3, 4]], // leading 1s
  [[3, 1], [1, 4]], // both sides broadcast
  [[2, 1, 4], [1, 3, 1]],
  [[1, 3, 1, 2], [2, 1, 5, 1]],
  [[], []],
  [[3, 1], [3, 1]],
];

/** A random pair of broadcast-compatible shapes. */
function randomPair(rng: Rng): [number[], number[]] {
  const out = randomShape(rng, rng.int(5), 4);
  const derive = () => {
    const s = out.map((d) => (rng.uniform() < 0.3 ? 1 : d));
    return s.slice(rng.int(s.length + 1));
  };
  return [derive(), derive()];
}

const OPS = {
  add: [add, (x: number, y: number) => x + y],
  sub: [sub, (x: number, y: number) => x - y],
  mul: [mul, (x: number, y: number) => x * y],
  div: [div, (x: number, y: number) => x / y],
} as const;

/** Values for b that keep division well conditioned: |b| in [0.5, 1.5], random sign. */
function awayFromZero(rng: Rng, shape: Shape): Tensor {
  const t = randTensor(rng, shape);
  for (let i = 0; i < t.size; i++) t.data[i] = (rng.uniform() < 0.5 ? -1 : 1) * (0.5 + rng.uniform());
  return t;
}

test('add/sub/mul/div forward match a nested-loop broadcasting reference', () => {
  const rng = new Rng(1);
  const pairs = [...LAYOUTS, ...Array.from({ length: 30 }, () => randomPair(rng))];
  for (const [sa, sb] of pairs) {
    const a = randTensor(rng, sa);
    const b = awayFromZero(rng, sb);
    for (const [name, [op, f]] of Object.entries(OPS)) {
      const got = op(a, b);
      const want = refBroadcast(a, b, f);
      assert.deepEqual(got.shape, want.shape, `${name} [${sa}] [${sb}]`);
      assertClose(got.data, want.data, { atol: 0, rtol: 1e-7 }, `${name} [${sa}] [${sb}]`);
    }
  }
});

test('add/sub/mul/div gradients match finite differences on every broadcast layout', () => {
  for (const seed of SEEDS) {
    const rng = new Rng(seed);
    const pairs = [...LAYOUTS, ...Array.from({ length: 8 }, () => randomPair(rng))];
    for (const [sa, sb] of pairs) {
      const a = randTensor(rng, sa);
      const b = awayFromZero(rng, sb);
      for (const [name, [op]] of Object.entries(OPS)) {
        assertGradcheck(`${name} [${sa}] [${sb}] seed ${seed}`, (x, y) => op(x, y), [a, b], { seed });
      }
    }
  }
});

test('number operands act as 0-d constants on either side', () => {
  const x = Tensor.from([[1, -2], [3, 4]]);
  assert.deepEqual(Array.from(add(x, 1).data), [2, -1, 4, 5]);
  assert.deepEqual(Array.from(sub(1, x).data), [0, 3, -2, -3]);
  assert.deepEqual(Array.from(mul(2, x).data), [2, -4, 6, 8]);
  assert.deepEqual(Array.from(div(x, 2).data), [0.5, -1, 1.5, 2]);
  assert.deepEqual(Array.from(div(1, x).data), [1, -0.5, 1 / 3, 0.25].map(Math.fround));
  const rng = new Rng(4);
  assertGradcheck('sub(1, x)', (t) => sub(1, t), [randTensor(rng, [2, 3])]);
  assertGradcheck('div(1, x)', (t) => div(1, t), [awayFromZero(rng, [2, 3])]);
  assertGradcheck('mul(x, 3)', (t) => mul(t, 3), [randTensor(rng, [3])]);
});

test('maximum/minimum: forward, gradients away from ties, ties send the gradient to the first operand', () => {
  for (const seed of SEEDS) {
    const rng = new Rng(seed);
    for (const [sa, sb] of [...LAYOUTS, randomPair(rng), randomPair(rng)]) {
      // Distinct values across both operands (gap 0.05 >> the finite-difference step).
      const n = sizeOf(sa) + sizeOf(sb);
      const p = rng.permutation(n);
      const vals = Array.from(p, (v) => (v - n / 2) * 0.05);
      const a = new Tensor(Float32Array.from(vals.slice(0, sizeOf(sa))), sa);
      const b = new Tensor(Float32Array.from(vals.slice(sizeOf(sa))), sb);
      assertClose(maximum(a, b).data, refBroadcast(a, b, Math.max).data, { atol: 0, rtol: 0 });
      assertClose(minimum(a, b).data, refBroadcast(a, b, Math.min).data, { atol: 0, rtol: 0 });
      assertGradcheck(`maximum [${sa}] [${sb}]`, (x, y) => maximum(x, y), [a, b], { step: 1e-4 });
      assertGradcheck(`minimum [${sa}] [${sb}]`, (x, y) => minimum(x, y), [a, b], { step: 1e-4 });
    }
  }
  // Ties: the subgradient goes to the first operand, for both ops.
  const a = new Tensor(Float32Array.of(1, 2, 0), [3], true);
  const b = new Tensor(Float32Array.of(1, 1, 1), [3], true);
  const [gaMax, gbMax] = grad(maximum(a, b), [a, b], [Float32Array.of(1, 1, 1)]);
  assert.deepEqual(Array.from(gaMax!), [1, 1, 0]);
  assert.deepEqual(Array.from(gbMax!), [0, 0, 1]);
  const [gaMin, gbMin] = grad(minimum(a, b), [a, b], [Float32Array.of(1, 1, 1)]);
  assert.deepEqual(Array.from(gaMin!), [1, 0, 1]);
  assert.deepEqual(Array.from(gbMin!), [0, 1, 0]);
});

test('shape errors name the op and both shapes', () => {
  const a = Tensor.zeros([2, 3]);
  const b = Tensor.zeros([4]);
  for (const [name, op] of [['add', add], ['sub', sub], ['mul', mul], ['div', div], ['maximum', maximum], ['minimum', minimum]] as const) {
    assertThrowsLoupe(() => op(a, b), ShapeError, new RegExp(`^${name}:`), /\[2,3\]/, /\[4\]/, /cannot be broadcast/);
  }
});

test('broadcast helpers: shapes, kinds, index maps and reductions agree with the reference', () => {
  assert.deepEqual(broadcastShapes('t', [2, 1, 4], [3, 1]), [2, 3, 4]);
  assert.deepEqual(broadcastShapes('t', [], [5]), [5]);
  assert.equal(broadcastKind([4], [2, 3, 4]), 'suffix');
  assert.equal(broadcastKind([1, 3, 1], [2, 3, 1]), 'suffix');
  assert.equal(broadcastKind([3, 1], [2, 3, 4]), 'general');
  assert.equal(broadcastKind([1, 1], [2, 3]), 'scalar');
  assert.equal(broadcastKind([], [2, 3]), 'scalar');
  const rng = new Rng(5);
  for (let trial = 0; trial < 40; trial++) {
    const [sa, sb] = randomPair(rng);
    const out = broadcastShapes('t', sa, sb);
    const idx = broadcastIndex(sa, out);
    const a = Tensor.arange(sizeOf(sa));
    const want = refBroadcast(new Tensor(a.data, sa), Tensor.zeros(out), (x) => x).data;
    assertClose(Array.from(idx), want, { atol: 0, rtol: 0 }, `index [${sa}] -> [${out}]`);
    // reduceToShape is the adjoint of broadcasting: <broadcast(x), g> = <x, reduce(g)>.
    const g = randTensor(rng, out).data;
    const x = randTensor(rng, sa).data;
    const red = reduceToShape(g, out, sa);
    let lhs = 0;
    for (let i = 0; i < g.length; i++) lhs += x[idx[i]!]! * g[i]!;
    let rhs = 0;
    for (let i = 0; i < x.length; i++) rhs += x[i]! * red[i]!;
    assert.ok(Math.abs(lhs - rhs) <= 1e-4 * (1 + Math.abs(lhs)), `reduceToShape [${out}] -> [${sa}]: ${lhs} vs ${rhs}`);
  }
});
