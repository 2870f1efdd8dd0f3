import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { FormatError, InputError } from '../errors.js';
import {
  type Llama2cCheckpoint,
  type Llama2cConfig,
  llama2cByteSize,
  readLlama2c,
  readLlama2cConfig,
  ropeTables,
  writeLlama2c,
} from './llama2c.js';

const shared = process.env.LOUPE_SHARED ?? fileURLToPath(new URL('../../../shared', import.meta.url));
const stories = path.join(shared, 'models/stories260K/stories260K.bin');
const noStories = fs.existsSync(stories) ? false : `real model not found at ${stories} (set LOUPE_SHARED to the shared folder)`;

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'loupe-llama2c-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

const storiesConfig: Llama2cConfig = {
  dim: 64, hiddenDim: 172, nLayers: 5, nHeads: 8, nKvHeads: 4, vocabSize: 512, seqLen: 512, sharedClassifier: true,
};

test('reads stories260K: config, shapes, one shared buffer', { skip: noStories }, () => {
  assert.deepEqual(readLlama2cConfig(stories), storiesConfig);
  const { config, weights: w } = readLlama2c(stories);
  assert.deepEqual(config, storiesConfig);
  assert.equal(w.tokenEmbedding.length, 512 * 64);
  for (const k of ['rmsAtt', 'wq', 'wk', 'wv', 'wo', 'rmsFfn', 'w1', 'w2', 'w3'] as const) assert.equal(w[k].length, 5, k);
  assert.equal(w.wq[0].length, 64 * 64);
  assert.equal(w.wk[0].length, 32 * 64);
  assert.equal(w.w1[0].length, 172 * 64);
  assert.equal(w.w2[0].length, 64 * 172);
  assert.equal(w.rmsFinal.length, 64);
  assert.equal(w.wcls, undefined);
  // Views, not copies: every weight lies in the one file buffer.
  assert.equal(w.wq[3].buffer, w.tokenEmbedding.buffer);
  assert.equal(w.tokenEmbedding.buffer.byteLength, fs.statSync(stories).size);
  for (const arr of [w.tokenEmbedding, w.rmsFinal, ...w.rmsAtt, ...w.w2]) assert.ok(arr.every(Number.isFinite));
});

test('stories260K offsets: values at independently computed file positions, RoPE tables where expected', { skip: noStories }, () => {
  const bytes = fs.readFileSync(stories);
  const floatAt = (index: number): number => bytes.readFloatLE(28 + 4 * index);
  const { weights: w } = readLlama2c(stories);
  // wq starts after embedding (512*64) and rms_att (5*64); layer 2, row 5, column 7.
  assert.equal(w.wq[2][5 * 64 + 7], floatAt(512 * 64 + 5 * 64 + 2 * 64 * 64 + 5 * 64 + 7));
  // w3 of the last layer, last element, sits right before rms_final.
  const beforeFinal = 512 * 64 + 5 * (64 + 64 * 64 * 2 + 32 * 64 * 2 + 64 + 3 * 172 * 64);
  assert.equal(w.w3[4][172 * 64 - 1], floatAt(beforeFinal - 1));
  assert.equal(w.rmsFinal[0], floatAt(beforeFinal));
  // The skipped RoPE tables hold cos/sin of t * 10000^(-2i/8): they are exactly where the layout says.
  const [cos, sin] = ropeTables(storiesConfig);
  const ropeStart = beforeFinal + 64;
  for (let j = 0; j < cos.length; j++) {
    assert.ok(Math.abs(floatAt(ropeStart + j) - cos[j]) < 1e-6, `cos table element ${j}`);
    assert.ok(Math.abs(floatAt(ropeStart + cos.length + j) - sin[j]) < 1e-6, `sin table element ${j}`);
  }
  assert.equal(ropeStart + 2 * cos.length, (bytes.length - 28) / 4, 'file ends after the tables');
});

