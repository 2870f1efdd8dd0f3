import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ShapeError } from '../../errors.js';
import { ReferenceBackend, withBackend, type KernelBackend, type MatmulSpec } from '../backend/index.js';
import { Rng } from '../random.js';
import { Tensor, sizeOf } from '../tensor.js';
import { SEEDS, assertClose, assertThrowsLoupe, randTensor } from '../testing/fixtures.js';
import { assertGradcheck } from '../testing/gradcheck.js';
import { matmul } from './matmul.js';

/** Independent float64 reference: explicit indices for op(A)[i,p] and op(B)[p,j], batch broadcast by hand. */
function refMatmul(a: Tensor, b: Tensor, transA: boolean, transB: boolean): { shape: number[]; data: Float64Array } {
  const m = transA ? a.shape[a.ndim - 1]! : a.shape[a.ndim - 2]!;
  const k = transA ? a.shape[a.ndim - 2]! : a.shape[a.ndim - 1]!;
  const n = transB ? b.shape[b.ndim - 2]! : b.shape[b.ndim - 1]!;
  const lead = a.ndim > 2 ? a.shape.slice(0, -2) : b.shape.slice(0, -2);
  const batch = sizeOf(lead);
  const out = new Float64Array(batch * m * n);
  for (let bi = 0; bi < batch; bi++) {
    const ao = a.ndim > 2 ? bi * m * k : 0;
    const bo = b.ndim > 2 ? bi * k * n : 0;
    for (let i = 0; i < m; i++)
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0; p < k; p++) {
          const av = transA ? a.data[ao + p * m + i]! : a.data[ao + i * k + p]!;
          const bv = transB ? b.data[bo + j * k + p]! : b.data[bo + p * n + j]!;
          s += av * bv;
        }
        out[(bi * m + i) * n + j] = s;
      }
  }
  return { shape: [...lead, m, n], data: out };
}

type Layout = 'both2d' | 'aBatched' | 'bBatched' | 'bothBatched';
const LAYOUTS: Layout[] = ['both2d', 'aBatched', 'bBatched', 'bothBatched'];

function operands(rng: Rng, layout: Layout, transA: boolean, transB: boolean, lead: number[]): [Tensor, Tensor] {
  const m = 1 + rng.int(4);
  const k = 1 + rng.int(4);
  const n = 1 + rng.int(4);
  const aMat = transA ? [k, m] : [m, k];
  const bMat = transB ? [n, k] : [k, n];
  const aLead = layout === 'aBatched' || layout === 'bothBatched' ? lead : [];
  const bLead = layout === 'bBatched' || layout === 'bothBatched' ? lead : [];
  return [randTensor(rng, [...aLead, ...aMat]), randTensor(rng, [...bLead, ...bMat])];
}

const FLAGS: [boolean, boolean][] = [
  [false, false],
  [false, true],
  [true, false],
  [true, true],
];

test('matmul forward matches nested loops for every transA/transB and batch layout', () => {
  withBackend(new ReferenceBackend(), () => {
    const rng = new Rng(1);
    for (const [transA, transB] of FLAGS)
      for (const layout of LAYOUTS)
        for (const lead of [[3], [2, 2], [1]]) {
          const [a, b] = operands(rng, layout, transA, transB, lead);
          const got = matmul(a, b, { transA, transB });
          const want = refMatmul(a, b, transA, transB);
          const tag = `transA=${transA} transB=${transB} ${layout} [${a.shape}] @ [${b.shape}]`;
          assert.deepEqual(got.shape, want.shape, tag);
          assertClose(got.data, want.data, { atol: 1e-6, rtol: 1e-6 }, tag);
        }
  });
});

test('matmul gradients match finite differences: every flag combination, batched and shared operands (several seeds)', () => {
  withBackend(new ReferenceBackend(), () => {
    for (const seed of SEEDS) {
      const rng = new Rng(seed);
      for (const [transA, transB] of FLAGS)
        for (const layout of LAYOUTS) {
          const lead = rng.uniform() < 0.5 ? [2 + rng.int(2)] : [2, 2];
          const [a, b] = operands(rng, layout, transA, transB, lead);
          assertGradcheck(`matmul transA=${transA} transB=${transB} ${layout} [${a.shape}] @ [${b.shape}]`, (x, y) => matmul(x, y, { transA, transB }), [a, b], { seed });
        }
    }
  });
});

