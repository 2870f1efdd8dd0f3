// Contrastive vectors equal the mean activation differences computed by hand from a cache, aligned
// vectors refuse pairs whose token counts differ (naming the fix), and adding one shifts the hook by it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import '../tensor/backend/native/index.js';
import { TokenBatch } from '../model/index.js';
import * as T from '../tensor/index.js';
import { contrastiveDirection, contrastiveVector } from './contrastive.js';
import { steeringHooks } from './hooks.js';
import { tinyModel, tinyTokenizer } from './testing/fixtures.js';

const model = tinyModel();
const HOOK = 'blocks.1.hook_resid_pre';
const D = 16;

function acts(text: string): Float32Array[] {
  const ids = tinyTokenizer.encode(text, { bos: true });
  const a = T.noGrad(() => model.run([ids], { cache: [HOOK] })).cache.get(HOOK).data;
  return ids.map((_, t) => a.slice(t * D, (t + 1) * D));
}

test('mean, last and aligned vectors are the activation differences, averaged over pairs', () => {
  const pairs = [['the dog ran home', 'the cat ran home'], ['a big dog', 'a big red cat']] as const;
  const mean = contrastiveVector(model, tinyTokenizer, { hook: HOOK, pairs, aggregate: 'mean' });
  const last = contrastiveVector(model, tinyTokenizer, { hook: HOOK, pairs, aggregate: 'last' });
  const want = new Float64Array(D);
  const wantLast = new Float64Array(D);
  for (const [p, n] of pairs) {
    const [ap, an] = [acts(p).slice(1), acts(n).slice(1)]; // BOS left out of the mean
    for (let j = 0; j < D; j++) {
      want[j] += (ap.reduce((s, r) => s + r[j]!, 0) / ap.length - an.reduce((s, r) => s + r[j]!, 0) / an.length) / 2;
      wantLast[j] += (ap.at(-1)![j]! - an.at(-1)![j]!) / 2;
    }
  }
  for (let j = 0; j < D; j++) {
    assert.ok(Math.abs(mean.rows[0]![j]! - want[j]!) < 1e-5);
    assert.ok(Math.abs(last.rows[0]![j]! - wantLast[j]!) < 1e-5);
  }
  const aligned = contrastiveVector(model, tinyTokenizer, { hook: HOOK, pairs: [pairs[0]], aggregate: 'aligned' });
  assert.equal(aligned.rows.length, 5);
  const [ap, an] = [acts(pairs[0][0]), acts(pairs[0][1])];
  for (let t = 0; t < 5; t++) for (let j = 0; j < D; j++) assert.ok(Math.abs(aligned.rows[t]![j]! - (ap[t]![j]! - an[t]![j]!)) < 1e-5);
  assert.ok(mean.norm > 0 && mean.activationNorm > 0);
});

test('aligned vectors need pairs of equal token length: a clear message naming the fix', () => {
  assert.throws(
    () => contrastiveVector(model, tinyTokenizer, { hook: HOOK, pairs: [['a big dog', 'a big red cat']], aggregate: 'aligned' }),
    /pair 1: the positive prompt has 4 tokens and the negative 5.*same token count.*aggregate "mean"/,
  );
  assert.throws(() => contrastiveVector(model, tinyTokenizer, { hook: 'blocks.9.hook_resid_pre', pairs: [['a', 'b']] }), /not a hook point/);
});

test('adding an aligned vector shifts position t by strength x row t (ActAdd)', () => {
  const v = contrastiveVector(model, tinyTokenizer, { hook: HOOK, pairs: [['the dog ran', 'the cat ran']], aggregate: 'aligned' });
  const ids = tinyTokenizer.encode('Tom saw the big park', { bos: true });
  const run = (hooks?: ReturnType<typeof steeringHooks>) => T.noGrad(() => model.run(TokenBatch.single(ids), { hooks, cache: [HOOK] })).cache.get(HOOK).data;
  const clean = run();
  const got = run(steeringHooks([{ direction: contrastiveDirection(v), mode: 'add', amount: 2 }], { steerBos: true }));
  for (let t = 0; t < ids.length; t++)
    for (let j = 0; j < D; j++) {
      const want = t < 4 ? 2 * v.rows[t]![j]! : 0;
      assert.ok(Math.abs(got[t * D + j]! - clean[t * D + j]! - want) < 1e-5, `t=${t}`);
    }
});
