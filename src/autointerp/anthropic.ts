// Anthropic Messages API: POST {base}/v1/messages with x-api-key and anthropic-version headers; the
// reply's text is the concatenation of its text content blocks. It gives no log-probabilities, so
// simulation scoring is not offered through it.
import type { ChatClient, ChatReply, ChatRequest } from './chat.js';
import { JsonClient, type HttpOptions } from './http.js';
import { ProviderError, emptyUsage, type Usage } from './provider.js';

export interface AnthropicOptions extends HttpOptions {
  apiKey?: string;
  /** Default: $ANTHROPIC_BASE_URL or https://api.anthropic.com */
  baseUrl?: string;
  model?: string;
}

export const ANTHROPIC_DEFAULT_MODEL = 'claude-3-5-haiku-latest';
export const ANTHROPIC_VERSION = '2023-06-01';

export class AnthropicMessagesClient implements ChatClient {
  readonly name = 'anthropic';
  readonly model: string;
  readonly supportsLogprobs = false;
  readonly totals: Usage = emptyUsage();
  private readonly http: JsonClient;
  private readonly url: string;
  private readonly key: string;

  constructor(opts: AnthropicOptions = {}) {
    const key = opts.apiKey ?? process.env.ANTHROPIC_API_KEY;
    if (!key) throw new ProviderError('missing_key', 'provider anthropic needs an API key: set ANTHROPIC_API_KEY (and ANTHROPIC_BASE_URL for a proxy)');
    this.key = key;
    this.model = opts.model ?? ANTHROPIC_DEFAULT_MODEL;
    this.url = `${(opts.baseUrl ?? process.env.ANTHROPIC_BASE_URL ?? 'https://api.anthropic.com').replace(/\/+$/, '')}/v1/messages`;
    this.http = new JsonClient('anthropic', opts);
  }

  async complete(req: ChatRequest): Promise<ChatReply> {
    const payload = {
      model: this.model,
      max_tokens: req.maxTokens,
      system: req.system,
      messages: [{ role: 'user', content: req.user }],
      temperature: req.temperature ?? 0,
    };
    this.totals.requests++;
    let res;
    try {
      res = await this.http.post(this.url, { 'x-api-key': this.key, 'anthropic-version': ANTHROPIC_VERSION }, payload);
    } catch (err) {
      this.totals.failures++;
      throw err;
    }
    this.totals.retries += res.retries;
    const body = res.body as { content?: { type: string; text?: string }[]; usage?: { input_tokens?: number; output_tokens?: number } };
    if (!Array.isArray(body.content)) throw new ProviderError('garbage', 'anthropic: the reply has no content blocks');
    const text = body.content.filter((b) => b.type === 'text' && typeof b.text === 'string').map((b) => b.text).join('');
    const usage = { promptTokens: body.usage?.input_tokens ?? 0, completionTokens: body.usage?.output_tokens ?? 0 };
    this.totals.promptTokens += usage.promptTokens;
    this.totals.completionTokens += usage.completionTokens;
    return { text, usage, logprobs: null };
  }
}
