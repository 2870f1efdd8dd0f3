import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InputError } from '../errors.js';
import { TokenBatch } from './batch.js';
import { generate } from './generate.js';
import { generateBatch } from './generate-batch.js';
import type { ForwardHook } from './hooks.js';
import { KVCache } from './kv-cache.js';
import { loadModel } from './loaders/index.js';
import { randomIds } from './testing/fixtures.js';
import { SMALL_MODEL_CONFIGS, smallModel } from './testing/models.js';
import { STORIES_MODEL, STORIES_TOKENIZER, missing, sharedPath } from './testing/shared.js';
import { loadTokenizer } from './tokenizers/index.js';

const LENGTHS = [1, 5, 12];

function assertNear(got: ArrayLike<number>, want: ArrayLike<number>, tol: number, what: string): void {
  assert.equal(got.length, want.length, what);
  for (let i = 0; i < got.length; i++) assert.ok(Math.abs(got[i]! - want[i]!) <= tol, `${what} [${i}]: ${got[i]} vs ${want[i]}`);
}

test('a KV cache holding sequences of different lengths gives each sequence\'s own full-pass logits, every family', () => {
  for (const name of Object.keys(SMALL_MODEL_CONFIGS)) {
    const model = smallModel(name);
    const V = model.config.vocabSize;
    const seqs = LENGTHS.map((n, i) => randomIds(n + 8, V, 10 + i));
    const full = seqs.map((s) => model.forward(s).data);
    for (const withPattern of [false, true]) {
      const cache = new KVCache(model.config, 3, 20);
      // Tokens fed per sequence in each call: the prompts (right-padded), a padded chunk, then one each, twice.
      const feeds = [LENGTHS, [3, 1, 2], [1, 1, 1], [1, 1, 1]];
      let start = LENGTHS.map(() => 0);
      for (const [c, counts] of feeds.entries()) {
        const chunk = seqs.map((s, b) => s.slice(start[b], start[b]! + counts[b]!));
        const pattern = 'blocks.1.attn.hook_pattern';
        const r = model.run(TokenBatch.from(chunk), { kvCache: cache, cache: withPattern ? [pattern] : undefined });
        const Tn = Math.max(...chunk.map((x) => x.length));
        chunk.forEach((ids, b) => {
          const got = r.logits!.data.subarray(b * Tn * V, (b * Tn + ids.length) * V);
          assertNear(got, full[b]!.subarray(start[b]! * V, (start[b]! + ids.length) * V), 1e-4, `${name} chunk ${c} sequence ${b}`);
        });
        if (withPattern) {
          // Each real query's pattern sums to 1 and puts nothing on keys past its own position.
          const p = r.cache.get(pattern);
          const [, H, Q, K] = p.shape as [number, number, number, number];
          chunk.forEach((ids, b) => {
            for (let h = 0; h < H; h++)
              for (let q = 0; q < ids.length; q++) {
                const row = p.data.subarray(((b * H + h) * Q + q) * K, ((b * H + h) * Q + q + 1) * K);
                assert.ok(Math.abs(row.reduce((x, y) => x + y, 0) - 1) < 1e-5);
                for (let k = start[b]! + q + 1; k < K; k++) assert.equal(row[k], 0, `${name} sequence ${b} query ${q} key ${k}`);
              }
          });
        }
        start = chunk.map((ids, b) => start[b]! + ids.length);
        assert.deepEqual(Array.from(cache.lengths()), start);
      }
      assert.ok(cache.ragged);
      assert.equal(cache.length, Math.max(...start));
    }
  }
});

