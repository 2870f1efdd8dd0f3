// The HTTP providers against a local server speaking the real protocols: request shape and headers,
// usage accounting, retries with backoff, timeouts, the concurrency limit, and replies that are garbage.
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { AnthropicMessagesClient } from './anthropic.js';
import { LlmProvider } from './llm-provider.js';
import { OpenAIChatClient } from './openai.js';
import { ProviderError } from './provider.js';
import { createProvider } from './providers.js';
import { MOCK_KEY, digitLogprobs, startMockLlm as startMock } from './testing/mock-llm.js';

// Every server is closed when its test ends, pass or fail (an open server would keep the process alive).
const open: { close(): Promise<void> }[] = [];
const startMockLlm: typeof startMock = async (...args) => {
  const m = await startMock(...args);
  open.push(m);
  return m;
};
afterEach(async () => {
  await Promise.all(open.splice(0).map((m) => m.close()));
});

const fast = { backoffMs: 5, maxBackoffMs: 20 };
const explainInput = { feature: 3, examples: [{ tokens: ['Once', ' upon', ' a', ' time'], activations: [0, 0, 3, 10] }], promotes: [' there'] };

test('openai: an explanation through chat completions, with usage counted', async () => {
  const mock = await startMockLlm(() => ({ text: 'Explanation: the word "time" in story openings.' }));
  const p = new LlmProvider(new OpenAIChatClient({ apiKey: MOCK_KEY, baseUrl: `${mock.url}/v1`, model: 'mock-4', ...fast }));
  const ans = await p.explain(explainInput);
  assert.equal(ans.value, 'the word "time" in story openings.');
  const req = mock.requests[0]!;
  assert.equal(req.body.model, 'mock-4');
  assert.match(req.user, /Once upon <<a time>>/);
  assert.match(req.user, /"time" \(10\)/);
  assert.match(req.system, /interpretability/);
  assert.ok(ans.usage.promptTokens > 0 && ans.usage.completionTokens > 0);
  assert.deepEqual(p.usage(), { promptTokens: ans.usage.promptTokens, completionTokens: ans.usage.completionTokens, requests: 1, retries: 0, failures: 0 });
});

test('retries 429 and 5xx with backoff (honouring Retry-After), then succeeds', async () => {
  const mock = await startMockLlm((_r, n) => (n === 1 ? { status: 429, retryAfter: 0 } : n === 2 ? { status: 503 } : { text: '[1, 0, 1]' }));
  const p = new LlmProvider(new OpenAIChatClient({ apiKey: MOCK_KEY, baseUrl: `${mock.url}/v1`, ...fast }));
  const ans = await p.detect({ explanation: 'x', examples: [['a'], ['b'], ['c']] });
  assert.deepEqual(ans.value, [true, false, true]);
  assert.equal(mock.requests.length, 3);
  assert.equal(p.usage().retries, 2);
});

test('a client error is not retried and says what the server said', async () => {
  const mock = await startMockLlm(() => ({ status: 400, message: 'max_tokens is too large' }));
  const p = new LlmProvider(new AnthropicMessagesClient({ apiKey: MOCK_KEY, baseUrl: mock.url, ...fast }));
  await assert.rejects(p.explain(explainInput), (e: unknown) => e instanceof ProviderError && e.kind === 'http' && /HTTP 400.*max_tokens is too large/.test(e.message));
  assert.equal(mock.requests.length, 1);
});

test('a server that never answers times out after the retries', async () => {
  const mock = await startMockLlm(() => ({ hang: true }));
  const p = new LlmProvider(new OpenAIChatClient({ apiKey: MOCK_KEY, baseUrl: `${mock.url}/v1`, timeoutMs: 250, retries: 1, ...fast }));
  await assert.rejects(p.explain(explainInput), (e: unknown) => e instanceof ProviderError && e.kind === 'timeout' && /within 250 ms.*2 attempts/.test(e.message));
  // Both attempts went out (on a loaded machine the second may be cut before the server reads it).
  assert.ok(mock.requests.length >= 1 && mock.requests.length <= 2);
  assert.equal(p.usage().failures, 1);
});

