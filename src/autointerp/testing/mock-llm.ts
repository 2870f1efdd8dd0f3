// A local server speaking the OpenAI chat-completions and Anthropic Messages protocols, for testing the
// HTTP providers without a network: it checks what a real server checks (auth header, API version,
// required fields), answers like one (choices/usage, content blocks/usage, error bodies), and can be told
// to fail (status codes with Retry-After, garbage, silence) to exercise retries and timeouts.
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface MockRequest {
  api: 'openai' | 'anthropic';
  system: string;
  user: string;
  body: Record<string, unknown>;
}

/** What to do with one request: a reply text (with optional logprobs), or a failure. */
export type MockAction =
  | { text: string; logprobs?: { token: string; logprob: number; top_logprobs: { token: string; logprob: number }[] }[] }
  | { status: number; retryAfter?: number; message?: string }
  | { hang: true }
  | { raw: string };

export interface MockServer {
  url: string;
  requests: MockRequest[];
  maxInFlight: number;
  close(): Promise<void>;
}

export const MOCK_KEY = 'test-key';

export async function startMockLlm(handler: (req: MockRequest, n: number) => MockAction | Promise<MockAction>, opts: { delayMs?: number } = {}): Promise<MockServer> {
  const state = { requests: [] as MockRequest[], inFlight: 0, maxInFlight: 0 };
  const hanging = new Set<http.ServerResponse>();
  const server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (c) => (raw += c));
    req.on('end', async () => {
      state.inFlight++;
      state.maxInFlight = Math.max(state.maxInFlight, state.inFlight);
      try {
        await respond(req, res, raw);
      } finally {
        state.inFlight--;
      }
    });
  });
  const send = (res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  };
  async function respond(req: http.IncomingMessage, res: http.ServerResponse, raw: string): Promise<void> {
    const api = req.url === '/v1/chat/completions' ? 'openai' : req.url === '/v1/messages' ? 'anthropic' : null;
    if (req.method !== 'POST' || !api) return send(res, 404, { error: { message: `no route ${req.method} ${req.url}`, type: 'not_found' } });
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(raw) as Record<string, unknown>;
    } catch {
      return send(res, 400, { error: { message: 'body is not JSON', type: 'invalid_request_error' } });
    }
    let system = '';
    let user = '';
    if (api === 'openai') {
      if (req.headers.authorization !== `Bearer ${MOCK_KEY}`) return send(res, 401, { error: { message: 'Incorrect API key provided', type: 'invalid_request_error' } });
      const msgs = body.messages as { role: string; content: string }[] | undefined;
      if (typeof body.model !== 'string' || !Array.isArray(msgs) || msgs.length === 0) return send(res, 400, { error: { message: 'model and messages are required', type: 'invalid_request_error' } });
      system = msgs.find((m) => m.role === 'system')?.content ?? '';
      user = msgs.filter((m) => m.role === 'user').map((m) => m.content).join('\n');
    } else {
      if (req.headers['x-api-key'] !== MOCK_KEY) return send(res, 401, { type: 'error', error: { type: 'authentication_error', message: 'invalid x-api-key' } });
      if (!req.headers['anthropic-version']) return send(res, 400, { type: 'error', error: { type: 'invalid_request_error', message: 'anthropic-version header is required' } });
      const msgs = body.messages as { role: string; content: string }[] | undefined;
      if (typeof body.model !== 'string' || typeof body.max_tokens !== 'number' || !Array.isArray(msgs)) {
        return send(res, 400, { type: 'error', error: { type: 'invalid_request_error', message: 'model, max_tokens and messages are required' } });
      }
      system = String(body.system ?? '');
      user = msgs.map((m) => m.content).join('\n');
    }
    const request: MockRequest = { api, system, user, body };
    state.requests.push(request);
    if (opts.delayMs) await new Promise((r) => setTimeout(r, opts.delayMs));
    const action = await handler(request, state.requests.length);
    if ('hang' in action) {
      hanging.add(res);
      return;
    }
    if ('raw' in action) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(action.raw);
      return;
    }
    if ('status' in action) {
      const headers: Record<string, string> = action.retryAfter !== undefined ? { 'retry-after': String(action.retryAfter) } : {};
      const msg = action.message ?? `mock failure ${action.status}`;
      return send(res, action.status, api === 'openai' ? { error: { message: msg, type: 'server_error' } } : { type: 'error', error: { type: 'overloaded_error', message: msg } }, headers);
    }
    const promptTokens = Math.ceil((system.length + user.length) / 4);
    const completionTokens = Math.ceil(action.text.length / 4);
    if (api === 'openai') {
      return send(res, 200, {
        id: 'chatcmpl-mock',
        object: 'chat.completion',
        created: 0,
        model: body.model,
        choices: [{ index: 0, message: { role: 'assistant', content: action.text }, logprobs: body.logprobs ? { content: action.logprobs ?? null } : null, finish_reason: 'stop' }],
        usage: { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens },
      });
    }
    return send(res, 200, {
      id: 'msg_mock',
      type: 'message',
      role: 'assistant',
      model: body.model,
      content: [{ type: 'text', text: action.text }],
      stop_reason: 'end_turn',
      usage: { input_tokens: promptTokens, output_tokens: completionTokens },
    });
  }
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    requests: state.requests,
    get maxInFlight() {
      return state.maxInFlight;
    },
    close: () =>
      new Promise<void>((r) => {
        for (const res of hanging) res.destroy();
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** Logprob tokens spelling `text` one character at a time, digits with a distribution over alternatives. */
export function digitLogprobs(text: string, alternatives: (digit: string) => { token: string; logprob: number }[]): { token: string; logprob: number; top_logprobs: { token: string; logprob: number }[] }[] {
  return [...text].map((ch) => ({ token: ch, logprob: 0, top_logprobs: /\d/.test(ch) ? alternatives(ch) : [{ token: ch, logprob: 0 }] }));
}
