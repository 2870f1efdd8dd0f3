import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NonFiniteError } from '../../errors.js';
import { backward } from '../autograd.js';
import { sub } from '../ops/binary.js';
import { sum } from '../ops/reduce.js';
import { square } from '../ops/unary.js';
import { Tensor } from '../tensor.js';
import { assertClose, assertThrowsLoupe } from '../testing/fixtures.js';
import { Adam, clipGradNorm } from './adam.js';

/** Textbook Adam(W) on one scalar, in float64: bias-corrected moments, eps outside the square root. */
function adamScalar(w0: number, grads: number[], lr: number, wd = 0, b1 = 0.9, b2 = 0.999, eps = 1e-8): number[] {
  let w = w0;
  let m = 0;
  let v = 0;
  const out: number[] = [];
  grads.forEach((g, i) => {
    const t = i + 1;
    m = b1 * m + (1 - b1) * g;
    v = b2 * v + (1 - b2) * g * g;
    const mHat = m / (1 - b1 ** t);
    const vHat = v / (1 - b2 ** t);
    w = w * (1 - lr * wd) - (lr * mHat) / (Math.sqrt(vHat) + eps);
    out.push(w);
  });
  return out;
}

function stepWith(opt: Adam, p: Tensor, g: number): void {
  p.grad = Tensor.from([g]);
  opt.step();
}

test('Adam: the first step moves by lr against the gradient sign (hand-computed), then follows the textbook sequence', () => {
  const p = Tensor.from([1], [1], true);
  const opt = new Adam([p], { lr: 0.1 });
  stepWith(opt, p, 0.5);
  // m = 0.05, v = 0.00025, m_hat = 0.5, v_hat = 0.25: w = 1 - 0.1 * 0.5 / (0.5 + 1e-8) = 0.900000002
  assertClose(p.data, [0.900000002], { atol: 1e-7, rtol: 0 });
  const grads = [0.5, -0.2, 0.1, 0.3, -1.5, 0.02];
  for (const g of grads.slice(1)) stepWith(opt, p, g);
  assertClose(p.data, [adamScalar(1, grads, 0.1).at(-1)!], { atol: 1e-6, rtol: 0 });
  assert.equal(opt.state.step, grads.length);
});

test('AdamW decays weights decoupled from the gradient; noDecay exempts parameters', () => {
  const p = Tensor.from([1], [1], true);
  const b = Tensor.from([1], [1], true);
  const opt = new Adam([p, b], { lr: 0.1, weightDecay: 0.1, beta1: 0.8, beta2: 0.99 });
  opt.noDecay.add(b);
  // first step: w = 1 * (1 - 0.01) - 0.1 * 1 * ... = 0.99 - 0.1 * 0.5/(0.5 + 1e-8)
  p.grad = Tensor.from([0.5]);
  b.grad = Tensor.from([0.5]);
  opt.step();
  assertClose(p.data, [0.890000002], { atol: 1e-7, rtol: 0 });
  assertClose(b.data, [0.900000002], { atol: 1e-7, rtol: 0 });
  const grads = [0.5, 0.25, -0.75, 0.1];
  for (const g of grads.slice(1)) {
    p.grad = Tensor.from([g]);
    b.grad = Tensor.from([g]);
    opt.step();
  }
  assertClose(p.data, [adamScalar(1, grads, 0.1, 0.1, 0.8, 0.99).at(-1)!], { atol: 1e-6, rtol: 0 });
  assertClose(b.data, [adamScalar(1, grads, 0.1, 0, 0.8, 0.99).at(-1)!], { atol: 1e-6, rtol: 0 });
});

test('Adam skips parameters without a gradient, zeroGrad clears, and it minimises a quadratic', () => {
  const a = Tensor.from([1, 2], [2], true);
  const untouched = Tensor.from([5], [1], true);
  const opt = new Adam([a, untouched], { lr: 0.05 });
  const target = Tensor.from([-1, 3]);
  for (let i = 0; i < 400; i++) {
    opt.zeroGrad();
    backward(sum(square(sub(a, target))));
    opt.step();
  }
  assert.equal(untouched.data[0], 5);
  assertClose(a.data, [-1, 3], { atol: 1e-2, rtol: 0 });
  opt.zeroGrad();
  assert.equal(a.grad, null);
});

test('clipGradNorm scales all gradients to the global max norm and returns the norm before clipping', () => {
  const p = Tensor.from([0, 0], [2], true);
  const q = Tensor.from([0], [1], true);
  const none = Tensor.from([0], [1], true);
  p.grad = Tensor.from([3, 4]);
  q.grad = Tensor.from([12]);
  const norm = clipGradNorm([p, q, none], 6.5);
  assert.equal(norm, 13);
  const c = 6.5 / (13 + 1e-6);
  assertClose(p.grad.data, [3 * c, 4 * c], { atol: 0, rtol: 1e-6 });
  assertClose(q.grad.data, [12 * c], { atol: 0, rtol: 1e-6 });
  // Below the limit: untouched.
  const after = clipGradNorm([p, q], 100);
  assert.ok(Math.abs(after - 6.5) < 1e-5, `norm after clipping ${after}`);
  assertClose(q.grad.data, [12 * c], { atol: 0, rtol: 1e-6 });
  q.grad = Tensor.from([NaN]);
  assertThrowsLoupe(() => clipGradNorm([p, q], 1), NonFiniteError, /^clipGradNorm:/);
});
