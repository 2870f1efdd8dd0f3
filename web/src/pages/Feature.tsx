// A feature's page, Neuronpedia-style: explanation and scores, statistics, activation histogram, the
// tokens it promotes and suppresses, the top activating examples and samples across its activation range
// (tokens coloured by activation, values on hover), the tokens it fires on, and its neighbours.
import { useState } from 'preact/hooks';
import { useApi } from '../api';
import { Histogram } from '../components/Charts';
import { ErrorBox, Panel, Show } from '../components/Status';
import { Tokens } from '../components/Tokens';
import { href, setParams, type Route } from '../router';
import type { Example, FeatureRecord, LogitEffect, Overview } from '../types';
import { fmt, pct, showToken, signedColor } from '../util';

export function FeaturePage({ id, route, overview }: { id: string; route: Route; overview: Overview | null }) {
  const valid = /^\d{1,9}$/.test(id);
  const negatives = route.params.get('negatives') === '1';
  const data = useApi<FeatureRecord>(valid ? `/api/features/${id}${negatives ? '?negatives=true' : ''}` : null);
  if (!valid) return <ErrorBox title="Unknown feature" error={`"${id}" is not a feature index: feature pages are #/feature/N with N a whole number${overview ? ` from 0 to ${overview.database.nFeatures - 1}` : ''}.`} />;
  const n = Number(id);
  return (
    <div class="page feature">
      <div class="feature-head">
        <h2>Feature #{n}</h2>
        <span class="muted">{overview ? `${overview.database.identity.dictionary.hookName} · ${overview.database.identity.dictionary.architecture}` : ''}</span>
        <span class="spacer" />
        {n > 0 && <a href={href(`/feature/${n - 1}`)}>← #{n - 1}</a>}
        {(!overview || n + 1 < overview.database.nFeatures) && <a href={href(`/feature/${n + 1}`)}>#{n + 1} →</a>}
        <a href={href('/inspect', { feature: n })}>inspect a prompt with it</a>
        <a href={href('/steer', { f: `${n}:4` })}>steer with it</a>
      </div>
      <Show data={data} what={`feature ${n}`}>
        {(f) => <FeatureBody f={f} negatives={negatives} />}
      </Show>
    </div>
  );
}

function FeatureBody({ f, negatives }: { f: FeatureRecord; negatives: boolean }) {
  const latest = f.explanations[0];
  return (
    <>
      <div class="explanation-line">
        {latest ? (
          <>
            <span class="expl" data-testid="explanation">{latest.text}</span>
            <span class="muted"> — {latest.provider}{latest.model ? ` / ${latest.model}` : ''}</span>
            {latest.scores.map((s) => (
              <span key={s.scorer} class="chip" title={s.error ?? ''}>{s.scorer}: {s.value === null ? s.status : fmt(s.value)}</span>
            ))}
          </>
        ) : (
          <span class="muted">Not explained yet (`loupe features explain`).</span>
        )}
      </div>
      <div class="stats">
        <Stat label="density" value={pct(f.density)} />
        <Stat label="fires" value={f.fire_count !== undefined ? f.fire_count.toLocaleString('en') : '–'} />
        <Stat label="max activation" value={fmt(f.max_activation)} />
        <Stat label="mean when firing" value={fmt(f.mean_activation)} />
      </div>
      <div class="grid3">
        <Panel title="Activation histogram">
          {f.histogram ? <Histogram edges={f.histogram.edges} counts={f.histogram.counts} xLabel="activation (when firing)" logY /> : <p class="muted">never fired in the sample</p>}
        </Panel>
        <Panel title="Promotes (top logits)">
          <LogitList items={f.top_logits} />
        </Panel>
        <Panel title="Suppresses (bottom logits)">
          <LogitList items={f.bottom_logits} />
        </Panel>
      </div>
      <Panel title={`Top activating examples (${f.top_examples.length})`} id="top-examples">
        <Examples list={f.top_examples} max={f.max_activation} feature={f.feature} />
      </Panel>
      <Panel title="Across the activation range">
        {f.bins.length === 0 && <p class="muted">no bins</p>}
        {f.bins.map((b, i) => (
          <div key={i} class="bin">
            <div class="bin-head">
              {fmt(b.lo)} – {fmt(b.hi)} <span class="muted">({b.count.toLocaleString('en')} activations)</span>
            </div>
            <Examples list={b.examples} max={f.max_activation} feature={f.feature} />
          </div>
        ))}
      </Panel>
      <div class="grid3">
        <Panel title="Fires most on tokens">
          {f.top_tokens?.length ? (
            <table class="list compact">
              <thead><tr><th>token</th><th>count</th><th>mean</th><th>max</th></tr></thead>
              <tbody>
                {f.top_tokens.map((t) => (
                  <tr key={t.token_id}><td><span class="tokchip">{showToken(t.token)}</span></td><td>{t.count}</td><td>{fmt(t.mean_activation)}</td><td>{fmt(t.max_activation)}</td></tr>
                ))}
              </tbody>
            </table>
          ) : (
            <p class="muted">none recorded</p>
          )}
        </Panel>
        <Panel title="Co-activating features">
          <Neighbours rows={f.coactivating.map((c) => ({ feature: c.feature, value: c.jaccard, note: `${c.count}×` }))} label="Jaccard" />
        </Panel>
        <Panel title="Similar decoder directions">
          <Neighbours rows={f.similar.map((c) => ({ feature: c.feature, value: c.cosine }))} label="cosine" />
        </Panel>
      </div>
      <Panel title="Negative examples" right={<label><input type="checkbox" checked={negatives} onChange={(e) => setParams({ negatives: (e.target as HTMLInputElement).checked ? 1 : null })} /> show</label>}>
        {negatives ? f.negative_examples?.length ? <Examples list={f.negative_examples} max={f.max_activation} feature={f.feature} /> : <p class="muted">none stored</p> : <p class="muted">Sequences where the feature stays silent; tick “show” to load them.</p>}
      </Panel>
      {f.explanations.length > 1 && (
        <Panel title="Earlier explanations">
          <ul>
            {f.explanations.slice(1).map((e) => (
              <li key={e.id}>{e.text} <span class="muted">({e.provider}{e.scores.map((s) => `, ${s.scorer} ${fmt(s.value)}`).join('')})</span></li>
            ))}
          </ul>
        </Panel>
      )}
    </>
  );
}

function Stat({ label, value }: { label: string; value: string }) {
  return (
    <div class="stat">
      <div class="stat-v">{value}</div>
      <div class="stat-l">{label}</div>
    </div>
  );
}

function LogitList({ items }: { items: LogitEffect[] }) {
  if (!items.length) return <p class="muted">none</p>;
  const max = Math.max(...items.map((x) => Math.abs(x.value)));
  return (
    <ul class="logits">
      {items.map((l) => (
        <li key={l.token_id}>
          <span class="tokchip" style={{ background: signedColor(l.value, max) }}>{showToken(l.token)}</span>
          <span class="num">{fmt(l.value)}</span>
        </li>
      ))}
    </ul>
  );
}

function Neighbours({ rows, label }: { rows: { feature: number; value: number; note?: string }[]; label: string }) {
  if (!rows.length) return <p class="muted">none</p>;
  return (
    <table class="list compact">
      <thead><tr><th>feature</th><th>{label}</th></tr></thead>
      <tbody>
        {rows.map((r) => (
          <tr key={r.feature}><td><a href={href(`/feature/${r.feature}`)}>#{r.feature}</a></td><td>{fmt(r.value)}{r.note ? <span class="muted"> {r.note}</span> : null}</td></tr>
        ))}
      </tbody>
    </table>
  );
}

function Examples({ list, max, feature }: { list: Example[]; max: number; feature: number }) {
  const [all, setAll] = useState(false);
  if (!list.length) return <p class="muted">none</p>;
  const shown = all ? list : list.slice(0, 10);
  return (
    <div class="examples">
      {shown.map((e, i) => (
        <div key={`${e.seq_id}-${i}`} class="example">
          <span class="ex-act" title="peak activation in this example">{fmt(e.activation)}</span>
          <Tokens tokens={e.tokens} values={e.activations} max={max} mark={e.position} label={`feature ${feature}`} />
        </div>
      ))}
      {list.length > 10 && (
        <button class="secondary small" onClick={() => setAll(!all)}>{all ? 'show fewer' : `show all ${list.length}`}</button>
      )}
    </div>
  );
}
