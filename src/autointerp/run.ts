// Explaining and scoring many features: providers are called concurrently (bounded), and each feature's
// outcome, success or failure, is written as soon as it is known, so a run that stops half-way keeps
// everything it finished and a failure (no key, timeout, garbage reply) is recorded against its feature.
import { featureRecord, type FeatureRecord } from '../features/index.js';
import type { ExampleView } from '../features/index.js';
import type { Store } from '../store/index.js';
import { explainInput, scoringSet } from './evidence.js';
import { Limiter } from './http.js';
import { runScorer, SCORERS, type ScoreOutcome, type ScorerName } from './scorers.js';
import type { InterpProvider, Usage } from './provider.js';

export interface RunOptions {
  features: number[];
  provider: InterpProvider;
  /** Features in flight at once (default 8; the provider's HTTP client bounds requests separately). */
  concurrency?: number;
  onProgress?: (done: number, total: number) => void;
  /** Serialises database access with other users of the same Store (e.g. an HTTP server's handlers). */
  lock?: Limiter;
}

export interface ExplainOutcome {
  feature: number;
  status: 'ok' | 'failed' | 'skipped';
  explanation_id: number | null;
  explanation: string | null;
  error: string | null;
}

export interface ExplainRun {
  provider: string;
  model: string | null;
  results: ExplainOutcome[];
  ok: number;
  failed: number;
  skipped: number;
  usage: Usage;
}

export async function explainFeatures(store: Store, opts: RunOptions): Promise<ExplainRun> {
  const db = opts.lock ?? new Limiter(1); // one DuckDB connection: queries one at a time
  const { provider } = opts;
  const results = await forEachFeature(opts, async (f): Promise<ExplainOutcome> => {
    const record = await db.run(() => featureRecord(store, f));
    if (record.fire_count === 0) return { feature: f, status: 'skipped', explanation_id: null, explanation: null, error: 'the feature never fired in the corpus sample' };
    let text: string | null = null;
    let error: string | null = null;
    let usage = { promptTokens: 0, completionTokens: 0 };
    try {
      const ans = await provider.explain(explainInput(record));
      text = ans.value;
      usage = ans.usage;
    } catch (err) {
      error = err instanceof Error ? err.message : String(err);
    }
    const [row] = await db.run(() =>
      store.all<{ id: number }>(
        `INSERT INTO explanations (feature, provider, model, text, status, error, prompt_tokens, completion_tokens) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
        [f, provider.name, provider.model, text, error ? 'failed' : 'ok', error, usage.promptTokens, usage.completionTokens],
      ),
    );
    return { feature: f, status: error ? 'failed' : 'ok', explanation_id: row!.id, explanation: text, error };
  });
  return {
    provider: provider.name,
    model: provider.model,
    results,
    ok: results.filter((r) => r.status === 'ok').length,
    failed: results.filter((r) => r.status === 'failed').length,
    skipped: results.filter((r) => r.status === 'skipped').length,
    usage: provider.usage(),
  };
}

export interface ScoreRunOptions extends RunOptions {
  scorers?: ScorerName[];
}

export interface FeatureScores {
  feature: number;
  explanation_id: number | null;
  explanation: string | null;
  scores: Partial<Record<ScorerName, number | null>>;
  status: Partial<Record<ScorerName, ScoreOutcome['status']>>;
  errors: Partial<Record<ScorerName, string>>;
}

export interface ScoreRun {
  provider: string;
  model: string | null;
  features: FeatureScores[];
  /** Mean of each scorer over the features it scored. */
  mean: Partial<Record<ScorerName, number | null>>;
  usage: Usage;
}

/** Scores each feature's latest successful explanation (from any provider) with the chosen provider as judge. */
export async function scoreFeatures(store: Store, opts: ScoreRunOptions): Promise<ScoreRun> {
  const db = opts.lock ?? new Limiter(1);
  const { provider } = opts;
  const scorers = opts.scorers ?? [...SCORERS];
  const results = await forEachFeature(opts, async (f): Promise<FeatureScores> => {
    const out: FeatureScores = { feature: f, explanation_id: null, explanation: null, scores: {}, status: {}, errors: {} };
    const [expl] = await db.run(() => store.all<{ id: number; text: string }>(`SELECT id, text FROM explanations WHERE feature = ? AND status = 'ok' ORDER BY id DESC LIMIT 1`, [f]));
    if (!expl) {
      for (const s of scorers) {
        out.status[s] = 'skipped';
        out.errors[s] = 'no explanation yet (run `loupe features explain` first)';
        out.scores[s] = null;
      }
      return out;
    }
    out.explanation_id = expl.id;
    out.explanation = expl.text;
    const record = (await db.run(() => featureRecord(store, f, { negatives: true }))) as FeatureRecord & { negative_examples?: ExampleView[] };
    const set = scoringSet(record);
    for (const s of scorers) {
      const r = await runScorer(s, provider, expl.text, set, f);
      out.scores[s] = r.value;
      out.status[s] = r.status;
      if (r.error) out.errors[s] = r.error;
      await db.run(() =>
        store.run(
          `INSERT INTO scores (feature, explanation_id, scorer, provider, model, value, n_examples, details, status, error, prompt_tokens, completion_tokens) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          [f, expl.id, s, provider.name, provider.model, r.value, r.nExamples, JSON.stringify(r.details), r.status, r.error, r.usage.promptTokens, r.usage.completionTokens],
        ),
      );
    }
    return out;
  });
  const mean: ScoreRun['mean'] = {};
  for (const s of scorers) {
    const vals = results.map((r) => r.scores[s]).filter((v): v is number => typeof v === 'number');
    mean[s] = vals.length ? vals.reduce((a, b) => a + b, 0) / vals.length : null;
  }
  return { provider: provider.name, model: provider.model, features: results, mean, usage: provider.usage() };
}

/** Runs `task` over the features with bounded concurrency; results in feature order. */
async function forEachFeature<R>(opts: RunOptions, task: (f: number) => Promise<R>): Promise<R[]> {
  const limiter = new Limiter(opts.concurrency ?? 8);
  let done = 0;
  return Promise.all(
    opts.features.map((f) =>
      limiter.run(async () => {
        const r = await task(f);
        opts.onProgress?.(++done, opts.features.length);
        return r;
      }),
    ),
  );
}
