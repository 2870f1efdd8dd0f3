// What explainers and scorers see of a feature, drawn from its stored record: the top examples (shown
// to the explainer) and, held out from them, activating examples across the activation range plus
// sequences where the feature never fires (for scoring).
import type { ExampleView, FeatureRecord } from '../features/index.js';
import { SmallRng } from '../features/stats/rng.js';
import type { ExplainInput, ShownExample } from './provider.js';

export const EXPLAIN_EXAMPLES = 10;
export const SCORE_POSITIVES = 10;
export const SCORE_NEGATIVES = 8;

/** Activations as integers 0-10 relative to the strongest shown. */
export function normalise(examples: readonly ExampleView[]): ShownExample[] {
  const max = Math.max(0, ...examples.flatMap((e) => e.activations));
  return examples.map((e) => ({ tokens: e.tokens, activations: e.activations.map((a) => (max > 0 && a > 0 ? Math.round((10 * a) / max) : 0)) }));
}

export function explainInput(record: FeatureRecord): ExplainInput {
  return {
    feature: record.feature,
    examples: normalise(record.top_examples.slice(0, EXPLAIN_EXAMPLES)),
    promotes: record.top_logits.slice(0, 5).map((l) => l.token),
  };
}

export interface ScoringSet {
  positives: ExampleView[];
  negatives: ExampleView[];
  /** Whether the positives are disjoint from what the explainer saw. */
  heldOut: boolean;
}

export function scoringSet(record: FeatureRecord & { negative_examples?: ExampleView[] }): ScoringSet {
  const shown = new Set(record.top_examples.slice(0, EXPLAIN_EXAMPLES).map((e) => e.seq_id));
  const seen = new Set<number>();
  const candidates = [...record.bins.slice().reverse().flatMap((b) => b.examples), ...record.top_examples.slice(EXPLAIN_EXAMPLES)];
  const positives: ExampleView[] = [];
  for (const e of candidates) {
    if (shown.has(e.seq_id) || seen.has(e.seq_id) || !(e.activation > 0)) continue;
    seen.add(e.seq_id);
    positives.push(e);
  }
  let heldOut = true;
  if (positives.length < 2) {
    heldOut = false;
    for (const e of record.top_examples) if (!seen.has(e.seq_id) && positives.length < SCORE_POSITIVES) positives.push(e);
  }
  return { positives: spreadPick(positives, SCORE_POSITIVES), negatives: (record.negative_examples ?? []).slice(0, SCORE_NEGATIVES), heldOut };
}

function spreadPick<X>(xs: X[], n: number): X[] {
  if (xs.length <= n) return xs;
  return Array.from({ length: n }, (_, i) => xs[Math.round((i * (xs.length - 1)) / (n - 1))]!);
}

/** A deterministic shuffle (seeded by the feature), so reruns ask the same questions. */
export function shuffled<X>(xs: X[], seed: number): X[] {
  const rng = new SmallRng(seed * 7919 + 17);
  const out = xs.slice();
  for (let i = out.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

export { SmallRng };
