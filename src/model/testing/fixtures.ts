// Random-weight checkpoints for tests, in the real on-disk layouts: Hugging Face directories with the
// families' real tensor names and shapes (GPT-2 Conv1D [in, out], NeoX fused per-head qkv, Llama/Qwen2
// projections), llama2.c .bin files. Written from the checkpoint's point of view, not from Loupe's
// parameter layout, so the loaders are tested against something they did not produce.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { saveHfCheckpoint } from '../../io/hf.js';
import { writeLlama2c, type Llama2cConfig, type Llama2cWeights } from '../../io/llama2c.js';
import type { TensorToWrite, WritableDType } from '../../io/safetensors.js';
import { decodeBFloat16, decodeFloat16, encodeBFloat16, encodeFloat16 } from '../../tensor/dtype.js';
import { Rng } from '../../tensor/index.js';
import type { NamedTensors, RefConfig } from './scalar-reference.js';

const made: string[] = [];

/** A fresh temporary directory, removed when the process exits (tests need not clean up after themselves). */
export function tempDir(tag: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `loupe-${tag}-`));
  if (made.push(dir) === 1) process.on('exit', () => made.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
  return dir;
}

/** Random values of a given role: matrices ~N(0, std), norm weights ~1, biases small. */
class Gen {
  readonly tensors: NamedTensors = new Map();
  private readonly rng: Rng;
  constructor(seed: number, private readonly std: number) {
    this.rng = new Rng(seed);
  }
  private fill(shape: number[], f: () => number): Float32Array {
    const a = new Float32Array(shape.reduce((x, y) => x * y, 1));
    for (let i = 0; i < a.length; i++) a[i] = f();
    return a;
  }
  mat(name: string, shape: number[]): void {
    this.tensors.set(name, { shape, data: this.fill(shape, () => this.std * this.rng.normal()) });
  }
  normW(name: string, d: number): void {
    this.tensors.set(name, { shape: [d], data: this.fill([d], () => 1 + 0.2 * this.rng.normal()) });
  }
  bias(name: string, d: number): void {
    this.tensors.set(name, { shape: [d], data: this.fill([d], () => 0.1 * this.rng.normal()) });
  }
}

export function gpt2Tensors(c: RefConfig, seed = 1, std = 0.15): NamedTensors {
  const D = c.n_embd as number;
  const F = (c.n_inner as number | null) ?? 4 * D;
  const g = new Gen(seed, std);
  g.mat('wte.weight', [c.vocab_size as number, D]);
  g.mat('wpe.weight', [c.n_positions as number, D]);
  for (let l = 0; l < (c.n_layer as number); l++) {
    const p = `h.${l}`;
    g.normW(`${p}.ln_1.weight`, D), g.bias(`${p}.ln_1.bias`, D);
    g.mat(`${p}.attn.c_attn.weight`, [D, 3 * D]), g.bias(`${p}.attn.c_attn.bias`, 3 * D);
    g.mat(`${p}.attn.c_proj.weight`, [D, D]), g.bias(`${p}.attn.c_proj.bias`, D);
    g.normW(`${p}.ln_2.weight`, D), g.bias(`${p}.ln_2.bias`, D);
    g.mat(`${p}.mlp.c_fc.weight`, [D, F]), g.bias(`${p}.mlp.c_fc.bias`, F);
    g.mat(`${p}.mlp.c_proj.weight`, [F, D]), g.bias(`${p}.mlp.c_proj.bias`, D);
  }
  g.normW('ln_f.weight', D), g.bias('ln_f.bias', D);
  if (c.tie_word_embeddings === false) g.mat('lm_head.weight', [c.vocab_size as number, D]);
  return g.tensors;
}

