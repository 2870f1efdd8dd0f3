import { test } from 'node:test';
import { ShapeError } from '../../errors.js';
import { Rng } from '../random.js';
import { Tensor } from '../tensor.js';
import { SEEDS, assertClose, assertThrowsLoupe, randTensor, randomShape } from '../testing/fixtures.js';
import { assertGradcheck } from '../testing/gradcheck.js';
import { div, sub } from './binary.js';
import { layerNorm, normScale, rmsNorm } from './norm.js';
import { mean } from './reduce.js';

const EPS = 1e-5;

/** float64 layerNorm / rmsNorm / normScale over the last dim of rows x d, with plain loops. */
function refNorm(kind: 'layer' | 'rms' | 'scale-layer' | 'scale-rms', x: ArrayLike<number>, d: number, w?: ArrayLike<number>, b?: ArrayLike<number>): Float64Array {
  const rows = x.length / d;
  const scaleOnly = kind.startsWith('scale');
  const out = new Float64Array(scaleOnly ? rows : x.length);
  for (let r = 0; r < rows; r++) {
    let m = 0;
    if (kind === 'layer' || kind === 'scale-layer') {
      for (let j = 0; j < d; j++) m += x[r * d + j]!;
      m /= d;
    }
    let v = 0;
    for (let j = 0; j < d; j++) v += (x[r * d + j]! - m) ** 2;
    const s = Math.sqrt(v / d + EPS);
    if (scaleOnly) out[r] = s;
    else for (let j = 0; j < d; j++) out[r * d + j] = ((x[r * d + j]! - m) / s) * (w ? w[j]! : 1) + (b ? b[j]! : 0);
  }
  return out;
}

test('layerNorm/rmsNorm/normScale forwards match float64 references, with and without weights', () => {
  const rng = new Rng(1);
  for (let trial = 0; trial < 12; trial++) {
    const shape = randomShape(rng, 1 + rng.int(3), 6);
    const d = shape[shape.length - 1]!;
    const x = randTensor(rng, shape, 2, 0.5);
    const w = randTensor(rng, [d]);
    const b = randTensor(rng, [d]);
    const tol = { atol: 1e-5, rtol: 1e-5 };
    assertClose(layerNorm(x, null, null).data, refNorm('layer', x.data, d), tol, `layerNorm [${shape}]`);
    assertClose(layerNorm(x, w, b).data, refNorm('layer', x.data, d, w.data, b.data), tol, `layerNorm w b [${shape}]`);
    assertClose(layerNorm(x, w, null).data, refNorm('layer', x.data, d, w.data), tol, `layerNorm w [${shape}]`);
    assertClose(layerNorm(x, null, b).data, refNorm('layer', x.data, d, undefined, b.data), tol, `layerNorm b [${shape}]`);
    assertClose(rmsNorm(x, null).data, refNorm('rms', x.data, d), tol, `rmsNorm [${shape}]`);
    assertClose(rmsNorm(x, w).data, refNorm('rms', x.data, d, w.data), tol, `rmsNorm w [${shape}]`);
    const sl = normScale(x, 'layer');
    assertClose(sl.data, refNorm('scale-layer', x.data, d), tol, `normScale layer [${shape}]`);
    assertClose(normScale(x, 'rms').data, refNorm('scale-rms', x.data, d), tol, `normScale rms [${shape}]`);
    // normScale keeps a trailing 1 so it broadcasts back: the composed forms equal the fused ops.
    const composedLn = div(sub(x, mean(x, -1, true)), sl);
    assertClose(composedLn.data, layerNorm(x, null, null).data, tol, 'composed layerNorm');
    assertClose(div(x, normScale(x, 'rms')).data, rmsNorm(x, null).data, tol, 'composed rmsNorm');
  }
});

test('norm gradients match finite differences: inputs, weights and biases (several seeds)', () => {
  for (const seed of SEEDS) {
    const rng = new Rng(seed);
    const shape = [...randomShape(rng, rng.int(3), 3), 3 + rng.int(5)]; // d = 2 is degenerate (flat up to eps)
    const d = shape[shape.length - 1]!;
    const x = randTensor(rng, shape, 1.5, 0.3);
    const w = randTensor(rng, [d]);
    const b = randTensor(rng, [d]);
    const o = { seed };
    assertGradcheck(`layerNorm [${shape}]`, (t) => layerNorm(t, null, null), [x], o);
    assertGradcheck(`layerNorm w b [${shape}]`, (t, ww, bb) => layerNorm(t, ww!, bb!), [x, w, b], o);
    assertGradcheck(`layerNorm w [${shape}]`, (t, ww) => layerNorm(t, ww!, null), [x, w], o);
    assertGradcheck(`layerNorm b [${shape}]`, (t, bb) => layerNorm(t, null, bb!), [x, b], o);
    assertGradcheck(`rmsNorm [${shape}]`, (t) => rmsNorm(t, null), [x], o);
    assertGradcheck(`rmsNorm w [${shape}]`, (t, ww) => rmsNorm(t, ww!), [x, w], o);
    assertGradcheck(`normScale layer [${shape}]`, (t) => normScale(t, 'layer'), [x], o);
    assertGradcheck(`normScale rms [${shape}]`, (t) => normScale(t, 'rms'), [x], o);
  }
});

test('norm gradients at d = 64 against float64 references (tight)', () => {
  const rng = new Rng(9);
  const d = 64;
  const x = randTensor(rng, [3, d], 1.5, 0.3);
  const w = randTensor(rng, [d]);
  const b = randTensor(rng, [d]);
  const o = { maxPerInput: 48 };
  assertGradcheck('layerNorm w b d64', (t, ww, bb) => layerNorm(t, ww!, bb!), [x, w, b], { ...o, reference: ([xx, ww, bb]) => refNorm('layer', xx!, d, ww, bb) });
  assertGradcheck('rmsNorm w d64', (t, ww) => rmsNorm(t, ww!), [x, w], { ...o, reference: ([xx, ww]) => refNorm('rms', xx!, d, ww) });
  assertGradcheck('normScale layer d64', (t) => normScale(t, 'layer'), [x], { ...o, reference: ([xx]) => refNorm('scale-layer', xx!, d) });
  assertGradcheck('normScale rms d64', (t) => normScale(t, 'rms'), [x], { ...o, reference: ([xx]) => refNorm('scale-rms', xx!, d) });
});

test('layerNorm of a constant row is 0 (eps keeps it finite); custom eps is honoured', () => {
  const x = Tensor.full([2, 4], 3);
  assertClose(layerNorm(x, null, null).data, new Array(8).fill(0), { atol: 0, rtol: 0 });
  const y = Tensor.from([[1, -1]]);
  assertClose(rmsNorm(y, null, 1).data, [1 / Math.sqrt(2), -1 / Math.sqrt(2)], { atol: 0, rtol: 1e-7 });
  assertClose(layerNorm(y, null, null, 0).data, [1, -1], { atol: 0, rtol: 1e-7 });
});

test('norm shape errors name the op, the parameter and the shapes', () => {
  const x = Tensor.zeros([2, 4]);
  assertThrowsLoupe(() => layerNorm(x, Tensor.zeros([3]), null), ShapeError, /^layerNorm:/, /weight must have shape \[4\]/, /\[2,4\] and \[3\]/);
  assertThrowsLoupe(() => layerNorm(x, null, Tensor.zeros([4, 1])), ShapeError, /^layerNorm:/, /bias/);
  assertThrowsLoupe(() => rmsNorm(x, Tensor.zeros([5])), ShapeError, /^rmsNorm:/, /weight/);
});
