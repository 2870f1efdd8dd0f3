import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { test } from 'node:test';
import { InputError } from '../../errors.js';
import { loadModel } from '../../model/index.js';
import { loadTokenizer } from '../../model/tokenizers/index.js';
import { randomIds } from '../../model/testing/fixtures.js';
import { smallModel } from '../../model/testing/models.js';
import { STORIES_MODEL, STORIES_TOKENIZER, TINYSTORIES, missing, sharedPath } from '../../model/testing/shared.js';
import * as T from '../../tensor/index.js';
import { directLogitAttribution, headScores, logitLens, repeatedRandomTokens, streamLoss, textLoss } from './index.js';

test('logit lens: the last entry is the model\'s own logits; labels follow the blocks', () => {
  for (const name of ['gpt2', 'llama-gqa']) {
    const model = smallModel(name);
    const seqs = [randomIds(10, 41, 1), randomIds(7, 41, 2)];
    const full = model.forward(seqs);
    for (const ln of ['recompute', 'final_scale'] as const) {
      const r = logitLens(model, seqs, { ln, inclMid: true });
      assert.deepEqual(r.labels, ['0_pre', '0_mid', '1_pre', '1_mid', 'final_post']);
      assert.deepEqual(r.logits.shape, [5, 2, 41]);
      seqs.forEach((s, b) => {
        const want = full.data.subarray((b * 10 + s.length - 1) * 41, (b * 10 + s.length) * 41);
        const got = r.logits.data.subarray((4 * 2 + b) * 41, (4 * 2 + b + 1) * 41);
        for (let j = 0; j < 41; j++) assert.ok(Math.abs(want[j]! - got[j]!) < 1e-4, `${name} ${ln}`);
      });
    }
  }
});

test('direct logit attribution: the components add up to the logit (and to a logit difference)', () => {
  for (const name of ['gpt2', 'llama-gqa', 'neox', 'attn-only']) {
    const model = smallModel(name);
    const ids = randomIds(9, 41, 3);
    for (const target of [5, [5, 11] as [number, number]]) {
      const r = directLogitAttribution(model, ids, { target, position: 6 });
      const sum = r.values.reduce((a, b) => a + b, 0) + r.biasTerm;
      assert.ok(Math.abs(sum - r.logit) < 1e-4, `${name}: ${sum} vs ${r.logit}`);
      assert.equal(r.labels.filter((l) => /^L\dH\d$/.test(l)).length, model.config.nLayers * model.config.nHeads);
    }
  }
  assert.throws(() => directLogitAttribution(smallModel('gpt2'), [1, 2], { target: 99 }), InputError);
});

test('head detectors score synthetic previous-token, duplicate-token and induction heads at 1', () => {
  const model = smallModel('gpt2');
  const n = 6;
  // Replace layer 0's pattern: head 0 previous-token, head 1 duplicate-token, head 2 induction, head 3 BOS.
  const synthetic = (p: T.Tensor): T.Tensor => {
    const [B, H, Q, K] = p.shape as [number, number, number, number];
    const d = new Float32Array(p.size);
    const off = 0;
    for (let b = 0; b < B; b++)
      for (let q = 0; q < Q; q++) {
        const second = q >= off + n;
        const at = (h: number, k: number): void => void (d[((b * H + h) * Q + q) * K + k] = 1);
        at(0, Math.max(0, q - 1));
        at(1, second ? q - n : 0);
        at(2, second ? q - n + 1 : 0);
        at(3, 0);
      }
    return new T.Tensor(d, p.shape);
  };
  const s = model.withHooks([{ name: 'blocks.0.attn.hook_pattern', fn: synthetic }], () => headScores(model, { seqLen: n, batch: 3, bos: false }));
  assert.ok(Math.abs(s.previousToken[0]![0]! - 1) < 1e-6);
  assert.ok(Math.abs(s.duplicateToken[0]![1]! - 1) < 1e-6);
  assert.ok(Math.abs(s.induction[0]![2]! - 1) < 1e-6);
  assert.ok(s.induction[0]![3]! < 1e-6 && s.previousToken[0]![3]! < 0.25);
  // The sequences really are BOS? + R + R.
  const { seqs } = repeatedRandomTokens(model, { seqLen: n, batch: 2, bos: false });
  for (const q of seqs) assert.deepEqual(q.slice(0, n), q.slice(n));
  assert.equal(s.previousToken.length, 2);
  assert.equal(s.previousToken[1]!.length, 4);
});

test('loss windowing: every token predicted once with BOS; matches per-window cross-entropy', () => {
  const model = smallModel('llama-gqa');
  const stream = randomIds(50, 41, 8);
  const r = streamLoss(model, stream, { ctx: 16, batchSize: 2 });
  assert.equal(r.tokens, 50);
  assert.equal(r.windows, 4);
  let total = 0;
  for (let w = 0; w < 4; w++) {
    const win = stream.slice(w * 16, (w + 1) * 16);
    const logits = model.forward([1, ...win.slice(0, -1)]);
    total += T.crossEntropy(T.reshape(logits, [win.length, 41]), win).item() * win.length;
  }
  assert.ok(Math.abs(r.loss - total / 50) < 1e-5);
  const nb = streamLoss(model, stream, { ctx: 16, bos: false });
  assert.equal(nb.tokens, 50 - 4);
  assert.throws(() => streamLoss(model, stream, { ctx: 25 }), /longer than the model's context/);
});

test('stories260K: loss on TinyStories is that of a trained model', async (t) => {
  const m = sharedPath(STORIES_MODEL);
  const tp = sharedPath(STORIES_TOKENIZER);
  const data = sharedPath(TINYSTORIES);
  if (!m || !tp || !data) return t.skip(missing(TINYSTORIES));
  const model = loadModel(m);
  const tok = await loadTokenizer(tp);
  const text = fs.readFileSync(data, 'utf8').slice(0, 20000);
  const r = textLoss(model, tok, text, { ctx: 256 });
  assert.ok(r.loss > 0.5 && r.loss < 2.5, `loss ${r.loss}`);
  assert.equal(r.tokens, tok.encode(text, { bos: false }).length);
});
