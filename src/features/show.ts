// One feature's full record, as `features show` prints it and the HTTP API serves it.
//
// Examples are shown without the BOS position (under the "bos" policy the model saw BOS first, but it is
// not part of the text): `tokens` and `activations` align, `position` indexes them, and `text` is the
// exact string `features inspect` takes to recompute them (it encodes with BOS again).
import type { Store } from '../store/index.js';
import { builtInfo, checkFeature, displayTokens, loadVocab, type Vocab } from './database.js';

export interface ExampleView {
  seq_id: number;
  /** Index into tokens/activations of the strongest activation (null for negatives). */
  position: number | null;
  activation: number;
  text: string;
  token_ids: number[];
  tokens: string[];
  activations: number[];
}

export interface LogitView {
  token_id: number;
  token: string;
  value: number;
}

export interface ScoreView {
  scorer: string;
  value: number | null;
  provider: string;
  model: string | null;
  n_examples: number | null;
  status: string;
  error: string | null;
}

export interface ExplanationView {
  id: number;
  text: string;
  provider: string;
  model: string | null;
  created_at: string;
  scores: ScoreView[];
}

export interface FeatureRecord {
  feature: number;
  density: number;
  fire_count: number;
  max_activation: number;
  mean_activation: number;
  top_examples: ExampleView[];
  bins: { lo: number; hi: number; count: number; examples: ExampleView[] }[];
  histogram: { edges: number[]; counts: number[] } | null;
  top_logits: LogitView[];
  bottom_logits: LogitView[];
  coactivating: { feature: number; jaccard: number; count: number }[];
  similar: { feature: number; cosine: number }[];
  top_tokens: { token_id: number; token: string; count: number; mean_activation: number; max_activation: number }[];
  explanations: ExplanationView[];
}

export interface ShowOptions {
  /** Include the never-firing examples used by scorers (default false). */
  negatives?: boolean;
  logits?: number;
}

interface ExampleRow {
  kind: string;
  bin: number | null;
  rank: number;
  seq_id: number;
  position: number | null;
  activation: number;
  activations: number[] | null;
  token_ids: number[];
  text: string;
}

export async function featureRecord(store: Store, feature: number, opts: ShowOptions = {}): Promise<FeatureRecord & { negative_examples?: ExampleView[] }> {
  const info = await builtInfo(store);
  checkFeature(feature, info.nFeatures);
  const vocab = await loadVocab(store);
  const skip = info.build.bos ? 1 : 0;
  const nLogits = opts.logits ?? 10;

  const [f] = await store.all<{ fire_count: number; density: number; max_activation: number; mean_activation: number; histogram_edges: number[] | null; histogram_counts: number[] | null }>(
    `SELECT * FROM features WHERE feature = ?`,
    [feature],
  );
  // Two point queries beat a join here (DuckDB would hash the whole sequences table for one feature).
  const rows = await store.all<Omit<ExampleRow, 'token_ids' | 'text'>>(
    `SELECT kind, bin, rank, seq_id, position, activation, activations FROM examples WHERE feature = ? ORDER BY kind, bin, rank`,
    [feature],
  );
  const ids = [...new Set(rows.map((r) => r.seq_id))];
  const seqs = ids.length
    ? await store.all<{ seq_id: number; token_ids: number[]; text: string }>(`SELECT seq_id, token_ids, text FROM sequences WHERE seq_id IN (${ids.map(() => '?').join(',')})`, ids)
    : [];
  const bySeq = new Map(seqs.map((q) => [q.seq_id, q]));
  const examples: ExampleRow[] = rows.map((r) => ({ ...r, token_ids: bySeq.get(r.seq_id)?.token_ids ?? [], text: bySeq.get(r.seq_id)?.text ?? '' }));
  const view = (e: ExampleRow): ExampleView => exampleView(e, skip, vocab);
  const bins = await store.all<{ bin: number; lo: number; hi: number; count: number }>(`SELECT bin, lo, hi, count FROM bins WHERE feature = ? ORDER BY bin`, [feature]);
  const logits = await store.all<{ kind: string; rank: number; token_id: number; value: number }>(
    `SELECT kind, rank, token_id, value FROM logits WHERE feature = ? AND rank < ? ORDER BY kind, rank`,
    [feature, nLogits],
  );
  const neighbours = await store.all<{ kind: string; other: number; value: number; count: number | null }>(
    `SELECT kind, other, value, count FROM neighbors WHERE feature = ? ORDER BY kind, rank`,
    [feature],
  );
  const tokens = await store.all<{ token_id: number; count: number; sum_activation: number; max_activation: number }>(
    `SELECT token_id, count, sum_activation, max_activation FROM feature_tokens WHERE feature = ? ORDER BY sum_activation DESC, token_id LIMIT 10`,
    [feature],
  );
  const logitView = (kind: string): LogitView[] =>
    logits.filter((l) => l.kind === kind).map((l) => ({ token_id: l.token_id, token: vocab.text[l.token_id] ?? '', value: l.value }));

  const record: FeatureRecord & { negative_examples?: ExampleView[] } = {
    feature,
    density: f?.density ?? 0,
    fire_count: f?.fire_count ?? 0,
    max_activation: f?.max_activation ?? 0,
    mean_activation: f?.mean_activation ?? 0,
    top_examples: examples.filter((e) => e.kind === 'top').map(view),
    bins: bins.map((b) => ({ lo: b.lo, hi: b.hi, count: b.count, examples: examples.filter((e) => e.kind === 'bin' && e.bin === b.bin).map(view) })),
    histogram: f?.histogram_edges && f.histogram_counts ? { edges: f.histogram_edges, counts: f.histogram_counts } : null,
    top_logits: logitView('top'),
    bottom_logits: logitView('bottom'),
    coactivating: neighbours.filter((n) => n.kind === 'coactivation').map((n) => ({ feature: n.other, jaccard: n.value, count: n.count ?? 0 })),
    similar: neighbours.filter((n) => n.kind === 'similarity').map((n) => ({ feature: n.other, cosine: n.value })),
    top_tokens: tokens.map((t) => ({ token_id: t.token_id, token: vocab.text[t.token_id] ?? '', count: t.count, mean_activation: t.sum_activation / t.count, max_activation: t.max_activation })),
    explanations: await explanationsOf(store, feature),
  };
  if (opts.negatives) record.negative_examples = examples.filter((e) => e.kind === 'negative').map(view);
  return record;
}

