import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ShapeError } from '../../../errors.js';
import type { MatmulSpec } from '../backend.js';
import { ReferenceBackend } from '../reference.js';
import { loadNativeBackend, nativeUnavailableReason, type NativeBackend, type NativeBackendOptions } from './native-backend.js';

// onnxruntime-node ships CPU binaries for these; elsewhere a missing native backend is expected.
const SHIPPED = ['linux-x64', 'linux-arm64', 'darwin-arm64', 'win32-x64', 'win32-arm64'];

// smallFlops 0 by default: every product goes native, so these tests exercise the native kernel.
function nativeOrSkip(t: { skip: (msg: string) => void }, options: NativeBackendOptions = { smallFlops: 0 }): NativeBackend | null {
  const native = loadNativeBackend(options);
  if (native) return native;
  const platform = `${process.platform}-${process.arch}`;
  if (!SHIPPED.includes(platform)) {
    t.skip(`no onnxruntime binary for ${platform}: ${nativeUnavailableReason()}`);
    return null;
  }
  throw new Error(`native backend failed to load on ${platform}: ${nativeUnavailableReason()}`);
}

// mulberry32: small, seedable, good enough for test data.
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomArray(len: number, next: () => number, scale = 1): Float32Array {
  const x = new Float32Array(len);
  for (let i = 0; i < len; i++) x[i] = (next() * 2 - 1) * scale;
  return x;
}

function maxAbs(x: Float32Array): number {
  let mx = 0;
  for (const v of x) mx = Math.max(mx, Math.abs(v));
  return mx;
}

function spec(batch: number, m: number, k: number, n: number, transA = false, transB = false, aBatched = true, bBatched = true): MatmulSpec {
  return { batch, m, k, n, transA, transB, aBatched, bBatched };
}

/** Runs both backends on random data and checks the float32 error bound; returns the native output. */
function checkAgainstReference(native: NativeBackend, s: MatmulSpec, next: () => number): Float32Array {
  const a = randomArray((s.aBatched ? s.batch : 1) * s.m * s.k, next, 1 + next() * 3);
  const b = randomArray((s.bBatched ? s.batch : 1) * s.k * s.n, next, 1 + next() * 3);
  const want = new Float32Array(s.batch * s.m * s.n);
  new ReferenceBackend().matmul(a, b, want, s);
  const got = new Float32Array(s.batch * s.m * s.n).fill(12345); // stale values must be overwritten
  native.matmul(a, b, got, s);
  const tol = 1e-5 * Math.sqrt(Math.max(s.k, 1)) * maxAbs(a) * maxAbs(b) + 1e-7;
  let worst = 0;
  let at = -1;
  for (let i = 0; i < want.length; i++) {
    const d = Math.abs(got[i]! - want[i]!);
    if (!(d <= worst)) {
      worst = d;
      at = i;
    }
  }
  assert.ok(worst <= tol, `${JSON.stringify(s)}: max |native - reference| = ${worst} at ${at} (tolerance ${tol})`);
  return got;
}

test('native matmul matches the reference on random shapes, all transpose and sharing combinations', (t) => {
  const native = nativeOrSkip(t);
  if (!native) return;
  const next = rng(1234);
  const dim = () => (next() < 0.2 ? 1 : 1 + Math.floor(next() * 37));
  for (let trial = 0; trial < 300; trial++) {
    const batch = [1, 1, 2, 3, 5][Math.floor(next() * 5)]!;
    const s = spec(batch, dim(), dim(), dim(), next() < 0.5, next() < 0.5, next() < 0.7, next() < 0.7);
    checkAgainstReference(native, s, next);
  }
});

