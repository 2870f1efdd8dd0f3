// Small random models of every family for tests (seeded, random biases and norm weights so every
// parameter matters).
import { gpt2Config, llamaConfig, neoxConfig, type ModelConfig } from '../config.js';
import { Transformer } from '../transformer.js';

export const SMALL_MODEL_CONFIGS: Record<string, ModelConfig> = {
  'llama-gqa': llamaConfig({ dModel: 32, nLayers: 2, nHeads: 4, nKvHeads: 2, dMlp: 48, vocabSize: 41, nCtx: 24 }),
  'llama-interleaved': llamaConfig({ dModel: 32, nLayers: 2, nHeads: 4, nKvHeads: 1, dMlp: 40, vocabSize: 41, nCtx: 24, rope: { layout: 'interleaved', base: 10000, rotaryDim: 8 } }),
  gpt2: gpt2Config({ dModel: 32, nLayers: 2, nHeads: 4, vocabSize: 41, nCtx: 24 }),
  neox: neoxConfig({ dModel: 32, nLayers: 2, nHeads: 4, dMlp: 64, vocabSize: 41, nCtx: 24, rotaryPct: 0.5 }),
  'attn-only': gpt2Config({ dModel: 32, nLayers: 2, nHeads: 4, vocabSize: 41, nCtx: 24, attnOnly: true, dMlp: 0 }),
};

export function smallModel(name: keyof typeof SMALL_MODEL_CONFIGS | string, seed = 1): Transformer {
  const c = SMALL_MODEL_CONFIGS[name];
  if (!c) throw new Error(`no small model ${name}`);
  return Transformer.random(c, { seed, std: 0.25, randomAffine: true });
}
