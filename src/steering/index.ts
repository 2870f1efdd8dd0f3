// Steering: change what a model does by intervening on a direction during generation.
//   direction.ts    a dictionary feature or a raw vector at a hook: how to read its value, what to write
//   intervene.ts    add / clamp / cap / ablate on one activation row, several directions solved jointly
//   hooks.ts        the interventions as forward hooks over chosen positions, re-reading values after steering
//   steer.ts        paired generation (unsteered and steered, same seeds), fluency cost, concept rates, sweeps
//   contrastive.ts  steering vectors from prompt pairs (mean activation difference at a hook)
//   promote.ts      the residual direction that raises a word's logits and moves the other tokens least
//   feature-choice.ts  dictionary features for a word by output evidence (logit effect, specificity)
//   sample.ts       many samples of one prompt as one KV-cached batch, each row with its own seed
//   fluency.ts      per-token loss of continuations under the unsteered model
//   concept.ts      concept matching over generated text
//   report.ts       the JSON form shared by the CLI and the HTTP API; defaults.ts the measured defaults
export { featureDirection, vectorDirection, readValue, readRaw, type SteeringDirection } from './direction.js';
export { steerRow, checkInterventions, STEERING_MODES, type Intervention, type SteeringMode } from './intervene.js';
export { steeringHooks, POSITION_SELECTIONS, type PositionSelection, type SteeredPosition, type SteeringHookOptions } from './hooks.js';
export { steer, steerSweep, maxDeviation, type SteerOptions, type SteerResult, type SteerSide, type SweepResult, type SweepRow } from './steer.js';
export { contrastiveVector, contrastiveDirection, CONTRAST_AGGREGATES, type ContrastAggregate, type ContrastiveOptions, type ContrastiveVector } from './contrastive.js';
export { continuationLoss, type ContinuationLoss } from './fluency.js';
export { sampleBatch, type BatchSample, type BatchSampleOptions } from './sample.js';
export { conceptRegex, matchRate } from './concept.js';
export { STEER_DEFAULTS } from './defaults.js';
export { promoteVector, promoteDirection, wordTokens, type PromoteOptions, type PromoteVector } from './promote.js';
export { featuresForWord, type FeatureChoice } from './feature-choice.js';
export { steerReport, sweepReport } from './report.js';
