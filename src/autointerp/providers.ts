// Providers by name, as the CLI and the HTTP API choose them. Keys come from the environment only.
import { InputError } from '../errors.js';
import { AnthropicMessagesClient } from './anthropic.js';
import type { HttpOptions } from './http.js';
import { LlmProvider } from './llm-provider.js';
import { OfflineProvider } from './offline.js';
import { OpenAIChatClient } from './openai.js';
import type { InterpProvider } from './provider.js';

export const PROVIDERS = ['offline', 'openai', 'anthropic'] as const;
export type ProviderName = (typeof PROVIDERS)[number];

export interface ProviderOptions extends HttpOptions {
  model?: string;
  baseUrl?: string;
}

/** Throws ProviderError('missing_key') for an HTTP provider whose key is not set. */
export function createProvider(name: string, opts: ProviderOptions = {}): InterpProvider {
  switch (name) {
    case 'offline':
      return new OfflineProvider();
    case 'openai':
      return new LlmProvider(new OpenAIChatClient(opts));
    case 'anthropic':
      return new LlmProvider(new AnthropicMessagesClient(opts));
    default:
      throw new InputError(`unknown provider "${name}" (providers: ${PROVIDERS.join(', ')})`, { provider: name });
  }
}
