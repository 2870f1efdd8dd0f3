import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng, randn, randu } from './random.js';

test('Rng is deterministic per seed, and pinned (saved experiments depend on the stream)', () => {
  const a = new Rng(42);
  const b = new Rng(42);
  for (let i = 0; i < 1000; i++) assert.equal(a.nextU32(), b.nextU32());
  const pinned = new Rng(42);
  assert.deepEqual([pinned.nextU32(), pinned.nextU32(), pinned.nextU32()], [1028872839, 2516511472, 400437680]);
  // Nearby seeds give unrelated streams.
  const c = new Rng(1);
  const d = new Rng(2);
  let same = 0;
  for (let i = 0; i < 1000; i++) if (c.nextU32() === d.nextU32()) same++;
  assert.equal(same, 0);
  // Seeds are taken as 32-bit unsigned.
  assert.equal(new Rng(-1).nextU32(), new Rng(0xffffffff).nextU32());
});

test('uniform lies in [0, 1) with the right mean and variance; int covers [0, n) evenly', () => {
  const rng = new Rng(1);
  const n = 200000;
  let s = 0;
  let ss = 0;
  for (let i = 0; i < n; i++) {
    const u = rng.uniform();
    assert.ok(u >= 0 && u < 1);
    s += u;
    ss += u * u;
  }
  const mean = s / n;
  assert.ok(Math.abs(mean - 0.5) < 0.005, `mean ${mean}`);
  assert.ok(Math.abs(ss / n - mean * mean - 1 / 12) < 0.002, 'variance 1/12');
  const counts = new Array<number>(7).fill(0);
  for (let i = 0; i < 70000; i++) counts[rng.int(7)]!++;
  // chi-square with 6 degrees of freedom: 22.5 is the 0.999 quantile.
  const chi = counts.reduce((acc, c) => acc + (c - 10000) ** 2 / 10000, 0);
  assert.ok(chi < 22.5, `chi-square ${chi} (${counts})`);
});

test('normal has mean 0, variance 1, no skew and normal tails', () => {
  const rng = new Rng(2);
  const n = 200000;
  let s = 0;
  let s2 = 0;
  let s3 = 0;
  let beyond2 = 0;
  for (let i = 0; i < n; i++) {
    const z = rng.normal();
    s += z;
    s2 += z * z;
    s3 += z * z * z;
    if (Math.abs(z) > 2) beyond2++;
  }
  assert.ok(Math.abs(s / n) < 0.01, `mean ${s / n}`);
  assert.ok(Math.abs(s2 / n - 1) < 0.015, `variance ${s2 / n}`);
  assert.ok(Math.abs(s3 / n) < 0.03, `third moment ${s3 / n}`);
  assert.ok(Math.abs(beyond2 / n - 0.0455) < 0.003, `P(|z| > 2) = ${beyond2 / n}`);
});

test('randn/randu: shapes, scale, bounds, requiresGrad', () => {
  const rng = new Rng(3);
  const x = randn([100, 100], rng, 0.5, true);
  assert.deepEqual(x.shape, [100, 100]);
  assert.equal(x.requiresGrad, true);
  let ss = 0;
  for (const v of x.data) ss += v * v;
  assert.ok(Math.abs(Math.sqrt(ss / x.size) - 0.5) < 0.01);
  const u = randu([1000], rng, -2, 3);
  assert.ok(u.data.every((v) => v >= -2 && v < 3));
  assert.ok(Math.max(...u.data) > 2.9 && Math.min(...u.data) < -1.9);
  assert.deepEqual(randn([], rng).shape, []);
});

test('shuffle/permutation produce permutations; categorical follows the weights; fork is deterministic and independent', () => {
  const rng = new Rng(4);
  const p = rng.permutation(50);
  assert.deepEqual(Array.from(p).sort((a, b) => a - b), Array.from({ length: 50 }, (_, i) => i));
  assert.notDeepEqual(Array.from(p), Array.from({ length: 50 }, (_, i) => i));
  assert.deepEqual(Array.from(new Rng(9).permutation(20)), Array.from(new Rng(9).permutation(20)));
  const items = ['a', 'b', 'c', 'd'];
  rng.shuffle(items);
  assert.deepEqual([...items].sort(), ['a', 'b', 'c', 'd']);
  const counts = [0, 0, 0];
  for (let i = 0; i < 60000; i++) counts[rng.categorical([1, 0, 2])]!++;
  assert.equal(counts[1], 0, 'zero weight never drawn');
  assert.ok(Math.abs(counts[0]! / 60000 - 1 / 3) < 0.01 && Math.abs(counts[2]! / 60000 - 2 / 3) < 0.01, `${counts}`);
  const f1 = new Rng(5).fork();
  const f2 = new Rng(5).fork();
  assert.equal(f1.nextU32(), f2.nextU32());
  const parent = new Rng(5);
  const child = parent.fork();
  assert.notEqual(parent.nextU32(), child.nextU32());
});
