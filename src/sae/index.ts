// Dictionary learning: sparse autoencoders and transcoders.
//   Sae (sae.ts)                 config + weights; encode/decode as tensor ops, encodeSparse for bulk work
//   architectures/               relu, topk, batchtopk, jumprelu, transcoder-topk, transcoder-relu, by name
//   trainSae (trainer.ts)        buffered, normalised training with Adam, dead-latent tracking, checkpoints, resume
//   trainSaeOnText / OnCache     the same, fed by a model over a corpus, or by an activation cache
//   saveSae / loadSae            SAELens layout (cfg.json + sae_weights.safetensors)
//   spliceHooks                  put a dictionary into a model run (with or without the error term; edit latents)
//   evaluateSae                  L0, MSE, FVU, cosine, dead fraction, CE clean/spliced/ablated, loss recovered, KL
//   runSweep                     scaling sweeps over size and k (or L1) with power-law fits, table and SVG
export { Sae, PARAM_NAMES, paramShapes, type SaeParams, type ParamName } from './sae.js';
export { defaultConfig, checkConfig, NORMALIZE_MODES, type SaeConfig, type NormalizeActivations } from './config.js';
export { getArchitecture, architectureNames, registerArchitecture, type Architecture } from './architectures/index.js';
export type { SparseLatents } from './kernels.js';
export { initializeSae, geometricMedian, normScalingFactor, type InitOptions } from './init.js';
export { trainStep, StepContext, type TrainingRule, type RuleOptions } from './train-step.js';
export { SaeOptimizer, lrAt } from './optimizer.js';
export { resolveTrainOptions, checkArchitectureSettings, type TrainOptions, type ResolvedTrainOptions } from './trainer-options.js';
export { trainSae, type TrainRunOptions, type TrainResult, type TrainProgress } from './trainer.js';
export { trainSaeOnText, trainSaeOnCache, type TextTrainOptions } from './text-training.js';
export { saveSae, loadSae, parseSaeConfig, readSaeInfo, CFG_FILE, WEIGHTS_FILE, type SaveOptions } from './format.js';
export { readCheckpoint, listCheckpoints, type TrainerState } from './checkpoint.js';
export { spliceHooks, zeroAblationHook, reconstructRows, type SpliceOptions, type SpliceEvent } from './splice.js';
export { evaluateSae, evaluateReconstruction, checkSaeFitsModel, type EvaluateOptions, type SaeEvalResult } from './evaluate.js';
export { MetricsAccumulator, logDensityHistogram, type ReconstructionMetrics } from './metrics.js';
export { runSweep, type SweepOptions, type SweepRunSettings, type SweepResult, type SweepRun } from './sweep.js';
export { fitPowerLaw, evalPowerLaw, formatPowerLaw, formatPower, type PowerLaw } from './power-law.js';
