import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ShapeError } from '../../errors.js';
import { Rng } from '../random.js';
import { Tensor } from '../tensor.js';
import { SEEDS, assertClose, assertThrowsLoupe, randTensor } from '../testing/fixtures.js';
import { assertGradcheck } from '../testing/gradcheck.js';
import { softmax } from './softmax.js';
import { causalMask, rope, ropeInvFreq, type RopeOptions } from './attention.js';

test('causalMask hides future keys: default offset tk - tq, explicit offsets, batched leading dims', () => {
  const rng = new Rng(1);
  for (const [tq, tk, offset] of [[4, 4, undefined], [2, 5, undefined], [3, 5, 0], [3, 3, 1], [2, 6, 2], [1, 7, 6]] as [number, number, number | undefined][]) {
    const x = randTensor(rng, [2, 3, tq, tk]);
    const y = causalMask(x, offset);
    const off = offset ?? tk - tq;
    for (let b = 0; b < 6; b++)
      for (let q = 0; q < tq; q++)
        for (let k = 0; k < tk; k++) {
          const i = (b * tq + q) * tk + k;
          assert.equal(y.data[i], k > q + off ? -Infinity : x.data[i], `tq ${tq} tk ${tk} offset ${offset} q ${q} k ${k}`);
        }
  }
  // Under a softmax the masked gradient vanishes anyway, so check causalMask's own backward directly.
  const xs = new Tensor(new Float32Array(6), [2, 3], true);
  assert.deepEqual(Array.from(causalMask(xs, 0).gradFn!.backward(new Float32Array(6).fill(1))[0]!), [1, 0, 0, 1, 1, 0]);
  // decoding one token against a cache of 6: sees all 7 keys
  assert.ok(causalMask(randTensor(rng, [1, 7])).data.every((v) => Number.isFinite(v)));
  for (const seed of SEEDS) {
    const x = randTensor(new Rng(seed), [2, 3, 4]);
    // Masked entries are -inf, so check it as it is used: under a softmax.
    assertGradcheck(`softmax(causalMask) seed ${seed}`, (t) => softmax(causalMask(t, 0)), [x], { seed });
    assertGradcheck(`causalMask offset 1 seed ${seed}`, (t) => softmax(causalMask(t, 1)), [x], { seed });
  }
});

/** Direct formula: pair (a, b) at position p rotated by p * base^(-2i/R), angles in float64. */
function refRope(x: Tensor, layout: 'interleaved' | 'half', R: number, positions: number[], base = 10000): Float64Array {
  const [B, T, H, D] = x.shape as [number, number, number, number];
  const out = Float64Array.from(x.data);
  for (let b = 0; b < B; b++)
    for (let t = 0; t < T; t++)
      for (let h = 0; h < H; h++) {
        const o = ((b * T + t) * H + h) * D;
        for (let i = 0; i < R / 2; i++) {
          const theta = positions[t]! * Math.pow(base, (-2 * i) / R);
          const ia = layout === 'interleaved' ? o + 2 * i : o + i;
          const ib = layout === 'interleaved' ? o + 2 * i + 1 : o + i + R / 2;
          const a = x.data[ia]!;
          const v = x.data[ib]!;
          out[ia] = a * Math.cos(theta) - v * Math.sin(theta);
          out[ib] = a * Math.sin(theta) + v * Math.cos(theta);
        }
      }
  return out;
}

const LAYOUTS = ['interleaved', 'half'] as const;

test('rope matches the direct formula in both layouts, partial rotaryDim, offsets and explicit positions', () => {
  const rng = new Rng(2);
  for (const layout of LAYOUTS)
    for (const [D, R] of [[8, 8], [8, 4], [6, 2], [10, 6]])
      for (const positions of [undefined, 5, Int32Array.of(3, 0, 17, 100)]) {
        const T = 4;
        const x = randTensor(rng, [2, T, 3, D]);
        const opts: RopeOptions = { layout, rotaryDim: R === D && rng.uniform() < 0.5 ? undefined : R, positions };
        const pos = positions === undefined ? [0, 1, 2, 3] : typeof positions === 'number' ? [0, 1, 2, 3].map((t) => t + positions) : Array.from(positions);
        const y = rope(x, opts);
        assertClose(y.data, refRope(x, layout, R, pos), { atol: 3e-5, rtol: 1e-5 }, `rope ${layout} D ${D} R ${R} positions ${positions}`);
        // Features beyond rotaryDim pass through untouched.
        for (let i = 0; i < x.size; i++) if (i % D >= R) assert.equal(y.data[i], x.data[i]);
      }
});

