import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InputError } from '../errors.js';
import { TokenBatch } from './batch.js';
import { randomIds } from './testing/fixtures.js';
import { SMALL_MODEL_CONFIGS, smallModel } from './testing/models.js';

test('a padded batch gives each sequence exactly what running it alone gives', () => {
  const seqs = [randomIds(14, 41, 1), randomIds(5, 41, 2), randomIds(9, 41, 3), [7]];
  for (const name of Object.keys(SMALL_MODEL_CONFIGS)) {
    const model = smallModel(name);
    const V = model.config.vocabSize;
    const batch = TokenBatch.from(seqs);
    assert.equal(batch.maxLen, 14);
    assert.ok(batch.padded);
    const { logits, cache } = model.run(batch, { cache: ['blocks.1.attn.hook_pattern'] });
    seqs.forEach((s, b) => {
      const alone = model.forward(s).data;
      const rows = logits!.data.subarray(b * 14 * V, (b * 14 + s.length) * V);
      let m = 0;
      for (let i = 0; i < alone.length; i++) m = Math.max(m, Math.abs(alone[i]! - rows[i]!));
      assert.ok(m < 1e-5, `${name} sequence ${b}: ${m}`);
    });
    // Padded keys get no attention from any query.
    const p = cache.get('blocks.1.attn.hook_pattern');
    const [B, H, Q, K] = p.shape as [number, number, number, number];
    for (let b = 0; b < B; b++)
      for (let h = 0; h < H; h++)
        for (let q = 0; q < Q; q++) for (let k = seqs[b]!.length; k < K; k++) assert.equal(p.data[((b * H + h) * Q + q) * K + k], 0);
  }
});

test('TokenBatch: explicit ids only (no hidden BOS), empty sequences refused', () => {
  const b = TokenBatch.from([[5, 6, 7], [8]], 0);
  assert.deepEqual(Array.from(b.ids), [5, 6, 7, 8, 0, 0]);
  assert.deepEqual(b.sequence(1), [8]);
  assert.equal(b.tokenCount, 4);
  assert.throws(() => TokenBatch.from([[1], []]), InputError);
  assert.throws(() => TokenBatch.from([[1.5]]), InputError);
});
