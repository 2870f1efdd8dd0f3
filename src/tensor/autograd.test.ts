import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NonFiniteError, ShapeError } from '../errors.js';
import { backward, enableGrad, grad, isGradEnabled, noGrad } from './autograd.js';
import { add, mul, sub } from './ops/binary.js';
import { sum } from './ops/reduce.js';
import { reshape, slice } from './ops/shape.js';
import { exp, log, sqrt, square } from './ops/unary.js';
import { Rng } from './random.js';
import { Tensor } from './tensor.js';
import { assertClose, assertThrowsLoupe, randTensor } from './testing/fixtures.js';

const leaf = (values: number[], shape = [values.length]) => new Tensor(Float32Array.from(values), shape, true);

test('noGrad records nothing, nests, and restores the mode after an exception; enableGrad forces recording', () => {
  const x = leaf([1, 2]);
  const y = noGrad(() => mul(x, x));
  assert.equal(y.requiresGrad, false);
  assert.equal(y.gradFn, null);
  assert.equal(isGradEnabled(), true);
  noGrad(() => {
    noGrad(() => assert.equal(isGradEnabled(), false));
    assert.equal(isGradEnabled(), false);
    const z = enableGrad(() => mul(x, x));
    assert.equal(z.requiresGrad, true);
    assert.equal(z.gradFn?.op, 'mul');
  });
  assert.throws(() =>
    noGrad(() => {
      throw new Error('boom');
    }),
  );
  assert.equal(isGradEnabled(), true);
  // Ops on tensors that want no gradient record nothing either.
  assert.equal(mul(Tensor.from([1]), Tensor.from([2])).gradFn, null);
});

test('detach shares storage and stops the gradient', () => {
  const x = leaf([1, 2, 3]);
  const d = x.detach();
  assert.equal(d.data, x.data);
  assert.equal(d.requiresGrad, false);
  // y = x * detach(x): dy/dx = detach(x) only (the detached factor is a constant).
  backward(sum(mul(x, d)));
  assert.deepEqual(Array.from(x.grad!.data), [1, 2, 3]);
  const c = x.clone();
  assert.notEqual(c.data, x.data);
  assert.deepEqual(Array.from(c.data), [1, 2, 3]);
});

test('retainGrad keeps an intermediate gradient; unretained intermediates keep none', () => {
  const x = leaf([1, 2]);
  const h = mul(x, 3).retainGrad(); // h = 3x
  const k = square(h); // k = 9x^2, not retained
  backward(sum(k));
  assert.deepEqual(Array.from(h.grad!.data), [6, 12]); // 2h
  assert.equal(k.grad, null);
  assert.deepEqual(Array.from(x.grad!.data), [18, 36]);
});

test('onGrad hooks read gradients, replace them (downstream sees the replacement), and can be removed', () => {
  const x = leaf([1, 2]);
  const h = mul(x, 2);
  const seen: number[][] = [];
  const stopReading = h.onGrad((g, t) => {
    assert.equal(t, h);
    seen.push(Array.from(g));
  });
  const stopReplacing = h.onGrad((g) => g.map((v) => v * 10));
  backward(sum(square(h))); // dL/dh = 2h = [4, 8]
  assert.deepEqual(seen, [[4, 8]]);
  assert.deepEqual(Array.from(x.grad!.data), [80, 160]); // 10 * 2h * 2
  stopReading();
  stopReplacing();
  x.grad = null;
  backward(sum(square(h)));
  assert.equal(seen.length, 1);
  assert.deepEqual(Array.from(x.grad!.data), [8, 16]);
  // A hook on a leaf replaces what lands in .grad; a wrong-sized replacement is a ShapeError.
  const p = leaf([5]);
  p.onGrad(() => Float32Array.of(42));
  backward(mul(p, 2));
  assert.equal(p.grad!.item(), 42);
  const q = leaf([1, 2]);
  q.onGrad(() => new Float32Array(3));
  assertThrowsLoupe(() => backward(sum(q)), ShapeError, /^gradient hook:/, /returned 3 values for a tensor of 2/);
});

test('grad() w.r.t. intermediate activations leaves .grad untouched; unrelated inputs get zeros', () => {
  const x = leaf([1, -2, 3]);
  const h = mul(x, x); // activation under study
  const y = sum(mul(h, h)); // y = sum(h^2): dy/dh = 2h
  const [gh, gx, gu] = grad(y, [h, x, leaf([7])]);
  assert.deepEqual(Array.from(gh!), [2, 8, 18]);
  assert.deepEqual(Array.from(gx!), [4, -32, 108]); // 4x^3
  assert.deepEqual(Array.from(gu!), [0]);
  assert.equal(x.grad, null);
  assert.equal(h.grad, null);
  // Several outputs with explicit output gradients.
  const a = leaf([1, 2]);
  const o1 = mul(a, 2);
  const o2 = exp(a);
  const [ga] = grad([o1, o2], [a], [Float32Array.of(1, 1), Float32Array.of(1, 0)]);
  assertClose(ga!, [2 + Math.E, 2], { atol: 1e-6, rtol: 1e-6 });
});

test('a tensor computed without grad, then marked requiresGrad, becomes a leaf', () => {
  const w = leaf([2, 3]);
  const act = noGrad(() => mul(w, w)); // [4, 9], no tape
  act.requireGrad();
  assert.equal(act.gradFn, null);
  const y = sum(mul(act, act));
  const [g] = grad(y, [act]);
  assert.deepEqual(Array.from(g!), [8, 18]);
  backward(y);
  assert.deepEqual(Array.from(act.grad!.data), [8, 18]);
  assert.equal(w.grad, null, 'nothing flows past the new leaf');
});

