// GPT-2 (GPT2LMHeadModel). Tensors: wte [V, D], wpe [n_positions, D], h.{i}.ln_1/ln_2, h.{i}.attn.c_attn
// and c_proj, h.{i}.mlp.c_fc and c_proj, ln_f; optionally prefixed "transformer.", lm_head when untied.
// The attention and MLP matrices are Conv1D weights stored [in, out], so they are transposed into the
// common [out, in] layout one at a time (the peak is the model plus one matrix).
import { FormatError } from '../../errors.js';
import { gpt2Config, type ActivationKind, type ModelConfig } from '../config.js';
import { bool, int, num, str, tokenId, tensorWriter, transpose2d, transposedColumns, type RawConfig, type TensorReader } from './hf-common.js';
import type { HfFamily } from './hf-family.js';

const ACTS: Record<string, ActivationKind> = { gelu_new: 'gelu_tanh', gelu_pytorch_tanh: 'gelu_tanh', gelu_fast: 'gelu_tanh', gelu: 'gelu_erf', relu: 'relu', silu: 'silu' };

function activationOf(raw: RawConfig, key: string, where: string, fallback: string): ActivationKind {
  const name = str(raw, key, where, fallback);
  const a = ACTS[name];
  if (!a) throw new FormatError(where, `config.json "${key}": activation "${name}" is not supported (supported: ${Object.keys(ACTS).join(', ')})`);
  return a;
}
export { activationOf };

