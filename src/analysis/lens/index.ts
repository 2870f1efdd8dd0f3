// Analyses built on hook points: logit lens, direct logit attribution, head detectors, loss on text.
export { logitLens, applyLnFinal, type LogitLensOptions, type LogitLensResult } from './logit-lens.js';
export { accumulatedResidual, accumulatedNames, decomposeResidual, componentNames, type PositionPick } from './residual.js';
export { directLogitAttribution, type DlaOptions, type DlaResult } from './direct-logit-attribution.js';
export { headScores, repeatedRandomTokens, type HeadDetectorOptions, type HeadScores } from './head-detectors.js';
export { textLoss, streamLoss, type TextLossOptions, type LossResult } from './text-loss.js';