export function neoxTensors(c: RefConfig, seed = 2, std = 0.15): NamedTensors {
  const D = c.hidden_size as number;
  const F = c.intermediate_size as number;
  const bias = c.attention_bias !== false;
  const g = new Gen(seed, std);
  g.mat('gpt_neox.embed_in.weight', [c.vocab_size as number, D]);
  for (let l = 0; l < (c.num_hidden_layers as number); l++) {
    const p = `gpt_neox.layers.${l}`;
    g.normW(`${p}.input_layernorm.weight`, D), g.bias(`${p}.input_layernorm.bias`, D);
    g.normW(`${p}.post_attention_layernorm.weight`, D), g.bias(`${p}.post_attention_layernorm.bias`, D);
    g.mat(`${p}.attention.query_key_value.weight`, [3 * D, D]);
    g.mat(`${p}.attention.dense.weight`, [D, D]);
    if (bias) g.bias(`${p}.attention.query_key_value.bias`, 3 * D), g.bias(`${p}.attention.dense.bias`, D);
    g.mat(`${p}.mlp.dense_h_to_4h.weight`, [F, D]), g.bias(`${p}.mlp.dense_h_to_4h.bias`, F);
    g.mat(`${p}.mlp.dense_4h_to_h.weight`, [D, F]), g.bias(`${p}.mlp.dense_4h_to_h.bias`, D);
  }
  g.normW('gpt_neox.final_layer_norm.weight', D), g.bias('gpt_neox.final_layer_norm.bias', D);
  if (c.tie_word_embeddings !== true) g.mat('embed_out.weight', [c.vocab_size as number, D]);
  return g.tensors;
}

export function llamaTensors(c: RefConfig, seed = 3, std = 0.15): NamedTensors {
  const D = c.hidden_size as number;
  const H = c.num_attention_heads as number;
  const dh = (c.head_dim as number | undefined) ?? D / H;
  const Hkv = (c.num_key_value_heads as number | undefined) ?? H;
  const F = c.intermediate_size as number;
  const qwen = c.model_type === 'qwen2';
  const qkvBias = qwen || c.attention_bias === true;
  const g = new Gen(seed, std);
  g.mat('model.embed_tokens.weight', [c.vocab_size as number, D]);
  for (let l = 0; l < (c.num_hidden_layers as number); l++) {
    const p = `model.layers.${l}`;
    g.normW(`${p}.input_layernorm.weight`, D);
    g.mat(`${p}.self_attn.q_proj.weight`, [H * dh, D]);
    g.mat(`${p}.self_attn.k_proj.weight`, [Hkv * dh, D]);
    g.mat(`${p}.self_attn.v_proj.weight`, [Hkv * dh, D]);
    g.mat(`${p}.self_attn.o_proj.weight`, [D, H * dh]);
    if (qkvBias) g.bias(`${p}.self_attn.q_proj.bias`, H * dh), g.bias(`${p}.self_attn.k_proj.bias`, Hkv * dh), g.bias(`${p}.self_attn.v_proj.bias`, Hkv * dh);
    if (!qwen && c.attention_bias === true) g.bias(`${p}.self_attn.o_proj.bias`, D);
    g.normW(`${p}.post_attention_layernorm.weight`, D);
    g.mat(`${p}.mlp.gate_proj.weight`, [F, D]);
    g.mat(`${p}.mlp.up_proj.weight`, [F, D]);
    g.mat(`${p}.mlp.down_proj.weight`, [D, F]);
  }
  g.normW('model.norm.weight', D);
  if (c.tie_word_embeddings !== true) g.mat('lm_head.weight', [c.vocab_size as number, D]);
  return g.tensors;
}

/** Round every tensor through a storage dtype, as a checkpoint in that dtype holds it. */
export function roundTo(tensors: NamedTensors, dtype: WritableDType): NamedTensors {
  if (dtype === 'F32') return tensors;
  const out: NamedTensors = new Map();
  for (const [name, t] of tensors) {
    const data = dtype === 'F16' ? decodeFloat16(encodeFloat16(t.data)) : decodeBFloat16(encodeBFloat16(t.data));
    out.set(name, { shape: t.shape, data });
  }
  return out;
}

/** Write an HF checkpoint directory holding exactly these tensors (optionally sharded / half precision). */
export function writeHfFixture(dir: string, config: RefConfig, tensors: NamedTensors, opts: { dtype?: WritableDType; maxShardBytes?: number } = {}): void {
  const t = new Map<string, TensorToWrite>();
  for (const [name, v] of tensors) t.set(name, { dtype: opts.dtype ?? 'F32', shape: v.shape, data: v.data });
  saveHfCheckpoint(dir, { config, tensors: t, maxShardBytes: opts.maxShardBytes });
}

