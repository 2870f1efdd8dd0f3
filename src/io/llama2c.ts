// llama2.c checkpoints, legacy v0 format: 7 little-endian int32 (dim, hidden_dim, n_layers, n_heads,
// n_kv_heads, vocab_size, seq_len; negative vocab_size = separate classifier), then float32 weights:
// token embedding [V, dim], rms_att [L, dim], wq [L, dim, dim], wk [L, kv_dim, dim], wv [L, kv_dim, dim],
// wo [L, dim, dim], rms_ffn [L, dim], w1 [L, hidden, dim], w2 [L, dim, hidden], w3 [L, hidden, dim],
// rms_final [dim], two RoPE tables of seq_len * head_size / 2 floats (unused), classifier [V, dim] if
// not shared. Matrices are [out, in] (row-major, y = W x).
import * as fs from 'node:fs';
import { FormatError, InputError } from '../errors.js';
import { fromLittleEndian, littleEndianBytes, openForRead, readExactly, writeAll, writeFileAtomic } from './files.js';

export interface Llama2cConfig {
  dim: number;
  hiddenDim: number;
  nLayers: number;
  nHeads: number;
  nKvHeads: number;
  /** Always positive here; the sign in the file is carried by sharedClassifier. */
  vocabSize: number;
  seqLen: number;
  /** True when the output classifier is the token embedding (positive vocab_size in the file). */
  sharedClassifier: boolean;
}

/** Weights of one checkpoint. Per-layer arrays have nLayers entries; shapes are row-major [out, in]. */
export interface Llama2cWeights {
  tokenEmbedding: Float32Array; // [vocabSize, dim]
  rmsAtt: Float32Array[]; // per layer [dim]
  wq: Float32Array[]; // per layer [dim, dim]
  wk: Float32Array[]; // per layer [kvDim, dim], kvDim = dim * nKvHeads / nHeads
  wv: Float32Array[]; // per layer [kvDim, dim]
  wo: Float32Array[]; // per layer [dim, dim]
  rmsFfn: Float32Array[]; // per layer [dim]
  w1: Float32Array[]; // per layer [hiddenDim, dim] (gate, SiLU side)
  w2: Float32Array[]; // per layer [dim, hiddenDim] (down projection)
  w3: Float32Array[]; // per layer [hiddenDim, dim] (up projection)
  rmsFinal: Float32Array; // [dim]
  /** [vocabSize, dim]; absent when sharedClassifier (then the classifier is tokenEmbedding). */
  wcls?: Float32Array;
}

export interface Llama2cCheckpoint {
  config: Llama2cConfig;
  weights: Llama2cWeights;
}

const HEADER_BYTES = 28;
// Newer llama2.c exports (version 1, 2) start with this magic instead of dim.
const MAGIC_AK42 = 0x616b3432;

type PerLayer = 'rmsAtt' | 'wq' | 'wk' | 'wv' | 'wo' | 'rmsFfn' | 'w1' | 'w2' | 'w3';
const LAYER_ORDER: readonly PerLayer[] = ['rmsAtt', 'wq', 'wk', 'wv', 'wo', 'rmsFfn', 'w1', 'w2', 'w3'];

/** Shape of each weight ([out, in] for matrices; per layer for the per-layer ones). */
export function llama2cWeightShapes(c: Llama2cConfig): Record<PerLayer | 'tokenEmbedding' | 'rmsFinal' | 'wcls', number[]> {
  const kvDim = (c.dim * c.nKvHeads) / c.nHeads;
  return {
    tokenEmbedding: [c.vocabSize, c.dim],
    rmsAtt: [c.dim],
    wq: [c.dim, c.dim],
    wk: [kvDim, c.dim],
    wv: [kvDim, c.dim],
    wo: [c.dim, c.dim],
    rmsFfn: [c.dim],
    w1: [c.hiddenDim, c.dim],
    w2: [c.dim, c.hiddenDim],
    w3: [c.hiddenDim, c.dim],
    rmsFinal: [c.dim],
    wcls: [c.vocabSize, c.dim],
  };
}

/** Floats in one RoPE table, with llama2.c's integer arithmetic (seq_len * head_size / 2). */
function ropeTableFloats(c: Llama2cConfig): number {
  return Math.floor((c.seqLen * (c.dim / c.nHeads)) / 2);
}

/** Total file size in bytes for a config (header included). */
export function llama2cByteSize(c: Llama2cConfig): number {
  const s = llama2cWeightShapes(c);
  const size = (shape: number[]): number => shape.reduce((a, b) => a * b, 1);
  let floats = size(s.tokenEmbedding) + size(s.rmsFinal) + 2 * ropeTableFloats(c);
  for (const k of LAYER_ORDER) floats += c.nLayers * size(s[k]);
  if (!c.sharedClassifier) floats += size(s.wcls);
  return HEADER_BYTES + 4 * floats;
}

