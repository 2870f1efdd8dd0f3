// Circuits: transcoders for every layer, attribution graphs through the frozen replacement model, and
// interventions that test them (docs/circuits.md).
// - TranscoderSet: per-layer transcoders or a cross-layer transcoder, loaded, saved, checked against a model;
// - trainTranscoders / trainClt / evaluateTranscoders: training from one harvest, quality per layer;
// - attribute: the graph of a prompt (exact edges, influence, pruning, replacement/completeness scores);
// - writeGraphJson / readGraphJson / checkGraphExactness: circuit-tracer graph JSON and its exactness check;
// - interveneFeatures: clamp or ablate features, with attention frozen or recomputed;
// - organisms/: the two-hop model organism.
export { TranscoderSet, inputHook, outputHook, INPUT_SITES, type InputSite, type TranscoderKind, type SourceLayer, type LayerQuality } from './transcoder-set.js';
export { trainTranscoders, type TrainTranscodersOptions, type TrainTranscodersResult } from './train.js';
export { trainClt, type CltTrainOptions, type CltTrainResult, type CltProgress } from './clt-train.js';
export { evaluateTranscoders, type TranscoderEvalOptions, type TranscoderEvalResult } from './evaluate.js';
export { FanOut } from './fan-out.js';
export { prepareReplacement, freezeHooks, type ReplacementState } from './replacement.js';
export { FrozenBackward } from './frozen-backward.js';
export { attribute, salientLogits, type AttributeOptions, type AttributionGraph, type Exactness, type NodeValues } from './attribute.js';
export { NodeIndex, nodeId, parseNodeId, type NodeKind, type ParsedNodeId } from './node-index.js';
export { findThreshold, cumulativeShares } from './influence.js';
export { writeGraphJson, readGraphJson, graphNodes, graphHeader, type GraphJson, type GraphNodeJson, type GraphLinkJson } from './graph-json.js';
export { checkGraphExactness, type ExactnessReport } from './check.js';
export { loadLabels, parseLabelSpec } from './labels.js';
export { interveneFeatures, parseIntervention, type FeatureIntervention, type InterveneResult } from './intervene.js';
export { runTwoHop, type TwoHopOptions, type TwoHopReport } from './organisms/two-hop-run.js';
export { twoHopCorpus, twoHopQuestion, PEOPLE, CITIES, COUNTRIES, CITY_COUNTRY } from './organisms/two-hop.js';
export { cityFeatureSwap, type SwapReport } from './organisms/two-hop-swap.js';
