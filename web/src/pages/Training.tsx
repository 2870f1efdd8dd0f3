// Training reports: a dictionary's (config, how it was trained, firing-density histogram, checkpoints)
// and a model's training dynamics from `loupe dynamics` (loss, induction and previous-token head scores,
// in-context-learning score per checkpoint).
import { useState } from 'preact/hooks';
import { useApi } from '../api';
import { Histogram, LinePlot } from '../components/Charts';
import { ErrorBox, Panel, Show } from '../components/Status';
import { setParams, type Route } from '../router';
import type { Overview } from '../types';
import { fmt } from '../util';

interface Report {
  id: number;
  role: string;
  path: string;
  summary: { available: boolean; error?: string; architecture?: string; d_in?: number; d_sae?: number; k?: number | null; hook_name?: string; hook_name_out?: string | null; model_name?: string };
  training: Record<string, unknown>;
  metadata: Record<string, unknown>;
  density: { edges: number[]; counts: number[]; dead: number; total: number } | null;
  checkpoints: { name: string; step?: number; tokens?: number; elapsed_seconds?: number }[];
}

interface Dynamics {
  name?: string;
  checkpoints: Record<string, number | null>[];
}

export function TrainingPage({ route, overview }: { route: Route; overview: Overview | null }) {
  const dict = route.params.get('dict') ?? (overview?.dictionaries.some((d) => d.available) ? String(overview.dictionaries.find((d) => d.available)!.id) : null);
  const dyn = route.params.get('dyn') ?? (overview?.dynamics.length ? '0' : null);
  const report = useApi<Report>(dict !== null && /^\d+$/.test(dict) ? `/api/dictionaries/${dict}/report` : null);
  const dynamics = useApi<Dynamics>(dyn !== null && /^\d+$/.test(dyn) ? `/api/dynamics/${dyn}` : null);
  const [local, setLocal] = useState<Dynamics | null>(null);
  const [localError, setLocalError] = useState<string | null>(null);

  return (
    <div class="page training">
      <h2>Training</h2>
      <Panel
        title="Dictionary training report"
        right={
          overview && overview.dictionaries.length > 0 ? (
            <select value={dict ?? ''} onChange={(e) => setParams({ dict: (e.target as HTMLSelectElement).value })}>
              {overview.dictionaries.map((d) => (
                <option key={d.id} value={d.id}>{d.role}: {d.hook_name ?? d.path}</option>
              ))}
            </select>
          ) : undefined
        }
      >
        {dict === null ? <p class="muted">No dictionary files on this server (the database's dictionary is synthetic or missing; name one with <code>--sae DIR</code> or <code>--transcoders DIR</code>).</p> : <Show data={report} what="the training report">{(r) => <DictionaryReport r={r} />}</Show>}
      </Panel>
      <Panel
        title="Training dynamics"
        right={
          <span class="row">
            {overview && overview.dynamics.length > 0 && (
              <select value={dyn ?? ''} onChange={(e) => setParams({ dyn: (e.target as HTMLSelectElement).value })}>
                {overview.dynamics.map((d) => <option key={d.id} value={d.id}>{d.name}</option>)}
              </select>
            )}
            <label class="file">
              open dynamics JSON…{' '}
              <input type="file" accept=".json" onChange={async (e) => {
                const f = (e.target as HTMLInputElement).files?.[0];
                if (!f) return;
                try {
                  const raw = JSON.parse(await f.text()) as Dynamics;
                  if (!Array.isArray(raw.checkpoints)) throw new Error('expected {"checkpoints": [{step, loss, induction_max, prev_token_max, icl_score}]}');
                  setLocal({ ...raw, name: f.name });
                  setLocalError(null);
                } catch (err) {
                  setLocalError(`${f.name}: ${(err as Error).message}`);
                }
              }} />
            </label>
          </span>
        }
      >
        {localError && <ErrorBox title="Could not read the file" error={localError} />}
        {local ? <DynamicsPlots d={local} /> : dyn === null ? <p class="muted">No dynamics file on this server: start <code>loupe serve --dynamics dynamics.json</code> (from <code>loupe dynamics</code>), or open one.</p> : <Show data={dynamics} what="the dynamics">{(d) => <DynamicsPlots d={d} />}</Show>}
      </Panel>
    </div>
  );
}

function DictionaryReport({ r }: { r: Report }) {
  if (!r.summary.available) return <ErrorBox title={`No report for ${r.path}`} error={r.summary.error ?? 'not a dictionary directory'} />;
  const t = r.training;
  const opts = (typeof t.options === 'object' && t.options !== null ? t.options : {}) as Record<string, unknown>;
  const rows: [string, unknown][] = [
    ['architecture', r.summary.architecture],
    ['hook', r.summary.hook_name + (r.summary.hook_name_out ? ` → ${r.summary.hook_name_out}` : '')],
    ['d_in × latents', `${r.summary.d_in} × ${r.summary.d_sae}`],
    ['k', r.summary.k],
    ['model', r.summary.model_name],
    ['tokens', t.tokens],
    ['steps', t.steps],
    ['seconds', t.seconds],
    ['learning rate', opts.lr],
    ['batch', opts.batchSize],
    ['dataset', r.metadata.dataset_path ?? r.metadata.dataset],
    ['context', r.metadata.context_size],
  ];
  return (
    <div class="grid2">
      <table class="kv">
        <tbody>
          {rows.filter(([, v]) => v !== undefined && v !== null && v !== '').map(([k, v]) => (
            <tr key={k}><th>{k}</th><td>{typeof v === 'number' ? fmt(v, 6) : String(v)}</td></tr>
          ))}
          <tr><th>path</th><td class="mono">{r.path}</td></tr>
        </tbody>
      </table>
      <div>
        {r.density ? (
          <>
            <Histogram edges={r.density.edges} counts={r.density.counts} xLabel="log10 firing density" width={420} height={150} color="#6366f1" />
            <p class="small">{r.density.dead} of {r.density.total} latents never fired in the last window ({fmt((100 * r.density.dead) / r.density.total)}% dead).</p>
          </>
        ) : (
          <p class="muted">No sparsity.safetensors in the directory (no density histogram).</p>
        )}
        {r.checkpoints.length > 0 && (
          <table class="list compact">
            <thead><tr><th>checkpoint</th><th>step</th><th>tokens</th><th>seconds</th></tr></thead>
            <tbody>
              {r.checkpoints.map((c) => (
                <tr key={c.name}><td class="mono">{c.name}</td><td>{c.step ?? '–'}</td><td>{c.tokens?.toLocaleString('en') ?? '–'}</td><td>{fmt(c.elapsed_seconds)}</td></tr>
              ))}
            </tbody>
          </table>
        )}
      </div>
    </div>
  );
}

function DynamicsPlots({ d }: { d: Dynamics }) {
  const cps = d.checkpoints.filter((c) => typeof c.step === 'number');
  if (!cps.length) return <p class="muted">The file has no checkpoints.</p>;
  const s = (key: string, color: string, name = key) => ({ name, color, points: cps.filter((c) => typeof c[key] === 'number').map((c) => [c.step!, c[key]!] as [number, number]) });
  const logX = cps.length > 2 && cps.every((c) => c.step! > 0);
  return (
    <div class="grid3" data-testid="dynamics">
      <div>
        <div class="muted small">loss</div>
        <LinePlot series={[s('loss', '#111827')]} xLabel="step" logX={logX} width={340} />
      </div>
      <div>
        <div class="muted small">head scores (max over heads)</div>
        <LinePlot series={[s('induction_max', '#dc2626', 'induction'), s('prev_token_max', '#2563eb', 'previous token')]} xLabel="step" logX={logX} width={340} />
      </div>
      <div>
        <div class="muted small">in-context learning score</div>
        <LinePlot series={[s('icl_score', '#16a34a', 'ICL')]} xLabel="step" logX={logX} width={340} />
      </div>
    </div>
  );
}
