// GPT-NeoX / Pythia (GPTNeoXForCausalLM). Tensors under "gpt_neox.": embed_in, layers.{i}.input_layernorm,
// post_attention_layernorm, attention.query_key_value, attention.dense, mlp.dense_h_to_4h / dense_4h_to_h,
// final_layer_norm; embed_out is the unembedding. query_key_value's 3*D output rows are grouped per head:
// [head, (q | k | v), d_head], which is split here into W_Q, W_K, W_V (rows copied, no transposes).
import { FormatError } from '../../errors.js';
import { neoxConfig, type ModelConfig } from '../config.js';
import { bool, int, num, str, tokenId, tensorWriter, type RawConfig } from './hf-common.js';
import type { HfFamily } from './hf-family.js';
import { activationOf } from './hf-gpt2.js';

/** Rows of the fused [H*3*dh, cols] matrix (or bias, cols = 1) for part 0 (q), 1 (k), 2 (v): [H*dh, cols]. */
function splitQkv(fused: Float32Array, H: number, dh: number, cols: number, part: number): Float32Array {
  const out = new Float32Array(H * dh * cols);
  for (let h = 0; h < H; h++) {
    const from = (h * 3 + part) * dh * cols;
    out.set(fused.subarray(from, from + dh * cols), h * dh * cols);
  }
  return out;
}

function fuseQkv(q: Float32Array, k: Float32Array, v: Float32Array, H: number, dh: number, cols: number): Float32Array {
  const out = new Float32Array(3 * H * dh * cols);
  const block = dh * cols;
  for (let h = 0; h < H; h++) [q, k, v].forEach((src, part) => out.set(src.subarray(h * block, (h + 1) * block), (h * 3 + part) * block));
  return out;
}

