// Which features are about a word? Three kinds of evidence, each scored in [0, 1] and reported apart:
// - input: the feature fires on the word's tokens in the corpus sample. Score = E[activation | token] /
//   the feature's max activation (how strongly, on average, the token turns the feature on);
// - output: the feature's decoder direction promotes the word's tokens. Score = the token's logit
//   effect / the feature's strongest logit effect (1 = it is the token the feature promotes most);
// - explanation: the feature's explanation mentions the query's words (fraction of them found).
// A feature's score is the sum, so one with both input and output evidence ranks above one with either.
import type { Tokenizer } from '../model/tokenizers/index.js';
import type { Store } from '../store/index.js';
import { builtInfo, loadVocab, type Vocab } from './database.js';

export type Evidence = 'input' | 'output' | 'explanation';

export interface SearchHit {
  feature: number;
  score: number;
  evidence: Evidence[];
  input: { token_id: number; token: string; score: number; mean_activation: number; fire_rate: number; count: number } | null;
  output: { token_id: number; token: string; score: number; logit: number; rank: number } | null;
  explanation: { id: number; text: string; score: number } | null;
  density: number;
  max_activation: number;
}

export interface SearchResult {
  query: string;
  tokens: { token_id: number; token: string }[];
  results: SearchHit[];
}

export interface SearchOptions {
  limit?: number;
  /** Used for words that are not a single vocabulary entry (split into their tokens). */
  tokenizer?: Tokenizer;
}

export async function searchFeatures(store: Store, query: string, opts: SearchOptions = {}): Promise<SearchResult> {
  await builtInfo(store);
  const limit = opts.limit ?? 20;
  const vocab = await loadVocab(store);
  const words = queryWords(query);
  const tokenIds = resolveTokens(words, vocab, opts.tokenizer);
  const hits = new Map<number, SearchHit>();
  const hit = (f: number): SearchHit => {
    let h = hits.get(f);
    if (!h) {
      h = { feature: f, score: 0, evidence: [], input: null, output: null, explanation: null, density: 0, max_activation: 0 };
      hits.set(f, h);
    }
    return h;
  };

  if (tokenIds.length) {
    const inList = tokenIds.map(() => '?').join(',');
    const inputs = await store.all<{ feature: number; token_id: number; count: number; sum_activation: number; token_count: number; max_activation: number }>(
      `SELECT ft.feature, ft.token_id, ft.count, ft.sum_activation, tc.count AS token_count, f.max_activation
       FROM feature_tokens ft JOIN token_counts tc USING (token_id) JOIN features f USING (feature)
       WHERE ft.token_id IN (${inList})`,
      tokenIds,
    );
    for (const r of inputs) {
      const mean = r.sum_activation / r.token_count;
      const score = r.max_activation > 0 ? mean / r.max_activation : 0;
      const h = hit(r.feature);
      if (!h.input || score > h.input.score) {
        h.input = { token_id: r.token_id, token: vocab.text[r.token_id] ?? '', score, mean_activation: mean, fire_rate: r.count / r.token_count, count: r.count };
      }
    }
    const outputs = await store.all<{ feature: number; token_id: number; rank: number; value: number; best: number }>(
      `SELECT l.feature, l.token_id, l.rank, l.value, b.value AS best
       FROM logits l JOIN logits b ON b.feature = l.feature AND b.kind = 'top' AND b.rank = 0
       WHERE l.kind = 'top' AND l.value > 0 AND l.token_id IN (${inList})`,
      tokenIds,
    );
    for (const r of outputs) {
      const score = r.best > 0 ? r.value / r.best : 0;
      const h = hit(r.feature);
      if (!h.output || score > h.output.score) h.output = { token_id: r.token_id, token: vocab.text[r.token_id] ?? '', score, logit: r.value, rank: r.rank };
    }
  }

  const textWords = words.map((w) => w.toLowerCase()).filter((w) => /\w/.test(w));
  if (textWords.length) {
    const likes = textWords.map(() => `lower(text) LIKE ? ESCAPE '\\'`).join(' OR ');
    const rows = await store.all<{ id: number; feature: number; text: string }>(
      `SELECT id, feature, text FROM explanations WHERE status = 'ok' AND (${likes}) ORDER BY id DESC`,
      textWords.map((w) => `%${w.replace(/[\\%_]/g, (c) => '\\' + c)}%`),
    );
    for (const r of rows) {
      const lower = r.text.toLowerCase();
      const found = textWords.filter((w) => new RegExp(`(^|[^\\p{L}\\p{N}])${escapeRegExp(w)}($|[^\\p{L}\\p{N}])`, 'u').test(lower)).length;
      if (found === 0) continue;
      const score = found / textWords.length;
      const h = hit(r.feature);
      if (!h.explanation || score > h.explanation.score) h.explanation = { id: r.id, text: r.text, score };
    }
  }

  const results = [...hits.values()];
  for (const h of results) {
    if (h.input) h.evidence.push('input');
    if (h.output) h.evidence.push('output');
    if (h.explanation) h.evidence.push('explanation');
    h.score = (h.input?.score ?? 0) + (h.output?.score ?? 0) + (h.explanation?.score ?? 0);
  }
  results.sort((a, b) => b.score - a.score || a.feature - b.feature);
  results.length = Math.min(results.length, limit);
  if (results.length) {
    const stats = await store.all<{ feature: number; density: number; max_activation: number }>(
      `SELECT feature, density, max_activation FROM features WHERE feature IN (${results.map(() => '?').join(',')})`,
      results.map((r) => r.feature),
    );
    const byF = new Map(stats.map((s) => [s.feature, s]));
    for (const r of results) {
      r.density = byF.get(r.feature)?.density ?? 0;
      r.max_activation = byF.get(r.feature)?.max_activation ?? 0;
    }
  }
  return { query, tokens: tokenIds.map((id) => ({ token_id: id, token: vocab.text[id] ?? '' })), results };
}

function queryWords(query: string): string[] {
  return query.trim().split(/\s+/).filter(Boolean);
}

/**
 * Token ids for the query: every vocabulary entry that spells a word exactly (ignoring case and the
 * leading space, so " cat", "cat" and " Cat" all count); words with no such entry go through the
 * tokenizer when one is given.
 */
export function resolveTokens(words: string[], vocab: Vocab, tokenizer?: Tokenizer): number[] {
  const index = new Map<string, number[]>();
  vocab.text.forEach((t, id) => {
    const k = (t ?? '').trim().toLowerCase();
    if (!k) return;
    let l = index.get(k);
    if (!l) index.set(k, (l = []));
    l.push(id);
  });
  const out = new Set<number>();
  for (const w of words) {
    const exact = index.get(w.toLowerCase());
    if (exact) exact.forEach((id) => out.add(id));
    else if (tokenizer) tokenizer.encode(w, { bos: false }).forEach((id) => out.add(id));
  }
  return [...out];
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
