// The streaming accumulator against brute force over the same activations, and checkpoint round trips.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { LatentBatch } from '../source.js';
import { DEFAULT_ACCUMULATOR, FeatureAccumulator, type AccumulatorConfig } from './accumulator.js';
import { SmallRng } from './rng.js';
import { HIST_BINS, RANGE_BINS } from './range-stats.js';

const F = 24;
const V = 30;
const T = 12;

/** Sparse random activations with a few dense and a few rare features, values spanning decades. */
function makeData(nSeq: number, seed: number): { ids: number[][]; acts: Float32Array[] } {
  const rng = new SmallRng(seed);
  const ids: number[][] = [];
  const acts: Float32Array[] = [];
  for (let s = 0; s < nSeq; s++) {
    const seq = [1];
    for (let t = 1; t < T; t++) seq.push(2 + rng.int(V - 2));
    const a = new Float32Array(T * F);
    for (let t = 0; t < T; t++) {
      for (let f = 0; f < F; f++) {
        const p = f < 3 ? 0.6 : f > 20 ? 0.01 : 0.12;
        if (rng.uniform() < p) a[t * F + f] = (0.001 + rng.uniform() * (1 + (f % 5))) * (t === 0 ? 50 : 1) * (s > nSeq / 2 && f === 4 ? 30 : 1);
      }
    }
    ids.push(seq);
    acts.push(a);
  }
  return { ids, acts };
}

function batchOf(acts: Float32Array[]): LatentBatch {
  const out = new Float32Array(acts.length * T * F);
  acts.forEach((a, b) => out.set(a, b * T * F));
  return { acts_BTF: out, batch: acts.length, maxLen: T, lengths: new Int32Array(acts.length).fill(T), nFeatures: F };
}

const cfg: AccumulatorConfig = { ...DEFAULT_ACCUMULATOR, nFeatures: F, vocabSize: V, context: T, topK: 5, seed: 3 };

function run(data: ReturnType<typeof makeData>, split?: number): FeatureAccumulator {
  let acc = new FeatureAccumulator(cfg);
  for (let s = 0; s < data.ids.length; s += 4) {
    if (split !== undefined && s === split) acc = FeatureAccumulator.restore(acc.serialize());
    const ids = data.ids.slice(s, s + 4);
    acc.addBatch(batchOf(data.acts.slice(s, s + 4)), ids, ids.map((_, i) => s + i), 1);
  }
  return acc;
}

test('counts, maxima, histogram and range bins match brute force exactly', () => {
  const data = makeData(60, 1);
  const acc = run(data);
  assert.equal(acc.tokens, 60 * (T - 1));
  for (let f = 0; f < F; f++) {
    const vals: number[] = [];
    data.acts.forEach((a) => {
      for (let t = 1; t < T; t++) if (a[t * F + f]! > 0) vals.push(a[t * F + f]!);
    });
    const s = acc.summary(f);
    assert.equal(s.fireCount, vals.length, `fire count of ${f}`);
    assert.equal(s.maxActivation, vals.length ? Math.max(...vals) : 0);
    assert.ok(Math.abs(s.meanActivation - (vals.length ? vals.reduce((x, y) => x + y, 0) / vals.length : 0)) < 1e-6);
    if (!vals.length) {
      assert.equal(s.histogram, null);
      continue;
    }
    const h = s.histogram!;
    assert.equal(h.counts.length, HIST_BINS);
    assert.ok(h.edges[HIST_BINS]! > s.maxActivation && h.edges[HIST_BINS]! < s.maxActivation * 1.07 + 1e-9, `histogram ends just above the max`);
    for (let j = 0; j < HIST_BINS; j++) {
      const want = vals.filter((v) => v >= h.edges[j]! && v < h.edges[j + 1]!).length;
      assert.equal(h.counts[j], want, `feature ${f} histogram bin ${j}`);
    }
    assert.equal(s.bins.length, RANGE_BINS);
    let total = 0;
    for (const b of s.bins) {
      total += b.count;
      assert.ok(b.samples.length <= cfg.samplesPerRangeBin);
      for (const smp of b.samples) assert.ok(smp.activation >= b.lo && smp.activation < b.hi, 'sample inside its bin');
    }
    assert.equal(total, vals.length);
  }
});

