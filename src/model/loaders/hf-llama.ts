// The Llama family in HF layout (LlamaForCausalLM, Mistral, Qwen2, SmolLM): model.embed_tokens,
// model.layers.{i}.input_layernorm / post_attention_layernorm, self_attn.{q,k,v,o}_proj,
// mlp.{gate,up,down}_proj, model.norm, lm_head. All [out, in]: no copies. HF's q/k rows are already
// permuted for its half-split RoPE (rotate_half), so the rope layout is 'half' (llama2.c: 'interleaved').
import { FormatError } from '../../errors.js';
import { ropeInvFreq } from '../../tensor/index.js';
import { llamaConfig, type ModelConfig, type RopeConfig } from '../config.js';
import { bool, int, num, permuteRopeRows, str, tokenId, tensorWriter, type RawConfig } from './hf-common.js';
import type { HfFamily } from './hf-family.js';
import { activationOf } from './hf-gpt2.js';

/** RoPE from rope_theta and rope_scaling (none, "linear", "llama3"); other scalings are refused. */
function ropeFromConfig(raw: RawConfig, dHead: number, where: string): RopeConfig {
  const base = num(raw, 'rope_theta', where, 10000);
  const rope: RopeConfig = { layout: 'half', base, rotaryDim: dHead };
  const s = raw.rope_scaling;
  if (s === undefined || s === null) return rope;
  if (typeof s !== 'object' || Array.isArray(s)) throw new FormatError(where, 'config.json "rope_scaling" must be an object or null');
  const sc = s as RawConfig;
  const type = str(sc, 'rope_type', where, str(sc, 'type', where, 'default'));
  const inv = ropeInvFreq(dHead, base);
  if (type === 'default') return rope;
  const factor = num(sc, 'factor', where);
  if (type === 'linear') {
    rope.invFreq = Array.from(inv, (f) => f / factor);
    return rope;
  }
  if (type === 'llama3') {
    const low = num(sc, 'low_freq_factor', where);
    const high = num(sc, 'high_freq_factor', where);
    const oldCtx = num(sc, 'original_max_position_embeddings', where);
    const lowWavelen = oldCtx / low;
    const highWavelen = oldCtx / high;
    rope.invFreq = Array.from(inv, (f) => {
      const wavelen = (2 * Math.PI) / f;
      if (wavelen < highWavelen) return f;
      if (wavelen > lowWavelen) return f / factor;
      const smooth = (oldCtx / wavelen - low) / (high - low);
      return (1 - smooth) * (f / factor) + smooth * f;
    });
    return rope;
  }
  throw new FormatError(where, `rope_scaling type "${type}" is not supported (supported: linear, llama3)`);
}

