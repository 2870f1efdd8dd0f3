// Save a model as a Hugging Face directory (config.json + model.safetensors, or shards) that loadModel
// reads back: in its family's real HF layout when that layout expresses the config exactly (so other
// tools read it too), else in Loupe's own layout (model_type "loupe").
import { saveHfCheckpoint } from '../io/hf.js';
import type { TensorToWrite, WritableDType } from '../io/safetensors.js';
import { HF_FAMILIES } from './loaders/hf.js';
import type { Transformer } from './transformer.js';

export interface SaveOptions {
  /** Storage dtype (default F32). */
  dtype?: WritableDType;
  /** Shard the weights into files of at most this many bytes. */
  maxShardBytes?: number;
  /** Write Loupe's own layout even when an HF family could express the model. */
  loupeLayout?: boolean;
  /** Extra files for the directory, e.g. {"tokenizer.json": text}. */
  extraFiles?: Record<string, string | Uint8Array>;
}

export function saveModel(model: Transformer, dir: string, opts: SaveOptions = {}): void {
  const c = model.config;
  const family = opts.loupeLayout ? HF_FAMILIES.find((f) => f.modelTypes.includes('loupe'))! : HF_FAMILIES.find((f) => f.canSave(c))!;
  const named = new Map(model.parameters().map(([n, t]) => [n, t.data]));
  const { config, tensors } = family.save(c, named);
  const dtype = opts.dtype ?? 'F32';
  const out = new Map<string, TensorToWrite>();
  for (const [name, t] of tensors) out.set(name, { dtype, shape: t.shape, data: t.data });
  if (c.name && config.loupe_config === undefined) config._name_or_path = c.name;
  config.torch_dtype = { F32: 'float32', F16: 'float16', BF16: 'bfloat16' }[dtype];
  saveHfCheckpoint(dir, { config, tensors: out, maxShardBytes: opts.maxShardBytes, extraFiles: opts.extraFiles });
}
