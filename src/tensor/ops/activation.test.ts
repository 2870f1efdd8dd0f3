import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../random.js';
import { Tensor } from '../tensor.js';
import { SEEDS, assertClose, awayFromKinks, randTensor, randomShape } from '../testing/fixtures.js';
import { assertGradcheck } from '../testing/gradcheck.js';
import { gelu, relu, silu } from './activation.js';
import { erfScalar } from './unary.js';

const geluErf64 = (x: number) => 0.5 * x * (1 + erfScalar(x / Math.SQRT2));
const geluTanh64 = (x: number) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));
const silu64 = (x: number) => x / (1 + Math.exp(-x));

test('gelu (erf) is x * Phi(x): Phi(1) = 0.8413447460685429, Phi(-2) = 0.022750131948179195', () => {
  const y = gelu(Tensor.from([1, -2, 0]), 'erf');
  assertClose(y.data, [0.8413447460685429, -2 * 0.022750131948179195, 0], { atol: 0, rtol: 2e-7 });
});

test('activation forwards match float64 formulas over a wide range, tails included', () => {
  const xs: number[] = [];
  for (let x = -12; x <= 12; x += 0.01) xs.push(x);
  xs.push(-100, -30, 30, 100, 0);
  const x = Tensor.from(xs);
  const xf = Array.from(x.data); // the float32 inputs the op sees
  assertClose(gelu(x, 'erf').data, xf.map(geluErf64), { atol: 1e-7, rtol: 3e-7 }, 'gelu erf');
  assertClose(gelu(x, 'tanh').data, xf.map(geluTanh64), { atol: 1e-7, rtol: 3e-7 }, 'gelu tanh');
  assertClose(gelu(x).data, gelu(x, 'tanh').data, { atol: 0, rtol: 0 }, 'default form is tanh');
  assertClose(silu(x).data, xf.map(silu64), { atol: 1e-7, rtol: 3e-7 }, 'silu');
  assertClose(relu(x).data, Array.from(x.data, (v) => Math.max(0, v)), { atol: 0, rtol: 0 }, 'relu');
  // The two gelu forms agree to about 1e-3 (the tanh form is an approximation).
  let diff = 0;
  for (let i = 0; i < xs.length; i++) diff = Math.max(diff, Math.abs(gelu(x, 'tanh').data[i]! - gelu(x, 'erf').data[i]!));
  assert.ok(diff > 1e-5 && diff < 1e-3, `max |gelu_tanh - gelu_erf| = ${diff}`);
  for (const y of [gelu(x, 'erf'), gelu(x, 'tanh'), silu(x)]) for (const v of y.data) assert.ok(Number.isFinite(v));
});

test('activation gradients match finite differences (several seeds)', () => {
  for (const seed of SEEDS) {
    const rng = new Rng(seed);
    const shape = randomShape(rng, 1 + rng.int(3), 6);
    const x = randTensor(rng, shape, 2);
    assertGradcheck(`gelu tanh [${shape}]`, (t) => gelu(t, 'tanh'), [x], { seed });
    assertGradcheck(`gelu erf [${shape}]`, (t) => gelu(t, 'erf'), [x], { seed });
    assertGradcheck(`silu [${shape}]`, silu, [x], { seed });
    assertGradcheck(`relu [${shape}]`, relu, [awayFromKinks(rng, shape, [0])], { seed });
  }
});

test('activation gradients against float64 references (tight tolerance)', () => {
  const rng = new Rng(21);
  const x = randTensor(rng, [64], 2.5);
  const map = (f: (v: number) => number) => (xs: Float64Array[]) => xs[0]!.map(f);
  assertGradcheck('gelu erf', (t) => gelu(t, 'erf'), [x], { reference: map(geluErf64) });
  assertGradcheck('gelu tanh', (t) => gelu(t, 'tanh'), [x], { reference: map(geluTanh64) });
  assertGradcheck('silu', silu, [x], { reference: map(silu64) });
});

test('activation gradients stay finite in the far tails', () => {
  const x = new Tensor(Float32Array.of(-100, -30, 30, 100), [4], true);
  for (const f of [(t: Tensor) => gelu(t, 'erf'), (t: Tensor) => gelu(t, 'tanh'), silu]) {
    const g = f(x).gradFn!.backward(Float32Array.of(1, 1, 1, 1))[0]!;
    assertClose(g, [0, 0, 1, 1], { atol: 1e-6, rtol: 0 });
  }
});
