// The promote direction is the least-squares answer it claims to be (no nudge of it fits better), raises the word's tokens more than any other, and steering
// along it raises the word's probability; feature choice ranks by logit effect x specificity.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import '../tensor/backend/native/index.js';
import * as T from '../tensor/index.js';
import { featuresForWord } from './feature-choice.js';
import { steeringHooks } from './hooks.js';
import { promoteDirection, promoteVector, wordTokens } from './promote.js';
import { tinyModel, tinySae, tinyTokenizer } from './testing/fixtures.js';

const model = tinyModel(2);

test('promote: least squares through the unembedding, the word on top, and it raises p(word) when added', () => {
  const p = promoteVector(model, tinyTokenizer, 'dog', { restWeight: 1 });
  assert.deepEqual(p.tokens, wordTokens(tinyTokenizer, 'dog'));
  assert.equal(p.hook, 'blocks.1.hook_resid_post');
  assert.ok(Math.abs(Math.hypot(...p.vector) - 1) < 1e-5);
  assert.ok(p.targetEffects[0]! > p.largestOtherEffect, 'the word gains more than any other token');
  // Optimality, from the definition: the best multiple of d fits the target through the centred readout A
  // at least as well as any nudge of one coordinate (a minimum of the least-squares error).
  const D = 16;
  const V = model.config.vocabSize;
  const W = model.params.W_U.data;
  const g = model.params.lnFinal.w.data;
  const A = Array.from({ length: V }, (_, t) => Array.from({ length: D }, (_, j) => W[t * D + j]! * g[j]!));
  const mean = Array.from({ length: D }, (_, j) => A.reduce((s, r) => s + r[j]!, 0) / V);
  for (const r of A) for (let j = 0; j < D; j++) r[j]! -= mean[j]!;
  const target = A.map((_, t) => (p.tokens.includes(t) ? 1 : 0));
  const err = (d: number[]): number => A.reduce((s, r, t) => s + (r.reduce((x, a, j) => x + a * d[j]!, 0) - target[t]!) ** 2, 0);
  // best scale of the unit direction
  const Ad = A.map((r) => r.reduce((x, a, j) => x + a * p.vector[j]!, 0));
  const c = Ad.reduce((s, x, t) => s + x * target[t]!, 0) / Ad.reduce((s, x) => s + x * x, 0);
  const best = Array.from(p.vector, (x) => c * x);
  const e0 = err(best);
  for (let j = 0; j < D; j++)
    for (const eps of [1e-2, -1e-2]) {
      const d = best.slice();
      d[j]! += eps;
      assert.ok(err(d) >= e0 - 1e-6, `moving coordinate ${j} by ${eps} fits better`);
    }
  // Adding it at the final residual raises log p(dog) at every position.
  const ids = tinyTokenizer.encode('Tom saw the big red ball and the cat', { bos: true });
  const dog = p.tokens[0]!;
  const logp = (hooks?: ReturnType<typeof steeringHooks>) => T.noGrad(() => T.logSoftmax(model.run([ids], { hooks }).logits!, -1)).data;
  const before = logp();
  const after = logp(steeringHooks([{ direction: promoteDirection(model, tinyTokenizer, 'dog'), mode: 'add', amount: 3 }], { steerBos: true }));
  for (let t = 0; t < ids.length; t++) assert.ok(after[t * V + dog]! > before[t * V + dog]!, `position ${t}`);
  assert.throws(() => promoteVector(model, tinyTokenizer, 'dog', { hook: 'blocks.7.hook_resid_post' }), /not a hook point/);
  assert.throws(() => promoteVector(model, tinyTokenizer, '  '), /empty/);
});

test('feature choice: ranked by logit score x specificity, both in range', () => {
  const sae = tinySae({ architecture: 'topk' }, 'blocks.1.hook_resid_post');
  const r = featuresForWord(model, tinyTokenizer, sae, 'dog', 5);
  assert.equal(r.length, 5);
  for (const x of r) {
    assert.ok(x.logitScore <= 1 + 1e-9 && x.specificity <= 1 + 1e-9 && x.specificity >= -1 - 1e-9);
    assert.ok(Math.abs(x.score - Math.max(0, x.logitScore) * Math.max(0, x.specificity)) < 1e-12);
  }
  for (let i = 1; i < r.length; i++) assert.ok(r[i - 1]!.score >= r[i]!.score);
});
