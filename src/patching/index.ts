// Patching and ablation: causal interventions that locate where a behaviour is computed.
//   metric.ts       logit difference / answer loss at the last position; single-token answers
//   sites.ts        site kinds (resid_pre, attn_out, mlp_out, heads, final ...) and their [layer][position|head] grids
//   activation.ts   exact activation patching, clean <-> corrupted, batched patched runs
//   attribution.ts  attribution patching: the gradient estimate of the same grids in one backward pass
//   compare.ts      agreement of the two (Pearson r per site kind)
//   ablation.ts     zero / mean / resample ablation of neurons, heads and dictionary features
//   report.ts       the JSON form shared by the CLI and the HTTP API
export { answerToken, checkMetric, metricOf, metricRows, metricTensor, METRIC_KINDS, type MetricKind, type PatchMetric } from './metric.js';
export { parseSites, siteGrid, sliceRuns, SITE_KINDS, type SiteGrid, type SiteKind } from './sites.js';
export { activationPatching, checkPair, type PatchDirection, type PatchOptions, type PatchResult, type SiteEffects } from './activation.js';
export { attributionPatching } from './attribution.js';
export { compareSweeps, pearson, type Agreement, type SiteAgreement } from './compare.js';
export { ablationHooks, ablationEffect, parseTargets, ABLATION_METHODS, type AblationTarget, type AblationMethod, type AblationOptions, type AblationEffect } from './ablation.js';
export { patchReport } from './report.js';
