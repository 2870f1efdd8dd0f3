// Paired steered generation: the baseline is exactly the unsteered sampler with the same seeds, a zero
// add changes nothing, every reported value of a clamp / ablation / cap matches its mode, losses are the
// unsteered model's, sweeps share one baseline. On stories260K (when ../shared has it) the same checks
// run through a random dictionary at a real hook.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import '../tensor/backend/native/index.js';
import { generate, loadModel } from '../model/index.js';
import { sharedPath, missing, STORIES_MODEL, STORIES_TOKENIZER } from '../model/testing/shared.js';
import { loadTokenizer } from '../model/tokenizers/index.js';
import { defaultConfig, initializeSae, Sae } from '../sae/index.js';
import { featureDirection, vectorDirection } from './direction.js';
import { continuationLoss } from './fluency.js';
import { steer, steerSweep } from './steer.js';
import { tinyModel, tinySae, tinyTokenizer } from './testing/fixtures.js';

const model = tinyModel();
const sae = tinySae({ architecture: 'topk' }, 'blocks.1.hook_resid_pre');
const base = { prompt: 'the dog sat on', maxNewTokens: 12, samples: 3, seed: 4, concept: 'cat' } as const;

test('the baseline is the plain sampler with the same seeds; a zero add changes nothing', () => {
  const r = steer(model, tinyTokenizer, { ...base, interventions: [{ direction: featureDirection(sae, 2), mode: 'add', amount: 0 }] });
  const promptIds = tinyTokenizer.encode(base.prompt, { bos: true });
  assert.deepEqual(r.promptIds, promptIds);
  for (let i = 0; i < 3; i++) {
    const g = generate(model, tinyTokenizer, promptIds, { maxNewTokens: 12, seed: 4 + i });
    assert.deepEqual(r.baseline!.ids[i], g.ids);
    assert.equal(r.baseline!.texts[i], g.text);
  }
  assert.deepEqual(r.steered.ids, r.baseline!.ids);
  assert.equal(r.steered.loss, r.baseline!.loss);
  assert.ok(Number.isFinite(r.baseline!.loss) && r.baseline!.loss > 0);
  assert.equal(r.baseline!.rate, r.baseline!.matches!.filter(Boolean).length / 3);
});

test('clamp, ablate and cap: every reported value matches the mode; positions are the steered ones', () => {
  for (const [mode, amount, ok] of [
    ['clamp', 2, (v: number) => Math.abs(v - 2) <= 1e-4],
    ['ablate', 0, (v: number) => Math.abs(v) <= 1e-4],
    ['cap', 0.05, (v: number) => v <= 0.05 + 1e-4],
  ] as const) {
    for (const positions of ['all', 'generated'] as const) {
      const r = steer(model, tinyTokenizer, { ...base, positions, interventions: [{ direction: featureDirection(sae, 5), mode, amount }] });
      const P = r.promptIds.length;
      r.values.forEach((rows, s) => {
        const generatedFed = r.steered.ids[s]!.length - 1; // the last sampled token is never fed back
        const want = positions === 'all' ? P - 1 + generatedFed : generatedFed;
        assert.equal(rows.length, want, `${mode} ${positions} sample ${s}: ${rows.length} steered positions`);
        for (const [v] of rows) assert.ok(ok(v!), `${mode}: ${v}`);
        for (const p of r.positions[s]!) assert.ok(positions === 'all' ? p >= 1 : p >= P);
      });
      assert.ok(r.maxDeviation <= 1e-4, `${mode}: max deviation ${r.maxDeviation}`);
      // The loss is the unsteered model's on the steered text.
      assert.ok(Math.abs(r.steered.loss - continuationLoss(model, r.promptIds, r.steered.ids).mean) < 1e-9);
    }
  }
});

test('several features at once, a raw vector, and a sweep sharing one baseline', () => {
  const r = steer(model, tinyTokenizer, {
    ...base,
    interventions: [
      { direction: featureDirection(sae, 5), mode: 'clamp', amount: 1.5 },
      { direction: featureDirection(sae, 9), mode: 'clamp', amount: 0.5 },
      { direction: vectorDirection('blocks.0.hook_resid_post', Float32Array.from({ length: 16 }, (_, j) => (j % 3) - 1)), mode: 'add', amount: 0.5 },
    ],
  });
  for (const rows of r.values)
    for (const row of rows) {
      if (Number.isNaN(row[0]!)) continue; // a row read at the vector's hook
      assert.ok(Math.abs(row[0]! - 1.5) < 1e-4 && Math.abs(row[1]! - 0.5) < 1e-4);
    }
  assert.ok(r.hooks[0]!.includes('blocks.0.hook_resid_post') && r.hooks[0]!.includes('blocks.1.hook_resid_pre'));
  const sw = steerSweep(model, tinyTokenizer, { ...base, interventions: [{ direction: featureDirection(sae, 5), mode: 'add', amount: 1 }] }, [0, 4]);
  assert.equal(sw.rows.length, 2);
  assert.deepEqual(sw.rows[0]!.steered.ids, sw.baseline.ids, 'strength 0 is the baseline');
  assert.notDeepEqual(sw.rows[1]!.steered.ids, sw.baseline.ids);
});

test('stories260K: clamp, ablate and cap through a dictionary at a real hook', async (t) => {
  const mp = sharedPath(STORIES_MODEL);
  const tp = sharedPath(STORIES_TOKENIZER);
  if (!mp || !tp) return t.skip(missing(STORIES_MODEL));
  const stories = loadModel(mp);
  const tok = await loadTokenizer(tp, { vocabSize: stories.config.vocabSize });
  const s = Sae.zeros(defaultConfig({ architecture: 'topk', dIn: 64, dSae: 256, k: 8, hookName: 'blocks.2.hook_resid_post' }));
  initializeSae(s, { seed: 1 });
  for (const [mode, amount] of [['clamp', 3], ['ablate', 0], ['cap', 0.5]] as const) {
    const r = steer(stories, tok, { prompt: 'Once upon a time', maxNewTokens: 10, samples: 2, seed: 0, concept: 'girl', interventions: [{ direction: featureDirection(s, 17), mode, amount }] });
    for (const rows of r.values)
      for (const [v] of rows) assert.ok(mode === 'clamp' ? Math.abs(v! - 3) <= 1e-4 : mode === 'ablate' ? Math.abs(v!) <= 1e-4 : v! <= 0.5 + 1e-4, `${mode}: ${v}`);
    assert.ok(r.baseline!.loss > 0 && r.steered.loss > 0);
  }
});
