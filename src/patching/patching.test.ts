// Activation patching checked against facts that do not depend on its code: with prompts differing in one
// token, patching the embedding-level residual at that position restores the clean metric exactly and
// elsewhere does nothing; patching the final residual at the last position restores it exactly; a head's
// effect through hook_z equals the same patch through its per-head output (hook_result). Attribution
// patching is exact on the normalised final residual (site 'final'), and batch size changes nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import '../tensor/backend/native/index.js';
import { TokenBatch, type ForwardHook } from '../model/index.js';
import * as T from '../tensor/index.js';
import { Tensor } from '../tensor/index.js';
import { tinyModel, tinyTokenizer } from '../steering/testing/fixtures.js';
import { activationPatching } from './activation.js';
import { attributionPatching } from './attribution.js';
import { compareSweeps } from './compare.js';
import { answerToken, metricRows, type PatchMetric } from './metric.js';

const model = tinyModel(7);
const enc = (s: string): number[] => tinyTokenizer.encode(s, { bos: true });
const clean = enc('Tom saw the dog and the dog ran to');
const corrupt = enc('Tom saw the cat and the dog ran to');
const metric: PatchMetric = { kind: 'logit_diff', answer: answerToken(tinyTokenizer, 'park'), wrong: answerToken(tinyTokenizer, 'home') };
const close = (a: number, b: number, tol = 1e-4): boolean => Math.abs(a - b) <= tol * (1 + Math.abs(b));

test('activation patching: exact restorations where the answer is known independently', () => {
  const r = activationPatching(model, { clean, corrupt, metric, sites: ['resid_pre', 'resid_post', 'final'] });
  const full = r.cleanMetric - r.corruptMetric;
  assert.ok(Math.abs(full) > 1e-3, 'the corruption matters');
  const pre = r.sites[0]!.effects;
  for (let t = 0; t < clean.length; t++) assert.ok(close(pre[0]![t]!, t === 4 ? full : 0), `resid_pre 0, position ${t}: ${pre[0]![t]}`);
  const last = clean.length - 1;
  const post = r.sites[1]!.effects;
  assert.ok(close(post[1]![last]!, full), 'the last block\'s output at the last position carries everything');
  for (let t = 0; t < last; t++) assert.ok(close(post[1]![t]!, 0));
  assert.ok(close(r.sites[2]!.effects[0]![last]!, full));
  // Noising is the mirror image: patching corrupted activations into the clean run.
  const n = activationPatching(model, { clean, corrupt, metric, sites: ['resid_pre'], direction: 'noise' });
  assert.ok(close(n.sites[0]!.effects[0]![4]!, -full));
  // Batch size is a performance knob only.
  const one = activationPatching(model, { clean, corrupt, metric, sites: ['resid_pre'], batchSize: 1 });
  one.sites[0]!.effects.flat().forEach((v, i) => assert.ok(close(v, pre.flat()[i]!, 1e-5)));
});

test('a head patched through hook_z moves the metric as the same head patched through hook_result', () => {
  const r = activationPatching(model, { clean, corrupt, metric, sites: ['heads'] });
  assert.deepEqual([r.sites[0]!.effects.length, r.sites[0]!.effects[0]!.length], [2, 4]);
  const D = model.config.dModel;
  const srcRes = T.noGrad(() => model.run([clean], { cache: ['blocks.1.attn.hook_result'] })).cache.get('blocks.1.attn.hook_result').data;
  for (let h = 0; h < 4; h++) {
    const hook: ForwardHook = {
      name: 'blocks.1.attn.hook_result',
      fn: (x) => {
        const out = x.data.slice();
        for (let t = 0; t < corrupt.length; t++) out.set(srcRes.subarray((t * 4 + h) * D, (t * 4 + h + 1) * D), (t * 4 + h) * D);
        return new Tensor(out, x.shape);
      },
    };
    const m = metricRows(T.noGrad(() => model.run(TokenBatch.from([corrupt]), { hooks: [hook], lastLogitsOnly: true }).logits!), metric)[0]!;
    assert.ok(close(r.sites[0]!.effects[1]![h]!, m - r.corruptMetric), `head 1.${h}`);
  }
});

test('attribution patching: exact on the normalised final residual, and its agreement is reported', () => {
  for (const kind of ['logit_diff', 'loss'] as const) {
    const m = { ...metric, kind };
    const exact = activationPatching(model, { clean, corrupt, metric: m, sites: ['final', 'resid_pre', 'attn_out', 'mlp_out', 'heads'] });
    const approx = attributionPatching(model, { clean, corrupt, metric: m, sites: ['final', 'resid_pre', 'attn_out', 'mlp_out', 'heads'] });
    assert.equal(approx.method, 'attribution');
    assert.equal(approx.cleanMetric, exact.cleanMetric);
    for (const s of approx.sites) assert.deepEqual([s.effects.length, s.effects[0]!.length], [exact.sites.find((e) => e.kind === s.kind)!.effects.length, s.width]);
    const agree = compareSweeps(exact, approx);
    if (kind === 'logit_diff') {
      // logits are linear in ln_final's normalised output: the first-order estimate is the patch itself
      exact.sites[0]!.effects[0]!.forEach((v, t) => assert.ok(close(approx.sites[0]!.effects[0]![t]!, v), `final t=${t}: ${approx.sites[0]!.effects[0]![t]} vs ${v}`));
      assert.ok(agree.sites[0]!.correlation! > 0.9999);
    }
    // resid_pre at layer 0 differs only at the corrupted position: both are zero elsewhere.
    for (let t = 0; t < clean.length; t++) if (t !== 4) assert.equal(approx.sites[1]!.effects[0]![t], 0);
    assert.ok(agree.overall !== null && Number.isFinite(agree.overall));
  }
});

test('bad input: prompts of different token lengths, answers that are not one token', () => {
  assert.throws(
    () => activationPatching(model, { clean, corrupt: enc('Tom saw the big cat and the dog ran to'), metric, sites: ['resid_pre'] }),
    /clean prompt has 10 tokens and the corrupted one 11.*same number of tokens/,
  );
  assert.throws(() => answerToken(tinyTokenizer, 'big dog'), /the answer "big dog" is 2 tokens \(" big", " dog"\).*single-token answer.*--answer-id/);
  assert.throws(() => attributionPatching(model, { clean, corrupt, metric: { kind: 'logit_diff', answer: 4, wrong: null }, sites: ['resid_pre'] }), /needs a wrong answer/);
});
