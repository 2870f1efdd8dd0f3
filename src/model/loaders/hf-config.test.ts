// config.json -> ModelConfig for real published configs (values as on the Hugging Face hub).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ropeInvFreq } from '../../tensor/index.js';
import { familyOf } from './hf.js';

const read = (raw: Record<string, unknown>) => familyOf(raw, raw.model_type as string | undefined, (raw.architectures as string[]) ?? [], 'config.json').config(raw, 'config.json');

test('gpt2 (124M) config', () => {
  const c = read({ model_type: 'gpt2', architectures: ['GPT2LMHeadModel'], n_embd: 768, n_head: 12, n_layer: 12, n_ctx: 1024, n_positions: 1024, vocab_size: 50257, activation_function: 'gelu_new', layer_norm_epsilon: 1e-5, bos_token_id: 50256, eos_token_id: 50256 });
  assert.equal(c.family, 'gpt2');
  assert.equal(c.dMlp, 3072);
  assert.equal(c.dHead, 64);
  assert.equal(c.act, 'gelu_tanh');
  assert.equal(c.positional, 'learned');
  assert.ok(c.tiedEmbeddings);
  assert.equal(c.bosTokenId, 50256);
});

test('pythia-70m config: partial rotary 0.25 of 64 = 16 dims, parallel residual, exact GELU', () => {
  const c = read({ model_type: 'gpt_neox', architectures: ['GPTNeoXForCausalLM'], hidden_size: 512, num_attention_heads: 8, num_hidden_layers: 6, intermediate_size: 2048, max_position_embeddings: 2048, rotary_pct: 0.25, rotary_emb_base: 10000, use_parallel_residual: true, hidden_act: 'gelu', layer_norm_eps: 1e-5, vocab_size: 50304, tie_word_embeddings: false, bos_token_id: 0, eos_token_id: 0 });
  assert.equal(c.family, 'neox');
  assert.deepEqual(c.rope, { layout: 'half', base: 10000, rotaryDim: 16 });
  assert.ok(c.parallelAttnMlp);
  assert.equal(c.act, 'gelu_erf');
  assert.ok(!c.tiedEmbeddings);
});

test('Llama 3 config: GQA, rope_theta, llama3 rope scaling of the low frequencies only', () => {
  const c = read({
    model_type: 'llama', architectures: ['LlamaForCausalLM'], hidden_size: 2048, num_attention_heads: 32, num_key_value_heads: 8, num_hidden_layers: 16,
    intermediate_size: 8192, max_position_embeddings: 131072, rms_norm_eps: 1e-5, rope_theta: 500000, vocab_size: 128256, tie_word_embeddings: true,
    rope_scaling: { factor: 32, high_freq_factor: 4, low_freq_factor: 1, original_max_position_embeddings: 8192, rope_type: 'llama3' }, bos_token_id: 128000, eos_token_id: [128001, 128008, 128009],
  });
  assert.equal(c.nKvHeads, 8);
  assert.equal(c.dHead, 64);
  assert.equal(c.eosTokenId, 128001);
  const base = ropeInvFreq(64, 500000);
  const inv = c.rope!.invFreq!;
  assert.equal(inv.length, 32);
  assert.ok(Math.abs(inv[0]! - base[0]!) < 1e-12, 'highest frequency unchanged');
  assert.ok(Math.abs(inv[31]! - base[31]! / 32) < 1e-12, 'lowest frequency divided by the factor');
  for (let i = 0; i < 32; i++) assert.ok(inv[i]! <= base[i]! + 1e-15 && inv[i]! >= base[i]! / 32 - 1e-15);
});

test('Qwen2 and Mistral configs: qkv biases without an output bias; context capped at a sliding window', () => {
  const q = read({ model_type: 'qwen2', architectures: ['Qwen2ForCausalLM'], hidden_size: 896, num_attention_heads: 14, num_key_value_heads: 2, num_hidden_layers: 24, intermediate_size: 4864, max_position_embeddings: 32768, rms_norm_eps: 1e-6, rope_theta: 1000000, vocab_size: 151936, tie_word_embeddings: true, use_sliding_window: false, sliding_window: 32768 });
  assert.deepEqual(q.biases, { qkv: true, attnOut: false, mlp: false });
  assert.equal(q.nCtx, 32768);
  const m = read({ model_type: 'mistral', architectures: ['MistralForCausalLM'], hidden_size: 4096, num_attention_heads: 32, num_key_value_heads: 8, num_hidden_layers: 32, intermediate_size: 14336, max_position_embeddings: 32768, rms_norm_eps: 1e-5, rope_theta: 10000, vocab_size: 32000, sliding_window: 4096 });
  assert.equal(m.nCtx, 4096);
  assert.deepEqual(m.biases, { qkv: false, attnOut: false, mlp: false });
});

test('unsupported settings are refused by name', () => {
  assert.throws(() => read({ model_type: 'llama', hidden_size: 64, num_attention_heads: 4, num_hidden_layers: 1, intermediate_size: 128, vocab_size: 10, rope_scaling: { rope_type: 'yarn', factor: 4 } }), /yarn/);
  assert.throws(() => read({ model_type: 'gpt2', n_embd: 64, n_head: 4, n_layer: 1, vocab_size: 10, activation_function: 'swish_glu' }), /swish_glu/);
  assert.throws(() => read({ architectures: ['BloomForCausalLM'] }), /unknown architecture/);
});