function corruptCopy(name: string, edit: (bytes: Buffer) => Buffer): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, edit(Buffer.from(fs.readFileSync(stories))));
  return file;
}

function expectFormatError(file: string, pattern: RegExp): void {
  for (const read of [readLlama2c, readLlama2cConfig]) {
    assert.throws(
      () => read(file),
      (err: unknown) => {
        assert.ok(err instanceof FormatError, `expected FormatError, got ${String(err)}`);
        assert.match(err.message, pattern);
        assert.ok(err.message.startsWith(file));
        return true;
      },
    );
  }
}

test('truncated and padded copies report expected vs found sizes', { skip: noStories }, () => {
  expectFormatError(
    corruptCopy('truncated.bin', (b) => b.subarray(0, b.length - 4)),
    /expected 1056540 bytes for dim 64, .*vocab_size 512.* shared classifier .*found 1056536; the file looks truncated/,
  );
  expectFormatError(corruptCopy('padded.bin', (b) => Buffer.concat([b, Buffer.alloc(8)])), /expected 1056540 bytes.*found 1056548; the file has trailing data/);
  expectFormatError(corruptCopy('header-only.bin', (b) => b.subarray(0, 20)), /expected a 28-byte header of 7 int32, found a 20-byte file/);
});

test('classifier sign that disagrees with the file size is named', { skip: noStories }, () => {
  const file = corruptCopy('neg-vocab.bin', (b) => {
    b.writeInt32LE(-512, 20);
    return b;
  });
  expectFormatError(file, /separate classifier \(vocab_size < 0\), found 1056540; the size matches a checkpoint without a separate classifier/);
});

test('invalid header values', { skip: noStories }, () => {
  const withInt = (name: string, index: number, value: number): string =>
    corruptCopy(name, (b) => {
      b.writeInt32LE(value, 4 * index);
      return b;
    });
  expectFormatError(withInt('zero-dim.bin', 0, 0), /header: dim must be a positive int32, found 0/);
  expectFormatError(withInt('neg-layers.bin', 2, -5), /header: n_layers must be a positive int32, found -5/);
  expectFormatError(withInt('heads.bin', 3, 7), /dim 64 must be divisible by n_heads 7/);
  expectFormatError(withInt('kv.bin', 4, 3), /n_heads 8 must be divisible by n_kv_heads 3/);
  expectFormatError(withInt('huge.bin', 1, 2_000_000_000), /expected \d+ bytes .* found 1056540/);
  expectFormatError(withInt('magic.bin', 0, 0x616b3432), /"ak42" magic/);
});

function randomCheckpoint(config: Llama2cConfig): Llama2cCheckpoint {
  let seed = 1;
  const rand = (n: number): Float32Array =>
    Float32Array.from({ length: n }, () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1);
  const kvDim = (config.dim / config.nHeads) * config.nKvHeads;
  const L = config.nLayers;
  const perLayer = (n: number): Float32Array[] => Array.from({ length: L }, () => rand(n));
  const { dim, hiddenDim: h, vocabSize: v } = config;
  return {
    config,
    weights: {
      tokenEmbedding: rand(v * dim),
      rmsAtt: perLayer(dim),
      wq: perLayer(dim * dim),
      wk: perLayer(kvDim * dim),
      wv: perLayer(kvDim * dim),
      wo: perLayer(dim * dim),
      rmsFfn: perLayer(dim),
      w1: perLayer(h * dim),
      w2: perLayer(dim * h),
      w3: perLayer(h * dim),
      rmsFinal: rand(dim),
      wcls: config.sharedClassifier ? undefined : rand(v * dim),
    },
  };
}