export const gpt2Family: HfFamily = {
  modelTypes: ['gpt2'],
  architectures: ['GPT2LMHeadModel', 'GPT2Model'],
  ignore: /(^|\.)attn\.(bias|masked_bias)$/,

  config(raw, where) {
    if (bool(raw, 'scale_attn_by_inverse_layer_idx', where, false)) throw new FormatError(where, 'scale_attn_by_inverse_layer_idx is not supported');
    if (!bool(raw, 'scale_attn_weights', where, true)) throw new FormatError(where, 'scale_attn_weights=false is not supported');
    const dModel = int(raw, 'n_embd', where);
    const inner = raw.n_inner;
    return gpt2Config({
      name: str(raw, '_name_or_path', where, '') || undefined,
      dModel,
      nLayers: int(raw, 'n_layer', where),
      nHeads: int(raw, 'n_head', where),
      vocabSize: int(raw, 'vocab_size', where),
      nCtx: int(raw, 'n_positions', where, int(raw, 'n_ctx', where, 1024)),
      dMlp: inner === undefined || inner === null ? 4 * dModel : int(raw, 'n_inner', where),
      normEps: num(raw, 'layer_norm_epsilon', where, 1e-5),
      act: activationOf(raw, 'activation_function', where, 'gelu_new'),
      tiedEmbeddings: bool(raw, 'tie_word_embeddings', where, true),
      bosTokenId: tokenId(raw, 'bos_token_id', 50256, int(raw, 'vocab_size', where)),
      eosTokenId: tokenId(raw, 'eos_token_id', 50256, int(raw, 'vocab_size', where)),
    });
  },

  load(reader, c) {
    const pre = reader.has('wte.weight') ? '' : 'transformer.';
    const D = c.dModel;
    const F = c.dMlp;
    const named = new Map<string, Float32Array>();
    named.set('embed.W_E', reader.read(`${pre}wte.weight`, [c.vocabSize, D]));
    named.set('pos_embed.W_pos', reader.read(`${pre}wpe.weight`, [c.nCtx, D]));
    const norm = (from: string, to: string): void => {
      named.set(`${to}.w`, reader.read(`${from}.weight`, [D]));
      named.set(`${to}.b`, reader.read(`${from}.bias`, [D]));
    };
    for (let i = 0; i < c.nLayers; i++) {
      const h = `${pre}h.${i}`;
      const p = `blocks.${i}`;
      norm(`${h}.ln_1`, `${p}.ln1`);
      const cAttn = reader.read(`${h}.attn.c_attn.weight`, [D, 3 * D]);
      named.set(`${p}.attn.W_Q`, transposedColumns(cAttn, D, 3 * D, 0, D));
      named.set(`${p}.attn.W_K`, transposedColumns(cAttn, D, 3 * D, D, 2 * D));
      named.set(`${p}.attn.W_V`, transposedColumns(cAttn, D, 3 * D, 2 * D, 3 * D));
      const bAttn = reader.read(`${h}.attn.c_attn.bias`, [3 * D]);
      named.set(`${p}.attn.b_Q`, bAttn.slice(0, D));
      named.set(`${p}.attn.b_K`, bAttn.slice(D, 2 * D));
      named.set(`${p}.attn.b_V`, bAttn.slice(2 * D));
      named.set(`${p}.attn.W_O`, transpose2d(reader.read(`${h}.attn.c_proj.weight`, [D, D]), D, D));
      named.set(`${p}.attn.b_O`, reader.read(`${h}.attn.c_proj.bias`, [D]));
      norm(`${h}.ln_2`, `${p}.ln2`);
      named.set(`${p}.mlp.W_in`, transpose2d(reader.read(`${h}.mlp.c_fc.weight`, [D, F]), D, F));
      named.set(`${p}.mlp.b_in`, reader.read(`${h}.mlp.c_fc.bias`, [F]));
      named.set(`${p}.mlp.W_out`, transpose2d(reader.read(`${h}.mlp.c_proj.weight`, [F, D]), F, D));
      named.set(`${p}.mlp.b_out`, reader.read(`${h}.mlp.c_proj.bias`, [D]));
    }
    norm(`${pre}ln_f`, 'ln_final');
    if (!c.tiedEmbeddings) named.set('unembed.W_U', reader.read('lm_head.weight', [c.vocabSize, D]));
    else if (reader.has('lm_head.weight')) reader.read('lm_head.weight', [c.vocabSize, D]); // a tied copy some exports keep
    return named;
  },

  canSave(c: ModelConfig) {
    return (
      c.family === 'gpt2' && c.norm === 'layer' && c.positional === 'learned' && !c.gatedMlp && !c.parallelAttnMlp && !c.attnOnly &&
      c.biases.qkv && c.biases.attnOut && c.biases.mlp && c.nKvHeads === c.nHeads && c.nHeads * c.dHead === c.dModel && c.act !== 'silu'
    );
  },

  save(c, named) {
    const D = c.dModel;
    const F = c.dMlp;
    const act = { gelu_tanh: 'gelu_new', gelu_erf: 'gelu', relu: 'relu', silu: 'silu' }[c.act];
    const config: RawConfig = {
      architectures: ['GPT2LMHeadModel'],
      model_type: 'gpt2',
      n_embd: D,
      n_layer: c.nLayers,
      n_head: c.nHeads,
      n_inner: F,
      n_positions: c.nCtx,
      n_ctx: c.nCtx,
      vocab_size: c.vocabSize,
      layer_norm_epsilon: c.normEps,
      activation_function: act,
      tie_word_embeddings: c.tiedEmbeddings,
      bos_token_id: c.bosTokenId,
      eos_token_id: c.eosTokenId,
    };
    const { tensors, get, put } = tensorWriter(named);
    put('wte.weight', [c.vocabSize, D], get('embed.W_E'));
    put('wpe.weight', [c.nCtx, D], get('pos_embed.W_pos'));
    for (let i = 0; i < c.nLayers; i++) {
      const p = `blocks.${i}`;
      const h = `h.${i}`;
      put(`${h}.ln_1.weight`, [D], get(`${p}.ln1.w`));
      put(`${h}.ln_1.bias`, [D], get(`${p}.ln1.b`));
      const qkv = new Float32Array(3 * D * D); // [out 3D, in D], transposed below to Conv1D's [in, out]
      qkv.set(get(`${p}.attn.W_Q`), 0);
      qkv.set(get(`${p}.attn.W_K`), D * D);
      qkv.set(get(`${p}.attn.W_V`), 2 * D * D);
      put(`${h}.attn.c_attn.weight`, [D, 3 * D], transpose2d(qkv, 3 * D, D));
      const b = new Float32Array(3 * D);
      b.set(get(`${p}.attn.b_Q`), 0);
      b.set(get(`${p}.attn.b_K`), D);
      b.set(get(`${p}.attn.b_V`), 2 * D);
      put(`${h}.attn.c_attn.bias`, [3 * D], b);
      put(`${h}.attn.c_proj.weight`, [D, D], transpose2d(get(`${p}.attn.W_O`), D, D));
      put(`${h}.attn.c_proj.bias`, [D], get(`${p}.attn.b_O`));
      put(`${h}.ln_2.weight`, [D], get(`${p}.ln2.w`));
      put(`${h}.ln_2.bias`, [D], get(`${p}.ln2.b`));
      put(`${h}.mlp.c_fc.weight`, [D, F], transpose2d(get(`${p}.mlp.W_in`), F, D));
      put(`${h}.mlp.c_fc.bias`, [F], get(`${p}.mlp.b_in`));
      put(`${h}.mlp.c_proj.weight`, [F, D], transpose2d(get(`${p}.mlp.W_out`), D, F));
      put(`${h}.mlp.c_proj.bias`, [D], get(`${p}.mlp.b_out`));
    }
    put('ln_f.weight', [D], get('ln_final.w'));
    put('ln_f.bias', [D], get('ln_final.b'));
    if (!c.tiedEmbeddings) put('lm_head.weight', [c.vocabSize, D], get('unembed.W_U'));
    return { config, tensors };
  },
};