export const llamaFamily: HfFamily = {
  modelTypes: ['llama', 'mistral', 'qwen2'],
  architectures: ['LlamaForCausalLM', 'MistralForCausalLM', 'Qwen2ForCausalLM'],
  ignore: /\.rotary_emb\.inv_freq$/,

  config(raw, where) {
    const modelType = str(raw, 'model_type', where, 'llama');
    const dModel = int(raw, 'hidden_size', where);
    const nHeads = int(raw, 'num_attention_heads', where);
    const dHead = int(raw, 'head_dim', where, dModel / nHeads);
    const qwen = modelType === 'qwen2';
    const attnBias = bool(raw, 'attention_bias', where, false);
    // HF's mlp_bias puts a bias on all three projections; the common layout has b_in and b_out only.
    if (bool(raw, 'mlp_bias', where, false)) throw new FormatError(where, 'mlp_bias=true is not supported for the Llama family');
    let nCtx = int(raw, 'max_position_embeddings', where, 2048);
    // Sliding-window attention only differs beyond the window: cap the context there so results are exact.
    const window = raw.sliding_window;
    const useWindow = qwen ? bool(raw, 'use_sliding_window', where, false) : true;
    if (useWindow && typeof window === 'number' && window > 0 && window < nCtx) nCtx = window;
    return llamaConfig({
      name: str(raw, '_name_or_path', where, '') || undefined,
      dModel,
      nLayers: int(raw, 'num_hidden_layers', where),
      nHeads,
      nKvHeads: int(raw, 'num_key_value_heads', where, nHeads),
      dHead,
      dMlp: int(raw, 'intermediate_size', where),
      vocabSize: int(raw, 'vocab_size', where),
      nCtx,
      normEps: num(raw, 'rms_norm_eps', where, 1e-6),
      rope: ropeFromConfig(raw, dHead, where),
      act: activationOf(raw, 'hidden_act', where, 'silu'),
      biases: { qkv: qwen || attnBias, attnOut: !qwen && attnBias, mlp: false },
      tiedEmbeddings: bool(raw, 'tie_word_embeddings', where, false),
      bosTokenId: tokenId(raw, 'bos_token_id', null, int(raw, 'vocab_size', where)),
      eosTokenId: tokenId(raw, 'eos_token_id', null, int(raw, 'vocab_size', where)),
    });
  },

  load(reader, c) {
    const D = c.dModel;
    const F = c.dMlp;
    const q = c.nHeads * c.dHead;
    const kv = c.nKvHeads * c.dHead;
    const named = new Map<string, Float32Array>();
    named.set('embed.W_E', reader.read('model.embed_tokens.weight', [c.vocabSize, D]));
    for (let i = 0; i < c.nLayers; i++) {
      const l = `model.layers.${i}`;
      const p = `blocks.${i}`;
      named.set(`${p}.ln1.w`, reader.read(`${l}.input_layernorm.weight`, [D]));
      named.set(`${p}.attn.W_Q`, reader.read(`${l}.self_attn.q_proj.weight`, [q, D]));
      named.set(`${p}.attn.W_K`, reader.read(`${l}.self_attn.k_proj.weight`, [kv, D]));
      named.set(`${p}.attn.W_V`, reader.read(`${l}.self_attn.v_proj.weight`, [kv, D]));
      named.set(`${p}.attn.W_O`, reader.read(`${l}.self_attn.o_proj.weight`, [D, q]));
      if (c.biases.qkv) {
        named.set(`${p}.attn.b_Q`, reader.read(`${l}.self_attn.q_proj.bias`, [q]));
        named.set(`${p}.attn.b_K`, reader.read(`${l}.self_attn.k_proj.bias`, [kv]));
        named.set(`${p}.attn.b_V`, reader.read(`${l}.self_attn.v_proj.bias`, [kv]));
      }
      if (c.biases.attnOut) named.set(`${p}.attn.b_O`, reader.read(`${l}.self_attn.o_proj.bias`, [D]));
      named.set(`${p}.ln2.w`, reader.read(`${l}.post_attention_layernorm.weight`, [D]));
      named.set(`${p}.mlp.W_gate`, reader.read(`${l}.mlp.gate_proj.weight`, [F, D]));
      named.set(`${p}.mlp.W_in`, reader.read(`${l}.mlp.up_proj.weight`, [F, D]));
      named.set(`${p}.mlp.W_out`, reader.read(`${l}.mlp.down_proj.weight`, [D, F]));
    }
    named.set('ln_final.w', reader.read('model.norm.weight', [D]));
    if (!c.tiedEmbeddings) named.set('unembed.W_U', reader.read('lm_head.weight', [c.vocabSize, D]));
    else if (reader.has('lm_head.weight')) reader.read('lm_head.weight', [c.vocabSize, D]);
    return named;
  },

  canSave(c: ModelConfig) {
    return (
      c.family === 'llama' && c.norm === 'rms' && c.positional === 'rope' && c.rope?.rotaryDim === c.dHead && !c.rope.invFreq &&
      c.gatedMlp && !c.parallelAttnMlp && !c.attnOnly && !c.biases.mlp && (c.biases.qkv || !c.biases.attnOut)
    );
  },

  save(c, named) {
    const D = c.dModel;
    const F = c.dMlp;
    const dh = c.dHead;
    const qwen = c.biases.qkv && !c.biases.attnOut;
    const config: RawConfig = {
      architectures: [qwen ? 'Qwen2ForCausalLM' : 'LlamaForCausalLM'],
      model_type: qwen ? 'qwen2' : 'llama',
      hidden_size: D,
      num_hidden_layers: c.nLayers,
      num_attention_heads: c.nHeads,
      num_key_value_heads: c.nKvHeads,
      head_dim: dh,
      intermediate_size: F,
      vocab_size: c.vocabSize,
      max_position_embeddings: c.nCtx,
      rms_norm_eps: c.normEps,
      rope_theta: c.rope!.base,
      rope_scaling: null,
      hidden_act: { silu: 'silu', gelu_tanh: 'gelu_pytorch_tanh', gelu_erf: 'gelu', relu: 'relu' }[c.act],
      attention_bias: !qwen && c.biases.qkv,
      mlp_bias: false,
      tie_word_embeddings: c.tiedEmbeddings,
      bos_token_id: c.bosTokenId,
      eos_token_id: c.eosTokenId,
    };
    const { tensors, get, put } = tensorWriter(named);
    // An interleaved-RoPE model (llama2.c) becomes HF's half-split layout by permuting q/k rows per head.
    const qk = (w: Float32Array, heads: number, cols: number): Float32Array => (c.rope!.layout === 'interleaved' ? permuteRopeRows(w, heads, dh, cols) : w);
    const q = c.nHeads * dh;
    const kv = c.nKvHeads * dh;
    put('model.embed_tokens.weight', [c.vocabSize, D], get('embed.W_E'));
    for (let i = 0; i < c.nLayers; i++) {
      const p = `blocks.${i}`;
      const l = `model.layers.${i}`;
      put(`${l}.input_layernorm.weight`, [D], get(`${p}.ln1.w`));
      put(`${l}.self_attn.q_proj.weight`, [q, D], qk(get(`${p}.attn.W_Q`), c.nHeads, D));
      put(`${l}.self_attn.k_proj.weight`, [kv, D], qk(get(`${p}.attn.W_K`), c.nKvHeads, D));
      put(`${l}.self_attn.v_proj.weight`, [kv, D], get(`${p}.attn.W_V`));
      put(`${l}.self_attn.o_proj.weight`, [D, q], get(`${p}.attn.W_O`));
      if (c.biases.qkv) {
        put(`${l}.self_attn.q_proj.bias`, [q], qk(get(`${p}.attn.b_Q`), c.nHeads, 1));
        put(`${l}.self_attn.k_proj.bias`, [kv], qk(get(`${p}.attn.b_K`), c.nKvHeads, 1));
        put(`${l}.self_attn.v_proj.bias`, [kv], get(`${p}.attn.b_V`));
      }
      if (c.biases.attnOut) put(`${l}.self_attn.o_proj.bias`, [D], get(`${p}.attn.b_O`));
      put(`${l}.post_attention_layernorm.weight`, [D], get(`${p}.ln2.w`));
      put(`${l}.mlp.gate_proj.weight`, [F, D], get(`${p}.mlp.W_gate`));
      put(`${l}.mlp.up_proj.weight`, [F, D], get(`${p}.mlp.W_in`));
      put(`${l}.mlp.down_proj.weight`, [D, F], get(`${p}.mlp.W_out`));
    }
    put('model.norm.weight', [D], get('ln_final.w'));
    if (!c.tiedEmbeddings) put('lm_head.weight', [c.vocabSize, D], get('unembed.W_U'));
    return { config, tensors };
  },
};