test('writer round trip, with and without a separate classifier', () => {
  for (const sharedClassifier of [true, false]) {
    const config: Llama2cConfig = { dim: 8, hiddenDim: 12, nLayers: 2, nHeads: 2, nKvHeads: 1, vocabSize: 10, seqLen: 6, sharedClassifier };
    const ckpt = randomCheckpoint(config);
    const file = path.join(dir, `small-${sharedClassifier}.bin`);
    writeLlama2c(file, ckpt);
    assert.equal(fs.statSync(file).size, llama2cByteSize(config));
    assert.equal(fs.readFileSync(file).readInt32LE(20), sharedClassifier ? 10 : -10);
    const back = readLlama2c(file);
    assert.deepEqual(back.config, config);
    for (const [k, v] of Object.entries(ckpt.weights)) {
      const got = back.weights[k as keyof typeof back.weights];
      if (v === undefined) assert.equal(got, undefined);
      else if (Array.isArray(v)) assert.deepEqual((got as Float32Array[]).map((a) => Array.from(a)), v.map((a) => Array.from(a)), k);
      else assert.deepEqual(Array.from(got as Float32Array), Array.from(v as Float32Array), k);
    }
  }
});

test('writer reproduces the header and weights of stories260K byte for byte', { skip: noStories }, () => {
  const file = path.join(dir, 'rewritten.bin');
  writeLlama2c(file, readLlama2c(stories));
  const a = fs.readFileSync(stories);
  const b = fs.readFileSync(file);
  assert.equal(b.length, a.length);
  const ropeStartByte = a.length - 2 * 512 * 4 * 4;
  assert.ok(a.subarray(0, ropeStartByte).equals(b.subarray(0, ropeStartByte)), 'header and weights identical');
});

test('corrupt copies of a generated checkpoint (runs without the shared data)', () => {
  const config: Llama2cConfig = { dim: 8, hiddenDim: 12, nLayers: 2, nHeads: 2, nKvHeads: 1, vocabSize: 10, seqLen: 6, sharedClassifier: true };
  const good = path.join(dir, 'gen-good.bin');
  writeLlama2c(good, randomCheckpoint(config));
  const size = llama2cByteSize(config);
  const copy = (name: string, edit: (b: Buffer) => Buffer): string => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, edit(fs.readFileSync(good)));
    return file;
  };
  expectFormatError(copy('gen-trunc.bin', (b) => b.subarray(0, b.length - 1)), new RegExp(`expected ${size} bytes .* found ${size - 1}; the file looks truncated`));
  const unshared = copy('gen-sign.bin', (b) => {
    b.writeInt32LE(-10, 20);
    return b;
  });
  expectFormatError(unshared, /size matches a checkpoint without a separate classifier/);
  const odd = copy('gen-odd-head.bin', (b) => {
    b.writeInt32LE(8, 12); // n_heads 8 (and n_kv_heads 8): head size 8 / 8 = 1
    b.writeInt32LE(8, 16);
    return b;
  });
  expectFormatError(odd, /head size 1 \(dim \/ n_heads\) must be even for RoPE/);
});

test('writer rejects inconsistent weights and configs with InputError', () => {
  const config: Llama2cConfig = { dim: 8, hiddenDim: 12, nLayers: 2, nHeads: 2, nKvHeads: 1, vocabSize: 10, seqLen: 6, sharedClassifier: true };
  const file = path.join(dir, 'bad.bin');
  const ckpt = randomCheckpoint(config);
  ckpt.weights.wk[1] = new Float32Array(3);
  assert.throws(() => writeLlama2c(file, ckpt), (e: unknown) => e instanceof InputError && /wk\[1\] must be a Float32Array of \[4, 8\] = 32 elements, found 3/.test(e.message));
  assert.throws(() => writeLlama2c(file, randomCheckpoint({ ...config, nKvHeads: 3 })), /n_heads 2 must be divisible by n_kv_heads 3/);
  const unshared = randomCheckpoint({ ...config, sharedClassifier: false });
  delete unshared.weights.wcls;
  assert.throws(() => writeLlama2c(file, unshared), /wcls must be a Float32Array/);
  assert.equal(fs.existsSync(file), false);
});
