import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InputError } from '../errors.js';
import * as T from '../tensor/index.js';
import { generate } from './generate.js';
import { KVCache } from './kv-cache.js';
import { sampleToken } from './sampling.js';
import { randomIds } from './testing/fixtures.js';
import { SMALL_MODEL_CONFIGS, smallModel } from './testing/models.js';
import { STORIES_MODEL, STORIES_TOKENIZER, missing, sharedPath } from './testing/shared.js';
import { loadModel } from './loaders/index.js';
import { loadTokenizer } from './tokenizers/index.js';

test('KV-cached incremental decoding gives the full forward pass\'s logits (within 1e-5), every family', () => {
  for (const name of Object.keys(SMALL_MODEL_CONFIGS)) {
    const model = smallModel(name);
    const V = model.config.vocabSize;
    const ids = randomIds(20, V, 3);
    const full = model.forward(ids).data;
    const cache = new KVCache(model.config, 1, 20);
    // A prompt of 7 in one call, then one token at a time, then a chunk of 3.
    const chunks = [ids.slice(0, 7), ...ids.slice(7, 17).map((i) => [i]), ids.slice(17)];
    let pos = 0;
    for (const chunk of chunks) {
      const got = model.run([chunk], { kvCache: cache }).logits!.data;
      for (let i = 0; i < got.length; i++) {
        const d = Math.abs(got[i]! - full[pos * V + i]!);
        assert.ok(d < 1e-5, `${name} position ${pos + Math.floor(i / V)}: ${d}`);
      }
      pos += chunk.length;
    }
    assert.equal(cache.length, 20);
    assert.throws(() => model.run([[1]], { kvCache: cache }), InputError);
  }
});

test('generation with and without the cache agrees, greedy and seeded sampling', () => {
  const model = smallModel('llama-gqa');
  const prompt = [1, 5, 9];
  for (const opts of [{ temperature: 0 }, { temperature: 0.8, topK: 10, seed: 3 }, { temperature: 1.2, topP: 0.9, seed: 4 }]) {
    const a = generate(model, null, prompt, { maxNewTokens: 15, stopTokens: [], ...opts });
    const b = generate(model, null, prompt, { maxNewTokens: 15, stopTokens: [], useKvCache: false, ...opts });
    assert.deepEqual(a.ids, b.ids);
    assert.equal(a.ids.length, 15);
  }
  // Greedy equals an argmax loop over full forward passes.
  const ids = prompt.slice();
  for (let i = 0; i < 10; i++) {
    const logits = model.forward(ids);
    const V = model.config.vocabSize;
    ids.push(sampleToken(logits.data.subarray((ids.length - 1) * V, ids.length * V), { temperature: 0 }, new T.Rng(0)));
  }
  assert.deepEqual(generate(model, null, prompt, { maxNewTokens: 10, temperature: 0, stopTokens: [] }).ids, ids.slice(3));
});

test('sampling: seeded and repeatable, top-k / top-p restrict the candidates', () => {
  const logits = Float32Array.from([1, 3, 2, 0.5, 2.9, -1]);
  const draw = (o: object, seed: number, n = 400): number[] => {
    const rng = new T.Rng(seed);
    return Array.from({ length: n }, () => sampleToken(logits, o, rng));
  };
  assert.deepEqual(draw({ temperature: 1 }, 7), draw({ temperature: 1 }, 7));
  assert.notDeepEqual(draw({ temperature: 1 }, 7), draw({ temperature: 1 }, 8));
  assert.deepEqual(new Set(draw({ temperature: 1, topK: 2 }, 1)), new Set([1, 4]));
  assert.deepEqual(new Set(draw({ temperature: 5, topK: 1 }, 1)), new Set([1]));
  assert.deepEqual(new Set(draw({ temperature: 1, topP: 0.01 }, 1)), new Set([1]));
  // top-p 0.75: p(1) ~ 0.41, p(4) ~ 0.37 reach it together; 2 (~0.15) is excluded.
  assert.deepEqual(new Set(draw({ temperature: 1, topP: 0.75 }, 2)), new Set([1, 4]));
  assert.equal(sampleToken(logits, { temperature: 0 }, new T.Rng(0)), 1);
  // Frequencies follow the softmax at temperature 1.
  const counts = new Map<number, number>();
  for (const id of draw({ temperature: 1 }, 3, 20000)) counts.set(id, (counts.get(id) ?? 0) + 1);
  const z = Array.from(logits).reduce((s, v) => s + Math.exp(v), 0);
  assert.ok(Math.abs(counts.get(1)! / 20000 - Math.exp(3) / z) < 0.02);
});

test('stop tokens, context limit, callbacks and hooks during generation', () => {
  const model = smallModel('gpt2');
  const free = generate(model, null, [3], { maxNewTokens: 8, temperature: 0, stopTokens: [] });
  const third = free.ids[2]!;
  const firstAt = free.ids.indexOf(third);
  const stopped = generate(model, null, [3], { maxNewTokens: 8, temperature: 0, stopTokens: [third] });
  assert.equal(stopped.stopReason, 'stop_token');
  assert.deepEqual(stopped.ids, free.ids.slice(0, firstAt + 1));
  const ctx = generate(model, null, randomIds(20, 41, 1), { maxNewTokens: 50, temperature: 0, stopTokens: [] });
  assert.equal(ctx.stopReason, 'context');
  assert.equal(ctx.ids.length, 4);
  const seen: number[] = [];
  const cb = generate(model, null, [3], { maxNewTokens: 8, temperature: 0, stopTokens: [], onToken: (id, step) => (seen.push(id), step < 2) });
  assert.equal(cb.stopReason, 'callback');
  assert.deepEqual(seen, free.ids.slice(0, 3));
  // A hook on the logits forces token 5 at every step, with the cache (only new positions are seen).
  const positions: number[] = [];
  const forced = generate(model, null, [3, 4], {
    maxNewTokens: 4, temperature: 0, stopTokens: [],
    hooks: [{ name: 'unembed', fn: (l, ctx) => { positions.push(ctx.offset); const d = l.data.slice(); for (let i = 5; i < d.length; i += 41) d[i] = 1e6; return new T.Tensor(d, l.shape); } }],
  });
  assert.deepEqual(forced.ids, [5, 5, 5, 5]);
  assert.deepEqual(positions, [0, 2, 3, 4]);
  assert.throws(() => generate(model, null, [], { maxNewTokens: 1 }), InputError);
  assert.throws(() => generate(model, null, randomIds(25, 41, 1), { maxNewTokens: 1 }), /longer than the model's context/);
  assert.throws(() => generate(model, null, [1], { maxNewTokens: 1, temperature: -1 }), InputError);
});

test('streaming: the text pieces handed to onText add up to the result text', async (t) => {
  const modelPath = sharedPath(STORIES_MODEL);
  const tokPath = sharedPath(STORIES_TOKENIZER);
  if (!modelPath || !tokPath) return t.skip(missing(STORIES_MODEL));
  const model = loadModel(modelPath);
  const tok = await loadTokenizer(tokPath);
  const pieces: string[] = [];
  const r = generate(model, tok, tok.encode('Once upon a time', { bos: true }), { maxNewTokens: 40, temperature: 0.9, seed: 1, onText: (p) => pieces.push(p) });
  assert.ok(pieces.length > 5);
  assert.equal(pieces.join(''), r.text);
  assert.equal(r.text, tok.decode(r.ids));
});
