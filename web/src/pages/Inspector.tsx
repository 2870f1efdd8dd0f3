// Prompt inspector: type a prompt, see its tokens coloured by a chosen feature (or by each token's
// strongest feature), click a token for its strongest features, click a feature for its page.
import { useEffect, useState } from 'preact/hooks';
import { api } from '../api';
import { ErrorBox, Loading, Panel } from '../components/Status';
import { Tokens } from '../components/Tokens';
import { href, setParams, type Route } from '../router';
import type { InspectResult, Overview } from '../types';
import { actColor, fmt, showToken } from '../util';

const DEFAULT_PROMPT = 'Once upon a time, there was a little girl named Lily. She loved to play outside in the park.';

export function Inspector({ route, overview }: { route: Route; overview: Overview | null }) {
  const prompt = route.params.get('p') ?? '';
  const featureParam = route.params.get('feature');
  const feature = featureParam !== null && /^\d+$/.test(featureParam) ? Number(featureParam) : null;
  const selected = route.params.get('t') !== null ? Number(route.params.get('t')) : null;
  const [text, setText] = useState(prompt || DEFAULT_PROMPT);
  const [featText, setFeatText] = useState(feature === null ? '' : String(feature));
  // Each reply is kept with what it answers, so a reply for an earlier prompt or feature is never shown
  // under the current one (the two requests arrive in either order).
  const [top, setTop] = useState<{ prompt: string; r: InspectResult } | null>(null);
  const [byFeature, setByFeature] = useState<{ prompt: string; feature: number; r: InspectResult } | null>(null);
  const [error, setError] = useState<Error | null>(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => setFeatText(feature === null ? '' : String(feature)), [feature]);
  useEffect(() => void (prompt && setText(prompt)), [prompt]); // the URL changed under a mounted page

  useEffect(() => {
    if (!prompt) return;
    const ctl = new AbortController();
    setBusy(true);
    setError(null);
    const jobs: Promise<unknown>[] = [api<InspectResult>('/api/features/inspect', { body: { prompt, top: 16 }, signal: ctl.signal }).then((r) => setTop({ prompt, r }))];
    if (feature !== null) jobs.push(api<InspectResult>('/api/features/inspect', { body: { prompt, features: [feature] }, signal: ctl.signal }).then((r) => setByFeature({ prompt, feature, r })));
    Promise.all(jobs).then(
      () => setBusy(false),
      (e: Error) => {
        if (e.name === 'AbortError') return;
        setError(e);
        setTop(null);
        setByFeature(null);
        setBusy(false);
      },
    );
    return () => ctl.abort();
  }, [prompt, feature]);

  const badFeature = featureParam !== null && (feature === null || (overview !== null && feature >= overview.database.nFeatures));
  const shownTop = top?.prompt === prompt ? top.r : null;
  const shownFeature = feature !== null && byFeature?.prompt === prompt && byFeature.feature === feature ? byFeature.r : null;
  const ready = shownTop !== null && (feature === null || shownFeature !== null) ? shownTop : null;
  const tokens = ready?.tokens ?? [];
  const values = shownFeature ? shownFeature.tokens.map((t) => t.features[0]?.activation ?? 0) : tokens.map((t) => t.features[0]?.activation ?? 0);
  const sel = selected !== null && selected >= 0 && selected < tokens.length ? tokens[selected]! : null;

  return (
    <div class="page inspector">
      <h2>Prompt inspector</h2>
      <form
        class="prompt-form"
        onSubmit={(e) => {
          e.preventDefault();
          const f = featText.trim();
          setParams({ p: text, t: null, feature: f === '' ? null : f }, { push: true });
        }}
      >
        <textarea name="prompt" rows={3} value={text} onInput={(e) => setText((e.target as HTMLTextAreaElement).value)} />
        <div class="row">
          <label>
            colour by feature{' '}
            <input name="feature" class="num-input" placeholder="strongest" value={featText} onInput={(e) => setFeatText((e.target as HTMLInputElement).value)} />
          </label>
          <button type="submit">Inspect</button>
          {busy && <span class="muted">running the model…</span>}
        </div>
      </form>
      {badFeature && <ErrorBox title="Unknown feature" error={`"${featureParam}" is not a feature of this dictionary${overview ? ` (0-${overview.database.nFeatures - 1})` : ''}.`} />}
      {error && <ErrorBox title="The prompt could not be inspected" error={error} />}
      {!prompt && !error && <p class="muted">Type a prompt and press Inspect.</p>}
      {prompt && !ready && !error && <Loading what="activations" />}
      {ready && !error && (
        <div class="grid-side">
          <Panel title={feature !== null ? `Coloured by feature #${feature}` : "Coloured by each token's strongest feature"} right={feature !== null ? <a href={href(`/feature/${feature}`)}>feature page →</a> : undefined}>
            <div class="prompt-tokens" data-testid="prompt-tokens">
              <Tokens tokens={tokens.map((t) => t.token)} values={values} selected={selected} onToken={(i) => setParams({ t: i })} label={feature !== null ? `feature ${feature}` : 'strongest'} />
            </div>
            <p class="muted small">{tokens.length} tokens{ready.bos ? ' (BOS not shown)' : ''}. Click a token for its strongest features.</p>
          </Panel>
          <Panel title={sel ? `Token ${sel.position}: “${showToken(sel.token)}”` : 'Token'}>
            {sel ? (
              sel.features.length ? (
                <ul class="featlist" data-testid="token-features">
                  {sel.features.map((f) => (
                    <li key={f.feature}>
                      <a href={href(`/feature/${f.feature}`)}>#{f.feature}</a>
                      <span class="actbar" style={{ width: `${Math.round(100 * (f.activation / (sel.features[0]!.activation || 1)))}px`, background: actColor(f.activation, sel.features[0]!.activation) }} />
                      <span class="num">{fmt(f.activation)}</span>
                      <button class="link" type="button" onClick={() => setParams({ feature: f.feature })}>colour by</button>
                    </li>
                  ))}
                </ul>
              ) : (
                <p class="muted">No feature fires on this token.</p>
              )
            ) : (
              <p class="muted">Click a token.</p>
            )}
          </Panel>
        </div>
      )}
    </div>
  );
}
