// Features: what each dictionary latent responds to and what it does.
// - buildFeatures: one streaming, resumable pass over a corpus into a DuckDB feature database;
// - featureRecord / listFeatures: a feature's page (examples, bins, histogram, logits, neighbours, explanations);
// - inspectPrompt: each token's strongest features for any prompt, live, by the build's own activation code;
// - searchFeatures: features for a word by input, output and explanation evidence;
// - ActivationSource: the seam to the model + dictionary (SyntheticSource for tests and demos).
export { buildFeatures, type BuildOptions, type BuildProgress, type BuildSummary } from './build.js';
export { featureRecord, listFeatures, explanationsOf, exampleView, type FeatureRecord, type ExampleView, type ExplanationView, type ScoreView, type ShowOptions } from './show.js';
export { inspectPrompt, inspectWith, type InspectOptions, type InspectResult } from './inspect.js';
export { searchFeatures, resolveTokens, type SearchHit, type SearchResult, type SearchOptions, type Evidence } from './search.js';
export { openFeatureDb, databaseInfo, builtInfo, checkFeature, parseFeatureList, loadVocab, displayTokens, type DatabaseInfo, type Vocab } from './database.js';
export { loadSource, sourceForStore, tokenizerForStore, setModelSourceLoader, type SourcePaths, type SourceLoader } from './load-source.js';
export { recordSource, storedIdentity, checkIdentity, SourceMismatchError } from './registry.js';
export { encodeChecked, latentActivations, type ActivationSource, type LatentBatch, type LogitReadout, type SourceIdentity } from './source.js';
export { SyntheticSource, SyntheticTokenizer, syntheticCorpus, SYNTHETIC_WORDS } from './synthetic.js';
export { corpusSequences, canonical, type CorpusOptions, type CorpusSequence } from './corpus.js';
export { logitEffects } from './logits.js';
export { similarFeatures } from './similarity.js';
export { sha256Path, sha256File } from './identity.js';
export { FeatureAccumulator, DEFAULT_ACCUMULATOR, type AccumulatorConfig, type FeatureSummary } from './stats/accumulator.js';