test('KVCache.keepRows drops sequences: the others decode on unchanged', () => {
  const model = smallModel('llama-gqa');
  const V = model.config.vocabSize;
  const seqs = LENGTHS.map((n, i) => randomIds(n + 3, V, 20 + i));
  const cache = new KVCache(model.config, 3, 16);
  model.run(TokenBatch.from(seqs.map((s, b) => s.slice(0, LENGTHS[b]))), { kvCache: cache });
  cache.keepRows([0, 2]);
  assert.equal(cache.batch, 2);
  assert.deepEqual(Array.from(cache.lengths()), [1, 12]);
  const kept = [seqs[0]!, seqs[2]!];
  for (let t = 0; t < 3; t++) {
    const logits = model.run(kept.map((s, k) => [s[[1, 12][k]! + t]!]), { kvCache: cache }).logits!.data;
    kept.forEach((s, k) => {
      const pos = [1, 12][k]! + t;
      assertNear(logits.subarray(k * V, (k + 1) * V), model.forward(s.slice(0, pos + 1)).data.subarray(pos * V), 1e-4, `kept sequence ${k} step ${t}`);
    });
  }
  assert.throws(() => cache.keepRows([1, 0]), InputError);
  assert.throws(() => cache.keepRows([]), InputError);
  assert.throws(() => model.run([[1], [2], [3]], { kvCache: cache }), /KV cache holds 2 sequences, the input has 3/);
});

/** Records each step's logits [rows, vocab] as seen by the unembed hook. */
function logitsRecorder(): { hook: ForwardHook; steps: Float32Array[] } {
  const steps: Float32Array[] = [];
  return { steps, hook: { name: 'unembed', fn: (x) => void steps.push(x.data.slice()) } };
}

test('generateBatch gives each prompt generate()\'s tokens and per-step logits (1e-4): Llama and GPT-2, greedy and sampled', () => {
  for (const name of ['llama-gqa', 'llama-interleaved', 'gpt2']) {
    const model = smallModel(name);
    const V = model.config.vocabSize;
    const prompts = LENGTHS.map((n, i) => randomIds(n, V, 30 + i));
    const cases: { temperature: number; topK?: number; topP?: number; seed?: number }[] = [{ temperature: 0 }, { temperature: 0.9, topK: 10, seed: 5 }, { temperature: 1.3, topP: 0.9, seed: 8 }];
    for (const o of cases) {
      const batchRec = logitsRecorder();
      const batch = generateBatch(model, null, prompts, { maxNewTokens: 10, stopTokens: [], ...o, hooks: [batchRec.hook] });
      assert.equal(batchRec.steps.length, 10);
      prompts.forEach((p, b) => {
        const rec = logitsRecorder();
        const one = generate(model, null, p, { maxNewTokens: 10, stopTokens: [], ...o, seed: (o.seed ?? 0) + b, hooks: [rec.hook] });
        const what = `${name} ${JSON.stringify(o)} prompt of ${p.length}`;
        assert.deepEqual(batch[b]!.ids, one.ids, what);
        assert.equal(batch[b]!.stopReason, one.stopReason);
        rec.steps.forEach((l, i) => assertNear(batchRec.steps[i]!.subarray(b * V, (b + 1) * V), l, 1e-4, `${what} step ${i}`));
      });
      // Explicit seeds: row b samples as generate() with seeds[b].
      if (o.temperature) {
        const seeds = [42, 7, 42];
        const seeded = generateBatch(model, null, prompts, { maxNewTokens: 6, stopTokens: [], ...o, seeds });
        prompts.forEach((p, b) => assert.deepEqual(seeded[b]!.ids, generate(model, null, p, { maxNewTokens: 6, stopTokens: [], ...o, seed: seeds[b] }).ids));
      }
    }
  }
});