test('native matmul edge shapes: ones, odd sizes, batch of one, shared operands', (t) => {
  const native = nativeOrSkip(t);
  if (!native) return;
  const next = rng(99);
  const cases: MatmulSpec[] = [];
  for (const transA of [false, true]) {
    for (const transB of [false, true]) {
      cases.push(
        spec(1, 1, 1, 1, transA, transB),
        spec(1, 1, 64, 172, transA, transB),
        spec(1, 16, 1, 9, transA, transB),
        spec(1, 7, 13, 1, transA, transB),
        spec(1, 33, 65, 17, transA, transB),
        spec(4, 1, 31, 5, transA, transB, true, false),
        spec(4, 6, 31, 5, transA, transB, true, false),
        spec(4, 6, 31, 5, transA, transB, false, true),
        spec(3, 6, 31, 5, transA, transB, false, false),
        spec(1, 6, 31, 5, transA, transB, false, true),
        spec(6, 9, 1, 11, transA, transB),
      );
    }
  }
  for (const s of cases) checkAgainstReference(native, s, next);
});

test('native matmul on large and attention-like shapes', (t) => {
  const native = nativeOrSkip(t);
  if (!native) return;
  const next = rng(7);
  checkAgainstReference(native, spec(1, 300, 500, 700), next);
  checkAgainstReference(native, spec(1, 300, 500, 700, true, true), next);
  checkAgainstReference(native, spec(48, 128, 64, 128, false, true), next); // q @ k^T per head
  checkAgainstReference(native, spec(48, 128, 128, 64), next); // pattern @ v
  checkAgainstReference(native, spec(8, 64, 96, 80, false, false, true, false), next); // resid @ W, folded
  checkAgainstReference(native, spec(8, 64, 96, 80, true, false, true, false), next); // x^T @ grad, batched
  checkAgainstReference(native, spec(8, 64, 96, 80, false, true, false, true), next);
});

test('the default small-product route (TypeScript below the FLOP threshold) agrees too', (t) => {
  const native = nativeOrSkip(t, {});
  if (!native) return;
  assert.ok(native.smallFlops > 0);
  const next = rng(5);
  for (let trial = 0; trial < 100; trial++) {
    const d = () => 1 + Math.floor(next() * 24);
    checkAgainstReference(native, spec(1 + Math.floor(next() * 3), d(), d(), d(), next() < 0.5, next() < 0.5, next() < 0.8, next() < 0.5), next);
  }
});

test('NaN and infinity propagate through the native kernel', (t) => {
  const native = nativeOrSkip(t);
  if (!native) return;
  const [m, k, n] = [8, 16, 12];
  const a = new Float32Array(m * k).fill(0.5);
  const b = new Float32Array(k * n).fill(0.25);
  a[3 * k + 5] = NaN; // poisons row 3 of the output
  b[7 * n + 2] = Infinity; // column 2 becomes +inf, except row 3 (NaN)
  const out = new Float32Array(m * n);
  native.matmul(a, b, out, spec(1, m, k, n));
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      const v = out[i * n + j]!;
      if (i === 3) assert.ok(Number.isNaN(v), `out[${i},${j}] = ${v}, expected NaN`);
      else if (j === 2) assert.equal(v, Infinity, `out[${i},${j}]`);
      else assert.equal(v, 0.5 * 0.25 * k, `out[${i},${j}]`);
    }
  }
  // 0 * inf is NaN: a zero A entry must not be skipped.
  const z = new Float32Array(m * k);
  native.matmul(z, b, out, spec(1, m, k, n));
  assert.ok(Number.isNaN(out[2]!), `0 * inf gave ${out[2]}, expected NaN`);
});

test('native matmul reads views at offsets and leaves out past the product untouched', (t) => {
  const native = nativeOrSkip(t);
  if (!native) return;
  const next = rng(3);
  const [m, k, n] = [5, 7, 9];
  const aBig = randomArray(m * k + 11, next);
  const bBig = randomArray(k * n + 3, next);
  const a = aBig.subarray(11);
  const b = bBig.subarray(1, 1 + k * n);
  const outBig = new Float32Array(m * n + 10).fill(-1);
  const out = outBig.subarray(2);
  native.matmul(a, b, out, spec(1, m, k, n));
  const want = new Float32Array(m * n);
  new ReferenceBackend().matmul(a, b, want, spec(1, m, k, n));
  for (let i = 0; i < m * n; i++) assert.ok(Math.abs(out[i]! - want[i]!) < 1e-5, `out[${i}]`);
  assert.equal(outBig[0], -1);
  assert.equal(outBig[1], -1);
  for (let i = m * n + 2; i < outBig.length; i++) assert.equal(outBig[i], -1, `outBig[${i}] was written`);
});

