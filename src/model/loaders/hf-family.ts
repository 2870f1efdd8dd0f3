// What each Hugging Face family module provides: config.json <-> ModelConfig, checkpoint tensors <->
// the common parameter names.
import type { ModelConfig } from '../config.js';
import type { RawConfig, TensorReader } from './hf-common.js';

export interface ExportedTensor {
  shape: number[];
  data: Float32Array;
}

export interface HfFamily {
  /** config.json "model_type" values this module reads. */
  modelTypes: readonly string[];
  /** config.json "architectures" entries this module reads (when model_type is absent). */
  architectures: readonly string[];
  config(raw: RawConfig, where: string): ModelConfig;
  /** Named parameter arrays, as params.ts names them. */
  load(reader: TensorReader, c: ModelConfig, where: string): Map<string, Float32Array>;
  /** Non-parameter buffers some checkpoints carry (causal masks, rotary tables). */
  ignore: RegExp | null;
  /** Whether this family's HF format can express the config exactly. */
  canSave(c: ModelConfig): boolean;
  save(c: ModelConfig, named: Map<string, Float32Array>): { config: RawConfig; tensors: Map<string, ExportedTensor> };
}
