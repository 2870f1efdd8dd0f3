// Model overview: what the database was built from, the architecture, every hook point with its shape,
// and the dictionaries, graphs and training files this server knows.
import { useState } from 'preact/hooks';
import type { Loadable } from '../api';
import { ErrorBox, Loading, Panel } from '../components/Status';
import { href } from '../router';
import type { Overview } from '../types';
import { fmt } from '../util';

export function OverviewPage({ data }: { data: Loadable<Overview> }) {
  const [filter, setFilter] = useState('');
  if (data.state === 'loading') return <Loading what="the model overview" />;
  if (data.state === 'error') return <ErrorBox title="The server cannot serve the feature database" error={data.error} />;
  const { database: db, model, modelError, loaded, dictionaries, graphs, dynamics } = data.value;
  const id = db.identity;
  const hooks = model?.hooks.filter((h) => h.name.includes(filter)) ?? [];
  return (
    <div class="page overview">
      <h2>Model overview</h2>
      {!db.built && <ErrorBox title="The database has no finished build" error="Run `loupe features build` (it resumes) before browsing features." />}
      <div class="grid2">
        <Panel title="Model">
          <table class="kv">
            <tbody>
              <tr><th>checkpoint</th><td class="mono"><FilePath now={loaded?.model} recorded={id.model.path} /></td></tr>
              <tr><th>architecture</th><td>{id.model.architecture}</td></tr>
              <tr><th>d_model</th><td>{id.model.dModel}</td></tr>
              <tr><th>layers</th><td>{id.model.nLayers}</td></tr>
              <tr><th>vocabulary</th><td>{id.model.vocabSize}</td></tr>
              <tr><th>tokenizer</th><td class="mono"><FilePath now={loaded?.tokenizer} recorded={id.tokenizer.path} /></td></tr>
              {model && <tr><th>parameters</th><td>{model.parameters.toLocaleString('en')}</td></tr>}
              {model &&
                ['nHeads', 'nKvHeads', 'dHead', 'dMlp', 'nCtx', 'norm', 'positional', 'activation'].map((k) =>
                  model.config[k] !== undefined ? (
                    <tr key={k}><th>{k}</th><td>{String(model.config[k])}</td></tr>
                  ) : null,
                )}
            </tbody>
          </table>
          {modelError && <ErrorBox title="The model did not load (live inspection and steering need it)" error={modelError} />}
        </Panel>
        <Panel title="Feature database">
          <table class="kv">
            <tbody>
              <tr><th>file</th><td class="mono">{db.path}</td></tr>
              <tr><th>features</th><td>{db.nFeatures}</td></tr>
              {db.build && (
                <>
                  <tr><th>corpus</th><td class="mono">{db.build.dataPath}</td></tr>
                  <tr><th>tokens</th><td>{db.build.tokens.toLocaleString('en')} in {db.build.sequences} sequences of {db.build.context}</td></tr>
                  <tr><th>BOS</th><td>{db.build.bos ? 'first, left out of statistics' : 'none'}</td></tr>
                  <tr><th>status</th><td>{db.build.status}{db.build.tokensPerSecond ? ` · ${fmt(db.build.tokensPerSecond)} tok/s` : ''}</td></tr>
                </>
              )}
            </tbody>
          </table>
          <p>
            <a href={href('/features')}>Browse features →</a> · <a href={href('/inspect')}>Inspect a prompt →</a>
          </p>
        </Panel>
      </div>
      <Panel title="Dictionaries">
        <table class="list">
          <thead>
            <tr><th>role</th><th>architecture</th><th>hook</th><th>d_in</th><th>latents</th><th>k</th><th>path</th><th /></tr>
          </thead>
          <tbody>
            {dictionaries.map((d) => (
              <tr key={d.id}>
                <td>{d.role}</td>
                <td>{d.architecture ?? '–'}</td>
                <td class="mono">{d.hook_name ?? '–'}{d.hook_name_out ? ` → ${d.hook_name_out}` : ''}</td>
                <td>{d.d_in ?? '–'}</td>
                <td>{d.d_sae ?? '–'}</td>
                <td>{d.k ?? '–'}</td>
                <td class="mono">{d.path}{d.error ? <div class="muted">{d.error}</div> : null}</td>
                <td>{d.available && <a href={href('/training', { dict: d.id })}>report</a>}</td>
              </tr>
            ))}
          </tbody>
        </table>
        {(graphs.length > 0 || dynamics.length > 0) && (
          <p>
            {graphs.map((g) => (
              <a key={g.id} class="chip" href={href('/graph', { g: g.id })}>graph: {g.name}</a>
            ))}
            {dynamics.map((d) => (
              <a key={d.id} class="chip" href={href('/training', { dyn: d.id })}>dynamics: {d.name}</a>
            ))}
          </p>
        )}
      </Panel>
      <Panel title={`Hook points${model ? ` (${model.hooks.length})` : ''}`} right={model && <input class="filter" placeholder="filter, e.g. blocks.2.attn" value={filter} onInput={(e) => setFilter((e.target as HTMLInputElement).value)} />}>
        {model ? (
          <table class="list hooks">
            <thead><tr><th>hook</th><th>shape</th></tr></thead>
            <tbody>
              {hooks.map((h) => (
                <tr key={h.name} class={h.name === id.dictionary.hookName ? 'hl' : ''}>
                  <td class="mono">{h.name}</td>
                  <td class="mono">[{h.shape.join(', ')}]</td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : (
          <p class="muted">The hook list needs the model loaded{modelError ? ' (see the error above)' : ` (this database was built from ${id.model.architecture === 'synthetic' ? 'the synthetic stand-in model, which has no hook points' : 'a source without a model'})`}.</p>
        )}
      </Panel>
    </div>
  );
}

/** A file the server runs; where it moved since the build, the recorded path too. */
function FilePath({ now, recorded }: { now: string | undefined; recorded: string }) {
  if (!now || now === recorded) return <>{recorded}</>;
  return (
    <>
      {now} <span class="muted small">(built from {recorded})</span>
    </>
  );
}
