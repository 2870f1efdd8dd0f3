// The API client: JSON in and out, errors as ApiError carrying the server's message (every route answers
// {error: {code, message}}), so pages can show what went wrong in the server's own words.
import { useEffect, useState } from 'preact/hooks';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export async function api<T>(path: string, init: { method?: string; body?: unknown; signal?: AbortSignal } = {}): Promise<T> {
  let res: Response;
  try {
    res = await fetch(path, {
      method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
      headers: init.body === undefined ? {} : { 'content-type': 'application/json' },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
      signal: init.signal,
    });
  } catch (err) {
    if ((err as Error).name === 'AbortError') throw err;
    throw new ApiError(0, 'unreachable', 'the Loupe server does not answer (is `loupe serve` still running?)');
  }
  return readReply<T>(res);
}

export async function readReply<T>(res: Response): Promise<T> {
  const text = await res.text();
  let body: unknown = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    if (!res.ok) throw new ApiError(res.status, 'http_error', `${res.status} ${res.statusText}: ${text.slice(0, 200)}`);
    throw new ApiError(res.status, 'bad_reply', `the server sent something that is not JSON (${text.slice(0, 80)})`);
  }
  if (!res.ok) {
    const e = (body as { error?: { code?: string; message?: string } } | null)?.error;
    throw new ApiError(res.status, e?.code ?? 'http_error', e?.message ?? `${res.status} ${res.statusText}`);
  }
  return body as T;
}

export type Loadable<T> = { state: 'loading' } | { state: 'error'; error: Error } | { state: 'ready'; value: T };

/** Loads path whenever it changes (null: nothing to load), cancelling the previous request. */
export function useApi<T>(path: string | null): Loadable<T> & { reload(): void } {
  const [n, setN] = useState(0);
  const [s, setS] = useState<Loadable<T>>({ state: 'loading' });
  useEffect(() => {
    if (path === null) return;
    const ctl = new AbortController();
    setS({ state: 'loading' });
    api<T>(path, { signal: ctl.signal }).then(
      (value) => setS({ state: 'ready', value }),
      (error: Error) => {
        if (error.name !== 'AbortError') setS({ state: 'error', error });
      },
    );
    return () => ctl.abort();
  }, [path, n]);
  return { ...s, reload: () => setN((x) => x + 1) };
}
