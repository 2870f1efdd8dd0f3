import assert from 'node:assert/strict';
import { test } from 'node:test';
import { smallModel } from '../model/testing/models.js';
import { randomIds } from '../model/testing/fixtures.js';
import { attribute, salientLogits } from './attribute.js';
import { graphScoresDense, influenceDense, normalizeDense } from './influence.js';
import { randomTranscoderSet, type RandomSetOptions } from './testing.js';

const cases: [string, RandomSetOptions][] = [
  ['llama-gqa', { kind: 'per-layer' }],
  ['llama-gqa', { kind: 'per-layer', skip: true, activation: 'relu' }],
  ['llama-gqa', { kind: 'clt' }],
  ['gpt2', { kind: 'per-layer', skip: true }],
  ['gpt2', { kind: 'clt', site: 'hook_resid_mid' }],
];

for (const [name, opts] of cases) {
  test(`exactness: edges + bias + constant = pre-activation / demeaned logit (${name}, ${JSON.stringify(opts)})`, () => {
    const model = smallModel(name);
    const set = randomTranscoderSet(model, opts);
    const ids = randomIds(11, model.config.vocabSize, 3);
    const g = attribute(model, set, ids, { prune: false, batchSize: 7 });
    assert.equal(g.exactness.checked, g.index.nFeatures + g.index.nLogits);
    assert.ok(g.index.nFeatures > 0);
    assert.ok(g.exactness.maxRelError < 1e-4, `max relative error ${g.exactness.maxRelError} (abs ${g.exactness.maxAbsError})`);
    // The stored edges reproduce the same sums (nothing lost between pass 1 and the kept graph).
    const sums = new Float64Array(g.index.size);
    for (let e = 0; e < g.edges.weight.length; e++) sums[g.edges.target[e]!] += g.edges.weight[e]!;
    for (let t = 0; t < g.index.size; t++) {
      if (Number.isNaN(g.values.value[t]!)) continue;
      const got = sums[t]! + g.values.bias[t]! + g.values.constant[t]!;
      assert.ok(Math.abs(got - g.values.value[t]!) <= 1e-4 * Math.max(1, Math.abs(g.values.value[t]!)), `node ${t}: ${got} vs ${g.values.value[t]}`);
    }
  });
}

test('streamed influence and scores equal the dense power series', () => {
  const model = smallModel('llama-gqa');
  const set = randomTranscoderSet(model, { kind: 'clt', F: 12, k: 3 });
  const ids = randomIds(6, model.config.vocabSize, 5);
  const g = attribute(model, set, ids, { prune: false });
  const n = g.index.size;
  const A = new Float64Array(n * n);
  for (let e = 0; e < g.edges.weight.length; e++) A[g.edges.target[e]! * n + g.edges.source[e]!] = g.edges.weight[e]!;
  const w = new Float64Array(n);
  g.logitProbs.forEach((p, i) => (w[g.index.logitIndex(i)] = p));
  const ref = influenceDense(normalizeDense(A, n), n, w);
  for (let i = 0; i < n; i++) assert.ok(Math.abs(ref[i]! - g.influence[i]!) <= 1e-9 + 1e-6 * Math.abs(ref[i]!), `node ${i}: ${g.influence[i]} vs ${ref[i]}`);
  const scores = graphScoresDense(A, n, w, (i) => g.index.kind(i) === 'error', (i) => g.index.kind(i) === 'token');
  assert.ok(Math.abs(scores.replacement - g.replacementScore) < 1e-9);
  assert.ok(Math.abs(scores.completeness - g.completenessScore) < 1e-9);
  assert.ok(g.replacementScore > 0 && g.replacementScore <= 1);
});

test('pruning matches circuit-tracer on the dense matrix', () => {
  const model = smallModel('gpt2');
  const set = randomTranscoderSet(model, { kind: 'per-layer', F: 16, k: 3 });
  const ids = randomIds(8, model.config.vocabSize, 9);
  const full = attribute(model, set, ids, { prune: false });
  const pruned = attribute(model, set, ids, { nodeThreshold: 0.7, edgeThreshold: 0.9 });
  const n = full.index.size;
  const A = new Float64Array(n * n);
  for (let e = 0; e < full.edges.weight.length; e++) A[full.edges.target[e]! * n + full.edges.source[e]!] = full.edges.weight[e]!;
  const w = new Float64Array(n);
  full.logitProbs.forEach((p, i) => (w[full.index.logitIndex(i)] = p));
  const ref = densePrune(A, n, w, full.index.nFeatures, full.index.tokenStart, 0.7, 0.9);
  assert.deepEqual(Array.from(pruned.keep), Array.from(ref.nodes));
  const got = new Set(Array.from(pruned.edges.source, (s, e) => `${s}>${pruned.edges.target[e]}`));
  const want = new Set<string>();
  for (let t = 0; t < n; t++) for (let s = 0; s < n; s++) if (ref.edges[t * n + s]) want.add(`${s}>${t}`);
  assert.deepEqual([...got].sort(), [...want].sort());
  assert.ok(pruned.edges.weight.length < full.edges.weight.length);
});

