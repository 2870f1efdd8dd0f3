import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FormatError, InputError } from '../errors.js';
import { type HfCheckpointToSave, INDEX_FILE, PREVIOUS_SUFFIX, openHfCheckpoint, readHfConfig, saveHfCheckpoint } from './hf.js';
import { type TensorToWrite, writeSafetensors } from './safetensors.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'loupe-hf-'));
after(() => fs.rmSync(root, { recursive: true, force: true }));
let counter = 0;
const fresh = (): string => path.join(root, `ckpt-${counter++}`);

// A GPT-2-shaped fixture (real tensor names, tiny sizes).
function gpt2Fixture(seed = 1): HfCheckpointToSave {
  const d = 8;
  const rand = (n: number): Float32Array => Float32Array.from({ length: n }, (_, i) => Math.sin(seed * 1000 + i));
  const tensors: Record<string, TensorToWrite> = {
    'transformer.wte.weight': { dtype: 'F32', shape: [16, d], data: rand(16 * d) },
    'transformer.wpe.weight': { dtype: 'F32', shape: [4, d], data: rand(4 * d) },
  };
  for (let l = 0; l < 2; l++) {
    tensors[`transformer.h.${l}.attn.c_attn.weight`] = { dtype: 'F32', shape: [d, 3 * d], data: rand(3 * d * d) };
    tensors[`transformer.h.${l}.attn.c_attn.bias`] = { dtype: 'F16', shape: [3 * d], data: Float32Array.from({ length: 3 * d }, (_, i) => i / 4) };
    tensors[`transformer.h.${l}.mlp.c_fc.weight`] = { dtype: 'BF16', shape: [d, 4 * d], data: Float32Array.from({ length: 4 * d * d }, (_, i) => i % 7) };
  }
  tensors['transformer.ln_f.weight'] = { dtype: 'F32', shape: [d], data: rand(d) };
  return { config: { model_type: 'gpt2', architectures: ['GPT2LMHeadModel'], n_embd: d, n_layer: 2, seed }, tensors };
}

function assertMatchesFixture(dir: string, fixture: HfCheckpointToSave): void {
  const ckpt = openHfCheckpoint(dir);
  try {
    const tensors = fixture.tensors as Record<string, TensorToWrite>;
    assert.deepEqual(new Set(ckpt.names()), new Set(Object.keys(tensors)));
    for (const [name, t] of Object.entries(tensors)) {
      assert.deepEqual(ckpt.info(name), { dtype: t.dtype, shape: t.shape });
      assert.deepEqual(Array.from(ckpt.readFloat32(name)), Array.from(t.data), name); // values chosen exact in F16/BF16
    }
    assert.deepEqual(ckpt.config.raw, fixture.config);
  } finally {
    ckpt.close();
  }
}

test('single-file checkpoint round trip, with config and tokenizer detection', () => {
  const dir = fresh();
  const fixture = { ...gpt2Fixture(), extraFiles: { 'tokenizer.json': '{"model": {}}' } };
  saveHfCheckpoint(dir, fixture);
  assert.deepEqual(fs.readdirSync(dir).sort(), ['config.json', 'model.safetensors', 'tokenizer.json']);
  assertMatchesFixture(dir, fixture);
  const ckpt = openHfCheckpoint(dir);
  assert.equal(ckpt.config.modelType, 'gpt2');
  assert.deepEqual(ckpt.config.architectures, ['GPT2LMHeadModel']);
  assert.equal(ckpt.tokenizerPath, path.join(dir, 'tokenizer.json'));
  assert.equal(ckpt.weightFiles.length, 1);
  assert.throws(() => ckpt.info('transformer.wte.weights'), (e: unknown) => e instanceof InputError && /closest: transformer\.wte\.weight/.test(e.message));
  ckpt.close();
});

test('sharded checkpoint: index, shard names, one namespace across shards', () => {
  const dir = fresh();
  const fixture = gpt2Fixture();
  saveHfCheckpoint(dir, { ...fixture, maxShardBytes: 1024 });
  const files = fs.readdirSync(dir).sort();
  const shards = files.filter((f) => f.endsWith('.safetensors'));
  assert.ok(shards.length > 1, `expected several shards, got ${files.join(', ')}`);
  assert.ok(shards.every((s, i) => s === `model-${String(i + 1).padStart(5, '0')}-of-${String(shards.length).padStart(5, '0')}.safetensors`));
  const index = JSON.parse(fs.readFileSync(path.join(dir, INDEX_FILE), 'utf8'));
  assert.equal(new Set(Object.values(index.weight_map)).size, shards.length);
  assert.ok(index.metadata.total_size > 0);
  assertMatchesFixture(dir, fixture);
  const ckpt = openHfCheckpoint(dir);
  assert.notEqual(ckpt.fileOf('transformer.wte.weight'), ckpt.fileOf('transformer.ln_f.weight'));
  assert.equal(ckpt.tokenizerPath, undefined);
  ckpt.close();
});

