import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InputError, ShapeError } from '../../errors.js';
import { grad } from '../autograd.js';
import { Rng } from '../random.js';
import { Tensor } from '../tensor.js';
import { SEEDS, assertClose, assertThrowsLoupe, randTensor } from '../testing/fixtures.js';
import { assertGradcheck } from '../testing/gradcheck.js';
import { crossEntropy } from './loss.js';

/** Per-row -log softmax(logits)[target] in float64; NaN marks an ignored row. */
function refRowLosses(logits: ArrayLike<number>, V: number, targets: ArrayLike<number>, ignore: number): Float64Array {
  const N = targets.length;
  const out = new Float64Array(N);
  for (let r = 0; r < N; r++) {
    if (targets[r] === ignore) {
      out[r] = NaN;
      continue;
    }
    let m = -Infinity;
    for (let j = 0; j < V; j++) m = Math.max(m, logits[r * V + j]!);
    let s = 0;
    for (let j = 0; j < V; j++) s += Math.exp(logits[r * V + j]! - m);
    out[r] = m + Math.log(s) - logits[r * V + targets[r]!]!;
  }
  return out;
}

function refLoss(logits: ArrayLike<number>, V: number, targets: ArrayLike<number>, ignore: number, reduction: 'mean' | 'none'): Float64Array {
  const rows = refRowLosses(logits, V, targets, ignore);
  if (reduction === 'none') return rows.map((v) => (Number.isNaN(v) ? 0 : v));
  const kept = Array.from(rows).filter((v) => !Number.isNaN(v));
  return Float64Array.of(kept.length ? kept.reduce((a, b) => a + b, 0) / kept.length : 0);
}

function randomTargets(rng: Rng, n: number, V: number, ignore: number): Int32Array {
  const t = new Int32Array(n);
  for (let i = 0; i < n; i++) t[i] = rng.uniform() < 0.25 ? ignore : rng.int(V);
  return t;
}

test('crossEntropy forward matches a float64 reference: mean and none, ignoreIndex default and custom, [B,T,V] logits', () => {
  const rng = new Rng(1);
  for (const ignore of [-100, 0]) {
    const [B, T, V] = [2, 5, 7];
    const logits = randTensor(rng, [B, T, V], 3);
    const targets = randomTargets(rng, B * T, V, ignore);
    const opts = ignore === -100 ? {} : { ignoreIndex: ignore };
    const mean = crossEntropy(logits, targets, opts);
    assert.deepEqual(mean.shape, []);
    assertClose(mean.data, refLoss(logits.data, V, targets, ignore, 'mean'), { atol: 1e-6, rtol: 1e-6 }, `mean ignore ${ignore}`);
    const none = crossEntropy(logits, targets, { ...opts, reduction: 'none' });
    assert.deepEqual(none.shape, [B, T]);
    assertClose(none.data, refLoss(logits.data, V, targets, ignore, 'none'), { atol: 1e-6, rtol: 1e-6 }, `none ignore ${ignore}`);
  }
});

test('crossEntropy gradients match finite differences (mean and none, with ignored rows; several seeds)', () => {
  for (const seed of SEEDS) {
    const rng = new Rng(seed);
    const [N, V] = [3 + rng.int(4), 2 + rng.int(6)];
    const logits = randTensor(rng, [N, V], 2);
    const targets = randomTargets(rng, N, V, -100);
    targets[0] = rng.int(V); // at least one row counts
    assertGradcheck(`crossEntropy mean seed ${seed}`, (t) => crossEntropy(t, targets), [logits], { seed });
    assertGradcheck(`crossEntropy none seed ${seed}`, (t) => crossEntropy(t, targets, { reduction: 'none' }), [logits], { seed });
  }
  // A wide vocabulary, against the float64 reference.
  const rng = new Rng(9);
  const [N, V] = [4, 200];
  const logits = randTensor(rng, [N, V], 2);
  const targets = Int32Array.of(3, -100, 150, 199);
  assertGradcheck('crossEntropy V=200', (t) => crossEntropy(t, targets), [logits], {
    reference: ([l]) => refLoss(l!, V, targets, -100, 'mean'),
    maxPerInput: 100,
  });
});

test('crossEntropy: ignored rows get zero gradient; all rows ignored gives 0 with a zero gradient', () => {
  const logits = new Tensor(Float32Array.of(1, 2, 3, 4, 5, 6), [2, 3], true);
  const [g] = grad(crossEntropy(logits, [1, -100]), [logits]);
  assert.deepEqual(Array.from(g!.slice(3)), [0, 0, 0]);
  const allIgnored = crossEntropy(logits, [-100, -100]);
  assert.equal(allIgnored.item(), 0);
  const [g0] = grad(allIgnored, [logits]);
  assert.deepEqual(Array.from(g0!), [0, 0, 0, 0, 0, 0]);
});

test('crossEntropy is stable for huge logits', () => {
  const y = crossEntropy(Tensor.from([[1000, 0, -1000]]), [1]);
  assertClose(y.data, [1000], { atol: 0, rtol: 1e-7 });
  const z = crossEntropy(Tensor.from([[1e4, 1e4]]), [0]);
  assertClose(z.data, [Math.log(2)], { atol: 1e-7, rtol: 0 });
});

test('crossEntropy errors: wrong target count is a ShapeError, a target outside the vocabulary an InputError', () => {
  const logits = Tensor.zeros([2, 3]);
  assertThrowsLoupe(() => crossEntropy(logits, [0]), ShapeError, /^crossEntropy:/, /got 1 targets for 2 rows/, /\[2,3\]/);
  assertThrowsLoupe(() => crossEntropy(logits, [0, 3]), InputError, /^crossEntropy: target 3 at row 1 is outside the vocabulary \[0, 3\)/);
  assertThrowsLoupe(() => crossEntropy(logits, [0, -1]), InputError, /target -1/);
});