test('generateBatch: rows stop on their own (stop token, callback, context) and leave the batch; results still match generate()', () => {
  const model = smallModel('gpt2');
  const V = model.config.vocabSize;
  const prompts = [...LENGTHS, 20].map((n, i) => randomIds(n, V, 52 + i));
  const free = generate(model, null, prompts[0]!, { maxNewTokens: 8, temperature: 0, stopTokens: [] });
  const stopTokens = [free.ids[2]!];
  // Row 1 asks to stop after its third token; row 3 (20 tokens) runs into the context of 24.
  const opts = { maxNewTokens: 8, temperature: 0, stopTokens };
  const seen: [number, number, number][] = [];
  const rowsSeen: number[] = [];
  const offsets: number[][] = [];
  const batch = generateBatch(model, null, prompts, {
    ...opts,
    onToken: (row, id, step) => (seen.push([row, id, step]), row !== 1 || step < 2),
    hooks: [{ name: 'hook_embed', fn: (x, ctx) => void (rowsSeen.push(x.shape[0]!), offsets.push(Array.from(ctx.rowOffsets ?? []))) }],
  });
  const reasons = batch.map((r) => r.stopReason);
  assert.deepEqual(reasons.slice(1), ['callback', 'max_new_tokens', 'context']);
  assert.equal(reasons[0], 'stop_token');
  assert.equal(batch[0]!.ids.length, 3);
  prompts.forEach((p, b) => {
    const one = generate(model, null, p, { ...opts, onToken: (_, step) => b !== 1 || step < 2 });
    assert.deepEqual(batch[b]!.ids, one.ids, `prompt ${b}`);
    assert.equal(batch[b]!.stopReason, one.stopReason, `prompt ${b}`);
  });
  assert.equal(batch[3]!.ids.length, 4);
  // The batch shrinks as rows finish: call k > 0 feeds the rows that generated more than k tokens.
  const fedAt = (k: number): number => (k === 0 ? 4 : batch.filter((r) => r.ids.length > k).length);
  assert.deepEqual(rowsSeen, Array.from({ length: Math.max(...batch.map((r) => r.ids.length)) }, (_, k) => fedAt(k)));
  assert.ok(rowsSeen.at(-1)! < 4);
  // Each row's own position: the prompts start at 0, the first step follows each prompt.
  assert.deepEqual(offsets.slice(0, 2), [[0, 0, 0, 0], [1, 5, 12, 20]]);
  for (const [row, id, step] of seen) assert.equal(batch[row]!.ids[step], id);
  // Nothing to do, and bad input.
  assert.deepEqual(generateBatch(model, null, prompts, { maxNewTokens: 0 }).map((r) => r.ids), [[], [], [], []]);
  assert.deepEqual(generateBatch(model, null, [], { maxNewTokens: 3 }), []);
  assert.throws(() => generateBatch(model, null, [[1], []], { maxNewTokens: 1 }), /prompt 1 is empty/);
  assert.throws(() => generateBatch(model, null, [[1], randomIds(25, V, 1)], { maxNewTokens: 1 }), /prompt 1 has 25 tokens/);
  assert.throws(() => generateBatch(model, null, [[1], [2]], { maxNewTokens: 1, seeds: [1] }), /seeds has 1 entries for 2 prompts/);
  assert.throws(() => generateBatch(model, null, [[1]], { maxNewTokens: 1, temperature: -1 }), InputError);
});

test('generateBatch on stories260K: each row\'s text is generate()\'s, and its streamed pieces add up to it', async (t) => {
  const modelPath = sharedPath(STORIES_MODEL);
  const tokPath = sharedPath(STORIES_TOKENIZER);
  if (!modelPath || !tokPath) return t.skip(missing(STORIES_MODEL));
  const model = loadModel(modelPath);
  const tok = await loadTokenizer(tokPath);
  const prompts = ['', 'Once upon a time', 'The little dog ran to the park and saw a big red ball. He'].map((s) => tok.encode(s, { bos: true }));
  const pieces: string[][] = prompts.map(() => []);
  const batch = generateBatch(model, tok, prompts, { maxNewTokens: 40, temperature: 0.9, seed: 1, onText: (row, p) => pieces[row]!.push(p) });
  prompts.forEach((p, b) => {
    const one = generate(model, tok, p, { maxNewTokens: 40, temperature: 0.9, seed: 1 + b });
    assert.deepEqual(batch[b]!.ids, one.ids);
    assert.equal(batch[b]!.text, one.text);
    assert.equal(pieces[b]!.join(''), one.text);
  });
});
