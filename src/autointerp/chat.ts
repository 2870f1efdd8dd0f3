// A chat model behind one call, whatever the wire protocol: system + user message in, text (with token
// log-probabilities where the API offers them) and token usage out.
import type { TokenUsage, Usage } from './provider.js';

export interface ChatRequest {
  system: string;
  user: string;
  maxTokens: number;
  temperature?: number;
  /** Ask for the top-n alternatives of every generated token (OpenAI-compatible APIs only). */
  topLogprobs?: number;
}

export interface TokenLogprob {
  token: string;
  logprob: number;
  top: { token: string; logprob: number }[];
}

export interface ChatReply {
  text: string;
  usage: TokenUsage;
  /** null when the API gave none. */
  logprobs: TokenLogprob[] | null;
}

export interface ChatClient {
  readonly name: string;
  readonly model: string;
  /** Whether complete() can return log-probabilities (needed for simulation scoring). */
  readonly supportsLogprobs: boolean;
  complete(req: ChatRequest): Promise<ChatReply>;
  readonly totals: Usage;
}