/** Check the header values; `fail` builds the error (FormatError when reading, InputError when writing). */
function validateConfig(c: Llama2cConfig, fail: (message: string) => Error): void {
  const fields: [keyof Llama2cConfig, string][] = [
    ['dim', 'dim'],
    ['hiddenDim', 'hidden_dim'],
    ['nLayers', 'n_layers'],
    ['nHeads', 'n_heads'],
    ['nKvHeads', 'n_kv_heads'],
    ['vocabSize', 'vocab_size'],
    ['seqLen', 'seq_len'],
  ];
  for (const [key, name] of fields) {
    const v = c[key];
    if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0 || v > 0x7fffffff) {
      throw fail(`${name} must be a positive int32, found ${String(v)}`);
    }
  }
  if (c.dim % c.nHeads !== 0) throw fail(`dim ${c.dim} must be divisible by n_heads ${c.nHeads}`);
  if (c.nHeads % c.nKvHeads !== 0) throw fail(`n_heads ${c.nHeads} must be divisible by n_kv_heads ${c.nKvHeads}`);
  if ((c.dim / c.nHeads) % 2 !== 0) throw fail(`head size ${c.dim / c.nHeads} (dim / n_heads) must be even for RoPE`);
}

/** Read and validate the header only (including that the file size matches it). */
export function readLlama2cConfig(file: string): Llama2cConfig {
  const { fd, size } = openForRead(file);
  try {
    const head = new Uint8Array(Math.min(size, HEADER_BYTES));
    readExactly(fd, head, 0, file);
    return parseHeader(head, size, file);
  } finally {
    fs.closeSync(fd);
  }
}

function parseHeader(head: Uint8Array, size: number, file: string): Llama2cConfig {
  if (size < HEADER_BYTES) {
    throw new FormatError(file, `truncated: expected a ${HEADER_BYTES}-byte header of 7 int32, found a ${size}-byte file`);
  }
  const view = new DataView(head.buffer, head.byteOffset, HEADER_BYTES);
  const ints = Array.from({ length: 7 }, (_, i) => view.getInt32(4 * i, true));
  if (ints[0] === MAGIC_AK42) {
    throw new FormatError(file, `starts with llama2.c's "ak42" magic (export version ${ints[1]}); only the legacy v0 format is supported`);
  }
  const [dim, hiddenDim, nLayers, nHeads, nKvHeads, vocab, seqLen] = ints;
  const config: Llama2cConfig = {
    dim, hiddenDim, nLayers, nHeads, nKvHeads,
    vocabSize: Math.abs(vocab),
    seqLen,
    sharedClassifier: vocab > 0,
  };
  validateConfig(config, (m) => new FormatError(file, `header: ${m}`));
  const expected = llama2cByteSize(config);
  if (size !== expected) {
    const other = llama2cByteSize({ ...config, sharedClassifier: !config.sharedClassifier });
    const kind = config.sharedClassifier ? 'shared classifier (vocab_size > 0)' : 'separate classifier (vocab_size < 0)';
    const hint =
      size === other
        ? `; the size matches a checkpoint ${config.sharedClassifier ? 'with' : 'without'} a separate classifier, so the sign of vocab_size looks wrong`
        : size < expected
          ? '; the file looks truncated'
          : '; the file has trailing data or a different layout';
    throw new FormatError(
      file,
      `expected ${expected} bytes for dim ${dim}, hidden_dim ${hiddenDim}, n_layers ${nLayers}, n_heads ${nHeads}, ` +
        `n_kv_heads ${nKvHeads}, vocab_size ${vocab}, seq_len ${seqLen} with a ${kind}, found ${size}${hint}`,
    );
  }
  return config;
}

/**
 * Read a checkpoint. The file is read once into one buffer; every weight is a Float32Array view into it
 * (no second copy). Keep that in mind before writing into a weight: all views share the buffer.
 */
