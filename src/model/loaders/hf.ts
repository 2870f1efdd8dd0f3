// Hugging Face checkpoint directories: pick the family from config.json (model_type, else
// architectures), map its tensors into the common layout, build the Transformer. Tensors are read one at
// a time and float16/bfloat16 are decoded straight into float32: one float32 copy of the model.
import { FormatError, closestNames } from '../../errors.js';
import { openHfCheckpoint, readHfConfig } from '../../io/hf.js';
import type { ModelConfig } from '../config.js';
import { Transformer } from '../transformer.js';
import { TensorReader, type RawConfig } from './hf-common.js';
import type { HfFamily } from './hf-family.js';
import { gpt2Family } from './hf-gpt2.js';
import { llamaFamily } from './hf-llama.js';
import { loupeFamily } from './hf-loupe.js';
import { neoxFamily } from './hf-neox.js';

/** Every family the HF loader reads, in the order save() prefers them. */
export const HF_FAMILIES: readonly HfFamily[] = [llamaFamily, gpt2Family, neoxFamily, loupeFamily];

export function familyOf(raw: RawConfig, modelType: string | undefined, architectures: readonly string[], where: string): HfFamily {
  if (modelType !== undefined) {
    const f = HF_FAMILIES.find((x) => x.modelTypes.includes(modelType));
    if (f) return f;
    const known = HF_FAMILIES.flatMap((x) => x.modelTypes);
    throw new FormatError(where, `unknown architecture: model_type "${modelType}" (supported: ${known.join(', ')}; closest: ${closestNames(modelType, known, 2).join(', ')})`);
  }
  for (const a of architectures) {
    const f = HF_FAMILIES.find((x) => x.architectures.includes(a));
    if (f) return f;
  }
  const known = HF_FAMILIES.flatMap((x) => x.architectures);
  void raw;
  throw new FormatError(where, `unknown architecture: ${JSON.stringify(architectures)} (supported: ${known.join(', ')})`);
}

/** The ModelConfig a checkpoint directory describes (reads config.json only). */
export function hfModelConfig(dir: string): ModelConfig {
  const cfg = readHfConfig(dir);
  const where = `${dir}/config.json`;
  return familyOf(cfg.raw, cfg.modelType, cfg.architectures, where).config(cfg.raw, where);
}

export function loadHfModel(dir: string): Transformer {
  const ckpt = openHfCheckpoint(dir);
  try {
    const where = `${dir}/config.json`;
    const family = familyOf(ckpt.config.raw, ckpt.config.modelType, ckpt.config.architectures, where);
    const config = family.config(ckpt.config.raw, where);
    const reader = new TensorReader(ckpt, dir);
    const named = family.load(reader, config, dir);
    reader.finish(family.ignore);
    return Transformer.fromNamed(config, named, dir);
  } finally {
    ckpt.close();
  }
}