/** A random llama2.c checkpoint; returns the tensors under the reference's names ("wq.0" ...). */
export function writeLlama2cFixture(file: string, h: Llama2cConfig, seed = 4, std = 0.15): { config: RefConfig; tensors: NamedTensors } {
  const g = new Gen(seed, std);
  const kv = (h.dim / h.nHeads) * h.nKvHeads;
  g.mat('tokenEmbedding', [h.vocabSize, h.dim]);
  const per: [keyof Llama2cWeights, number[], 'mat' | 'norm'][] = [
    ['rmsAtt', [h.dim], 'norm'], ['wq', [h.dim, h.dim], 'mat'], ['wk', [kv, h.dim], 'mat'], ['wv', [kv, h.dim], 'mat'], ['wo', [h.dim, h.dim], 'mat'],
    ['rmsFfn', [h.dim], 'norm'], ['w1', [h.hiddenDim, h.dim], 'mat'], ['w2', [h.dim, h.hiddenDim], 'mat'], ['w3', [h.hiddenDim, h.dim], 'mat'],
  ];
  const weights: Record<string, unknown> = {};
  for (const [k, shape, kind] of per) {
    const arr: Float32Array[] = [];
    for (let l = 0; l < h.nLayers; l++) {
      if (kind === 'mat') g.mat(`${k}.${l}`, shape);
      else g.normW(`${k}.${l}`, shape[0]!);
      arr.push(g.tensors.get(`${k}.${l}`)!.data);
    }
    weights[k] = arr;
  }
  g.normW('rmsFinal', h.dim);
  if (!h.sharedClassifier) g.mat('wcls', [h.vocabSize, h.dim]);
  const w = { ...weights, tokenEmbedding: g.tensors.get('tokenEmbedding')!.data, rmsFinal: g.tensors.get('rmsFinal')!.data } as unknown as Llama2cWeights;
  if (!h.sharedClassifier) w.wcls = g.tensors.get('wcls')!.data;
  writeLlama2c(file, { config: h, weights: w });
  const config: RefConfig = { dim: h.dim, hidden_dim: h.hiddenDim, n_layers: h.nLayers, n_heads: h.nHeads, n_kv_heads: h.nKvHeads, vocab_size: h.vocabSize, shared_classifier: h.sharedClassifier };
  return { config, tensors: g.tensors };
}

/** Small configs of each family, in the checkpoint's own config.json vocabulary. */
export const SMALL_CONFIGS = {
  gpt2: { model_type: 'gpt2', architectures: ['GPT2LMHeadModel'], n_embd: 32, n_layer: 2, n_head: 4, n_inner: null, n_positions: 24, vocab_size: 53, layer_norm_epsilon: 1e-5, activation_function: 'gelu_new' },
  neox: { model_type: 'gpt_neox', architectures: ['GPTNeoXForCausalLM'], hidden_size: 32, num_hidden_layers: 2, num_attention_heads: 4, intermediate_size: 64, vocab_size: 53, max_position_embeddings: 24, rotary_pct: 0.5, rotary_emb_base: 10000, layer_norm_eps: 1e-5, use_parallel_residual: true, hidden_act: 'gelu', tie_word_embeddings: false },
  llama: { model_type: 'llama', architectures: ['LlamaForCausalLM'], hidden_size: 32, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, intermediate_size: 48, vocab_size: 53, max_position_embeddings: 24, rms_norm_eps: 1e-5, rope_theta: 10000, hidden_act: 'silu', tie_word_embeddings: false, bos_token_id: 1, eos_token_id: 2 },
  qwen2: { model_type: 'qwen2', architectures: ['Qwen2ForCausalLM'], hidden_size: 32, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 1, intermediate_size: 40, vocab_size: 53, max_position_embeddings: 24, rms_norm_eps: 1e-6, rope_theta: 1000000, hidden_act: 'silu', tie_word_embeddings: true },
} satisfies Record<string, RefConfig>;

/** Deterministic pseudo-random ids in [0, V). */
export function randomIds(n: number, V: number, seed: number): number[] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, () => rng.int(V));
}

/** Largest |a - b| between a [T, V] tensor's data and reference rows. */
export function maxAbsDiff(data: Float32Array, ref: readonly Float64Array[]): number {
  let m = 0;
  const V = ref[0]!.length;
  ref.forEach((r, t) => {
    for (let j = 0; j < V; j++) m = Math.max(m, Math.abs(data[t * V + j]! - r[j]!));
  });
  return m;
}
