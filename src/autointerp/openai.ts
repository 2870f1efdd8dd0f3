// OpenAI-compatible chat completions (api.openai.com, Azure-style proxies, vLLM, llama.cpp server,
// Ollama's /v1 ...): POST {base}/chat/completions with a Bearer key. Log-probabilities come back in
// choices[0].logprobs.content when asked for.
import type { ChatClient, ChatReply, ChatRequest, TokenLogprob } from './chat.js';
import { JsonClient, type HttpOptions } from './http.js';
import { ProviderError, emptyUsage, type Usage } from './provider.js';

export interface OpenAIOptions extends HttpOptions {
  apiKey?: string;
  /** Default: $OPENAI_BASE_URL or https://api.openai.com/v1 */
  baseUrl?: string;
  model?: string;
}

export const OPENAI_DEFAULT_MODEL = 'gpt-4o-mini';

export class OpenAIChatClient implements ChatClient {
  readonly name = 'openai';
  readonly model: string;
  readonly supportsLogprobs = true;
  readonly totals: Usage = emptyUsage();
  private readonly http: JsonClient;
  private readonly url: string;
  private readonly key: string;

  constructor(opts: OpenAIOptions = {}) {
    const key = opts.apiKey ?? process.env.OPENAI_API_KEY;
    if (!key) throw new ProviderError('missing_key', 'provider openai needs an API key: set OPENAI_API_KEY (and OPENAI_BASE_URL for another OpenAI-compatible server)');
    this.key = key;
    this.model = opts.model ?? OPENAI_DEFAULT_MODEL;
    this.url = `${(opts.baseUrl ?? process.env.OPENAI_BASE_URL ?? 'https://api.openai.com/v1').replace(/\/+$/, '')}/chat/completions`;
    this.http = new JsonClient('openai', opts);
  }

  async complete(req: ChatRequest): Promise<ChatReply> {
    const payload: Record<string, unknown> = {
      model: this.model,
      messages: [
        { role: 'system', content: req.system },
        { role: 'user', content: req.user },
      ],
      max_tokens: req.maxTokens,
      temperature: req.temperature ?? 0,
    };
    if (req.topLogprobs) {
      payload.logprobs = true;
      payload.top_logprobs = req.topLogprobs;
    }
    this.totals.requests++;
    let res;
    try {
      res = await this.http.post(this.url, { authorization: `Bearer ${this.key}` }, payload);
    } catch (err) {
      this.totals.failures++;
      throw err;
    }
    this.totals.retries += res.retries;
    const body = res.body as {
      choices?: { message?: { content?: string | null }; logprobs?: { content?: { token: string; logprob: number; top_logprobs?: { token: string; logprob: number }[] }[] | null } | null }[];
      usage?: { prompt_tokens?: number; completion_tokens?: number };
    };
    const choice = body.choices?.[0];
    const text = choice?.message?.content;
    if (typeof text !== 'string') throw new ProviderError('garbage', 'openai: the reply has no choices[0].message.content');
    const usage = { promptTokens: body.usage?.prompt_tokens ?? 0, completionTokens: body.usage?.completion_tokens ?? 0 };
    this.totals.promptTokens += usage.promptTokens;
    this.totals.completionTokens += usage.completionTokens;
    const lp = choice?.logprobs?.content;
    const logprobs: TokenLogprob[] | null = Array.isArray(lp)
      ? lp.map((t) => ({ token: String(t.token), logprob: Number(t.logprob), top: (t.top_logprobs ?? []).map((a) => ({ token: String(a.token), logprob: Number(a.logprob) })) }))
      : null;
    return { text, usage, logprobs };
  }
}
