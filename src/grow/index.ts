// Growing models: train small transformers from text and watch circuits form.
// - grow(options): tokenizer training, data, AdamW + warmup/cosine, checkpoints in Hugging Face layout,
//   resume, metrics and the training curve (grow.ts; run spec in spec.ts).
// - runDynamics(dir): per checkpoint held-out loss, head scores and ICL score; dynamicsSvg() plots it.
// - iclScore(): Olsson et al.'s in-context-learning score.
// - organisms: ready recipes (the induction-head organism).
export { grow, readRunRecord, checkpointStepSet, RUN_FILE, HELDOUT_FILE, TOKENIZER_FILE, type GrowOptions, type GrowProgress, type GrowResult, type RunRecord } from './grow.js';
export {
  resolveSpec, validateSpec, modelConfigFor, archDifferences, ARCH_NAMES, DEFAULT_ARCH, DEFAULT_TRAIN, DEFAULT_DATA, DEFAULT_CHECKPOINTS,
  type ArchName, type ArchSpec, type TrainSpec, type DataSpec, type CheckpointSpec, type GrowSpec, type GrowSpecInput,
} from './spec.js';
export { CheckpointStore, CheckpointWriteError, listCheckpoints, readTrainerState, isOutOfSpace, defaultCheckpointIo, TRAINER_STATE_FILE, OPTIMIZER_FILE, type CheckpointInfo, type CheckpointIo, type TrainerState } from './checkpoints.js';
export { trainingBatch, evalBatches, repeatedSegmentRow, stepRng, type Batch, type BatchSpec, type RepeatOptions } from './batches.js';
export { chooseSplit, readDocumentSets, encodeDocuments, separatorIdOf, type DocumentSets, type TokenStreamData } from './corpus.js';
export { makeOptimizer, trainStep, meanLoss, positionLosses, type StepResult } from './step.js';
export { iclScore, iclPositions, contextWindows, lossByPosition, type IclOptions, type IclResult } from './icl.js';
export { runDynamics, phaseChange, type DynamicsOptions, type DynamicsResult, type CheckpointDynamics, type PhaseChange } from './dynamics.js';
export { dynamicsSvg } from './dynamics-plot.js';
export { readMetrics, trainingCurveSvg, METRICS_FILE, CURVE_FILE, type MetricsLine, type TrainLine, type EvalLine } from './metrics.js';
export { growOrganism, inductionRecipe, defaultTextPath, ORGANISMS, type OrganismOptions, type OrganismResult, type OrganismRecipe } from './organisms.js';
