// Scoring an explanation by how well it predicts the feature (OpenAI 2023; delphi):
// - detection: given excerpts where the feature fires and where it never does, which fire? (balanced accuracy)
// - fuzzing: given activating excerpts with either the truly activating tokens marked or as many random
//   non-activating ones, which are marked correctly? (balanced accuracy)
// - simulation: predict every token's activation; Pearson correlation with the real activations.
import type { ExampleView } from '../features/index.js';
import { SmallRng, shuffled, type ScoringSet } from './evidence.js';
import { balancedAccuracy, pearson } from './metrics.js';
import { ProviderError, type InterpProvider, type TokenUsage } from './provider.js';

export type ScorerName = 'detection' | 'fuzzing' | 'simulation';
export const SCORERS: readonly ScorerName[] = ['detection', 'fuzzing', 'simulation'];

export interface ScoreOutcome {
  scorer: ScorerName;
  status: 'ok' | 'failed' | 'skipped' | 'unsupported';
  value: number | null;
  nExamples: number;
  details: Record<string, unknown>;
  error: string | null;
  usage: TokenUsage;
}

const NO_USAGE = { promptTokens: 0, completionTokens: 0 };

export async function runScorer(name: ScorerName, provider: InterpProvider, explanation: string, set: ScoringSet, seed: number): Promise<ScoreOutcome> {
  const base = { scorer: name, details: { heldOut: set.heldOut } as Record<string, unknown>, usage: NO_USAGE };
  try {
    if (name === 'detection') return await detection(provider, explanation, set, seed, base);
    if (name === 'fuzzing') return await fuzzing(provider, explanation, set, seed, base);
    return await simulation(provider, explanation, set, base);
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    return { ...base, status: 'failed', value: null, nExamples: 0, error: msg, details: { ...base.details, kind: err instanceof ProviderError ? err.kind : 'error' } };
  }
}

type Base = Pick<ScoreOutcome, 'scorer' | 'details' | 'usage'>;

async function detection(provider: InterpProvider, explanation: string, set: ScoringSet, seed: number, base: Base): Promise<ScoreOutcome> {
  if (set.positives.length === 0 || set.negatives.length === 0) return skipped(base, `needs activating and non-activating examples (have ${set.positives.length} and ${set.negatives.length})`);
  const items = shuffled([...set.positives.map((e) => ({ e, y: true })), ...set.negatives.map((e) => ({ e, y: false }))], seed);
  const ans = await provider.detect({ explanation, examples: items.map((i) => i.e.tokens) });
  const ba = balancedAccuracy(items.map((i) => i.y), ans.value);
  return { ...base, status: 'ok', value: ba.value, nExamples: items.length, error: null, usage: ans.usage, details: { ...base.details, tp: ba.tp, fp: ba.fp, tn: ba.tn, fn: ba.fn } };
}

async function fuzzing(provider: InterpProvider, explanation: string, set: ScoringSet, seed: number, base: Base): Promise<ScoreOutcome> {
  const rng = new SmallRng(seed * 104729 + 3);
  const items: { tokens: string[]; marked: boolean[]; y: boolean }[] = [];
  set.positives.forEach((e, i) => {
    const max = Math.max(...e.activations);
    const on = e.activations.map((a) => a > 0 && a >= 0.05 * max);
    const k = on.filter(Boolean).length;
    if (k === 0) return;
    if (i % 2 === 0) {
      items.push({ tokens: e.tokens, marked: on, y: true });
      return;
    }
    const off = e.activations.map((a, j) => (a === 0 ? j : -1)).filter((j) => j >= 0);
    if (off.length < k) return;
    const marked = new Array<boolean>(e.tokens.length).fill(false);
    for (let m = 0; m < k; m++) {
      const pick = m + rng.int(off.length - m);
      [off[m], off[pick]] = [off[pick]!, off[m]!];
      marked[off[m]!] = true;
    }
    items.push({ tokens: e.tokens, marked, y: false });
  });
  const pos = items.filter((i) => i.y).length;
  if (pos === 0 || pos === items.length) return skipped(base, `needs correctly and incorrectly marked examples (have ${pos} and ${items.length - pos})`);
  const order = shuffled(items, seed);
  const ans = await provider.fuzz({ explanation, examples: order.map(({ tokens, marked }) => ({ tokens, marked })) });
  const ba = balancedAccuracy(order.map((i) => i.y), ans.value);
  return { ...base, status: 'ok', value: ba.value, nExamples: order.length, error: null, usage: ans.usage, details: { ...base.details, tp: ba.tp, fp: ba.fp, tn: ba.tn, fn: ba.fn } };
}

async function simulation(provider: InterpProvider, explanation: string, set: ScoringSet, base: Base): Promise<ScoreOutcome> {
  if (!provider.simulate) {
    return { ...base, status: 'unsupported', value: null, nExamples: 0, error: `provider ${provider.name} gives no per-token log-probabilities, which simulation scoring needs`, details: base.details };
  }
  const examples: ExampleView[] = [...set.positives.slice(0, 6), ...set.negatives.slice(0, 4)];
  if (examples.length === 0) return skipped(base, 'no examples to simulate');
  const ans = await provider.simulate({ explanation, examples: examples.map((e) => e.tokens) });
  const truth = examples.flatMap((e) => e.activations);
  const pred = ans.value.flat();
  if (pred.length !== truth.length) throw new ProviderError('garbage', `${provider.name}: simulated ${pred.length} activations for ${truth.length} tokens`);
  return { ...base, status: 'ok', value: pearson(pred, truth), nExamples: examples.length, error: null, usage: ans.usage, details: { ...base.details, tokens: truth.length } };
}

function skipped(base: Base, why: string): ScoreOutcome {
  return { ...base, status: 'skipped', value: null, nExamples: 0, error: why };
}