test('a tensor used twice accumulates both gradients', () => {
  const x = leaf([3, -1]);
  backward(sum(mul(x, x)));
  assert.deepEqual(Array.from(x.grad!.data), [6, -2]);
  const y = leaf([1, 2]);
  backward(sum(add(add(y, y), mul(y, 3))));
  assert.deepEqual(Array.from(y.grad!.data), [5, 5]);
  // backward twice accumulates into .grad
  backward(sum(add(add(y, y), mul(y, 3))));
  assert.deepEqual(Array.from(y.grad!.data), [10, 10]);
});

test('reshape aliasing does not corrupt gradients (retained views, repeated backward, grad() results)', () => {
  const x = leaf([1, 2, 3, 4], [2, 2]);
  const a = mul(x, 2).retainGrad();
  const b = reshape(a, [4]).retainGrad(); // b's gradient passes through to a unchanged
  const w = Tensor.from([1, -1, 2, -2]);
  backward(sum(mul(b, w)));
  backward(sum(mul(b, w)));
  assert.deepEqual(Array.from(b.grad!.data), [2, -2, 4, -4]);
  assert.deepEqual(Array.from(a.grad!.data), [2, -2, 4, -4]);
  assert.deepEqual(Array.from(x.grad!.data), [4, -4, 8, -8]);
  // grad() hands out independent arrays even where the tape shares one (add passes g to both sides).
  const p = leaf([1, 2]);
  const q = leaf([3, 4]);
  const [gp, gq] = grad(sum(add(p, q)), [p, q]);
  gp![0] = 99;
  assert.equal(gq![0], 1);
  // A view and its base both used: both paths count.
  const z = leaf([1, 2, 3, 4]);
  backward(add(sum(square(reshape(z, [2, 2]))), sum(slice(z, 0, 1, 3))));
  assert.deepEqual(Array.from(z.grad!.data), [2, 5, 7, 8]);
});

test('a NaN or infinite gradient raises NonFiniteError naming the op that produced it', () => {
  const x = leaf([0, 1]);
  const e = assertThrowsLoupe(() => backward(sum(log(x))), NonFiniteError, /backward of log/, /input 0 \[2\]/, /NaN or infinity/);
  assert.equal(e.code, 'non_finite');
  assertThrowsLoupe(() => backward(sum(sqrt(sub(x, x)))), NonFiniteError, /backward of sqrt/);
  // checkFinite: false lets it through.
  x.grad = null;
  backward(sum(log(x)), undefined, { checkFinite: false });
  assert.equal(x.grad!.data[0], Infinity);
  assertThrowsLoupe(() => grad(sum(log(x)), [x]), NonFiniteError, /log/);
  assertThrowsLoupe(() => backward(mul(x, 2), Float32Array.of(NaN, 1)), NonFiniteError, /output gradient/);
  const h = mul(leaf([1]), 2);
  h.onGrad(() => Float32Array.of(Infinity));
  assertThrowsLoupe(() => backward(mul(h, 3)), NonFiniteError, /gradient hook/);
});

test('backward needs a scalar (or an output gradient) and something that requires grad', () => {
  const x = leaf([1, 2]);
  assertThrowsLoupe(() => backward(mul(x, 2)), ShapeError, /^backward:/, /needs a scalar output/, /\[2\]/);
  assertThrowsLoupe(() => backward(Tensor.from([1])), ShapeError, /^backward:/, /does not depend on anything that requires a gradient/);
  assertThrowsLoupe(() => backward(mul(x, 2), Float32Array.of(1)), ShapeError, /^backward:/, /gradient has 1 values for a tensor of 2/);
});

test('Tensor basics: constructors, nested arrays, typed arrays, item, toArray, dim, errors', () => {
  const t = Tensor.from([[1, 2, 3], [4, 5, 6]]);
  assert.deepEqual(t.shape, [2, 3]);
  assert.deepEqual(t.toArray(), [[1, 2, 3], [4, 5, 6]]);
  assert.equal(t.dim(-1), 3);
  assert.equal(t.ndim, 2);
  const typed = Tensor.from(Float32Array.of(1, 2, 3));
  assert.deepEqual(typed.shape, [3]);
  assert.deepEqual(Tensor.scalar(2.5).toArray(), 2.5);
  assert.equal(Tensor.scalar(2.5).item(), 2.5);
  assert.deepEqual(Array.from(Tensor.arange(3).data), [0, 1, 2]);
  assert.deepEqual(Array.from(Tensor.full([2], 7).data), [7, 7]);
  assert.equal(Tensor.zeros([2], true).requiresGrad, true);
  assertThrowsLoupe(() => Tensor.from([[1, 2], [3]]), ShapeError, /^Tensor.from:/, /ragged/);
  assertThrowsLoupe(() => t.item(), ShapeError, /^item:/, /\[2,3\]/);
  assertThrowsLoupe(() => t.dim(2), ShapeError, /^dim:/);
  assertThrowsLoupe(() => new Tensor(new Float32Array(5), [2, 3]), ShapeError, /^Tensor:/, /storage holds 5 values but the shape needs 6/);
  assertThrowsLoupe(() => Tensor.zeros([2, -1]), ShapeError, /^zeros:/);
  assert.equal(String(leaf([1])), 'Tensor([1], requiresGrad)');
  const rng = new Rng(1);
  assert.ok(randTensor(rng, [3]).id < randTensor(rng, [3]).id, 'ids increase');
});
