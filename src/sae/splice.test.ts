import { test } from 'node:test';
import assert from 'node:assert/strict';
import '../tensor/backend/native/index.js';
import { llamaConfig, TokenBatch, Transformer } from '../model/index.js';
import * as T from '../tensor/index.js';
import { Rng } from '../tensor/index.js';
import { defaultConfig, type SaeConfig } from './config.js';
import { compareLogits } from './evaluate.js';
import { initializeSae } from './init.js';
import { Sae } from './sae.js';
import { spliceHooks, zeroAblationHook } from './splice.js';

const model = Transformer.random(llamaConfig({ dModel: 16, nLayers: 2, nHeads: 2, vocabSize: 40 }), { seed: 1 });
const HOOK = 'blocks.0.hook_resid_post';
const batch = TokenBatch.from([[1, 5, 9, 12, 3, 1, 7], [1, 20, 21]]); // a BOS mid-sequence, and padding

function sae(partial: Partial<SaeConfig> & Pick<SaeConfig, 'architecture' | 'dIn' | 'dSae'>): Sae {
  const s = Sae.zeros(defaultConfig({ hookName: HOOK, ...partial }));
  initializeSae(s, { seed: 3 });
  const rng = new Rng(9);
  for (let i = 0; i < s.dOut; i++) s.params.b_dec_O.data[i] = 0.1 * rng.normal();
  return s;
}

function maxDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

test('splice with the error term leaves the run unchanged; without it the hook holds the reconstruction', () => {
  const s = sae({ architecture: 'topk', dIn: 16, dSae: 48, k: 4 });
  const clean = T.noGrad(() => model.run(batch, { cache: [HOOK] }));
  const withErr = T.noGrad(() => model.run(batch, { hooks: spliceHooks(s, { withError: true }) }));
  assert.ok(maxDiff(clean.logits!.data, withErr.logits!.data) < 1e-4);
  const spliced = T.noGrad(() => model.run(batch, { hooks: spliceHooks(s), cache: [HOOK] }));
  assert.ok(maxDiff(clean.logits!.data, spliced.logits!.data) > 1e-3, 'the reconstruction changes the output');
  const x = clean.cache.get(HOOK);
  const recon = T.noGrad(() => s.forward(x).output);
  const got = spliced.cache.get(HOOK).data;
  const T_ = batch.maxLen;
  for (let b = 0; b < 2; b++)
    for (let t = 0; t < T_; t++) {
      const row = (b * T_ + t) * 16;
      const isBos = batch.ids[b * T_ + t] === 1;
      const padded = t >= batch.lengths[b]!;
      const want = isBos || padded ? x.data : recon.data;
      for (let j = 0; j < 16; j++) assert.ok(Math.abs(got[row + j]! - want[row + j]!) < 1e-5, `b${b} t${t}: ${isBos || padded ? 'kept' : 'reconstructed'}`);
    }
});

test('onLatents edits flow through: clamping a latent adds its decoder row, and dense and fast paths agree', () => {
  const s = sae({ architecture: 'relu', dIn: 16, dSae: 32 });
  const fast = T.noGrad(() => model.run(batch, { hooks: spliceHooks(s), cache: [HOOK] })).cache.get(HOOK);
  const dense = T.noGrad(() => model.run(batch, { hooks: spliceHooks(s, { onLatents: () => undefined }), cache: [HOOK] })).cache.get(HOOK);
  assert.ok(maxDiff(fast.data, dense.data) < 1e-5);
  let seen: number[] = [];
  const clamped = T.noGrad(() =>
    model.run(batch, {
      cache: [HOOK],
      hooks: spliceHooks(s, {
        withError: true,
        onLatents: (lat) => {
          seen = lat.shape;
          const d = lat.data.slice();
          for (let r = 0; r < d.length / 32; r++) d[r * 32 + 5] = d[r * 32 + 5]! + 2;
          return new T.Tensor(d, lat.shape);
        },
      }),
    }),
  ).cache.get(HOOK);
  assert.deepEqual(seen, [2, batch.maxLen, 32]);
  const clean = T.noGrad(() => model.run(batch, { cache: [HOOK] })).cache.get(HOOK);
  const row = s.decoderRow(5);
  // Position (0, 1) is a real token: clean + 2 * W_dec[5].
  for (let j = 0; j < 16; j++) assert.ok(Math.abs(clamped.data[16 + j]! - (clean.data[16 + j]! + 2 * row[j]!)) < 1e-4);
  // BOS positions are untouched.
  for (let j = 0; j < 16; j++) assert.equal(clamped.data[j], clean.data[j]);
});

test('gradients reach activations upstream of a splice', () => {
  const s = sae({ architecture: 'topk', dIn: 16, dSae: 48, k: 4 });
  const r = model.runWithGradients(batch, (logits) => T.sum(logits), ['blocks.0.hook_resid_mid'], { hooks: spliceHooks(s, { onLatents: () => undefined }) });
  assert.ok(r.grads.get('blocks.0.hook_resid_mid')!.data.some((v) => v !== 0));
});

test('a transcoder splice replaces the output hook with its prediction from the input hook', () => {
  const s = sae({ architecture: 'transcoder-topk', dIn: 16, dSae: 40, k: 3, hookName: 'blocks.1.hook_resid_mid', hookNameOut: 'blocks.1.hook_mlp_out', skip: true });
  s.params.W_skip_DO!.data.fill(0.01);
  const clean = T.noGrad(() => model.run(batch, { cache: ['blocks.1.hook_resid_mid', 'blocks.1.hook_mlp_out'] }));
  const spliced = T.noGrad(() => model.run(batch, { hooks: spliceHooks(s), cache: ['blocks.1.hook_mlp_out'] }));
  const pred = T.noGrad(() => s.forward(clean.cache.get('blocks.1.hook_resid_mid')).output);
  const got = spliced.cache.get('blocks.1.hook_mlp_out');
  assert.ok(Math.abs(got.data[16 + 3]! - pred.data[16 + 3]!) < 1e-5);
  const withErr = T.noGrad(() => model.run(batch, { hooks: spliceHooks(s, { withError: true }) }));
  assert.ok(maxDiff(withErr.logits!.data, clean.logits!.data) < 1e-4);
});

test('a dictionary of the wrong width fails with a clear message', () => {
  const s = sae({ architecture: 'topk', dIn: 8, dSae: 16, k: 2 });
  assert.throws(() => T.noGrad(() => model.run(batch, { hooks: spliceHooks(s) })), /reads width 8.*d_in mismatch/);
});

test('compareLogits: identical runs give zero KL, ablation costs loss', () => {
  const clean = T.noGrad(() => model.run(batch).logits!);
  const ablated = T.noGrad(() => model.run(batch, { hooks: [zeroAblationHook(HOOK)] }).logits!);
  const r = compareLogits(batch, clean.data, clean.data, ablated.data, 40);
  assert.equal(r.count, 6 + 2);
  assert.ok(Math.abs(r.kl) < 1e-9);
  assert.equal(r.ceSpliced, r.ceClean);
  assert.notEqual(r.ceAblated, r.ceClean);
});
