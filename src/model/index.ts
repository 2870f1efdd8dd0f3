// The model layer: one config-driven transformer (Llama, GPT-2, NeoX families) with TransformerLens hook
// points, loaders for llama2.c and Hugging Face checkpoints, HF-layout saving, KV-cached generation (one
// prompt, or a batch of prompts of different lengths), and the tokenizers (re-exported here so
// `loupe/model` offers loadTokenizer beside loadModel).
export { Transformer, type RunOptions, type RunResult, type GradientResult } from './transformer.js';
export {
  llamaConfig, gpt2Config, neoxConfig, validateConfig, configFromJson, parameterCount,
  type ModelConfig, type ConfigInput, type ArchFamily, type ActivationKind, type NormKind, type PositionalKind, type RopeConfig, type BiasConfig,
} from './config.js';
export { TokenBatch, toBatch, type TokenInput } from './batch.js';
export {
  ActivationCache, HookRunner, hookNames, hookShape, hookLayer,
  type HookContext, type ForwardHook, type ForwardHookFn, type GradHook, type GradHookFn, type HookSelector, type CacheRequest,
} from './hooks.js';
export { parameterShapes, initParams, type TransformerParams, type BlockParams, type AttnParams, type MlpParams, type NormParams, type InitOptions } from './params.js';
export { KVCache } from './kv-cache.js';
export { generate, defaultStopTokens, type GenerateOptions, type GenerateResult, type StopReason } from './generate.js';
export { generateBatch, type GenerateBatchOptions } from './generate-batch.js';
export { sampleToken, argmax, type SamplingOptions } from './sampling.js';
export { loadModel, loadLlama2cModel, loadHfModel, hfModelConfig, HF_FAMILIES } from './loaders/index.js';
export { saveModel, type SaveOptions } from './save.js';
export * from './tokenizers/index.js';
