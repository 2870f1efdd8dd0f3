import { test } from 'node:test';
import assert from 'node:assert/strict';
import { erfcNonNegative, expFast, normalCdf, sigmoidFast } from './fastmath.js';
import { erfScalar } from './unary.js';

test('expFast matches Math.exp to 2e-14 relative over the float32 range, and falls back outside it', () => {
  let worst = 0;
  for (let x = -99.9; x < 88; x += 0.00137) {
    const rel = Math.abs(expFast(x) - Math.exp(x)) / Math.exp(x);
    if (rel > worst) worst = rel;
  }
  assert.ok(worst < 2e-14, `worst relative error ${worst}`);
  assert.equal(expFast(0), 1);
  for (const x of [-Infinity, -1000, -100, 88, 700, Infinity]) assert.equal(expFast(x), Math.exp(x));
  assert.ok(Number.isNaN(expFast(NaN)));
  assert.equal(Math.fround(expFast(-104)), 0);
  assert.equal(Math.fround(expFast(89)), Infinity);
});

test('sigmoidFast is 1/(1+exp(-x)), saturating cleanly', () => {
  for (let x = -50; x <= 50; x += 0.01) {
    const want = 1 / (1 + Math.exp(-x));
    assert.ok(Math.abs(sigmoidFast(x) - want) <= 1e-14 * want, `sigmoid(${x})`);
  }
  assert.equal(sigmoidFast(-Infinity), 0);
  assert.equal(sigmoidFast(Infinity), 1);
});

// erfc to 17 digits (mpmath, 30-digit arithmetic).
const ERFC_KNOWN: [number, number][] = [
  [0.25, 0.72367360983176307],
  [1, 0.15729920705028513],
  [2.5, 0.00040695201744495894],
  [3, 2.2090496998585441e-5],
  [4, 1.5417257900280019e-8],
  [5, 1.5374597944280349e-12],
  [6, 2.1519736712498913e-17],
  [8, 1.1224297172982927e-29],
  [10, 2.0884875837625448e-45],
  [13, 1.7395573154667245e-75],
];

test('erfcNonNegative has relative error < 2e-9, deep tails included', () => {
  for (const [z, want] of ERFC_KNOWN) {
    const rel = Math.abs(erfcNonNegative(z) - want) / want;
    assert.ok(rel < 2e-9, `erfc(${z}) = ${erfcNonNegative(z)}, want ${want} (relative error ${rel})`);
  }
  // Dense check where 1 - erfScalar is itself accurate (erfc >= 4e-4, erfScalar absolute error < 1e-14).
  for (let z = 0; z <= 2.5; z += 0.001) {
    const want = 1 - erfScalar(z);
    assert.ok(Math.abs(erfcNonNegative(z) - want) <= 2e-9 * want, `erfc(${z})`);
  }
  assert.ok(Math.abs(erfcNonNegative(0) - 1) < 2e-9);
  assert.equal(erfcNonNegative(Infinity), 0);
});

test('normalCdf is Phi: symmetric, accurate in both tails, exact at the ends', () => {
  for (let x = -8; x <= 8; x += 0.003) {
    const want = 0.5 * (1 + erfScalar(x / Math.SQRT2));
    assert.ok(Math.abs(normalCdf(x) - want) < 2e-9 * Math.min(want, 1 - want) + 1e-15, `Phi(${x})`);
    assert.ok(Math.abs(normalCdf(x) + normalCdf(-x) - 1) < 1e-9);
  }
  // Phi(-10) = 7.6198530241605261e-24 (erfc(10/sqrt2)/2)
  assert.ok(Math.abs(normalCdf(-10) / 7.6198530241605261e-24 - 1) < 2e-9);
  assert.equal(normalCdf(-Infinity), 0);
  assert.equal(normalCdf(Infinity), 1);
  assert.ok(Number.isNaN(normalCdf(NaN)));
});