export const neoxFamily: HfFamily = {
  modelTypes: ['gpt_neox'],
  architectures: ['GPTNeoXForCausalLM'],
  ignore: /\.attention\.(bias|masked_bias|rotary_emb\.inv_freq)$/,

  config(raw, where) {
    if (raw.rope_scaling !== undefined && raw.rope_scaling !== null) throw new FormatError(where, 'GPT-NeoX rope_scaling is not supported');
    const dModel = int(raw, 'hidden_size', where);
    const nHeads = int(raw, 'num_attention_heads', where);
    const dHead = dModel / nHeads;
    const attentionBias = bool(raw, 'attention_bias', where, true);
    return neoxConfig({
      name: str(raw, '_name_or_path', where, '') || undefined,
      dModel,
      nLayers: int(raw, 'num_hidden_layers', where),
      nHeads,
      dMlp: int(raw, 'intermediate_size', where),
      vocabSize: int(raw, 'vocab_size', where),
      nCtx: int(raw, 'max_position_embeddings', where, 2048),
      normEps: num(raw, 'layer_norm_eps', where, 1e-5),
      // HF: rotary_ndims = int(head_size * rotary_pct)
      rope: { layout: 'half', base: num(raw, 'rotary_emb_base', where, num(raw, 'rope_theta', where, 10000)), rotaryDim: Math.floor(dHead * num(raw, 'rotary_pct', where, 0.25)) },
      act: activationOf(raw, 'hidden_act', where, 'gelu'),
      parallelAttnMlp: bool(raw, 'use_parallel_residual', where, true),
      biases: { qkv: attentionBias, attnOut: attentionBias, mlp: true },
      tiedEmbeddings: bool(raw, 'tie_word_embeddings', where, false),
      bosTokenId: tokenId(raw, 'bos_token_id', 0, int(raw, 'vocab_size', where)),
      eosTokenId: tokenId(raw, 'eos_token_id', 0, int(raw, 'vocab_size', where)),
    });
  },

  load(reader, c) {
    const D = c.dModel;
    const F = c.dMlp;
    const H = c.nHeads;
    const dh = c.dHead;
    const named = new Map<string, Float32Array>();
    named.set('embed.W_E', reader.read('gpt_neox.embed_in.weight', [c.vocabSize, D]));
    const norm = (from: string, to: string): void => {
      named.set(`${to}.w`, reader.read(`${from}.weight`, [D]));
      named.set(`${to}.b`, reader.read(`${from}.bias`, [D]));
    };
    for (let i = 0; i < c.nLayers; i++) {
      const l = `gpt_neox.layers.${i}`;
      const p = `blocks.${i}`;
      norm(`${l}.input_layernorm`, `${p}.ln1`);
      norm(`${l}.post_attention_layernorm`, `${p}.ln2`);
      const qkv = reader.read(`${l}.attention.query_key_value.weight`, [3 * D, D]);
      named.set(`${p}.attn.W_Q`, splitQkv(qkv, H, dh, D, 0));
      named.set(`${p}.attn.W_K`, splitQkv(qkv, H, dh, D, 1));
      named.set(`${p}.attn.W_V`, splitQkv(qkv, H, dh, D, 2));
      named.set(`${p}.attn.W_O`, reader.read(`${l}.attention.dense.weight`, [D, D]));
      if (c.biases.qkv) {
        const b = reader.read(`${l}.attention.query_key_value.bias`, [3 * D]);
        named.set(`${p}.attn.b_Q`, splitQkv(b, H, dh, 1, 0));
        named.set(`${p}.attn.b_K`, splitQkv(b, H, dh, 1, 1));
        named.set(`${p}.attn.b_V`, splitQkv(b, H, dh, 1, 2));
        named.set(`${p}.attn.b_O`, reader.read(`${l}.attention.dense.bias`, [D]));
      }
      named.set(`${p}.mlp.W_in`, reader.read(`${l}.mlp.dense_h_to_4h.weight`, [F, D]));
      named.set(`${p}.mlp.b_in`, reader.read(`${l}.mlp.dense_h_to_4h.bias`, [F]));
      named.set(`${p}.mlp.W_out`, reader.read(`${l}.mlp.dense_4h_to_h.weight`, [D, F]));
      named.set(`${p}.mlp.b_out`, reader.read(`${l}.mlp.dense_4h_to_h.bias`, [D]));
    }
    norm('gpt_neox.final_layer_norm', 'ln_final');
    if (!c.tiedEmbeddings) named.set('unembed.W_U', reader.read('embed_out.weight', [c.vocabSize, D]));
    return named;
  },

  canSave(c: ModelConfig) {
    return (
      c.family === 'neox' && c.norm === 'layer' && c.positional === 'rope' && c.rope?.layout === 'half' && !c.rope.invFreq &&
      !c.gatedMlp && !c.attnOnly && c.biases.qkv === c.biases.attnOut && c.biases.mlp && c.nKvHeads === c.nHeads &&
      c.nHeads * c.dHead === c.dModel && c.act !== 'silu' && Math.floor(c.dHead * (c.rope.rotaryDim / c.dHead)) === c.rope.rotaryDim
    );
  },

  save(c, named) {
    const D = c.dModel;
    const F = c.dMlp;
    const H = c.nHeads;
    const dh = c.dHead;
    const config: RawConfig = {
      architectures: ['GPTNeoXForCausalLM'],
      model_type: 'gpt_neox',
      hidden_size: D,
      num_hidden_layers: c.nLayers,
      num_attention_heads: H,
      intermediate_size: F,
      vocab_size: c.vocabSize,
      max_position_embeddings: c.nCtx,
      rotary_pct: c.rope!.rotaryDim / dh,
      rotary_emb_base: c.rope!.base,
      layer_norm_eps: c.normEps,
      use_parallel_residual: c.parallelAttnMlp,
      hidden_act: { gelu_tanh: 'gelu_new', gelu_erf: 'gelu', relu: 'relu', silu: 'silu' }[c.act],
      attention_bias: c.biases.qkv,
      tie_word_embeddings: c.tiedEmbeddings,
      bos_token_id: c.bosTokenId,
      eos_token_id: c.eosTokenId,
    };
    const { tensors, get, put } = tensorWriter(named);
    put('gpt_neox.embed_in.weight', [c.vocabSize, D], get('embed.W_E'));
    for (let i = 0; i < c.nLayers; i++) {
      const p = `blocks.${i}`;
      const l = `gpt_neox.layers.${i}`;
      put(`${l}.input_layernorm.weight`, [D], get(`${p}.ln1.w`));
      put(`${l}.input_layernorm.bias`, [D], get(`${p}.ln1.b`));
      put(`${l}.post_attention_layernorm.weight`, [D], get(`${p}.ln2.w`));
      put(`${l}.post_attention_layernorm.bias`, [D], get(`${p}.ln2.b`));
      put(`${l}.attention.query_key_value.weight`, [3 * D, D], fuseQkv(get(`${p}.attn.W_Q`), get(`${p}.attn.W_K`), get(`${p}.attn.W_V`), H, dh, D));
      put(`${l}.attention.dense.weight`, [D, D], get(`${p}.attn.W_O`));
      if (c.biases.qkv) {
        put(`${l}.attention.query_key_value.bias`, [3 * D], fuseQkv(get(`${p}.attn.b_Q`), get(`${p}.attn.b_K`), get(`${p}.attn.b_V`), H, dh, 1));
        put(`${l}.attention.dense.bias`, [D], get(`${p}.attn.b_O`));
      }
      put(`${l}.mlp.dense_h_to_4h.weight`, [F, D], get(`${p}.mlp.W_in`));
      put(`${l}.mlp.dense_h_to_4h.bias`, [F], get(`${p}.mlp.b_in`));
      put(`${l}.mlp.dense_4h_to_h.weight`, [D, F], get(`${p}.mlp.W_out`));
      put(`${l}.mlp.dense_4h_to_h.bias`, [D], get(`${p}.mlp.b_out`));
    }
    put('gpt_neox.final_layer_norm.weight', [D], get('ln_final.w'));
    put('gpt_neox.final_layer_norm.bias', [D], get('ln_final.b'));
    if (!c.tiedEmbeddings) put('embed_out.weight', [c.vocabSize, D], get('unembed.W_U'));
    return { config, tensors };
  },
};
