// Hash routing: "#/feature/12?negatives=1". The whole view state lives in the URL, so a page can be
// bookmarked, shared and reloaded; pages read params and write them back with setParams.
import { useEffect, useState } from 'preact/hooks';

export interface Route {
  /** Path segments, e.g. ["feature", "12"]. */
  parts: string[];
  params: URLSearchParams;
}

export function parseHash(hash: string): Route {
  const raw = hash.replace(/^#/, '');
  const q = raw.indexOf('?');
  const path = q < 0 ? raw : raw.slice(0, q);
  const params = new URLSearchParams(q < 0 ? '' : raw.slice(q + 1));
  return { parts: path.split('/').filter(Boolean).map(safeDecode), params };
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

export function href(path: string, params: Record<string, string | number | null | undefined> = {}): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== null && v !== undefined && v !== '') p.set(k, String(v));
  const qs = p.toString();
  return `#${path}${qs ? `?${qs}` : ''}`;
}

export function navigate(to: string, opts: { replace?: boolean } = {}): void {
  if (opts.replace) history.replaceState(null, '', to);
  else history.pushState(null, '', to);
  window.dispatchEvent(new HashChangeEvent('hashchange'));
}

/** Merges params into the current URL (null removes one); replace by default, so typing does not flood history. */
export function setParams(update: Record<string, string | number | null | undefined>, opts: { push?: boolean } = {}): void {
  const r = parseHash(location.hash);
  for (const [k, v] of Object.entries(update)) {
    if (v === null || v === undefined || v === '') r.params.delete(k);
    else r.params.set(k, String(v));
  }
  const qs = r.params.toString();
  const to = `#/${r.parts.map(encodeURIComponent).join('/')}${qs ? `?${qs}` : ''}`;
  if (to === location.hash) return;
  navigate(to, { replace: !opts.push });
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseHash(location.hash));
  useEffect(() => {
    const on = (): void => setRoute(parseHash(location.hash));
    window.addEventListener('hashchange', on);
    window.addEventListener('popstate', on);
    return () => {
      window.removeEventListener('hashchange', on);
      window.removeEventListener('popstate', on);
    };
  }, []);
  return route;
}