export function readLlama2c(file: string): Llama2cCheckpoint {
  const { fd, size } = openForRead(file);
  let buffer: ArrayBuffer;
  let config: Llama2cConfig;
  try {
    const head = new Uint8Array(Math.min(size, HEADER_BYTES));
    readExactly(fd, head, 0, file);
    config = parseHeader(head, size, file); // validates the size before the big allocation
    buffer = new ArrayBuffer(size);
    readExactly(fd, new Uint8Array(buffer), 0, file);
  } finally {
    fs.closeSync(fd);
  }
  // A fresh ArrayBuffer starts aligned and the header is 28 bytes, so float32 views need no copy.
  const floats = new Float32Array(buffer, HEADER_BYTES, (size - HEADER_BYTES) / 4);
  fromLittleEndian(new Uint8Array(buffer, HEADER_BYTES), 4);
  const shapes = llama2cWeightShapes(config);
  let at = 0;
  const take = (shape: number[]): Float32Array => {
    const n = shape.reduce((a, b) => a * b, 1);
    const view = floats.subarray(at, at + n);
    at += n;
    return view;
  };
  const tokenEmbedding = take(shapes.tokenEmbedding);
  const layers = {} as Record<PerLayer, Float32Array[]>;
  for (const k of LAYER_ORDER) layers[k] = Array.from({ length: config.nLayers }, () => take(shapes[k]));
  const rmsFinal = take(shapes.rmsFinal);
  at += 2 * ropeTableFloats(config);
  const weights: Llama2cWeights = { tokenEmbedding, ...layers, rmsFinal };
  if (!config.sharedClassifier) weights.wcls = take(shapes.wcls);
  return { config, weights };
}

/**
 * Write a checkpoint in the legacy v0 format, atomically (temp file + rename). RoPE tables are written
 * as llama2.c's exporter does (cos then sin of t / 10000^(2i / head_size)) so older readers that still
 * load them get correct values.
 */
export function writeLlama2c(file: string, checkpoint: Llama2cCheckpoint): void {
  const { config: c, weights: w } = checkpoint;
  const fail = (m: string): Error => new InputError(`${file}: ${m}`, { path: file });
  validateConfig(c, fail);
  const shapes = llama2cWeightShapes(c);
  const check = (name: string, arr: Float32Array | undefined, shape: number[]): void => {
    const n = shape.reduce((a, b) => a * b, 1);
    if (!(arr instanceof Float32Array) || arr.length !== n) {
      const found = arr instanceof Float32Array ? `${arr.length} elements` : String(arr);
      throw fail(`${name} must be a Float32Array of [${shape.join(', ')}] = ${n} elements, found ${found}`);
    }
  };
  check('tokenEmbedding', w.tokenEmbedding, shapes.tokenEmbedding);
  for (const k of LAYER_ORDER) {
    if (!Array.isArray(w[k]) || w[k].length !== c.nLayers) {
      throw fail(`${k} must have one array per layer (${c.nLayers}), found ${Array.isArray(w[k]) ? w[k].length : String(w[k])}`);
    }
    w[k].forEach((arr, i) => check(`${k}[${i}]`, arr, shapes[k]));
  }
  check('rmsFinal', w.rmsFinal, shapes.rmsFinal);
  if (c.sharedClassifier) {
    if (w.wcls !== undefined && w.wcls !== w.tokenEmbedding) {
      throw fail('wcls is given but config.sharedClassifier is true; set sharedClassifier false to write a separate classifier');
    }
  } else {
    check('wcls', w.wcls, shapes.wcls);
  }

  const header = new Int32Array([c.dim, c.hiddenDim, c.nLayers, c.nHeads, c.nKvHeads, c.sharedClassifier ? c.vocabSize : -c.vocabSize, c.seqLen]);
  writeFileAtomic(file, (fd) => {
    const put = (arr: Float32Array | Int32Array): void => writeAll(fd, littleEndianBytes(arr, 4));
    put(header);
    put(w.tokenEmbedding);
    for (const k of LAYER_ORDER) for (const arr of w[k]) put(arr);
    put(w.rmsFinal);
    const [cos, sin] = ropeTables(c);
    put(cos);
    put(sin);
    if (!c.sharedClassifier) put(w.wcls!);
  });
}

/** The RoPE tables llama2.c's exporter stores: [seq_len, head_size / 2] cos and sin, float32 arithmetic. */
export function ropeTables(c: Llama2cConfig): [Float32Array, Float32Array] {
  const half = c.dim / c.nHeads / 2;
  const n = ropeTableFloats(c);
  const cos = new Float32Array(n);
  const sin = new Float32Array(n);
  for (let i = 0; i < half; i++) {
    const freq = Math.fround(1 / Math.fround(Math.pow(10000, Math.fround((2 * i) / (2 * half)))));
    for (let t = 0; t < c.seqLen; t++) {
      const angle = Math.fround(t * freq);
      cos[t * half + i] = Math.cos(angle);
      sin[t * half + i] = Math.sin(angle);
    }
  }
  return [cos, sin];
}