test('rope with one position per (row, pos): each row rotates by its own positions, backward too', () => {
  const rng = new Rng(4);
  const [B, T, H, D] = [3, 4, 2, 8];
  const rowPositions = [[7, 8, 9, 10], [0, 1, 2, 3], [2, 3, 4, 20]];
  for (const layout of LAYOUTS) {
    const x = randTensor(rng, [B, T, H, D]);
    const y = rope(x, { layout, rotaryDim: 6, positions: Int32Array.from(rowPositions.flat()) });
    const rowSize = T * H * D;
    for (let b = 0; b < B; b++) {
      const xb = new Tensor(x.data.slice(b * rowSize, (b + 1) * rowSize), [1, T, H, D]);
      assertClose(y.data.subarray(b * rowSize, (b + 1) * rowSize), refRope(xb, layout, 6, rowPositions[b]!), { atol: 3e-5, rtol: 1e-5 }, `${layout} row ${b}`);
    }
    assertGradcheck(`rope per-row positions ${layout}`, (t) => rope(t, { layout, positions: Int32Array.of(5, 6, 0, 1) }), [randTensor(rng, [2, 2, 1, 4])], { seed: 4 });
  }
});

test('rope preserves each head vector norm and makes q.k depend only on the relative position', () => {
  const rng = new Rng(3);
  for (const layout of LAYOUTS) {
    const x = randTensor(rng, [1, 6, 2, 8]);
    const y = rope(x, { layout, rotaryDim: 6 });
    for (let v = 0; v < 12; v++) {
      let nx = 0;
      let ny = 0;
      for (let j = 0; j < 8; j++) {
        nx += x.data[v * 8 + j]! ** 2;
        ny += y.data[v * 8 + j]! ** 2;
      }
      assert.ok(Math.abs(Math.sqrt(nx) - Math.sqrt(ny)) < 1e-5 * Math.sqrt(nx), `norm of vector ${v}`);
    }
    // Same q at position p and k at position s, shifted together by 40: the dot product is unchanged.
    const q = randTensor(rng, [1, 1, 1, 8]);
    const k = randTensor(rng, [1, 1, 1, 8]);
    const dot = (p: number, s: number) => {
      const a = rope(q, { layout, positions: p }).data;
      const b = rope(k, { layout, positions: s }).data;
      return a.reduce((acc, v, i) => acc + v * b[i]!, 0);
    };
    assert.ok(Math.abs(dot(7, 3) - dot(47, 43)) < 1e-4, `${layout}: ${dot(7, 3)} vs ${dot(47, 43)}`);
    assert.ok(Math.abs(dot(7, 3) - dot(3, 7)) > 1e-3, 'direction matters');
  }
});

test('rope layouts: interleaved rotates (2i, 2i+1), half rotates (i, i + R/2)', () => {
  // One head of 4 at position 1 with a single frequency set to pi/2: a quarter turn.
  const x = Tensor.from([1, 2, 3, 4], [1, 1, 1, 4]);
  const invFreq = Float32Array.of(Math.PI / 2, 0);
  const inter = rope(x, { layout: 'interleaved', invFreq, positions: 1 });
  assertClose(inter.data, [-2, 1, 3, 4], { atol: 1e-6, rtol: 0 });
  const half = rope(x, { layout: 'half', invFreq, positions: 1 });
  assertClose(half.data, [-3, 2, 1, 4], { atol: 1e-6, rtol: 0 });
  assertClose(ropeInvFreq(4, 100), [1, 0.1], { atol: 0, rtol: 1e-7 });
});

test('rope gradients match finite differences in both layouts (several seeds)', () => {
  for (const seed of SEEDS) {
    const rng = new Rng(seed);
    for (const layout of LAYOUTS) {
      const x = randTensor(rng, [2, 3, 2, 6]);
      assertGradcheck(`rope ${layout} seed ${seed}`, (t) => rope(t, { layout, rotaryDim: 4, positions: 2 + seed }), [x], { seed });
    }
  }
});

test('rope errors name the op and the shapes', () => {
  const x = Tensor.zeros([1, 2, 1, 6]);
  assertThrowsLoupe(() => rope(Tensor.zeros([2, 6]), { layout: 'half' }), ShapeError, /^rope:/, /\[batch, pos, heads, headDim\]/, /\[2,6\]/);
  assertThrowsLoupe(() => rope(x, { layout: 'half', rotaryDim: 3 }), ShapeError, /^rope:/, /rotaryDim 3 must be even and at most headDim 6/);
  assertThrowsLoupe(() => rope(x, { layout: 'half', rotaryDim: 8 }), ShapeError, /^rope:/);
  assertThrowsLoupe(() => rope(x, { layout: 'half', invFreq: new Float32Array(2) }), ShapeError, /^rope:/, /invFreq needs 3 entries, got 2/);
  assertThrowsLoupe(() => rope(x, { layout: 'half', positions: Int32Array.of(0) }), ShapeError, /^rope:/, /positions/);
  assertThrowsLoupe(() => rope(x, { layout: 'half', positions: Int32Array.of(0, 1, 2) }), ShapeError, /^rope:/, /3 entries for 2 positions/);
});
