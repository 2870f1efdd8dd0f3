import { test } from 'node:test';
import assert from 'node:assert/strict';
import { evalPowerLaw, fitPowerLaw, formatPower, formatPowerLaw } from './power-law.js';

test('fitPowerLaw recovers a and the exponent of exact power laws', () => {
  const xs = [256, 512, 1024, 2048, 4096];
  const p = fitPowerLaw(xs, xs.map((x) => 3 * Math.pow(x, -0.42)));
  assert.ok(Math.abs(p.a - 3) < 1e-9 && Math.abs(p.exponent - 0.42) < 1e-12 && Math.abs(p.r2 - 1) < 1e-12);
  assert.ok(Math.abs(evalPowerLaw(p, 100) - 3 * Math.pow(100, -0.42)) < 1e-12);
});

test('fitPowerLaw reports a poor R^2 for data that is not a power law, and refuses too few points', () => {
  const p = fitPowerLaw([1, 2, 3, 4, 5, 6], [1, 5, 1, 5, 1, 5]);
  assert.ok(p.r2 < 0.3);
  assert.throws(() => fitPowerLaw([1], [1]), /at least two/);
  assert.throws(() => fitPowerLaw([2, 2], [1, 3]), /distinct/);
});

test('formatPowerLaw writes the power with its own sign: falling, rising and flat laws', () => {
  const xs = [256, 512, 1024, 2048];
  const falling = formatPowerLaw(fitPowerLaw(xs, xs.map((x) => 2 * Math.pow(x, -0.42))), 'latents');
  assert.match(falling, /^2\.00 \* latents\^-0\.420 \(R\^2 1\.000\)$/);
  const rising = formatPowerLaw(fitPowerLaw(xs, xs.map((x) => 0.5 * Math.pow(x, 0.09))), 'latents');
  assert.match(rising, /^0\.500 \* latents\^0\.090 \(R\^2 1\.000\)$/);
  assert.doesNotMatch(rising, /\^-/);
  const flat = fitPowerLaw(xs, xs.map((x) => 0.3 * Math.pow(x, -1e-6)));
  assert.equal(formatPower(flat, 3), '0.000');
});
