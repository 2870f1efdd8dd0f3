import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ForwardHook } from '../model/index.js';
import { randomIds } from '../model/testing/fixtures.js';
import { smallModel } from '../model/testing/models.js';
import * as T from '../tensor/index.js';
import { Tensor } from '../tensor/index.js';
import { activationOf, interveneFeatures, parseIntervention } from './intervene.js';
import { randomTranscoderSet } from './testing.js';

const model = smallModel('llama-gqa');
const ids = randomIds(10, model.config.vocabSize, 4);
const D = model.config.dModel;

function activeAt(set: ReturnType<typeof randomTranscoderSet>, L: number, pos: number): [number, number] {
  const x = T.noGrad(() => model.run([ids], { cache: [set.inputHook(L)] })).cache.get(set.inputHook(L)).data.subarray(pos * D, (pos + 1) * D);
  return activationOf(set, L, x, -1).active[0]!;
}

test('clamping a feature to its own activation changes nothing', () => {
  const set = randomTranscoderSet(model, { kind: 'per-layer' });
  const [f, a] = activeAt(set, 0, 4);
  const r = interveneFeatures(model, set, ids, [{ layer: 0, pos: 4, feature: f, value: a }]);
  for (let i = 0; i < r.logitsBefore.length; i++) assert.ok(Math.abs(r.logitsBefore[i]! - r.logitsAfter[i]!) < 1e-5);
});

for (const kind of ['per-layer', 'clt'] as const) {
  test(`a clamp adds (value - activation) x decoder rows to the MLP outputs it writes (${kind})`, () => {
    const set = randomTranscoderSet(model, { kind });
    const L = 0;
    const pos = 6;
    const [f, a] = activeAt(set, L, pos);
    const value = a + 2.5;
    const r = interveneFeatures(model, set, ids, [{ layer: L, pos, feature: f, value }], { freezeAttention: true });
    // The same edit written by hand: the clean patterns, the delta added at each written layer's MLP output.
    const N = model.config.nLayers;
    const patterns = T.noGrad(() => model.run([ids], { cache: Array.from({ length: N }, (_, l) => `blocks.${l}.attn.hook_pattern`) })).cache;
    const hooks: ForwardHook[] = [];
    for (let l = 0; l < N; l++) {
      const p = patterns.get(`blocks.${l}.attn.hook_pattern`);
      hooks.push({ name: `blocks.${l}.attn.hook_pattern`, fn: () => p });
    }
    for (const l of set.outputsOf(L)) {
      const W = set.decoder(L, l)!;
      hooks.push({
        name: `blocks.${l}.hook_mlp_out`,
        fn: (y: Tensor) => {
          const out = y.data.slice();
          for (let j = 0; j < D; j++) out[pos * D + j] += (value - a) * W[f * D + j]!;
          return new Tensor(out, y.shape);
        },
      });
    }
    const want = T.noGrad(() => model.run([ids], { hooks })).logits!.data.slice((ids.length - 1) * model.config.vocabSize);
    for (let i = 0; i < want.length; i++) assert.ok(Math.abs(want[i]! - r.logitsAfter[i]!) < 1e-4, `logit ${i}: ${r.logitsAfter[i]} vs ${want[i]}`);
    assert.ok(r.changes.some((c) => Math.abs(c.logit_after - c.logit_before) > 1e-4), 'the clamp moved the logits');
  });
}

test('bad interventions: a clear message', () => {
  const set = randomTranscoderSet(model, { kind: 'per-layer', F: 24 });
  const [f] = activeAt(set, 1, 3);
  const inactive = Array.from({ length: 24 }, (_, i) => i).find((i) => i !== f && !isActive(set, 1, 3, i))!;
  assert.throws(() => interveneFeatures(model, set, ids, [{ layer: 1, pos: 3, feature: inactive, value: 1 }]), /is not active at layer 1, position 3 \(active there: /);
  assert.doesNotThrow(() => interveneFeatures(model, set, ids, [{ layer: 1, pos: 3, feature: inactive, value: 1 }], { allowInactive: true }));
  assert.throws(() => interveneFeatures(model, set, ids, [{ layer: 1, pos: 3, feature: 24, value: 1 }]), /feature 24 does not exist \(layer 1 has features 0-23\)/);
  assert.throws(() => interveneFeatures(model, set, ids, [{ layer: 2, pos: 3, feature: 0, value: 1 }]), /the model has layers 0-1/);
  assert.throws(() => interveneFeatures(model, set, ids, [{ layer: 0, pos: 10, feature: 0, value: 1 }]), /positions 0-9/);
  assert.throws(() => parseIntervention('2:5:x=1'), /LAYER:POS:FEATURE=VALUE/);
  assert.deepEqual(parseIntervention('2:-1:40=6.5'), { layer: 2, pos: -1, feature: 40, value: 6.5 });
});

function isActive(set: ReturnType<typeof randomTranscoderSet>, L: number, pos: number, f: number): boolean {
  const x = T.noGrad(() => model.run([ids], { cache: [set.inputHook(L)] })).cache.get(set.inputHook(L)).data.subarray(pos * D, (pos + 1) * D);
  return activationOf(set, L, x, f).value > 0;
}
