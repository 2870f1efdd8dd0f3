// Steering playground: pick features, a mode and a strength each, and compare the unsteered and steered
// continuations of a prompt side by side (same sampler seed on both sides), streamed as they are made.
// The request and reply shapes are in steer-client.ts.
import { useEffect, useRef, useState } from 'preact/hooks';
import { ErrorBox, Panel } from '../components/Status';
import { href, setParams, type Route } from '../router';
import type { Overview } from '../types';
import { fmt } from '../util';
import { MODES, parseSteerSpec, formatSteerSpec, runSteering, type SteerFeature, type SteerState } from './steer-client';

export function SteeringPage({ route, overview }: { route: Route; overview: Overview | null }) {
  const features = parseSteerSpec(route.params.get('f') ?? '');
  const prompt = route.params.get('p') ?? 'Once upon a time, there was a little';
  const nParam = route.params.get('n');
  const seedParam = route.params.get('seed');
  const tempParam = route.params.get('temp');
  const [text, setText] = useState(prompt);
  const [maxTokens, setMaxTokens] = useState(Number(nParam) || 40);
  const [seed, setSeed] = useState(Number(seedParam) || 0);
  const [temperature, setTemperature] = useState(tempParam !== null ? Number(tempParam) : 1);
  // The page stays mounted when only the URL changes (a link, back/forward): the form follows it.
  useEffect(() => setText(prompt), [prompt]);
  useEffect(() => setMaxTokens(Number(nParam) || 40), [nParam]);
  useEffect(() => setSeed(Number(seedParam) || 0), [seedParam]);
  useEffect(() => setTemperature(tempParam !== null ? Number(tempParam) : 1), [tempParam]);
  const [addId, setAddId] = useState('');
  const [run, setRun] = useState<SteerState | null>(null);
  const [error, setError] = useState<Error | null>(null);
  const ctl = useRef<AbortController | null>(null);
  const nFeatures = overview?.database.nFeatures ?? Infinity;
  const bad = features.filter((f) => f.feature >= nFeatures);

  const update = (list: SteerFeature[]): void => setParams({ f: formatSteerSpec(list) || null });
  const start = async (): Promise<void> => {
    ctl.current?.abort();
    const c = new AbortController();
    ctl.current = c;
    setError(null);
    setParams({ p: text, n: maxTokens, seed, temp: temperature });
    setRun({ baseline: '', steered: '', done: false, info: null });
    try {
      await runSteering({ prompt: text, features, maxNewTokens: maxTokens, seed, temperature }, c.signal, (s) => setRun({ ...s }));
    } catch (e) {
      if ((e as Error).name !== 'AbortError') setError(e as Error);
    }
  };

  return (
    <div class="page steering">
      <h2>Steering playground</h2>
      <div class="grid-side wide-left">
        <Panel title="Prompt">
          <textarea name="prompt" rows={3} value={text} onInput={(e) => setText((e.target as HTMLTextAreaElement).value)} />
          <div class="row">
            <label>tokens <input class="num-input" type="number" min={1} max={128} value={maxTokens} onInput={(e) => setMaxTokens(Number((e.target as HTMLInputElement).value))} /></label>
            <label>seed <input class="num-input" type="number" min={0} value={seed} onInput={(e) => setSeed(Number((e.target as HTMLInputElement).value))} /></label>
            <label>temperature <input class="num-input" type="number" min={0} max={2} step={0.1} value={temperature} onInput={(e) => setTemperature(Number((e.target as HTMLInputElement).value))} /></label>
            <button type="button" disabled={features.length === 0 || bad.length > 0} onClick={() => void start()}>Generate</button>
            {run && !run.done && <button type="button" class="secondary" onClick={() => ctl.current?.abort()}>Stop</button>}
          </div>
        </Panel>
        <Panel title="Features to steer">
          {features.length === 0 && <p class="muted">Add a feature (or open one from a feature page's “steer with it”).</p>}
          <table class="list compact steer-features">
            <tbody>
              {features.map((f, i) => (
                <tr key={i}>
                  <td><a href={href(`/feature/${f.feature}`)}>#{f.feature}</a></td>
                  <td>
                    <select value={f.mode} onChange={(e) => update(features.map((g, j) => (j === i ? { ...g, mode: (e.target as HTMLSelectElement).value as SteerFeature['mode'] } : g)))}>
                      {MODES.map((m) => <option key={m} value={m}>{m}</option>)}
                    </select>
                  </td>
                  <td>
                    <input type="range" min={-20} max={20} step={0.5} value={f.amount} disabled={f.mode === 'ablate'} aria-label={`strength of feature ${f.feature}`} onInput={(e) => update(features.map((g, j) => (j === i ? { ...g, amount: Number((e.target as HTMLInputElement).value) } : g)))} />
                  </td>
                  <td class="num">{f.mode === 'ablate' ? '–' : fmt(f.amount)}</td>
                  <td><button class="link" type="button" onClick={() => update(features.filter((_, j) => j !== i))}>remove</button></td>
                </tr>
              ))}
            </tbody>
          </table>
          <form
            class="row"
            onSubmit={(e) => {
              e.preventDefault();
              if (!/^\d+$/.test(addId.trim())) return;
              update([...features, { feature: Number(addId.trim()), mode: 'add', amount: 4 }]);
              setAddId('');
            }}
          >
            <input class="num-input" name="add-feature" placeholder="feature #" value={addId} onInput={(e) => setAddId((e.target as HTMLInputElement).value)} />
            <button type="submit" class="secondary">Add</button>
          </form>
          <p class="muted small">add: strength along the feature's decoder direction (activation units); clamp: pin the feature's value; ablate: set it to 0.</p>
        </Panel>
      </div>
      {bad.length > 0 && <ErrorBox title="Unknown feature" error={`feature ${bad.map((f) => f.feature).join(', ')} is out of range: this dictionary has ${nFeatures} features (0-${nFeatures - 1}).`} />}
      {error && <ErrorBox title="Steering failed" error={error} />}
      {run && (
        <div class="side-by-side" data-testid="steer-output">
          <Panel title="Baseline (unsteered)">
            <div class="gen" data-testid="baseline"><span class="prompt-echo">{text}</span>{run.baseline}{!run.done && <span class="cursor">▍</span>}</div>
          </Panel>
          <Panel title={`Steered: ${features.map((f) => `#${f.feature} ${f.mode}${f.mode === 'ablate' ? '' : ` ${fmt(f.amount)}`}`).join(', ')}`}>
            <div class="gen" data-testid="steered"><span class="prompt-echo">{text}</span>{run.steered}{!run.done && <span class="cursor">▍</span>}</div>
          </Panel>
        </div>
      )}
      {run?.info && <p class="muted small">{run.info}</p>}
    </div>
  );
}