test('config.json problems', () => {
  const dir = fresh();
  fs.mkdirSync(dir);
  assert.throws(() => readHfConfig(dir), (e: unknown) => e instanceof FormatError && /no config\.json/.test(e.message));
  fs.writeFileSync(path.join(dir, 'config.json'), '{"model_type": "gpt2",');
  assert.throws(() => readHfConfig(dir), (e: unknown) => e instanceof FormatError && /config\.json: not valid JSON/.test(e.message));
  fs.writeFileSync(path.join(dir, 'config.json'), '{"n_embd": 8}');
  assert.throws(() => readHfConfig(dir), /expected "model_type" \(a string\) or "architectures" \(an array of strings\), found neither/);
  fs.writeFileSync(path.join(dir, 'config.json'), '{"model_type": 3}');
  assert.throws(() => readHfConfig(dir), /"model_type" must be a string, found 3/);
  assert.throws(() => readHfConfig(path.join(root, 'nowhere')), (e: unknown) => e instanceof InputError && /no such checkpoint directory/.test(e.message));
});

test('missing weights, missing shards, tensors not where the index says', () => {
  const dir = fresh();
  fs.mkdirSync(dir);
  fs.writeFileSync(path.join(dir, 'config.json'), '{"model_type": "gpt2"}');
  fs.writeFileSync(path.join(dir, 'pytorch_model.bin'), 'x');
  assert.throws(() => openHfCheckpoint(dir), (e: unknown) => e instanceof FormatError && /no model\.safetensors or model\.safetensors\.index\.json; found pytorch_model\.bin/.test(e.message));

  const shard = (name: string, tensors: string[]): void =>
    writeSafetensors(path.join(dir, name), Object.fromEntries(tensors.map((t) => [t, { dtype: 'F32', shape: [1], data: new Float32Array(1) }])));
  const index = (map: Record<string, unknown>): void => fs.writeFileSync(path.join(dir, INDEX_FILE), JSON.stringify({ weight_map: map }));
  shard('model-00001-of-00002.safetensors', ['a', 'b']);
  index({ a: 'model-00001-of-00002.safetensors', c: 'model-00002-of-00002.safetensors' });
  assert.throws(() => openHfCheckpoint(dir), (e: unknown) => e instanceof FormatError && /shard file\(s\) missing .*model-00002-of-00002\.safetensors/.test(e.message));
  shard('model-00002-of-00002.safetensors', ['d']);
  assert.throws(() => openHfCheckpoint(dir), /tensor "c" is mapped to model-00002-of-00002\.safetensors, which does not contain it/);
  index({ a: '../model-00001-of-00002.safetensors' });
  assert.throws(() => openHfCheckpoint(dir), /must be a file name in the checkpoint directory/);
  fs.writeFileSync(path.join(dir, INDEX_FILE), '{"weight_map": ');
  assert.throws(() => openHfCheckpoint(dir), /index\.json: not valid JSON/);
  index({ a: 'model-00001-of-00002.safetensors', b: 'model-00001-of-00002.safetensors', d: 'model-00002-of-00002.safetensors' });
  const ok = openHfCheckpoint(dir);
  assert.deepEqual(ok.names(), ['a', 'b', 'd']);
  ok.close();
  // A corrupt shard surfaces the shard's own FormatError.
  fs.truncateSync(path.join(dir, 'model-00002-of-00002.safetensors'), 20);
  assert.throws(() => openHfCheckpoint(dir), (e: unknown) => e instanceof FormatError && /model-00002-of-00002\.safetensors: header length/.test(e.message));
});

test('saving over a checkpoint replaces it whole; a failed save leaves the previous one loadable', () => {
  const dir = fresh();
  saveHfCheckpoint(dir, { ...gpt2Fixture(1), maxShardBytes: 1024 });
  const second = gpt2Fixture(2);
  saveHfCheckpoint(dir, second);
  assert.deepEqual(fs.readdirSync(dir).sort(), ['config.json', 'model.safetensors'], 'old shards and index are gone');
  assertMatchesFixture(dir, second);

  const bad = gpt2Fixture(3);
  (bad.tensors as Record<string, TensorToWrite>)['transformer.ln_f.weight'] = { dtype: 'F32', shape: [9], data: new Float32Array(8) };
  assert.throws(() => saveHfCheckpoint(dir, bad), (e: unknown) => e instanceof InputError && /shape \[9\] needs 9 elements/.test(e.message));
  assertMatchesFixture(dir, second);
  assert.deepEqual(fs.readdirSync(root).filter((n) => n.startsWith('.') || n.includes(PREVIOUS_SUFFIX)), [], 'no temp or backup directories left');
});

test('an interruption between the two renames is reported with where the checkpoint is', () => {
  const dir = fresh();
  saveHfCheckpoint(dir, gpt2Fixture());
  fs.renameSync(dir, dir + PREVIOUS_SUFFIX); // the state right after the first rename
  assert.throws(() => openHfCheckpoint(dir), (e: unknown) => e instanceof InputError && e.message.includes(dir + PREVIOUS_SUFFIX));
  assertMatchesFixture(dir + PREVIOUS_SUFFIX, gpt2Fixture());
});

test('refuses to replace a directory that is not a checkpoint, and bad configs', () => {
  const dir = fresh();
  fs.mkdirSync(dir);
  fs.writeFileSync(path.join(dir, 'notes.txt'), 'precious');
  assert.throws(() => saveHfCheckpoint(dir, gpt2Fixture()), /refusing to replace a non-empty directory/);
  assert.equal(fs.readFileSync(path.join(dir, 'notes.txt'), 'utf8'), 'precious');
  assert.throws(() => saveHfCheckpoint(fresh(), { ...gpt2Fixture(), config: { n_embd: 8 } }), /config needs "model_type"/);
  assert.throws(() => saveHfCheckpoint(fresh(), { ...gpt2Fixture(), extraFiles: { '../x': 'y' } }), /must be a plain file name/);
});
