import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { MatmulSpec } from './backend.js';
import { ReferenceBackend } from './reference.js';
import { FastTsBackend } from './ts-fast.js';

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

function check(fast: FastTsBackend, s: MatmulSpec, next: () => number): void {
  const fill = (len: number) => Float32Array.from({ length: len }, () => next() * 2 - 1);
  const a = fill((s.aBatched ? s.batch : 1) * s.m * s.k);
  const b = fill((s.bBatched ? s.batch : 1) * s.k * s.n);
  const want = new Float32Array(s.batch * s.m * s.n);
  new ReferenceBackend().matmul(a, b, want, s);
  const got = new Float32Array(want.length).fill(99);
  fast.matmul(a, b, got, s);
  // Both accumulate in float64; only the final rounding to float32 may differ.
  const tol = 1e-6 * Math.sqrt(Math.max(s.k, 1));
  for (let i = 0; i < want.length; i++) {
    assert.ok(Math.abs(got[i]! - want[i]!) <= tol, `${JSON.stringify(s)}: out[${i}] = ${got[i]}, reference ${want[i]}`);
  }
}

test('ts-fast matmul matches the reference on random shapes and flag combinations', () => {
  const fast = new FastTsBackend();
  const next = rng(42);
  const dim = () => (next() < 0.2 ? 1 : 1 + Math.floor(next() * 19));
  for (let trial = 0; trial < 400; trial++) {
    const s: MatmulSpec = {
      batch: 1 + Math.floor(next() * 3),
      m: dim(),
      k: dim(),
      n: dim(),
      transA: next() < 0.5,
      transB: next() < 0.5,
      aBatched: next() < 0.7,
      bBatched: next() < 0.7,
    };
    check(fast, s, next);
  }
  // Sizes past the 4-row / 4-column blocks, after a smaller call sized the scratch.
  check(fast, { batch: 2, m: 37, k: 70, n: 45, transA: true, transB: false, aBatched: true, bBatched: false }, next);
  check(fast, { batch: 2, m: 37, k: 70, n: 45, transA: false, transB: true, aBatched: false, bBatched: true }, next);
});

test('ts-fast matmul propagates NaN, including 0 * inf', () => {
  const fast = new FastTsBackend();
  for (const transB of [false, true]) {
    const [m, k, n] = [5, 3, 6];
    const a = new Float32Array(m * k); // all zeros
    const b = new Float32Array(k * n).fill(1);
    b[transB ? 2 * k + 1 : 1 * n + 2] = Infinity; // B(1, 2) = inf
    a[4 * k] = NaN;
    const out = new Float32Array(m * n);
    fast.matmul(a, b, out, { batch: 1, m, k, n, transA: false, transB, aBatched: true, bBatched: true });
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        const v = out[i * n + j]!;
        if (i === 4 || j === 2) assert.ok(Number.isNaN(v), `transB ${transB}: out[${i},${j}] = ${v}, expected NaN`);
        else assert.equal(v, 0);
      }
    }
  }
});
