// The one interface every explainer/scorer model offers, whatever is behind it (an HTTP API or the
// offline heuristic). Scorers ask structured questions and get structured answers; each provider turns
// them into its own prompts and parses its own replies (a reply that does not parse is a ProviderError,
// recorded against the feature, never a crash of the run).
import { LoupeError } from '../errors.js';

export interface TokenUsage {
  promptTokens: number;
  completionTokens: number;
}

/** Running totals for a provider (all calls, retries counted separately). */
export interface Usage extends TokenUsage {
  requests: number;
  retries: number;
  failures: number;
}

export interface Answer<T> {
  value: T;
  usage: TokenUsage;
}

/** One example as an explainer sees it: tokens with activations normalised to integers 0-10. */
export interface ShownExample {
  tokens: string[];
  activations: number[];
}

export interface ExplainInput {
  feature: number;
  examples: ShownExample[];
  /** Tokens the feature's decoder direction promotes most (output side), if known. */
  promotes?: string[];
}

export interface DetectInput {
  explanation: string;
  /** Token strings of each excerpt. */
  examples: string[][];
}

export interface FuzzInput {
  explanation: string;
  examples: { tokens: string[]; marked: boolean[] }[];
}

export interface SimulateInput {
  explanation: string;
  examples: string[][];
}

export interface InterpProvider {
  readonly name: string;
  readonly model: string | null;
  explain(input: ExplainInput): Promise<Answer<string>>;
  /** For each excerpt: does the feature fire on it? */
  detect(input: DetectInput): Promise<Answer<boolean[]>>;
  /** For each excerpt: are the marked tokens the ones the feature fires on? */
  fuzz(input: FuzzInput): Promise<Answer<boolean[]>>;
  /** Predicted activation (0-10) of every token; absent when the provider cannot give it. */
  simulate?(input: SimulateInput): Promise<Answer<number[][]>>;
  usage(): Usage;
}

export type ProviderFailure = 'missing_key' | 'http' | 'timeout' | 'network' | 'garbage' | 'unsupported';

export class ProviderError extends LoupeError {
  readonly kind: ProviderFailure;
  constructor(kind: ProviderFailure, message: string, details: Record<string, unknown> = {}) {
    super(`provider_${kind}`, message, { kind, ...details });
    this.kind = kind;
  }
}

export function emptyUsage(): Usage {
  return { promptTokens: 0, completionTokens: 0, requests: 0, retries: 0, failures: 0 };
}