export function exampleView(e: Pick<ExampleRow, 'seq_id' | 'position' | 'activation' | 'activations' | 'token_ids' | 'text'>, skip: number, vocab: Vocab): ExampleView {
  const ids = e.token_ids.slice(skip);
  const acts = e.activations ? e.activations.slice(skip, skip + ids.length) : new Array<number>(ids.length).fill(0);
  return {
    seq_id: e.seq_id,
    position: e.position === null ? null : e.position - skip,
    activation: e.activation,
    text: e.text,
    token_ids: ids,
    tokens: displayTokens(vocab, ids),
    activations: acts.map((x) => Math.fround(x)),
  };
}

/** Successful explanations of a feature, newest first, each with its latest score per scorer. */
export async function explanationsOf(store: Store, feature: number): Promise<ExplanationView[]> {
  const rows = await store.all<{ id: number; text: string; provider: string; model: string | null; created_at: unknown }>(
    `SELECT id, text, provider, model, created_at FROM explanations WHERE feature = ? AND status = 'ok' ORDER BY id DESC`,
    [feature],
  );
  if (rows.length === 0) return [];
  const scores = await store.all<ScoreView & { explanation_id: number; id: number }>(
    `SELECT id, explanation_id, scorer, value, provider, model, n_examples, status, error FROM scores WHERE feature = ? ORDER BY id DESC`,
    [feature],
  );
  return rows.map((r) => {
    const latest = new Map<string, ScoreView>();
    for (const s of scores) {
      if (s.explanation_id !== r.id || latest.has(s.scorer)) continue;
      latest.set(s.scorer, { scorer: s.scorer, value: s.value, provider: s.provider, model: s.model, n_examples: s.n_examples, status: s.status, error: s.error });
    }
    return { id: r.id, text: r.text, provider: r.provider, model: r.model, created_at: iso(r.created_at), scores: [...latest.values()] };
  });
}

/** A page of feature summaries (for lists in the workbench). */
export async function listFeatures(store: Store, offset = 0, limit = 50, orderBy: 'feature' | 'density' | 'max_activation' = 'feature'): Promise<{ total: number; features: { feature: number; density: number; max_activation: number; explanation: string | null }[] }> {
  const info = await builtInfo(store);
  const order = orderBy === 'feature' ? 'f.feature' : `f.${orderBy} DESC, f.feature`;
  const rows = await store.all<{ feature: number; density: number; max_activation: number; explanation: string | null }>(
    `SELECT f.feature, f.density, f.max_activation,
       (SELECT text FROM explanations x WHERE x.feature = f.feature AND x.status = 'ok' ORDER BY x.id DESC LIMIT 1) AS explanation
     FROM features f ORDER BY ${order} LIMIT ? OFFSET ?`,
    [limit, offset],
  );
  return { total: info.nFeatures, features: rows };
}

function iso(v: unknown): string {
  return v instanceof Date ? v.toISOString() : String(v);
}
