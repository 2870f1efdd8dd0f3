// The kernel pool splits work across threads without changing a single bit of the results.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../tensor/index.js';
import { emptySparse, sharedFloat32, sharedInt32 } from './kernels.js';
import { KernelPool } from './parallel.js';
import { runKernel, type KernelTask } from './parallel-tasks.js';

const rng = new Rng(1);
const rand = (n: number, shared = true): Float32Array => {
  const a = shared ? sharedFloat32(n) : new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.normal();
  return a;
};
const copy = (a: Float32Array): Float32Array => {
  const c = sharedFloat32(a.length);
  c.set(a);
  return c;
};

test('pooled kernels give bit-identical results to one thread', () => {
  const pool = new KernelPool(3);
  const B = 37, F = 101, D = 13, k = 5;
  const lat = emptySparse(B, B * k);
  for (let b = 0; b <= B; b++) lat.rowPtr[b] = b * k;
  const pre = rand(B * F);
  const bias = rand(F);
  const idx1 = sharedInt32(B * k), val1 = sharedFloat32(B * k);
  runKernel({ kind: 'topk', pre, bias, F, k, idx: idx1, val: val1, at: 0, candidates: null }, 0, B);
  pool.run({ kind: 'topk', pre, bias, F, k, idx: lat.idx, val: lat.val, at: 0, candidates: null }, B);
  assert.deepEqual(lat.idx, idx1);
  assert.deepEqual(lat.val, val1);
  const dead = sharedInt32(20).map((_, i) => i * 5);
  const a1 = sharedInt32(B * 3), v1 = sharedFloat32(B * 3), a2 = sharedInt32(B * 3), v2 = sharedFloat32(B * 3);
  runKernel({ kind: 'topk', pre, bias, F, k: 3, idx: a1, val: v1, at: 0, candidates: dead }, 0, B);
  pool.run({ kind: 'topk', pre, bias, F, k: 3, idx: a2, val: v2, at: 0, candidates: dead }, B);
  assert.deepEqual(a2, a1);
  assert.ok([...a2].every((f) => f % 5 === 0), 'AuxK picks only candidates');

  const W = rand(F * D);
  const out1 = sharedFloat32(B * D), out2 = sharedFloat32(B * D);
  runKernel({ kind: 'decode', lat, W, bias: null, out: out1, O: D }, 0, B);
  pool.run({ kind: 'decode', lat, W, bias: null, out: out2, O: D }, B);
  assert.deepEqual(out2, out1);

  const dOut = rand(B * D);
  const d1 = sharedFloat32(B * k), d2 = sharedFloat32(B * k);
  runKernel({ kind: 'dots', lat, W, dOut, dVal: d1, O: D }, 0, B);
  pool.run({ kind: 'dots', lat, W, dOut, dVal: d2, O: D }, B);
  assert.deepEqual(d2, d1);

  const dW1 = rand(F * D), db1 = rand(F);
  const dW2 = copy(dW1), db2 = copy(db1);
  runKernel({ kind: 'scatter', lat, coef: d1, src: dOut, N: D, dW: dW1, db: db1 }, 0, F);
  pool.run({ kind: 'scatter', lat, coef: d1, src: dOut, N: D, dW: dW2, db: db2 }, F);
  assert.deepEqual(dW2, dW1);
  assert.deepEqual(db2, db1);

  for (const unitRows of [false, true]) {
    const w1 = rand(F * D), g = rand(F * D), m1 = rand(F * D).map(Math.abs), v1_ = rand(F * D).map(Math.abs);
    const w2 = copy(w1), m2 = copy(m1), v2_ = copy(v1_);
    const args = { N: D, b1: 0.9, b2: 0.999, eps: 1e-8, stepSize: 0.01, rc2: 1.3, unitRows };
    runKernel({ kind: 'adam', w: w1, g, m: m1, v: v1_, ...args }, 0, F);
    pool.run({ kind: 'adam', w: w2, g, m: m2, v: v2_, ...args }, F);
    assert.deepEqual(w2, w1);
    assert.deepEqual(m2, m1);
  }
});

test('a kernel on ordinary (non-shared) memory runs on the calling thread, with the same result', () => {
  const pool = new KernelPool(2);
  const F = 50, k = 4, B = 9;
  const pre = rand(B * F, false);
  const t = (idx: Int32Array, val: Float32Array): KernelTask => ({ kind: 'topk', pre, bias: null, F, k, idx, val, at: 0, candidates: null });
  const i1 = new Int32Array(B * k), v1 = new Float32Array(B * k), i2 = new Int32Array(B * k), v2 = new Float32Array(B * k);
  runKernel(t(i1, v1), 0, B);
  pool.run(t(i2, v2), B);
  assert.deepEqual(i2, i1);
  assert.deepEqual(v2, v1);
});
