// Automated interpretability: explain features with a language model (or offline), then score the
// explanations by how well they predict activations (detection, fuzzing, simulation).
export { type InterpProvider, type Answer, type Usage, type TokenUsage, type ExplainInput, type DetectInput, type FuzzInput, type SimulateInput, type ShownExample, ProviderError, type ProviderFailure } from './provider.js';
export { createProvider, PROVIDERS, type ProviderName, type ProviderOptions } from './providers.js';
export { OfflineProvider, explanationKeys } from './offline.js';
export { LlmProvider } from './llm-provider.js';
export { OpenAIChatClient, OPENAI_DEFAULT_MODEL, type OpenAIOptions } from './openai.js';
export { AnthropicMessagesClient, ANTHROPIC_DEFAULT_MODEL, ANTHROPIC_VERSION, type AnthropicOptions } from './anthropic.js';
export { JsonClient, Limiter, type HttpOptions } from './http.js';
export type { ChatClient, ChatRequest, ChatReply, TokenLogprob } from './chat.js';
export { explainFeatures, scoreFeatures, type ExplainRun, type ExplainOutcome, type ScoreRun, type FeatureScores, type RunOptions, type ScoreRunOptions } from './run.js';
export { runScorer, SCORERS, type ScorerName, type ScoreOutcome } from './scorers.js';
export { balancedAccuracy, pearson } from './metrics.js';
export { explainInput, scoringSet, normalise } from './evidence.js';
