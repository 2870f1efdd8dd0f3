// The gradient checker must pass correct backwards and flag wrong ones: every gradient test in the
// tensor layer leans on it, so here it is shown to fail on deliberate bugs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { result } from '../autograd.js';
import { reduceToShape } from '../broadcast.js';
import { add } from '../ops/binary.js';
import { softmax } from '../ops/softmax.js';
import { Rng } from '../random.js';
import { Tensor } from '../tensor.js';
import { gradcheck } from './gradcheck.js';
import { randTensor } from './fixtures.js';

/** y = x^2 with a configurable derivative factor (2 is right). */
function squareWith(factor: number) {
  return (x: Tensor): Tensor => {
    const out = x.data.map((v) => v * v);
    return result(out, x.shape, 'square', [x], (g) => [g.map((gv, i) => factor * x.data[i]! * gv)]);
  };
}

/** a + b (b broadcast over rows) whose backward for b takes the first row instead of summing. */
function addBiasWrongReduction(a: Tensor, b: Tensor): Tensor {
  const [rows, d] = a.shape as [number, number];
  const out = new Float32Array(a.size);
  for (let r = 0; r < rows; r++) for (let j = 0; j < d; j++) out[r * d + j] = a.data[r * d + j]! + b.data[j]!;
  return result(out, a.shape, 'addBias', [a, b], (g) => [g, g.slice(0, d)]);
}

/** softmax whose backward forgets the -sum(g*y) term: invisible to sum(out) but not to sum(w*out). */
function softmaxMissingTerm(x: Tensor): Tensor {
  const y = softmax(x.detach());
  return result(y.data, x.shape, 'softmax', [x], (g) => [g.map((gv, i) => gv * y.data[i]!)]);
}

test('gradcheck passes correct backwards (x^2, broadcast add, softmax)', () => {
  const rng = new Rng(7);
  const x = randTensor(rng, [3, 4]);
  assert.ok(gradcheck(squareWith(2), [x]).ok);
  const b = randTensor(rng, [4]);
  const r = gradcheck((p, q) => add(p, q), [x, b]);
  assert.ok(r.ok, r.summary);
  assert.equal(r.checked, 16);
  assert.ok(gradcheck((p) => softmax(p), [x]).ok);
});

test('gradcheck flags a sign error, a missing factor of 2, and a 1% error', () => {
  const x = randTensor(new Rng(8), [2, 5]);
  for (const factor of [-2, 1, 2.02]) {
    const r = gradcheck(squareWith(factor), [x]);
    assert.equal(r.ok, false, `factor ${factor} should fail`);
    assert.ok(r.mismatches.some((m) => m.via === 'grad') && r.mismatches.some((m) => m.via === 'backward'));
    assert.match(r.summary, /FAILED/);
  }
});

test('gradcheck flags a wrong broadcast reduction', () => {
  const rng = new Rng(9);
  const r = gradcheck(addBiasWrongReduction, [randTensor(rng, [3, 4]), randTensor(rng, [4])]);
  assert.equal(r.ok, false);
  assert.ok(r.mismatches.every((m) => m.input === 1), 'only the bias gradient is wrong');
  // ...and the reduction done right passes.
  const ok = (a: Tensor, b: Tensor) => result(add(a.detach(), b.detach()).data, a.shape, 'addBias', [a, b], (g) => [g, reduceToShape(g, a.shape, b.shape)]);
  assert.ok(gradcheck(ok, [randTensor(rng, [3, 4]), randTensor(rng, [4])]).ok);
});

test('random output weights expose a per-row constant error that sum(out) would hide', () => {
  const r = gradcheck(softmaxMissingTerm, [randTensor(new Rng(10), [2, 6])]);
  assert.equal(r.ok, false);
});

test('float64 reference mode: tight enough to see a 0.1% error; a wrong reference is reported', () => {
  const x = randTensor(new Rng(11), [2, 3]);
  const sq = (xs: Float64Array[]) => xs[0]!.map((v) => v * v);
  assert.ok(gradcheck(squareWith(2), [x], { reference: sq }).ok);
  assert.equal(gradcheck(squareWith(2.002), [x], { reference: sq }).ok, false);
  const wrong = gradcheck(squareWith(2), [x], { reference: (xs) => xs[0]!.map((v) => v * v * 1.01) });
  assert.equal(wrong.ok, false);
  assert.match(wrong.problems[0]!, /disagrees with the float64 reference/);
});

test('an input with zero true gradient must get an analytic zero; wrt limits the check', () => {
  const rng = new Rng(12);
  const a = randTensor(rng, [3]);
  const b = randTensor(rng, [3]);
  // Claims a gradient for b although the output ignores it.
  const leaky = (p: Tensor, q: Tensor) => result(p.data.slice(), p.shape, 'leaky', [p, q], (g) => [g, g]);
  assert.equal(gradcheck(leaky, [a, b]).ok, false);
  assert.ok(gradcheck(leaky, [a, b], { wrt: [0] }).ok);
});

test('maxPerInput samples a subset of elements', () => {
  const r = gradcheck(squareWith(2), [randTensor(new Rng(13), [50])], { maxPerInput: 10 });
  assert.ok(r.ok);
  assert.equal(r.checked, 10);
});