test('salient logits: the most probable until 0.95, at most 10', () => {
  const l = Float32Array.from([0, 5, 3, 4.9, -2]);
  const s = salientLogits(l, 10, 0.95);
  assert.deepEqual(s.tokens, [1, 3, 2]);
  assert.equal(salientLogits(l, 1, 0.95).tokens.length, 1);
});

test('bad thresholds and over-long prompts are refused', () => {
  const model = smallModel('llama-gqa');
  const set = randomTranscoderSet(model, { kind: 'per-layer' });
  assert.throws(() => attribute(model, set, [1, 2, 3], { nodeThreshold: 0 }), /node threshold must be in \(0, 1\]/);
  assert.throws(() => attribute(model, set, [1, 2, 3], { edgeThreshold: 1.5 }), /edge threshold must be in \(0, 1\]/);
  assert.throws(() => attribute(model, set, randomIds(model.config.nCtx + 1, 41, 1)), /longer than the model's context/);
  const other = randomTranscoderSet(smallModel('gpt2'), { kind: 'per-layer' });
  const wide = smallModel('llama-interleaved');
  assert.doesNotThrow(() => other.checkFits(wide)); // same layers and width: fits by shape
  const threeLayer = randomTranscoderSet(model, { kind: 'clt' });
  (threeLayer as { nLayers: number }).nLayers = 3;
  assert.throws(() => threeLayer.checkFits(model), /do not match the model: they cover 3 layers, the model has 2/);
});

/** circuit-tracer's prune_graph on a dense matrix (rows = targets): node mask, then edge mask and clean-up. */
function densePrune(A: Float64Array, n: number, w: Float64Array, nFeat: number, tokStart: number, nodeThr: number, edgeThr: number): { nodes: Uint8Array; edges: Uint8Array } {
  const inf = influenceDense(normalizeDense(A, n), n, w);
  const thr = thresholdOf(inf, nodeThr);
  const nodes = new Uint8Array(n);
  for (let i = 0; i < n; i++) nodes[i] = inf[i]! >= thr || i >= tokStart ? 1 : 0;
  const P = A.slice();
  for (let t = 0; t < n; t++) for (let s = 0; s < n; s++) if (!nodes[t] || !nodes[s]) P[t * n + s] = 0;
  const Ph = normalizeDense(P, n);
  const pinf = influenceDense(Ph, n, w);
  const scores = new Float64Array(n * n);
  for (let t = 0; t < n; t++) for (let s = 0; s < n; s++) scores[t * n + s] = Ph[t * n + s]! * (pinf[t]! + w[t]!);
  const ethr = thresholdOf(scores, edgeThr);
  const edges = new Uint8Array(n * n);
  for (let i = 0; i < n * n; i++) edges[i] = scores[i]! >= ethr && scores[i]! > 0 ? 1 : 0;
  for (let changed = true; changed; ) {
    changed = false;
    for (let t = 0; t < n; t++) for (let s = 0; s < n; s++) if (!nodes[t] || !nodes[s]) edges[t * n + s] = 0;
    for (let i = 0; i < tokStart; i++) {
      if (!nodes[i]) continue;
      let out = false;
      let inn = false;
      for (let j = 0; j < n; j++) {
        if (edges[j * n + i]) out = true;
        if (edges[i * n + j]) inn = true;
      }
      if (!out || (i < nFeat && !inn)) {
        nodes[i] = 0;
        changed = true;
      }
    }
  }
  return { nodes, edges };
}

function thresholdOf(scores: Float64Array, fraction: number): number {
  const sorted = Array.from(scores).sort((a, b) => b - a);
  const total = sorted.reduce((a, b) => a + b, 0);
  let acc = 0;
  for (const v of sorted) {
    acc += v;
    if (acc / total >= fraction) return v;
  }
  return sorted[sorted.length - 1]!;
}
