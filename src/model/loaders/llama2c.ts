// llama2.c checkpoints (legacy v0 .bin) into the common layout. The io reader returns views into the one
// buffer it read the file into, and the parameters are those views: one float32 copy in memory.
import { readLlama2c, type Llama2cConfig, type Llama2cWeights } from '../../io/llama2c.js';
import { llamaConfig, type ModelConfig } from '../config.js';
import { Transformer } from '../transformer.js';

/** llama2.c's run.c: RMSNorm eps 1e-5, RoPE on interleaved pairs with theta 10000, SwiGLU, BOS 1, EOS 2. */
export function llama2cModelConfig(h: Llama2cConfig, name?: string): ModelConfig {
  const dHead = h.dim / h.nHeads;
  return llamaConfig({
    name,
    dModel: h.dim,
    nLayers: h.nLayers,
    nHeads: h.nHeads,
    nKvHeads: h.nKvHeads,
    dHead,
    dMlp: h.hiddenDim,
    vocabSize: h.vocabSize,
    nCtx: h.seqLen,
    normEps: 1e-5,
    rope: { layout: 'interleaved', base: 10000, rotaryDim: dHead },
    tiedEmbeddings: h.sharedClassifier,
    bosTokenId: 1,
    eosTokenId: 2,
  });
}

/** Map llama2.c's weights to parameter names (w1 = gate, w3 = up, w2 = down). */
export function llama2cNamedParams(h: Llama2cConfig, w: Llama2cWeights): Map<string, Float32Array> {
  const named = new Map<string, Float32Array>();
  named.set('embed.W_E', w.tokenEmbedding);
  for (let i = 0; i < h.nLayers; i++) {
    const p = `blocks.${i}`;
    named.set(`${p}.ln1.w`, w.rmsAtt[i]!);
    named.set(`${p}.attn.W_Q`, w.wq[i]!);
    named.set(`${p}.attn.W_K`, w.wk[i]!);
    named.set(`${p}.attn.W_V`, w.wv[i]!);
    named.set(`${p}.attn.W_O`, w.wo[i]!);
    named.set(`${p}.ln2.w`, w.rmsFfn[i]!);
    named.set(`${p}.mlp.W_gate`, w.w1[i]!);
    named.set(`${p}.mlp.W_in`, w.w3[i]!);
    named.set(`${p}.mlp.W_out`, w.w2[i]!);
  }
  named.set('ln_final.w', w.rmsFinal);
  if (!h.sharedClassifier) named.set('unembed.W_U', w.wcls!);
  return named;
}

export function loadLlama2cModel(file: string): Transformer {
  const { config, weights } = readLlama2c(file);
  const name = file.replace(/^.*[\\/]/, '').replace(/\.bin$/, '');
  return Transformer.fromNamed(llama2cModelConfig(config, name), llama2cNamedParams(config, weights), file);
}