test('top examples are the strongest sequences, one per sequence, with their per-token rows', () => {
  const data = makeData(60, 2);
  const acc = run(data);
  for (let f = 0; f < F; f++) {
    const perSeq = data.acts.map((a, s) => {
      let best = 0;
      let pos = -1;
      for (let t = 1; t < T; t++) if (a[t * F + f]! > best) [best, pos] = [a[t * F + f]!, t];
      return { s, best, pos };
    });
    const want = perSeq.filter((x) => x.best > 0).sort((x, y) => y.best - x.best).slice(0, 5);
    const got = acc.summary(f).top;
    assert.deepEqual(got.map((x) => x.activation), want.map((x) => x.best));
    for (const g of got) {
      const a = data.acts[g.seq]!;
      assert.equal(g.activations.length, T);
      for (let t = 0; t < T; t++) assert.equal(g.activations[t], a[t * F + f]);
      assert.equal(g.activations[g.position], g.activation);
    }
  }
});

test('negatives are sequences where the feature never fires', () => {
  const data = makeData(60, 3);
  const acc = run(data);
  for (let f = 0; f < F; f++) {
    for (const s of acc.summary(f).negatives) {
      for (let t = 1; t < T; t++) assert.equal(data.acts[s]![t * F + f], 0);
    }
  }
  // A rare feature has negatives; a dense one may not.
  assert.ok(acc.summary(22).negatives.length > 0);
});

test('co-activation counts and token evidence are exact', () => {
  const data = makeData(40, 4);
  const acc = run(data);
  const co = new Map<string, number>();
  const ft = new Map<string, number>();
  data.acts.forEach((a, s) => {
    for (let t = 1; t < T; t++) {
      const on: number[] = [];
      for (let f = 0; f < F; f++) if (a[t * F + f]! > 0) on.push(f);
      for (let i = 0; i < on.length; i++) {
        const k = `${on[i]},${data.ids[s]![t]}`;
        ft.set(k, (ft.get(k) ?? 0) + 1);
        for (let j = i + 1; j < on.length; j++) co.set(`${on[i]},${on[j]}`, (co.get(`${on[i]},${on[j]}`) ?? 0) + 1);
      }
    }
  });
  for (let i = 0; i < F; i++) for (let j = i + 1; j < F; j++) assert.equal(acc.cooc.count(i, j), co.get(`${i},${j}`) ?? 0);
  for (const [k, c] of ft) {
    const [f, tok] = k.split(',').map(Number);
    assert.equal(acc.featureTokens.get(f!, tok!)!.count, c);
  }
  const coact = acc.coactivation(5);
  assert.equal(coact[0]!.length, 5);
  const j01 = co.get('0,1')! / (acc.fireCount[0]! + acc.fireCount[1]! - co.get('0,1')!);
  const entry = coact[0]!.find((x) => x.other === 1);
  if (entry) assert.ok(Math.abs(entry.jaccard - j01) < 1e-12);
});

test('a checkpoint mid-stream resumes to exactly the uninterrupted result (sampling included)', () => {
  const data = makeData(48, 5);
  const straight = run(data);
  const resumed = run(data, 24);
  for (let f = 0; f < F; f++) assert.deepEqual(resumed.summary(f), straight.summary(f));
  assert.deepEqual(resumed.coactivation(5), straight.coactivation(5));
  assert.equal(resumed.tokens, straight.tokens);
});

test('compressed-row latents give exactly the dense result', () => {
  const data = makeData(32, 6);
  const dense = run(data);
  const acc = new FeatureAccumulator(cfg);
  for (let s = 0; s < data.ids.length; s += 4) {
    const ids = data.ids.slice(s, s + 4);
    const lb = batchOf(data.acts.slice(s, s + 4));
    const rowPtr = new Int32Array(lb.batch * T + 1);
    const idx: number[] = [];
    const val: number[] = [];
    for (let r = 0; r < lb.batch * T; r++) {
      for (let f = 0; f < F; f++) if (lb.acts_BTF[r * F + f]! > 0) (idx.push(f), val.push(lb.acts_BTF[r * F + f]!));
      rowPtr[r + 1] = idx.length;
    }
    acc.addBatch({ ...lb, sparse: { rowPtr, idx: Int32Array.from(idx), val: Float32Array.from(val) } }, ids, ids.map((_, i) => s + i), 1);
  }
  for (let f = 0; f < F; f++) assert.deepEqual(acc.summary(f, 1), dense.summary(f, 1));
});