/** Counts calls and records specs, to see which backward path ran. */
class SpyBackend implements KernelBackend {
  readonly name = 'spy';
  readonly specs: MatmulSpec[] = [];
  private inner = new ReferenceBackend();
  matmul(a: Float32Array, b: Float32Array, out: Float32Array, spec: MatmulSpec): void {
    this.specs.push({ ...spec });
    this.inner.matmul(a, b, out, spec);
  }
}

test('the weight gradient of a shared operand folds the batch into one product (and is right)', () => {
  const rng = new Rng(4);
  // x [2, 3, 4, 5] @ W [5, 6] (W shared): dW = X^T G as one [5, 24] @ [24, 6] product.
  for (const transB of [false, true]) {
    const spy = new SpyBackend();
    withBackend(spy, () => {
      const x = randTensor(rng, [2, 3, 4, 5]);
      const w = randTensor(rng, transB ? [6, 5] : [5, 6]);
      assertGradcheck(`fold transB=${transB}`, (p, q) => matmul(p, q, { transB }), [x, w], { maxPerInput: 40 });
      const weightGradCalls = spy.specs.filter((s) => s.m * s.n === 30 && s.batch === 1 && s.k === 24);
      assert.ok(weightGradCalls.length > 0, `transB=${transB}: expected a folded [.. k=24 ..] product, saw ${JSON.stringify(spy.specs)}`);
    });
  }
});

test('a shared left operand (A 2D, B batched) sums its gradient over the batch', () => {
  withBackend(new ReferenceBackend(), () => {
    const rng = new Rng(5);
    const a = randTensor(rng, [3, 4]);
    const b = randTensor(rng, [5, 4, 2]);
    const x = new Tensor(a.data.slice(), a.shape, true);
    const y = matmul(x, b);
    const g = randTensor(rng, y.shape).data;
    const ga = y.gradFn!.backward(g)[0]!;
    // dA = sum_b G_b @ B_b^T, by hand.
    const want = new Float64Array(12);
    for (let bi = 0; bi < 5; bi++)
      for (let i = 0; i < 3; i++)
        for (let p = 0; p < 4; p++) {
          let s = 0;
          for (let j = 0; j < 2; j++) s += g[(bi * 3 + i) * 2 + j]! * b.data[(bi * 4 + p) * 2 + j]!;
          want[i * 4 + p] += s;
        }
    assertClose(ga, want, { atol: 1e-5, rtol: 1e-5 });
  });
});

test('matmul shape errors name the op, the flags and the shapes', () => {
  assertThrowsLoupe(() => matmul(Tensor.zeros([2, 3]), Tensor.zeros([4, 5])), ShapeError, /^matmul:/, /inner dimensions differ: 3 vs 4/, /\[2,3\] and \[4,5\]/);
  assertThrowsLoupe(() => matmul(Tensor.zeros([2, 3]), Tensor.zeros([2, 5]), { transA: true, transB: true }), ShapeError, /transA=true, transB=true/);
  assertThrowsLoupe(() => matmul(Tensor.zeros([2, 2, 3]), Tensor.zeros([3, 3, 4])), ShapeError, /^matmul:/, /batch dimensions must match/);
  assertThrowsLoupe(() => matmul(Tensor.zeros([3]), Tensor.zeros([3, 4])), ShapeError, /at least 2 dimensions/);
});

test('matmul with empty and size-1 dimensions', () => {
  withBackend(new ReferenceBackend(), () => {
    const y = matmul(Tensor.zeros([0, 3]), Tensor.ones([3, 2]));
    assert.deepEqual(y.shape, [0, 2]);
    const z = matmul(Tensor.ones([2, 0]), Tensor.ones([0, 3]));
    assert.deepEqual(Array.from(z.data), [0, 0, 0, 0, 0, 0]);
    const s = matmul(Tensor.from([[2]]), Tensor.from([[3]]));
    assert.equal(s.item(), 6);
  });
});
