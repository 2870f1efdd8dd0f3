// Ablations against independent constructions: zeroing a neuron equals zeroing its column of W_out,
// zeroing a head through hook_z equals removing its per-head output (hook_result); mean ablation writes
// the reference mean; resample is seeded; a feature ablation removes exactly a_f W_dec[f] at the hook.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import '../tensor/backend/native/index.js';
import { TokenBatch, Transformer, type ForwardHook } from '../model/index.js';
import * as T from '../tensor/index.js';
import { Tensor } from '../tensor/index.js';
import { tinyModel, tinySae, tinyTokenizer } from '../steering/testing/fixtures.js';
import { ablationEffect, ablationHooks, parseTargets } from './ablation.js';

const model = tinyModel(3);
const seqs = ['Tom saw the dog and the cat', 'Lily went to the park', 'the big red ball sat on the mat'].map((s) => tinyTokenizer.encode(s, { bos: true }));
const logits = (m: Transformer, hooks: ForwardHook[] = []): Float32Array => T.noGrad(() => m.run(TokenBatch.from(seqs), { hooks }).logits!.data);
const batch = TokenBatch.from(seqs);
/** Largest difference over real (unpadded) positions of [batch, pos, width] arrays. */
function maxDiff(a: Float32Array, b: Float32Array): number {
  const w = a.length / (batch.batch * batch.maxLen);
  let m = 0;
  for (let r = 0; r < batch.batch; r++)
    for (let t = 0; t < batch.lengths[r]!; t++) for (let j = 0; j < w; j++) m = Math.max(m, Math.abs(a[(r * batch.maxLen + t) * w + j]! - b[(r * batch.maxLen + t) * w + j]!));
  return m;
}

test('zero ablation of a neuron equals zeroing its W_out column (BOS left alone)', () => {
  const hooks = ablationHooks(model, [{ kind: 'neuron', layer: 1, index: 5 }], { method: 'zero', bosId: null });
  const edited = Transformer.fromNamed(model.config, new Map(model.parameters().map(([n, t]) => [n, t.data.slice()])));
  const W = edited.params.blocks[1]!.mlp!.W_out; // [d_model, d_mlp]
  for (let r = 0; r < W.shape[0]!; r++) W.data[r * W.shape[1]! + 5] = 0;
  assert.ok(maxDiff(logits(model, hooks), logits(edited)) < 1e-5);
});

test('zero ablation of a head through hook_z equals removing its hook_result slice', () => {
  const hooks = ablationHooks(model, [{ kind: 'head', layer: 0, head: 2 }], { method: 'zero', bosId: null });
  const D = model.config.dModel;
  const viaResult: ForwardHook = {
    name: 'blocks.0.attn.hook_result',
    fn: (x) => {
      const out = x.data.slice();
      for (let r = 0; r < out.length / (4 * D); r++) out.fill(0, (r * 4 + 2) * D, (r * 4 + 3) * D);
      return new Tensor(out, x.shape);
    },
  };
  assert.ok(maxDiff(logits(model, hooks), logits(model, [viaResult])) < 1e-5);
});

test('mean ablation writes the reference mean; resample is seeded; loss effects are reported', () => {
  const ref = seqs.slice(0, 2);
  const hooks = ablationHooks(model, [{ kind: 'neuron', layer: 0, index: 3 }], { method: 'mean', reference: ref });
  const refActs = T.noGrad(() => model.run(TokenBatch.from(ref), { cache: ['blocks.0.mlp.hook_post'] })).cache.get('blocks.0.mlp.hook_post');
  const Tn = TokenBatch.from(ref).maxLen;
  let sum = 0;
  let n = 0;
  ref.forEach((s, b) => s.forEach((id, t) => id !== 1 && ((sum += refActs.data[(b * Tn + t) * 24 + 3]!), n++)));
  const got = T.noGrad(() => model.run(TokenBatch.from(seqs), { hooks, cache: ['blocks.0.mlp.hook_post'] })).cache.get('blocks.0.mlp.hook_post');
  const T2 = TokenBatch.from(seqs).maxLen;
  seqs.forEach((s, b) => s.forEach((id, t) => id !== 1 && assert.ok(Math.abs(got.data[(b * T2 + t) * 24 + 3]! - sum / n) < 1e-5)));
  const a = ablationEffect(model, seqs, [{ kind: 'head', layer: 1, head: 0 }], { method: 'resample', reference: ref, seed: 5 });
  const b = ablationEffect(model, seqs, [{ kind: 'head', layer: 1, head: 0 }], { method: 'resample', reference: ref, seed: 5 });
  assert.deepEqual(a, b);
  assert.ok(a.tokens > 0 && Number.isFinite(a.delta) && Math.abs(a.ablatedLoss - a.cleanLoss - a.delta) < 1e-9);
});

test('feature ablation removes exactly a_f W_dec[f] at the hook', () => {
  const sae = tinySae({ architecture: 'relu' }, 'blocks.0.hook_resid_post');
  const f = 4;
  const hooks = ablationHooks(model, parseTargets(`feature:${f}`, sae), { method: 'zero' });
  const run = (h: ForwardHook[]) => T.noGrad(() => model.run(TokenBatch.from(seqs), { hooks: h, cache: ['blocks.0.hook_resid_post'] })).cache.get('blocks.0.hook_resid_post');
  const clean = run([]);
  const got = run(hooks);
  const lat = T.noGrad(() => sae.encode(clean)).data;
  const w = sae.decoderRow(f);
  let moved = 0;
  for (let r = 0; r < clean.size / 16; r++) {
    if (r % batch.maxLen >= batch.lengths[Math.floor(r / batch.maxLen)]!) continue; // padding
    const bos = batch.ids[r] === 1;
    const a = bos ? 0 : lat[r * 40 + f]!;
    if (a > 0) moved++;
    for (let j = 0; j < 16; j++) assert.ok(Math.abs(got.data[r * 16 + j]! - (clean.data[r * 16 + j]! - a * w[j]!)) < 1e-5);
  }
  assert.ok(moved > 0, 'the feature fired somewhere');
  assert.throws(() => parseTargets('feature:3', null), /needs its dictionary \(--sae DIR\)/);
  assert.throws(() => ablationHooks(model, parseTargets('feature:40', sae), { method: 'zero' }), /feature 40 is outside the dictionary/);
  assert.throws(() => parseTargets('head:1', null), /head:LAYER.HEAD/);
  assert.throws(() => ablationHooks(model, [{ kind: 'head', layer: 0, head: 1 }], { method: 'mean' }), /needs a reference corpus/);
});
