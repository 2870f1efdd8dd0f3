// Feature browser: a sortable, paged table (density, max activation, explanation score), a filter on
// explanation text, and a search by word that finds features by what they fire on and what they promote.
import { useEffect, useState } from 'preact/hooks';
import { useApi } from '../api';
import { Panel, Show } from '../components/Status';
import { href, setParams, type Route } from '../router';
import type { BrowseRow, SearchHit } from '../types';
import { clampInt, fmt, pct, showToken } from '../util';

const ORDERS: [string, string][] = [
  ['feature', 'index'],
  ['density', 'density'],
  ['max_activation', 'max activation'],
  ['score', 'explanation score'],
];
const PAGE = 50;

export function FeatureBrowser({ route }: { route: Route }) {
  const p = route.params;
  const order = ORDERS.some(([o]) => o === p.get('order')) ? p.get('order')! : 'feature';
  const offset = clampInt(p.get('offset'), 0, 1e9, 0);
  const expl = p.get('explanation') ?? '';
  const q = p.get('q') ?? '';
  const [text, setText] = useState(q);
  const [explText, setExplText] = useState(expl);
  useEffect(() => setText(q), [q]);
  useEffect(() => setExplText(expl), [expl]);

  const qs = new URLSearchParams({ order, offset: String(offset), limit: String(PAGE) });
  if (expl) qs.set('explanation', expl);
  const table = useApi<{ total: number; matching: number; features: BrowseRow[] }>(`/api/workbench/features?${qs}`);
  const search = useApi<{ query: string; tokens: { token: string }[]; results: SearchHit[] }>(q ? `/api/features/search?${new URLSearchParams({ query: q, limit: '30' })}` : null);

  return (
    <div class="page browser">
      <h2>Features</h2>
      <form
        class="searchbar"
        onSubmit={(e) => {
          e.preventDefault();
          setParams({ q: text.trim() || null }, { push: true });
        }}
      >
        <input name="q" placeholder="Search by word or text: features that fire on it, promote it, or mention it in their explanation" value={text} onInput={(e) => setText((e.target as HTMLInputElement).value)} />
        <button type="submit">Search</button>
        {q && <button type="button" class="secondary" onClick={() => setParams({ q: null })}>Clear</button>}
      </form>
      {q && (
        <Panel title={`Search: “${q}”`}>
          <Show data={search} what="search results">
            {(r) =>
              r.results.length === 0 ? (
                <p class="muted">No feature fires on, promotes, or is explained by “{q}”.</p>
              ) : (
                <table class="list">
                  <thead>
                    <tr><th>feature</th><th>score</th><th>fires on</th><th>promotes</th><th>explanation</th><th>density</th></tr>
                  </thead>
                  <tbody>
                    {r.results.map((h) => (
                      <tr key={h.feature}>
                        <td><a href={href(`/feature/${h.feature}`)}>#{h.feature}</a></td>
                        <td>{fmt(h.score)}</td>
                        <td>{h.input ? <><span class="tokchip">{showToken(h.input.token)}</span> {fmt(h.input.score)}</> : '–'}</td>
                        <td>{h.output ? <><span class="tokchip">{showToken(h.output.token)}</span> rank {h.output.rank}</> : '–'}</td>
                        <td>{h.explanation?.text ?? '–'}</td>
                        <td>{pct(h.density)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              )
            }
          </Show>
        </Panel>
      )}
      <Panel
        title="All features"
        right={
          <div class="controls">
            <label>
              sort by{' '}
              <select value={order} onChange={(e) => setParams({ order: (e.target as HTMLSelectElement).value, offset: null })}>
                {ORDERS.map(([o, l]) => (
                  <option key={o} value={o}>{l}</option>
                ))}
              </select>
            </label>
            <form
              onSubmit={(e) => {
                e.preventDefault();
                setParams({ explanation: explText.trim() || null, offset: null });
              }}
            >
              <input class="filter" name="explanation" placeholder="explanation contains…" value={explText} onInput={(e) => setExplText((e.target as HTMLInputElement).value)} />
            </form>
          </div>
        }
      >
        <Show data={table} what="features">
          {(t) => (
            <>
              <table class="list features">
                <thead>
                  <tr><th>feature</th><th>density</th><th>max act.</th><th>explanation</th><th>score</th></tr>
                </thead>
                <tbody>
                  {t.features.map((f) => (
                    <tr key={f.feature}>
                      <td><a href={href(`/feature/${f.feature}`)}>#{f.feature}</a></td>
                      <td>
                        <span class="bar" style={{ width: `${Math.max(1, Math.min(60, 60 * (1 + Math.log10(Math.max(f.density, 1e-6)) / 6)))}px` }} /> {pct(f.density)}
                      </td>
                      <td>{fmt(f.max_activation)}</td>
                      <td class={f.explanation ? '' : 'muted'}>{f.explanation ?? 'not explained yet'}</td>
                      <td>{fmt(f.score)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
              <div class="pager">
                <button disabled={offset === 0} onClick={() => setParams({ offset: Math.max(0, offset - PAGE) || null })}>← previous</button>
                <span>
                  {t.matching === 0 ? 'none' : `${offset + 1}–${Math.min(offset + PAGE, t.matching)} of ${t.matching}`}
                  {expl ? ` matching (${t.total} in all)` : ''}
                </span>
                <button disabled={offset + PAGE >= t.matching} onClick={() => setParams({ offset: offset + PAGE })}>next →</button>
              </div>
            </>
          )}
        </Show>
      </Panel>
    </div>
  );
}