test('garbage replies are rejected, not stored as answers', async () => {
  const replies = ['<html>502 Bad Gateway</html>', 'Sure! [1, 1]', '{"explanation": 3}'];
  const mock = await startMockLlm((_r, n) => ({ text: replies[n - 1] ?? '' }));
  const p = new LlmProvider(new OpenAIChatClient({ apiKey: MOCK_KEY, baseUrl: `${mock.url}/v1`, ...fast }));
  await assert.rejects(p.explain(explainInput), (e: unknown) => e instanceof ProviderError && e.kind === 'garbage');
  await assert.rejects(p.detect({ explanation: 'x', examples: [['a'], ['b'], ['c']] }), (e: unknown) => e instanceof ProviderError && /JSON array of 3/.test(e.message));
  await assert.rejects(p.explain(explainInput), (e: unknown) => e instanceof ProviderError && e.kind === 'garbage');
  const raw = await startMockLlm(() => ({ raw: 'not json at all' }));
  const q = new LlmProvider(new OpenAIChatClient({ apiKey: MOCK_KEY, baseUrl: `${raw.url}/v1`, ...fast }));
  await assert.rejects(q.explain(explainInput), (e: unknown) => e instanceof ProviderError && e.kind === 'garbage' && /not JSON/.test(e.message));
  assert.equal(raw.requests.length, 1);
});

test('the concurrency limit holds however many calls are made at once', async () => {
  const mock = await startMockLlm(() => ({ text: 'a pattern' }), { delayMs: 30 });
  const p = new LlmProvider(new OpenAIChatClient({ apiKey: MOCK_KEY, baseUrl: `${mock.url}/v1`, concurrency: 2, ...fast }));
  await Promise.all(Array.from({ length: 7 }, () => p.explain(explainInput)));
  assert.equal(mock.requests.length, 7);
  assert.ok(mock.maxInFlight >= 1 && mock.maxInFlight <= 2, `max in flight ${mock.maxInFlight}`);
});

test('anthropic: headers, content blocks and usage; no simulation without log-probabilities', async () => {
  const mock = await startMockLlm(() => ({ text: 'Story openings ("once upon a time").' }));
  const p = new LlmProvider(new AnthropicMessagesClient({ apiKey: MOCK_KEY, baseUrl: mock.url, model: 'claude-mock', ...fast }));
  const ans = await p.explain(explainInput);
  assert.equal(ans.value, 'Story openings ("once upon a time").');
  assert.equal(mock.requests[0]!.api, 'anthropic');
  assert.equal(mock.requests[0]!.body.model, 'claude-mock');
  assert.equal(typeof mock.requests[0]!.body.max_tokens, 'number');
  assert.ok(p.usage().promptTokens > 0);
  assert.equal(p.simulate, undefined);
  const bad = new LlmProvider(new AnthropicMessagesClient({ apiKey: 'wrong', baseUrl: mock.url, ...fast }));
  await assert.rejects(bad.explain(explainInput), (e: unknown) => e instanceof ProviderError && /HTTP 401.*authentication_error/.test(e.message));
});

test('openai simulation reads expected values from log-probabilities', async () => {
  const text = '0\t0\n1\t7';
  const mock = await startMockLlm(() => ({
    text,
    logprobs: digitLogprobs(text, (d) => (d === '7' ? [{ token: '7', logprob: Math.log(0.5) }, { token: '9', logprob: Math.log(0.5) }] : [{ token: d, logprob: 0 }])),
  }));
  const p = new LlmProvider(new OpenAIChatClient({ apiKey: MOCK_KEY, baseUrl: `${mock.url}/v1`, ...fast }));
  const ans = await p.simulate!({ explanation: 'x', examples: [['a', 'b']] });
  assert.deepEqual(ans.value, [[0, 8]]);
  assert.equal(mock.requests[0]!.body.logprobs, true);
});

test('a provider without its key fails with a message naming the variable', () => {
  const saved = { o: process.env.OPENAI_API_KEY, a: process.env.ANTHROPIC_API_KEY };
  delete process.env.OPENAI_API_KEY;
  delete process.env.ANTHROPIC_API_KEY;
  try {
    assert.throws(() => createProvider('openai'), (e: unknown) => e instanceof ProviderError && e.kind === 'missing_key' && /OPENAI_API_KEY/.test(e.message));
    assert.throws(() => createProvider('anthropic'), /ANTHROPIC_API_KEY/);
    assert.throws(() => createProvider('gemini'), /unknown provider "gemini"/);
  } finally {
    if (saved.o !== undefined) process.env.OPENAI_API_KEY = saved.o;
    if (saved.a !== undefined) process.env.ANTHROPIC_API_KEY = saved.a;
  }
});
