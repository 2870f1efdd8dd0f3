import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { FormatError } from '../../errors.js';
import { generate } from '../generate.js';
import { loadTokenizer } from '../tokenizers/index.js';
import { maxAbsDiff, randomIds, tempDir, writeLlama2cFixture } from '../testing/fixtures.js';
import { referenceLogits } from '../testing/scalar-reference.js';
import { STORIES_MODEL, STORIES_TOKENIZER, missing, sharedPath } from '../testing/shared.js';
import { loadModel } from './index.js';

const EXPECTED =
  'Once upon a time, there was a little girl named Lily. She loved to play outside in the park. One day, ' +
  'she saw a big, red ball. She wanted to play with it, but it was too high';

test('stories260K: greedy decoding from BOS reproduces llama2.c\'s documented output', async (t) => {
  const modelPath = sharedPath(STORIES_MODEL);
  const tokPath = sharedPath(STORIES_TOKENIZER);
  if (!modelPath || !tokPath) return t.skip(missing(STORIES_MODEL));
  const model = loadModel(modelPath);
  assert.equal(model.config.nLayers, 5);
  assert.equal(model.config.nKvHeads, 4);
  const tok = await loadTokenizer(tokPath, { vocabSize: model.config.vocabSize });
  const r = generate(model, tok, [1], { maxNewTokens: 60, temperature: 0 });
  assert.equal(r.ids.length, 60);
  assert.ok(r.text.startsWith(EXPECTED.slice(0, 120)), r.text);
  assert.equal(r.text, EXPECTED);
});

for (const shared of [true, false]) {
  test(`llama2.c fixture (GQA, interleaved RoPE, ${shared ? 'shared' : 'separate'} classifier) matches the scalar reference`, () => {
    const dir = tempDir('l2c');
    try {
      const file = path.join(dir, 'model.bin');
      const h = { dim: 32, hiddenDim: 48, nLayers: 2, nHeads: 4, nKvHeads: 2, vocabSize: 61, seqLen: 20, sharedClassifier: shared };
      const { config, tensors } = writeLlama2cFixture(file, h);
      const model = loadModel(file);
      assert.equal(model.config.rope?.layout, 'interleaved');
      assert.equal(model.config.tiedEmbeddings, shared);
      // One float32 copy: every parameter is a view into the buffer the file was read into.
      const buffers = new Set(model.parameters().map(([, p]) => p.data.buffer));
      assert.equal(buffers.size, 1);
      const ids = randomIds(20, h.vocabSize, 7);
      const diff = maxAbsDiff(model.forward(ids).data, referenceLogits('llama2c', config, tensors, ids));
      assert.ok(diff < 1e-4, `max abs diff ${diff}`);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
}

test('llama2.c loader: truncated, padded and non-checkpoint files fail with one clear error', () => {
  const dir = tempDir('l2c-bad');
  try {
    const file = path.join(dir, 'model.bin');
    writeLlama2cFixture(file, { dim: 16, hiddenDim: 32, nLayers: 1, nHeads: 2, nKvHeads: 2, vocabSize: 20, seqLen: 8, sharedClassifier: true });
    const bytes = fs.readFileSync(file);
    const cut = path.join(dir, 'cut.bin');
    fs.writeFileSync(cut, bytes.subarray(0, bytes.length - 100));
    assert.throws(() => loadModel(cut), (e: unknown) => e instanceof FormatError && /truncated/.test(e.message) && !e.message.includes('\n'));
    const tiny = path.join(dir, 'tiny.bin');
    fs.writeFileSync(tiny, bytes.subarray(0, 10));
    assert.throws(() => loadModel(tiny), FormatError);
    const junk = path.join(dir, 'junk.bin');
    fs.writeFileSync(junk, Buffer.from('this is not a checkpoint at all, just some text'));
    assert.throws(() => loadModel(junk), FormatError);
    assert.throws(() => loadModel(path.join(dir, 'absent.bin')), /no such file/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
