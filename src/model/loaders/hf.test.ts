import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { FormatError, InputError, LoupeError } from '../../errors.js';
import { SMALL_CONFIGS, gpt2Tensors, llamaTensors, maxAbsDiff, neoxTensors, randomIds, roundTo, tempDir, writeHfFixture } from '../testing/fixtures.js';
import { referenceLogits, type NamedTensors, type RefConfig, type RefKind } from '../testing/scalar-reference.js';
import { loadModel } from './index.js';

interface Case {
  name: string;
  kind: RefKind;
  config: RefConfig;
  tensors: (c: RefConfig) => NamedTensors;
}

const CASES: Case[] = [
  { name: 'GPT-2 (Conv1D, learned positions, tied)', kind: 'gpt2', config: SMALL_CONFIGS.gpt2, tensors: (c) => gpt2Tensors(c) },
  { name: 'GPT-2 untied, erf GELU', kind: 'gpt2', config: { ...SMALL_CONFIGS.gpt2, tie_word_embeddings: false, activation_function: 'gelu' }, tensors: (c) => gpt2Tensors(c) },
  { name: 'NeoX (parallel, partial rotary)', kind: 'neox', config: SMALL_CONFIGS.neox, tensors: (c) => neoxTensors(c) },
  { name: 'NeoX sequential, full rotary', kind: 'neox', config: { ...SMALL_CONFIGS.neox, use_parallel_residual: false, rotary_pct: 1.0 }, tensors: (c) => neoxTensors(c) },
  { name: 'Llama (GQA, half RoPE)', kind: 'llama-hf', config: SMALL_CONFIGS.llama, tensors: (c) => llamaTensors(c) },
  { name: 'Llama with attention_bias', kind: 'llama-hf', config: { ...SMALL_CONFIGS.llama, attention_bias: true, num_key_value_heads: 4 }, tensors: (c) => llamaTensors(c) },
  { name: 'Qwen2 (qkv bias, 1 kv head, tied)', kind: 'llama-hf', config: SMALL_CONFIGS.qwen2, tensors: (c) => llamaTensors(c) },
];

function withDir<T>(tag: string, fn: (dir: string) => T): T {
  const dir = tempDir(tag);
  try {
    return fn(path.join(dir, 'ckpt'));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

for (const c of CASES) {
  for (const dtype of ['F32', 'F16', 'BF16'] as const) {
    test(`HF ${c.name}, ${dtype}: loader + fast path match the scalar reference`, () => {
      withDir('hf', (dir) => {
        const tensors = roundTo(c.tensors(c.config), dtype);
        // Shard the float32 case into several files: the loader must see one namespace.
        writeHfFixture(dir, c.config, tensors, { dtype, maxShardBytes: dtype === 'F32' ? 20_000 : undefined });
        if (dtype === 'F32') assert.ok(fs.existsSync(path.join(dir, 'model.safetensors.index.json')));
        const model = loadModel(dir);
        const ids = randomIds(24, c.config.vocab_size as number, 11);
        const diff = maxAbsDiff(model.forward(ids).data, referenceLogits(c.kind, c.config, tensors, ids));
        assert.ok(diff < 1e-4, `max abs diff ${diff}`);
      });
    });
  }
}

test('HF loader: unknown architecture names the supported ones', () => {
  withDir('hf-arch', (dir) => {
    writeHfFixture(dir, { ...SMALL_CONFIGS.gpt2, model_type: 'gpt3', architectures: ['GPT3LMHeadModel'] }, gpt2Tensors(SMALL_CONFIGS.gpt2));
    assert.throws(() => loadModel(dir), (e: unknown) => e instanceof FormatError && /unknown architecture/.test(e.message) && /gpt2/.test(e.message));
  });
});

test('HF loader: a header claiming bytes beyond the file is refused before reading', () => {
  withDir('hf-trunc', (dir) => {
    writeHfFixture(dir, SMALL_CONFIGS.gpt2, gpt2Tensors(SMALL_CONFIGS.gpt2));
    const f = path.join(dir, 'model.safetensors');
    const bytes = fs.readFileSync(f);
    fs.writeFileSync(f, bytes.subarray(0, bytes.length - 64));
    assert.throws(() => loadModel(dir), (e: unknown) => e instanceof FormatError && /truncated|outside/.test(e.message));
  });
});

test('HF loader: a missing tensor, a wrong shape or a leftover tensor is an error, not a silent mis-load', () => {
  withDir('hf-missing', (dir) => {
    const t = gpt2Tensors(SMALL_CONFIGS.gpt2);
    t.delete('h.1.mlp.c_fc.bias');
    writeHfFixture(dir, SMALL_CONFIGS.gpt2, t);
    assert.throws(() => loadModel(dir), (e: unknown) => e instanceof InputError && /h\.1\.mlp\.c_fc\.bias/.test(e.message));
  });
  withDir('hf-shape', (dir) => {
    // A NeoX checkpoint whose config claims more heads than the tensors were made for still loads
    // (heads split D), but a wrong hidden size is caught by shape.
    writeHfFixture(dir, { ...SMALL_CONFIGS.neox, hidden_size: 64 }, neoxTensors(SMALL_CONFIGS.neox));
    assert.throws(() => loadModel(dir), (e: unknown) => e instanceof FormatError && /shape/.test(e.message));
  });
  withDir('hf-extra', (dir) => {
    const t = llamaTensors(SMALL_CONFIGS.llama);
    t.set('model.layers.0.self_attn.q_proj.bias', { shape: [32], data: new Float32Array(32) });
    writeHfFixture(dir, SMALL_CONFIGS.llama, t);
    assert.throws(() => loadModel(dir), (e: unknown) => e instanceof FormatError && /not used/.test(e.message));
  });
});

test('HF loader: a bad config.json field is a one-line error', () => {
  withDir('hf-cfg', (dir) => {
    writeHfFixture(dir, { ...SMALL_CONFIGS.llama, hidden_size: 'big' }, llamaTensors(SMALL_CONFIGS.llama));
    assert.throws(() => loadModel(dir), (e: unknown) => e instanceof LoupeError && /hidden_size/.test(e.message) && !e.message.includes('\n'));
  });
});
