import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { readSafetensors } from '../io/safetensors.js';
import { gpt2Config, llamaConfig, neoxConfig, type ModelConfig } from './config.js';
import { loadModel } from './loaders/index.js';
import { saveModel } from './save.js';
import { maxAbsDiff, randomIds, tempDir, writeLlama2cFixture } from './testing/fixtures.js';
import { referenceLogits, type NamedTensors, type RefKind } from './testing/scalar-reference.js';
import { Transformer } from './transformer.js';

function savedTensors(dir: string): NamedTensors {
  const { tensors } = readSafetensors(path.join(dir, 'model.safetensors'));
  return new Map([...tensors].map(([n, t]) => [n, { shape: t.shape, data: t.data }]));
}

function inTemp<T>(fn: (dir: string) => T): T {
  const root = tempDir('save');
  try {
    return fn(path.join(root, 'model'));
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}

const FAMILIES: [string, ModelConfig, RefKind | null][] = [
  ['gpt2', gpt2Config({ dModel: 32, nLayers: 2, nHeads: 4, vocabSize: 41, nCtx: 16 }), 'gpt2'],
  ['neox', neoxConfig({ dModel: 32, nLayers: 2, nHeads: 4, vocabSize: 41, nCtx: 16, dMlp: 64, rotaryPct: 0.5 }), 'neox'],
  ['llama', llamaConfig({ dModel: 32, nLayers: 2, nHeads: 4, nKvHeads: 2, dMlp: 48, vocabSize: 41, nCtx: 16 }), 'llama-hf'],
  ['attention-only (loupe layout)', llamaConfig({ dModel: 32, nLayers: 2, nHeads: 4, vocabSize: 41, nCtx: 16, attnOnly: true, dMlp: 0, positional: 'learned', norm: 'layer' }), null],
];

for (const [name, config, kind] of FAMILIES) {
  test(`save ${name}: loadModel reads it back with identical logits${kind ? ', and the files are real HF layout' : ''}`, () => {
    inTemp((dir) => {
      const model = Transformer.random(config, { seed: 5, std: 0.2, randomAffine: true });
      saveModel(model, dir);
      const back = loadModel(dir);
      const ids = randomIds(16, config.vocabSize, 3);
      const a = model.forward(ids).data;
      assert.deepEqual(back.forward(ids).data, a);
      const cfg = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
      if (kind) {
        // An independent reader of the HF layout (the scalar reference) sees the same model.
        const diff = maxAbsDiff(a, referenceLogits(kind, cfg, savedTensors(dir), ids));
        assert.ok(diff < 1e-4, `max abs diff ${diff}`);
      } else {
        assert.equal(cfg.model_type, 'loupe');
      }
    });
  });
}

test('save a llama2.c model as HF Llama: q/k rows permuted to the half-split RoPE layout', () => {
  inTemp((dir) => {
    fs.mkdirSync(path.dirname(dir), { recursive: true });
    const bin = path.join(path.dirname(dir), 'm.bin');
    const { config, tensors } = writeLlama2cFixture(bin, { dim: 32, hiddenDim: 40, nLayers: 2, nHeads: 4, nKvHeads: 2, vocabSize: 37, seqLen: 16, sharedClassifier: true });
    const model = loadModel(bin);
    saveModel(model, dir);
    const cfg = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
    assert.equal(cfg.model_type, 'llama');
    const ids = randomIds(16, 37, 9);
    const ref = referenceLogits('llama2c', config, tensors, ids);
    const viaHf = referenceLogits('llama-hf', cfg, savedTensors(dir), ids);
    assert.ok(maxAbsDiff(Float32Array.from(viaHf.flatMap((r) => Array.from(r))), ref) < 1e-5);
    const back = loadModel(dir);
    assert.equal(back.config.rope?.layout, 'half');
    assert.ok(maxAbsDiff(back.forward(ids).data, ref) < 1e-4);
  });
});

test('save in float16, sharded: reloads within float16 rounding', () => {
  inTemp((dir) => {
    const config = gpt2Config({ dModel: 32, nLayers: 2, nHeads: 4, vocabSize: 41, nCtx: 16 });
    const model = Transformer.random(config, { seed: 6, std: 0.2, randomAffine: true });
    saveModel(model, dir, { dtype: 'F16', maxShardBytes: 4000 });
    assert.ok(fs.existsSync(path.join(dir, 'model.safetensors.index.json')));
    const back = loadModel(dir);
    const ids = randomIds(16, 41, 1);
    const a = model.forward(ids).data;
    const b = back.forward(ids).data;
    let m = 0;
    for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
    assert.ok(m > 0 && m < 2e-2, `diff ${m}`);
  });
});