test('sessions are cached per signature, not per size', (t) => {
  const native = nativeOrSkip(t);
  if (!native) return;
  const next = rng(11);
  for (const [m, k, n] of [[4, 5, 6], [40, 50, 60], [3, 9, 2]] as const) checkAgainstReference(native, spec(1, m, k, n), next);
  assert.equal(native.sessionCount, 1);
  checkAgainstReference(native, spec(1, 4, 5, 6, false, true), next);
  assert.equal(native.sessionCount, 2);
});

test('native matmul rejects short buffers and an out that overlaps an input', (t) => {
  const native = nativeOrSkip(t);
  if (!native) return;
  const s = spec(2, 3, 4, 5);
  assert.throws(() => native.matmul(new Float32Array(23), new Float32Array(40), new Float32Array(30), s), ShapeError);
  assert.throws(() => native.matmul(new Float32Array(24), new Float32Array(40), new Float32Array(29), s), ShapeError);
  const shared = new Float32Array(24 + 30);
  assert.throws(() => native.matmul(shared.subarray(0, 24), new Float32Array(40), shared.subarray(20), s), ShapeError);
  assert.throws(() => native.matmul(new Float32Array(24), new Float32Array(40), new Float32Array(30), { ...s, m: 2.5 }), ShapeError);
});

test('zero-sized products: k = 0 gives zeros, m or n = 0 writes nothing', (t) => {
  const native = nativeOrSkip(t);
  if (!native) return;
  const out = new Float32Array(6).fill(7);
  native.matmul(new Float32Array(0), new Float32Array(0), out, spec(1, 2, 0, 3));
  assert.deepEqual([...out], [0, 0, 0, 0, 0, 0]);
  const untouched = new Float32Array(4).fill(7);
  native.matmul(new Float32Array(0), new Float32Array(12), untouched, spec(1, 0, 3, 4));
  assert.deepEqual([...untouched], [7, 7, 7, 7]);
});

// The fused linear kernel against a float64 scalar composition: x W^T + b, then GPT-2's tanh GELU.
test('native fused linear: x W^T + b and gelu_tanh(x W^T + b) match a float64 reference', (t) => {
  const native = nativeOrSkip(t);
  if (!native) return;
  const next = rng(11);
  const c = Math.sqrt(2 / Math.PI);
  const gelu = (v: number) => 0.5 * v * (1 + Math.tanh(c * (v + 0.044715 * v * v * v)));
  for (const [m, k, n] of [[1, 64, 96], [37, 48, 130], [256, 128, 512]] as const) {
    const a = randomArray(m * k, next);
    const w = randomArray(n * k, next, 0.3);
    const b = randomArray(n, next);
    for (const activation of ['none', 'gelu_tanh'] as const) {
      for (const bias of [b, null]) {
        const out = new Float32Array(m * n).fill(NaN);
        assert.equal(native.linear(a, w, bias, out, { m, k, n, activation }), true);
        let worst = 0;
        for (let i = 0; i < m; i++)
          for (let j = 0; j < n; j++) {
            let s = bias ? bias[j]! : 0;
            for (let q = 0; q < k; q++) s += a[i * k + q]! * w[j * k + q]!;
            const want = activation === 'none' ? s : gelu(s);
            worst = Math.max(worst, Math.abs(out[i * n + j]! - want) / (1 + Math.abs(want)));
          }
        assert.ok(worst < 2e-5, `[${m},${k}]x[${n},${k}]^T ${activation} bias=${!!bias}: worst ${worst}`);
      }
    }
  }
  // Products below the threshold are declined (the caller composes the ops), bad buffers refused.
  const small = loadNativeBackend({ smallFlops: 1e9 })!;
  assert.equal(small.linear(new Float32Array(4), new Float32Array(4), null, new Float32Array(4), { m: 2, k: 2, n: 2, activation: 'none' }), false);
  assert.throws(() => native.linear(new Float32Array(3), new Float32Array(4), null, new Float32Array(4), { m: 2, k: 2, n: 2, activation: 'none' }), ShapeError);
});
