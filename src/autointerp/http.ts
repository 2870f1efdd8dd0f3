// JSON over HTTP for the LLM providers: a concurrency limit shared by all calls of a provider, a
// timeout per attempt, retries with exponential backoff and jitter on the failures worth retrying
// (network errors, timeouts, 408/409/429/5xx and Anthropic's 529), honouring Retry-After.
import { ProviderError } from './provider.js';

export interface HttpOptions {
  /** Per attempt (default 60 s). */
  timeoutMs?: number;
  /** Retries after the first attempt (default 4). */
  retries?: number;
  backoffMs?: number;
  maxBackoffMs?: number;
  /** Requests in flight at once (default 4). */
  concurrency?: number;
}

/** A counting semaphore: at most `limit` tasks run at once, the rest wait in order. */
export class Limiter {
  private active = 0;
  private readonly queue: (() => void)[] = [];
  constructor(readonly limit: number) {}
  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) await new Promise<void>((resolve) => this.queue.push(resolve));
    this.active++;
    try {
      return await task();
    } finally {
      this.active--;
      this.queue.shift()?.();
    }
  }
}

export interface JsonResponse {
  status: number;
  body: unknown;
  /** Attempts beyond the first. */
  retries: number;
}

const RETRYABLE = new Set([408, 409, 429, 500, 502, 503, 504, 529]);

export class JsonClient {
  readonly limiter: Limiter;
  private readonly o: Required<HttpOptions>;

  constructor(
    readonly providerName: string,
    opts: HttpOptions = {},
  ) {
    this.o = { timeoutMs: 60_000, retries: 4, backoffMs: 500, maxBackoffMs: 20_000, concurrency: 4, ...opts };
    this.limiter = new Limiter(this.o.concurrency);
  }

  /** POSTs JSON and returns the parsed 2xx reply; throws ProviderError after the last failed attempt. */
  async post(url: string, headers: Record<string, string>, payload: unknown): Promise<JsonResponse> {
    return this.limiter.run(async () => {
      let last: ProviderError | null = null;
      for (let attempt = 0; attempt <= this.o.retries; attempt++) {
        let waitMs: number | null = null;
        try {
          const res = await fetch(url, {
            method: 'POST',
            headers: { 'content-type': 'application/json', ...headers },
            body: JSON.stringify(payload),
            signal: AbortSignal.timeout(this.o.timeoutMs),
          });
          const text = await res.text();
          if (res.ok) {
            try {
              return { status: res.status, body: JSON.parse(text), retries: attempt };
            } catch {
              // A 2xx that is not JSON is the server's fault, not a transient: do not retry.
              throw new ProviderError('garbage', `${this.providerName}: the reply is not JSON (${snippet(text)})`, { status: res.status });
            }
          }
          const message = errorMessage(text);
          last = new ProviderError('http', `${this.providerName}: HTTP ${res.status} from ${url}${message ? `: ${message}` : ''}`, { status: res.status });
          if (!RETRYABLE.has(res.status)) throw last;
          waitMs = retryAfterMs(res.headers);
        } catch (err) {
          if (err instanceof ProviderError && (err.kind === 'garbage' || (err.kind === 'http' && !RETRYABLE.has(Number(err.details.status))))) throw err;
          if (!(err instanceof ProviderError)) {
            const e = err as Error;
            const timedOut = e.name === 'TimeoutError' || e.name === 'AbortError';
            last = timedOut
              ? new ProviderError('timeout', `${this.providerName}: no reply from ${url} within ${this.o.timeoutMs} ms`)
              : new ProviderError('network', `${this.providerName}: cannot reach ${url} (${causeOf(e)})`);
          }
        }
        if (attempt < this.o.retries) {
          const backoff = Math.min(this.o.maxBackoffMs, this.o.backoffMs * 2 ** attempt) * (0.5 + Math.random() / 2);
          await sleep(Math.min(this.o.maxBackoffMs, waitMs ?? backoff));
        }
      }
      throw new ProviderError(last!.kind, `${last!.message} (gave up after ${this.o.retries + 1} attempts)`, last!.details);
    });
  }
}

function retryAfterMs(h: Headers): number | null {
  const ms = Number(h.get('retry-after-ms'));
  if (Number.isFinite(ms) && ms > 0) return ms;
  const s = h.get('retry-after');
  if (!s) return null;
  const secs = Number(s);
  if (Number.isFinite(secs)) return Math.max(0, secs * 1000);
  const at = Date.parse(s);
  return Number.isFinite(at) ? Math.max(0, at - Date.now()) : null;
}

/** The error message in an OpenAI ({error: {message}}) or Anthropic ({error: {type, message}}) body. */
function errorMessage(text: string): string {
  try {
    const j = JSON.parse(text) as { error?: { message?: string; type?: string } | string };
    if (typeof j.error === 'string') return j.error;
    if (j.error?.message) return j.error.type ? `${j.error.type}: ${j.error.message}` : j.error.message;
  } catch {
    // not JSON
  }
  return snippet(text);
}

function causeOf(e: Error): string {
  const c = (e as { cause?: { code?: string; message?: string } }).cause;
  return c?.code ?? c?.message ?? e.message;
}

function snippet(s: string): string {
  const t = s.replace(/\s+/g, ' ').trim();
  return t.length > 120 ? t.slice(0, 120) + '...' : t;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
